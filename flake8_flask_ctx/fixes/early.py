"""Which expression around a context use to hoist, and whether hoisting it keeps behaviour.

A hoist evaluates an expression once, at the spawn site in the view, instead of in the
worker. The candidates grow outward from the use: ``request.args``, then
``request.args.get("q")``, then ``request.args.get("q").strip()``. Each step is judged with
the tables of ``catalogue/early_values.py``:

- *safe*: it cannot raise, block, loop or consume, and gives the value the worker would
  have computed (``request.args.get("q")``);
- *unsafe*, with the reason: it may raise or consume (``request.args["q"]``, ``request.json``,
  ``g.user`` when the view does not set it first), or makes a new mutable object each time
  while the worker evaluates it more than once;
- *never*: hoisting would change what the program does even when nothing goes wrong (a
  live iterator, a stream read inside a loop): the chain stops before such a step.

``choose`` returns the largest safe candidate, or, when even the smallest is unsafe, the
largest candidate with the reason, so that a safe hoist of a smaller value is always
preferred to an unsafe hoist of a larger one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import BindingKind, FunctionInfo, Scope
from ..analysis.resolve import ContextUse
from ..analysis.tree import dotted_name, loaded_names
from ..analysis.workers import Reached, SpawnSite
from ..catalogue.early_values import (
    HELPER_HAZARDS,
    ITERATOR_CALLS,
    PROXY_CALLS,
    READS_BY_PROXY,
    TOTAL_CALLS,
    Kind,
    Read,
)
from ..catalogue.flask_names import (
    G,
    PERISHABLE,
    PROXY_OBJECTS,
    READ_METHODS,
    REQUEST,
    VALUE_HELPERS,
    VIEW_DECORATORS,
)
from ..options import match_dotted
from .applicability import SAFE, Applicability, unsafe

_SHORT_CIRCUITS = (cst.IfExp, cst.BooleanOperation, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp,
                   cst.GeneratorExp)
_LITERALS = (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.ConcatenatedString)


@dataclass(frozen=True)
class Candidate:
    expr: cst.BaseExpression
    applicability: Applicability


class EarlyReads:
    """Judges hoists for one spawn site (``site``): reads moved to just before its call."""

    def __init__(self, analysis: ModuleAnalysis, site: SpawnSite) -> None:
        self.analysis = analysis
        self.parents = analysis.facts.parents
        self.site = site

    # --- the candidates -------------------------------------------------------------------

    def choose(self, r: Reached, fn: FunctionInfo) -> Optional[Candidate]:
        """The expression to hoist for the use ``r`` in ``fn``, or None when nothing can move."""
        candidates = self.candidates(r, fn)
        if not candidates:
            return None
        safe = [c for c in candidates if c.applicability.safe]
        return safe[-1] if safe else candidates[-1]

    def candidates(self, r: Reached, fn: FunctionInfo) -> list[Candidate]:
        """The hoistable expressions around ``r``, smallest first; an unsafe one makes every
        larger one unsafe too."""
        use = self.analysis.workers.context_use(r.ref)
        if use is None or r.ref.store:
            return []
        base, kind, verdict = self._base(use, r)
        if base is None or not self._free(base, r, fn):
            return []
        verdict = verdict & self._names_ready(base)
        out = [Candidate(base, verdict)]
        node, fresh = base, False
        while True:
            step = self._grow(node, kind, r)
            if step is None:
                break
            node, kind, step_verdict, made_fresh = step
            if not self._free(node, r, fn):
                break
            fresh = fresh or made_fresh
            verdict = verdict & step_verdict & self._names_ready(node)
            out.append(Candidate(node, verdict & self._shared(fresh, r)))
        if use.member in PERISHABLE:  # a FileStorage or stream handed to a thread is closed under it
            return [c for c in out if _ends_with_read(c.expr)]
        return out

    def _base(self, use: ContextUse, r: Reached):
        """(expression, kind, applicability) of the smallest value around the use."""
        node: cst.BaseExpression = r.ref.node
        depth = len(use.written.rstrip("()").split(".")) - 1
        for _ in range(len(r.ref.attrs) - depth):
            node = node.value  # type: ignore[attr-defined]  # down to ``request.args``
        parent = self.parents.of(node)
        called = isinstance(parent, cst.Call) and parent.func is node
        if use.qualname not in PROXY_OBJECTS:  # a helper: the call is the smallest value
            if not called or self.analysis.resolver.qualname(node, r.ref.scope) not in VALUE_HELPERS:
                return None, None, None
            return parent, Kind.SCALAR, self._helper(parent, use.qualname, r.ref.scope)
        if use.member is None:
            return None, None, None  # the proxy object itself
        if called:  # ``session.get(...)``, ``request.get_json()``
            read = READS_BY_PROXY.get(use.qualname, {}).get(use.member)
            calls = PROXY_CALLS.get(use.qualname, {})
            if use.member in ITERATOR_CALLS:
                return None, None, None
            if read is not None:
                return parent, read.kind, self._read(read, use, r)
            if use.member in calls and self._trivial_args(parent):
                return parent, Kind.UNKNOWN, SAFE
            if use.member not in READ_METHODS:
                return None, None, None  # a method with effects is never hoisted
            return parent, Kind.UNKNOWN, unsafe(f"{use.written}() is not known to be safe to call early")
        read = READS_BY_PROXY.get(use.qualname, {}).get(use.member)
        if read is not None:
            return node, read.kind, self._read(read, use, r)
        if use.qualname == G:
            return node, Kind.UNKNOWN, self._g_attribute(use.member)
        return node, Kind.UNKNOWN, unsafe(f"{use.written} is not known to be safe to read early")

    def _grow(self, node: cst.BaseExpression, kind: Kind, r: Reached):
        """The next larger expression: (expr, kind, applicability, makes a new object), or None."""
        parent = self.parents.of(node)
        if isinstance(parent, cst.Subscript) and parent.value is node:
            item = Kind.STREAM if kind is Kind.FILES else Kind.UNKNOWN  # ``request.files["f"]``: a file
            return parent, item, unsafe("a missing key raises (KeyError, or a 400 for request data)"), False
        if not (isinstance(parent, cst.Attribute) and parent.value is node):
            return None
        name = parent.attr.value
        grand = self.parents.of(parent)
        if isinstance(grand, cst.Call) and grand.func is parent:
            if name in ITERATOR_CALLS:
                return None  # a live iterator is used up by the first loop over it
            fresh = TOTAL_CALLS.get(kind, {}).get(name)
            if fresh is not None and self._trivial_args(grand):
                return grand, Kind.SCALAR if kind is not Kind.MAPPING else Kind.UNKNOWN, SAFE, fresh
            if kind is Kind.FILES and name == "get":
                return grand, Kind.STREAM, unsafe("an upload may be missing"), False
            if kind is Kind.STREAM and name == "read":
                if r.ref.in_loop:
                    return None  # each turn reads the next chunk: one read hoisted would loop for ever
                return grand, Kind.SCALAR, unsafe("reading consumes the upload or the stream"), False
            if name not in READ_METHODS:
                return None  # a method with effects is never hoisted
            return grand, Kind.UNKNOWN, unsafe(f".{name}() is not known to be safe to call early"), False
        return parent, Kind.UNKNOWN, unsafe(f"the attribute .{name} may be missing"), False

    # --- judging ----------------------------------------------------------------------------

    def _read(self, read: Read, use: ContextUse, r: Reached) -> Applicability:
        if read.hazard is None:
            return SAFE
        if read.kind is Kind.STREAM and r.ref.in_loop:
            return unsafe(read.hazard)
        if read.body and use.qualname == REQUEST and self._view_reads_first(use.member or ""):
            return SAFE  # the view read it already: Flask hands out the cached value
        return unsafe(f"request.{use.member}: {read.hazard}")

    def _shared(self, fresh: bool, r: Reached) -> Applicability:
        """A new mutable object per evaluation, hoisted once but evaluated several times."""
        if fresh and (r.ref.in_loop or len(r.path) > 1 or self.site.spawner.fan_out):
            return unsafe("the worker would share one mutable value where it made a new one each time")
        return SAFE

    def _g_attribute(self, attr: str) -> Applicability:
        """``g.user`` is safe to read early only when the view itself set it before the spawn."""
        owner = self.site.owner
        if owner is not None:
            for ref in owner.refs:
                use = self.analysis.workers.context_use(ref)
                if (use is not None and use.qualname == G and use.member == attr and ref.store
                        and ref.order < self.site.call.order and self.always_before(ref.node, self.site.node)):
                    return SAFE
        return unsafe(f"g.{attr} may be unset when the view starts the worker (AttributeError in the view)")

    def _view_reads_first(self, member: str) -> bool:
        owner = self.site.owner
        if owner is None:
            return False
        for ref in owner.refs:
            use = self.analysis.workers.context_use(ref)
            if (use is not None and use.qualname == REQUEST and use.member == member and not ref.store
                    and ref.order < self.site.call.order and self.always_before(ref.node, self.site.node)):
                return True
        return False

    def _helper(self, call: cst.Call, qualname: str, scope: Scope) -> Applicability:
        if qualname == "flask.url_for" and self._buildable_url(call, scope):
            return SAFE
        return unsafe(HELPER_HAZARDS.get(qualname, f"{qualname} is not known to be safe to call early"))

    def _buildable_url(self, call: cst.Call, scope: Scope) -> bool:
        """``url_for("index")`` for a view of this module whose rule has no variable parts, with
        only literal keyword arguments (they become the query string): it cannot fail."""
        if not call.args or call.args[0].keyword is not None or not isinstance(call.args[0].value, cst.SimpleString):
            return False
        if any(a.keyword is None or a.star for a in call.args[1:]) or not self._trivial_args(call, skip=1):
            return False
        endpoint = call.args[0].value.evaluated_value
        for fn in self.analysis.functions:
            if fn.name != endpoint or fn.parent is not self.analysis.facts.scope:
                continue
            for decorator in fn.decorators:
                if not isinstance(decorator, cst.Call) or not any(
                        match_dotted(p, dotted_name(decorator.func) or "") for p in VIEW_DECORATORS):
                    continue
                rule = decorator.args[0].value if decorator.args else None
                if (isinstance(rule, cst.SimpleString) and "<" not in rule.evaluated_value
                        and not any(a.keyword is not None and a.keyword.value == "endpoint" for a in decorator.args)):
                    return True
        return False

    # --- expressions ------------------------------------------------------------------------

    def _free(self, node: cst.CSTNode, r: Reached, fn: FunctionInfo) -> bool:
        """Does ``node`` read nothing that ``fn`` binds, and does each name it reads mean the
        same at the spawn site as in the worker (a view's local must not shadow a global)?"""
        names = loaded_names(node)
        if names is None:
            return False
        resolver = self.analysis.resolver
        for name in names:
            if resolver.bound_within(r.ref.scope, name, fn):
                return False
            if resolver.defining_scope(r.ref.scope, name) is not resolver.defining_scope(self.site.call.scope, name):
                return False
        return True

    def _names_ready(self, node: cst.CSTNode) -> Applicability:
        """Each local the expression reads must be assigned before the spawn on every path:
        the worker read it later, and maybe after the view assigned it."""
        resolver = self.analysis.resolver
        for name in loaded_names(node) or ():
            scope = resolver.defining_scope(self.site.call.scope, name)
            if scope is None or scope.function is None:
                continue  # a global or a builtin
            bindings = scope.bindings.get(name, [])
            if any(b.kind is BindingKind.PARAM for b in bindings):
                continue
            if not any(self.always_before(b.node, self.site.node) for b in bindings):
                return unsafe(f"{name} may not be assigned yet where the worker is spawned")
        return SAFE

    def _trivial_args(self, call: cst.Call, skip: int = 0) -> bool:
        """Arguments whose evaluation has no effect: literals and names."""
        return all(_trivial(a.value) and not a.star for a in call.args[skip:])

    def always_before(self, node: cst.CSTNode, later: cst.CSTNode) -> bool:
        """Does ``node`` run on every path that reaches ``later`` (same function, earlier
        statement of a block that encloses ``later``, not behind a condition)?"""
        parents = self.parents
        current: Optional[cst.CSTNode] = node
        statement = parents.statement_of(node)
        while current is not None and current is not statement:
            if isinstance(current, _SHORT_CIRCUITS):
                return False
            current = parents.of(current)
        block = parents.of(statement) if statement is not None else None
        if block is None:
            return False
        child: Optional[cst.CSTNode] = parents.statement_of(later)
        while child is not None and parents.of(child) is not block:
            child = parents.statement_of(parents.of(child)) if parents.of(child) is not None else None
        if child is None:
            return False
        body = list(block.body)  # type: ignore[attr-defined]
        return body.index(statement) < body.index(child)


def _trivial(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, _LITERALS) or dotted_name(expr) is not None:
        return True
    if isinstance(expr, cst.UnaryOperation):
        return _trivial(expr.expression)
    if isinstance(expr, (cst.Tuple, cst.List)):
        return all(not isinstance(e, cst.StarredElement) and _trivial(e.value) for e in expr.elements)
    return False


def _ends_with_read(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "read"

