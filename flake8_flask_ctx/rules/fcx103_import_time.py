"""FCX103: a context proxy used while the module is imported.

Module-level code, class bodies, default arguments and decorator arguments run when the
module is imported, where no request and no app context exist: ``CFG =
current_app.config["X"]`` raises there, before the app even serves (runtime facts, "Import
time"). A bare proxy (``P = current_app``) is not resolved and is fine. A same-module
function called at import time counts too, one call deep.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import Ref, ScopeKind
from ..analysis.resolve import ContextUse
from ..catalogue.contexts import Need
from ..catalogue.flask_names import COPY_REQUEST_CONTEXT
from ..findings import Finding
from .base import Rule
from .details import ImportTimeUse
from .wording import APP_ERROR, REQUEST_ERROR

_CONTEXT = {Need.REQUEST: ("request", REQUEST_ERROR, "move it into a function that runs in a request"),
            Need.APP: ("app", APP_ERROR, "move it into a function, or under 'with app.app_context():'")}


def _where(analysis: ModuleAnalysis, node: cst.CSTNode, scope_kind: ScopeKind) -> str:
    parents = analysis.facts.parents
    current: Optional[cst.CSTNode] = node
    while current is not None:
        parent = parents.of(current)
        if isinstance(current, cst.Param) and isinstance(parent, cst.Parameters):
            owner = parents.of(parent)
            name = owner.name.value if isinstance(owner, cst.FunctionDef) else "a function"
            return f"in a default argument of {name}()"
        if isinstance(current, cst.Decorator) and isinstance(parent, (cst.FunctionDef, cst.ClassDef)):
            return f"in a decorator of {parent.name.value}" + ("()" if isinstance(parent, cst.FunctionDef) else "")
        if isinstance(current, cst.ClassDef) and scope_kind is ScopeKind.CLASS:
            return f"in the body of class {current.name.value}"
        current = parent
    return "at module level"


def _use(analysis: ModuleAnalysis, ref: Ref) -> Optional[ContextUse]:
    use = analysis.workers.context_use(ref)
    if use is None or use.qualname == COPY_REQUEST_CONTEXT:
        return None  # a copy made at import time is FCX200's
    if not ref.attrs and not ref.store and not use.written.endswith("()"):
        return None  # a bare proxy, not resolved (``url_for()`` is a call)
    return use


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    workers = analysis.workers
    for ref in analysis.facts.module_refs:
        use = _use(analysis, ref)
        if use is None or workers.satisfied(use, ref.covered):
            continue
        context, error, fix = _CONTEXT[use.need]
        action = "is written" if ref.store else "is used"
        yield RULE.finding(analysis, ref.node, ImportTimeUse(None, None), what=use.written, action=action,
                           where=_where(analysis, ref.node, ref.scope.kind), context=context, error=error,
                           fix=fix)
    for call in analysis.facts.module_calls:  # ``configure()`` at import, which reads current_app
        fn = analysis.resolver.function_of(call.node.func, call.scope)
        if fn is None or not isinstance(fn.node, cst.FunctionDef) or analysis.is_view(fn):
            continue
        needs = {n: c for n, c in workers.needs(fn, call.covered).items() if c.qualname != COPY_REQUEST_CONTEXT}
        if not needs:
            continue
        need, chain = min(needs.items(), key=lambda item: item[0] is not Need.REQUEST)
        context, error, fix = _CONTEXT[need]
        yield RULE.finding(analysis, call.node, ImportTimeUse(fn, chain),
                           what=f"{chain.describe()} -> {chain.written} ({chain.at(analysis)})", action="runs",
                           where=_where(analysis, call.node, call.scope.kind), context=context, error=error,
                           fix=fix)


RULE = Rule(
    "FCX103",
    "a context proxy used at import time",
    "{what} {action} at import time ({where}) with no {context} context ({error}); {fix}",
    check,
)
