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
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis.model import BindingKind, FunctionInfo, ScopeKind
from ..analysis.workers import SpawnSite, Target
from ..catalogue.flask_names import G, PERISHABLE, REQUEST
from ..findings import Finding
from ..rules.details import CopyOutsideRequest, SharedCopy
from .context import COPY, COPY_IMPORT, FixContext


def _uses(ctx: FixContext, target: Target, qualname: str, members: Optional[frozenset[str]] = None) -> bool:
    for r in ctx.analysis.workers.reach(target.function):
        use = ctx.analysis.workers.context_use(r.ref)
        if use is not None and use.qualname == qualname and (members is None or use.member in members):
            return True
    return False


def _wrap(expr: cst.BaseExpression) -> cst.Call:
    return cst.Call(cst.Name(COPY), [cst.Arg(expr)])


def plan_copy(ctx: FixContext, site: SpawnSite) -> bool:
    if site.spawner.fan_out or not ctx.spawner_has_context(site):
        return False
    shared = [f.detail.target for f in ctx.site_findings(site) if isinstance(f.detail, SharedCopy)]
    if shared:
        return _copy_per_task(ctx, site, shared)
    needing = [t for t in site.targets if not t.copied and ctx.analysis.workers.needs(t.function)]
    if not needing or any(_uses(ctx, t, G) for t in needing):
        return False
    if site.thread_class is not None and any(t.function is site.targets[0].function for t in needing):
        return False  # run() itself: a decorator on it would be evaluated at import (FCX200)
    shared = sum(1 for other in ctx.analysis.spawn_sites for t in other.targets
                 if any(t.function is n.function for n in needing))
    if not ctx.plan.claim(site.node, *(t.function.node for t in needing)):
        return False
    for target in needing:
        fn = target.function
        closure = (isinstance(fn.node, cst.FunctionDef)
                   and ctx.analysis.resolver.enclosing_function(fn.parent) is site.owner)
        if closure and not site.call.in_loop and shared == 1:
            ctx.plan.add_decorators[id(fn.node)] = [cst.Decorator(cst.Name(COPY))]
            ctx.note(site, f"decorated {fn.name}() with @{COPY} (one worker runs it)")
        else:
            ctx.plan.replace[id(target.expr)] = _wrap(target.expr)
            per = " per task" if site.call.in_loop else ""
            ctx.note(site, f"wrapped the target in {COPY}(...) at the spawn site{per}")
    ctx.plan.imports.add(COPY_IMPORT)
    return True


def _copy_per_task(ctx: FixContext, site: SpawnSite, shared: list[Target]) -> bool:
    """FCX201: replace one shared copy by a copy made at each spawn, in the request thread."""
    edits = []
    for target in shared:
        if _uses(ctx, target, REQUEST, PERISHABLE):
            return False  # each copy would close the files under the others
        edit = _unshare_decorator(ctx, target) or _unshare_wrapper(ctx, site, target)
        if edit is None:
            return False
        edits.append(edit)
    if not edits or not all(edit() for edit in edits):
        return False
    ctx.plan.imports.add(COPY_IMPORT)
    return True


def _spawns_of(ctx: FixContext, fn: FunctionInfo) -> list[tuple[SpawnSite, Target]]:
    return [(s, t) for s in ctx.analysis.spawn_sites for t in s.targets if t.function is fn]


def _unshare_decorator(ctx: FixContext, target: Target):
    """``@copy_current_request_context`` on a closure several spawns run: each spawn wraps it."""
    fn = target.function
    if not isinstance(fn.node, cst.FunctionDef):
        return None
    decorator = next((d for d in fn.node.decorators if d.decorator is target.copy_node), None)
    if decorator is None:
        return None
    spawns = _spawns_of(ctx, fn)
    if _references(ctx, fn) != len(spawns):
        return None  # also called or stored elsewhere: the decorator still matters there
    if any(s.spawner.fan_out or not ctx.spawner_has_context(s) for s, _ in spawns):
        return None

    def edit() -> bool:
        if not ctx.plan.claim(decorator, *(s.node for s, _ in spawns)):
            return False
        ctx.plan.replace[id(decorator)] = None
        for spawn, spawned in spawns:
            ctx.plan.replace[id(spawned.expr)] = _wrap(spawned.expr)
            ctx.note(spawn, f"made one {COPY}({fn.name}) per spawn instead of one shared copy")
        return True
    return edit


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

    def edit() -> bool:
        if not ctx.plan.claim(site.node, target.expr):
            return False
        ctx.plan.replace[id(target.expr)] = _wrap(inner)
        if only_use and isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            ctx.plan.remove_statements.add(id(statement))
        ctx.note(site, f"made one {COPY}(...) per task inside the loop instead of one before it")
        return True
    return edit


def _references(ctx: FixContext, fn: FunctionInfo) -> int:
    """How many loads of ``fn``'s name resolve to ``fn``."""
    count = 0
    for ref in ctx.analysis.facts.all_refs():
        if ref.name == fn.name and not ref.attrs:
            bindings = ctx.analysis.resolver.lookup(ref.scope, ref.name) or []
            count += any(b.function is fn for b in bindings)
    return count


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
