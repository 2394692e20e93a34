"""Strategy 2, copy per worker, and FCX200's removal of copies made outside a request.

Where hoisting is impossible (reads through helpers, ``url_for`` with worker-local
arguments), give each worker its own copy of the request context, made in the request:

- a worker that runs with no copy (FCX100, FCX101): ``@copy_current_request_context`` on a
  closure that exactly one spawn runs, or a wrap at the spawn site
  (``Thread(target=copy_current_request_context(f))``) for anything else, which inside a
  loop makes one copy per task;
- a copy that several workers share (FCX201): the shared copy goes, and each spawn wraps
  the function itself, so a loop makes one copy per task in the request thread.

Never for ``map`` variants (one wrapper for all tasks: no place to copy per task), for
workers that use ``g`` (the copy's ``g`` is empty), nor for a shared copy whose workers
touch ``request.files`` or ``request.stream`` (every copy closes the request's files when it
exits, under the other tasks: runtime facts, case 5c).

A copy is *safe* when nothing sees the difference from running the worker in the request:
it is *unsafe* when the module registers teardown handlers (each copy runs them once more,
in the worker), when the worker writes the session (a write after the view returned is
lost), reads uploads or the stream (the copy closes them when it exits) or, unjoined, reads
the body lazily (it may be gone: FCX203), or when the view reads uploads after the spawn.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis.lifetimes import is_joined
from ..analysis.model import BindingKind, ScopeKind
from ..analysis.tree import dotted_name
from ..analysis.workers import SpawnSite, Target
from ..catalogue.flask_names import G, LAZY_BODY, PERISHABLE, REQUEST, SESSION, TEARDOWN_DECORATORS
from ..findings import Finding
from ..options import match_dotted
from ..rules.details import CopyOutsideRequest, SharedCopy
from .applicability import Applicability, combine, unsafe
from .context import COPY, COPY_IMPORT, FixContext


def _uses(ctx: FixContext, target: Target, qualname: str, members: Optional[frozenset[str]] = None) -> bool:
    for r in ctx.analysis.workers.reach(target.function):
        use = ctx.analysis.workers.context_use(r.ref)
        if use is not None and use.qualname == qualname and (members is None or use.member in members):
            return True
    return False


def _wrap(expr: cst.BaseExpression) -> cst.Call:
    return cst.Call(cst.Name(COPY), [cst.Arg(expr)])


def _has_teardown_handlers(ctx: FixContext) -> bool:
    return ctx.memo("teardown handlers", lambda: _find_teardown_handlers(ctx))


def _find_teardown_handlers(ctx: FixContext) -> bool:
    for fn in ctx.analysis.functions:
        for decorator in fn.decorators:
            name = dotted_name(decorator.func if isinstance(decorator, cst.Call) else decorator) or ""
            if any(match_dotted(p, name) for p in TEARDOWN_DECORATORS):
                return True
    for call, _ in ctx.analysis.facts.all_calls():
        name = dotted_name(call.node.func) or ""
        if any(match_dotted(p, name) for p in TEARDOWN_DECORATORS):
            return True
    return False


def _copy_hazards(ctx: FixContext, site: SpawnSite, targets: list[Target]) -> Applicability:
    """What running ``targets`` in copies of the request context changes (SAFE: nothing)."""
    parts = []
    if _has_teardown_handlers(ctx):
        parts.append(unsafe("the module's teardown handlers would run once more per copy, in the worker"))
    joined = is_joined(site, ctx.analysis.workers)
    for target in targets:
        workers = ctx.analysis.workers
        for r in workers.reach(target.function):
            use = workers.context_use(r.ref)
            if use is None:
                continue
            if use.qualname == SESSION and r.ref.store:
                parts.append(unsafe("the worker writes the session; a write after the view returned is lost"))
            elif use.qualname == REQUEST and use.member in PERISHABLE:
                parts.append(unsafe("the copy closes the request's uploads when the worker ends"))
            elif use.qualname == REQUEST and use.member in LAZY_BODY and not joined:
                parts.append(unsafe("the unjoined worker reads the body lazily; it may be gone by then (FCX203)"))
    owner = site.owner
    if owner is not None and any(
            (u := ctx.analysis.workers.context_use(ref)) is not None and u.qualname == REQUEST
            and u.member in PERISHABLE and ref.order > site.call.order for ref in owner.refs):
        parts.append(unsafe("the view reads uploads after the spawn, and the copy closes them when it ends"))
    return combine(parts)


def plan_copy(ctx: FixContext, site: SpawnSite, allow_unsafe: bool = False) -> Optional[Applicability]:
    if site.spawner.fan_out or not ctx.spawner_has_context(site):
        return None
    shared = [f.detail.target for f in ctx.site_findings(site) if isinstance(f.detail, SharedCopy)]
    if any(not isinstance(t, Target) for t in shared):
        return None  # the one copy is made by a helper in another module: not ours to rewrite
    if shared:
        return _copy_per_task(ctx, site, shared, allow_unsafe)
    needing = [t for t in site.targets if not t.copied and ctx.analysis.workers.needs(t.function)]
    if not needing or any(_uses(ctx, t, G) for t in needing):
        return None
    if site.thread_class is not None and any(t.function is site.targets[0].function for t in needing):
        return None  # run() itself: a decorator on it would be evaluated at import (FCX200)
    verdict = _copy_hazards(ctx, site, needing)
    if not (verdict.safe or allow_unsafe):
        return verdict
    shared = sum(len(ctx.spawns_of(n.function)) for n in needing)
    decorate = {id(t): isinstance(t.function.node, cst.FunctionDef) and not site.call.in_loop and shared == 1
                and ctx.analysis.resolver.enclosing_function(t.function.parent) is site.owner for t in needing}
    edited = [t.function.node if decorate[id(t)] else t.expr for t in needing]  # a wrap leaves the def alone
    if not ctx.plan.claim(site.node, *edited):
        return None
    ctx.applicability = verdict
    for target in needing:
        fn = target.function
        if decorate[id(target)]:
            ctx.plan.add_decorators[id(fn.node)] = [cst.Decorator(cst.Name(COPY))]
            ctx.note(site, f"decorated {fn.name}() with @{COPY} (one worker runs it)")
        else:
            ctx.plan.replace[id(target.expr)] = _wrap(target.expr)
            per = " per task" if site.call.in_loop else ""
            ctx.note(site, f"wrapped the target in {COPY}(...) at the spawn site{per}")
    ctx.plan.imports.add(COPY_IMPORT)
    return verdict


def _copy_per_task(ctx: FixContext, site: SpawnSite, shared: list[Target],
                   allow_unsafe: bool) -> Optional[Applicability]:
    """FCX201: replace one shared copy by a copy made at each spawn, in the request thread."""
    edits = []
    for target in shared:
        if _uses(ctx, target, REQUEST, PERISHABLE):
            return None  # each copy would close the files under the others
        edit = _unshare_decorator(ctx, target) or _unshare_wrapper(ctx, site, target)
        if edit is None:
            return None
        edits.append(edit)
    verdict = _copy_hazards(ctx, site, shared)
    if not edits or not (verdict.safe or allow_unsafe):
        return verdict if edits else None
    claims = [node for nodes, _ in edits for node in nodes]
    if not ctx.plan.claim(*claims):
        return None
    ctx.applicability = verdict
    for _, apply_edit in edits:
        apply_edit()
    ctx.plan.imports.add(COPY_IMPORT)
    return verdict


def _unshare_decorator(ctx: FixContext, target: Target):
    """``@copy_current_request_context`` on a closure several spawns run: each spawn wraps it."""
    fn = target.function
    if not isinstance(fn.node, cst.FunctionDef):
        return None
    decorator = next((d for d in fn.node.decorators if d.decorator is target.copy_node), None)
    if decorator is None:
        return None
    spawns = ctx.spawns_of(fn)
    if ctx.references(fn) != len(spawns):
        return None  # also called or stored elsewhere: the decorator still matters there
    if any(s.spawner.fan_out or not ctx.spawner_has_context(s) for s, _ in spawns):
        return None

    def edit() -> None:
        ctx.plan.replace[id(decorator)] = None
        for spawn, spawned in spawns:
            ctx.plan.replace[id(spawned.expr)] = _wrap(spawned.expr)
            ctx.note(spawn, f"made one {COPY}({fn.name}) per spawn instead of one shared copy")
    return [decorator, *(s.node for s, _ in spawns)], edit


def _unshare_wrapper(ctx: FixContext, site: SpawnSite, target: Target):
    """``w = copy_current_request_context(f)`` before a loop that spawns ``w``: wrap in the loop."""
    copy = target.copy_node
    if not isinstance(copy, cst.Call) or not copy.args or not isinstance(target.expr, cst.Name):
        return None
    if ctx.inside(copy, site.node):
        return None  # already one copy per call
    name = target.expr.value
    bindings = ctx.analysis.resolver.lookup(site.call.scope, name) or []
    if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN or bindings[0].value is not copy:
        return None
    statement = ctx.parents.statement_of(copy)
    only_use = _name_uses(ctx, site, name) == 1
    inner = copy.args[0].value

    def edit() -> None:
        ctx.plan.replace[id(target.expr)] = _wrap(inner)
        if only_use and isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            ctx.plan.remove_statements.add(id(statement))
        ctx.note(site, f"made one {COPY}(...) per task inside the loop instead of one before it")
    return [site.node, target.expr], edit


def _name_uses(ctx: FixContext, site: SpawnSite, name: str) -> int:
    owner_refs = site.owner.refs if site.owner is not None else ctx.analysis.facts.module_refs
    return sum(1 for ref in owner_refs if ref.name == name)


def remove_copy_outside_request(ctx: FixContext, finding: Finding) -> bool:
    """FCX200: drop a decorator (or unwrap a call) evaluated at import or start-up time.

    The spawn sites of the now-plain function are fixed in the next round, by a hoist or a
    call-site wrap inside the view.
    """
    node = finding.node
    detail = finding.detail
    if not isinstance(detail, CopyOutsideRequest) or detail.scope.kind is not ScopeKind.MODULE:
        return False  # class bodies, app factories, CLI commands never have a request: redesign
    if _inside_try(ctx, node):
        return False  # the module expects the RuntimeError and falls back: removing it kills that
    if not ctx.plan.claim(node):
        return False
    if isinstance(node, cst.Decorator):
        ctx.plan.replace[id(node)] = None
    elif isinstance(node, cst.Call) and node.args:
        ctx.plan.replace[id(node)] = node.args[0].value
    else:
        return False
    ctx.unused_imports.add(COPY_IMPORT)
    ctx.note(finding, f"removed {COPY} evaluated outside a request; its spawns get a hoist or a wrap")
    return True


def _inside_try(ctx: FixContext, node: cst.CSTNode) -> bool:
    current = ctx.parents.of(node)
    while current is not None:
        if isinstance(current, (cst.Try, cst.TryStar)):
            return True
        current = ctx.parents.of(current)
    return False
