"""Spawn sites, the workers they start, and which contexts each worker needs.

A *spawn site* is a call that hands a callable to another thread or greenlet. Its
*targets* are the callables that will run there: a function, a method, a lambda, the
function inside ``functools.partial``, or for a ``Thread`` subclass its ``run()`` and the
callables its constructor stores and ``run()`` calls. A target is *copied* when it runs
inside ``copy_current_request_context`` (or a user's context wrapper).

What a worker *needs* is found by following its body and the same-module functions it
calls (bounded depth, cycle-safe), skipping code under ``with app.app_context()`` /
``test_request_context()`` / ``has_request_context()`` guards for what those provide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional

import libcst as cst

from ..catalogue.contexts import Need
from ..catalogue.flask_names import COPY_REQUEST_CONTEXT, satisfied
from ..catalogue.spawners import PARTIAL, TABLE, ArgSlot, Spawner, SpawnerTable, custom_spawner
from ..options import Options, match_dotted
from .model import BindingKind, CallSite, ClassInfo, FunctionInfo, ModuleFacts, Ref, Scope
from .resolve import ContextUse, Resolver
from .tree import dotted_name

MAX_CALL_DEPTH = 12


@dataclass(frozen=True)
class Chain:
    """How a worker reaches a context use: through ``path`` (worker first) to ``use``."""

    use: ContextUse
    path: tuple[FunctionInfo, ...]
    covered: frozenset[Need] = frozenset()  # contexts pushed around the use (not enough for it)

    def describe(self) -> str:
        return describe_path(self.path)


@dataclass(eq=False)
class Target:
    expr: cst.BaseExpression  # as written at the spawn site
    function: FunctionInfo
    copied: bool = False
    copy_node: Optional[cst.CSTNode] = None  # the decorator or wrapping call
    bound_args: list[cst.BaseExpression] = field(default_factory=list)  # partial(f, *these)


@dataclass(eq=False)
class SpawnSite:
    call: CallSite
    spawner: Spawner
    owner: Optional[FunctionInfo]  # the function that spawns (None: module level)
    targets: list[Target]
    passed: list[cst.BaseExpression]  # values handed to the worker, evaluated by the spawner
    thread_class: Optional[ClassInfo] = None
    receiver: Optional[cst.BaseExpression] = None  # ``pool`` in ``pool.map(...)``

    @property
    def node(self) -> cst.Call:
        return self.call.node

    @property
    def worker_name(self) -> str:
        if self.thread_class is not None:
            return f"thread {self.thread_class.name}"
        names = ", ".join(t.function.display for t in self.targets)
        return f"worker {names}"

    def worker_chain(self, chain: "Chain") -> str:
        """``worker publish() -> client_ip()``, or ``thread Job: Job.run() -> ...``."""
        if self.thread_class is not None:
            return f"thread {self.thread_class.name}: {chain.describe()}"
        return f"worker {chain.describe()}"


def call_argument(call: cst.Call, slot: Optional[ArgSlot]) -> Optional[cst.BaseExpression]:
    """The argument ``call`` passes in ``slot`` (by keyword or by position), if any."""
    if slot is None:
        return None
    for a in call.args:
        if a.keyword is not None and a.keyword.value in slot.keywords:
            return a.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if slot.position is not None and slot.position < len(positional):
        return positional[slot.position].value
    return None


def literal_elements(expr: Optional[cst.BaseExpression]) -> list[cst.BaseExpression]:
    """The values inside an ``args=`` tuple/list or a ``kwargs=`` dict literal."""
    if isinstance(expr, (cst.Tuple, cst.List)):
        return [e.value for e in expr.elements if not isinstance(e, cst.StarredElement)]
    if isinstance(expr, cst.Dict):
        return [e.value for e in expr.elements if isinstance(e, cst.DictElement)]
    if isinstance(expr, cst.Call) and dotted_name(expr.func) == "dict":
        return [a.value for a in expr.args if a.keyword is not None]
    return []


class WorkerAnalysis:
    def __init__(self, facts: ModuleFacts, resolver: Resolver, options: Options,
                 server_name: bool = False, spawners: SpawnerTable = TABLE) -> None:
        self.facts = facts
        self.server_name = server_name  # the module configures SERVER_NAME
        self.resolver = resolver
        self.options = options
        self._lambdas = {id(fn.node): fn for fn in facts.functions if isinstance(fn.node, cst.Lambda)}
        self._children: dict[int, list[FunctionInfo]] = {}
        for fn in facts.functions:
            if isinstance(fn.node, cst.Lambda):
                parent = resolver.enclosing_function(fn.parent)
                if parent is not None:
                    self._children.setdefault(id(parent), []).append(fn)
        self.spawners = spawners
        self._custom = [custom_spawner(p) for p in options.extra_spawners]
        self._needs: dict[int, dict[Need, Chain]] = {}
        self._reach: dict[int, list[Reached]] = {}
        self._uses: dict[int, Optional[ContextUse]] = {}
        self._in_progress: list[int] = []  # the functions being walked, outermost first
        self._call_sites: Optional[dict[int, CallSite]] = None
        self._sites: Optional[list[SpawnSite]] = None
        self._spawned: Optional[set[int]] = None  # ids of the functions some spawn runs

    def all_calls(self) -> Iterator[tuple[CallSite, Optional[FunctionInfo]]]:
        return self.facts.all_calls()

    # --- spawn sites ------------------------------------------------------------------

    def spawn_sites(self) -> list[SpawnSite]:
        if self._sites is None:
            self._sites = []
            for call, owner in self.all_calls():
                site = self._spawn_site(call, owner)
                if site is not None:
                    self._sites.append(site)
        return self._sites

    def _inline_lambdas(self, fn: FunctionInfo) -> list[FunctionInfo]:
        """The lambdas made in ``fn`` that run in ``fn``'s thread: not those it hands to a spawner."""
        if self._spawned is None:
            self._spawned = {id(t.function) for site in self.spawn_sites() for t in site.targets}
        return [child for child in self._children.get(id(fn), []) if id(child) not in self._spawned]

    def _spawn_site(self, call: CallSite, owner: Optional[FunctionInfo]) -> Optional[SpawnSite]:
        node = call.node
        thread_class = self.resolver.class_of(node.func, call.scope)
        if thread_class is not None:
            for base in self.resolver.class_bases(thread_class):
                spawner = self.spawners.subclass_bases.get(base)
                if spawner is not None:
                    return self._thread_subclass_site(call, owner, thread_class, spawner)
            return None
        spawner = self.spawner_of(node.func, call.scope, owner)
        if spawner is None:
            return None
        target_expr = call_argument(node, spawner.worker)
        if target_expr is None:
            return None
        target = self.resolve_target(target_expr, call.scope, owner)
        passed = literal_elements(call_argument(node, spawner.args))
        passed += literal_elements(call_argument(node, spawner.kwargs))
        if spawner.extra_from is not None:
            positional = [a for a in node.args if a.keyword is None and not a.star]
            passed += [a.value for a in positional[spawner.extra_from:]]
            passed += [a.value for a in node.args if a.keyword is not None
                       and a.keyword.value not in spawner.worker.keywords]
        if target is not None:
            passed += target.bound_args
        receiver = node.func.value if spawner.methods and isinstance(node.func, cst.Attribute) else None
        return SpawnSite(call, spawner, owner, [target] if target else [], passed, receiver=receiver)

    def spawner_of(self, func: cst.BaseExpression, scope: Scope,
                   owner: Optional[FunctionInfo]) -> Optional[Spawner]:
        qual = self.resolver.qualname(func, scope)
        if qual in self.spawners.by_callable:
            return self.spawners.by_callable[qual]
        written = dotted_name(func)
        if qual in (COPY_REQUEST_CONTEXT, PARTIAL) or self.options.is_context_wrapper(*(n for n in (qual, written) if n)):
            return None  # wrappers build a worker, they do not start one (even for a '*' spawner option)
        for spawner in self._custom:
            if any(match_dotted(spawner.name, n) for n in (qual, written) if n):
                return spawner
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method not in self.spawners.by_method:
                return None
            if not self.spawners.needs_receiver(method):
                return self.spawners.method(method, None)
            found = {self.spawners.method(method, c) for c in self.receiver_constructors(func.value, scope, owner)}
            return found.pop() if len(found) == 1 else None
        return None

    def receiver_constructors(self, expr: cst.BaseExpression, scope: Scope,
                              owner: Optional[FunctionInfo], depth: int = 0) -> set[Optional[str]]:
        """Qualified names of the constructors whose result ``expr`` may hold (None: unknown)."""
        if depth > 4:
            return {None}
        if isinstance(expr, cst.Call):
            return {self.resolver.qualname(expr.func, scope)}
        if isinstance(expr, cst.Name):
            values = [b.value for b in self.resolver.lookup(scope, expr.value) or []
                      if b.kind is BindingKind.ASSIGN and b.value is not None]
            return {c for v in values for c in self.receiver_constructors(v, scope, owner, depth + 1)} or {None}
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and owner is not None \
                and owner.cls is not None and owner.params and expr.value.value == owner.params[0]:
            values = owner.cls.self_attrs.get(expr.attr.value, [])
            return {c for v in values for c in self.receiver_constructors(v, owner.cls.parent, None, depth + 1)} \
                or {None}
        return {None}

    def _thread_subclass_site(self, call: CallSite, owner: Optional[FunctionInfo],
                              cls: ClassInfo, spawner: Spawner) -> Optional[SpawnSite]:
        run = self.resolver.method(cls, "run")
        if run is None:
            return None
        targets = [Target(call.node.func, run, copied=self.is_copied(run))]
        init = self.resolver.method(cls, "__init__")
        called_attrs = {c.node.func.attr.value for c in run.calls
                        if isinstance(c.node.func, cst.Attribute) and isinstance(c.node.func.value, cst.Name)
                        and run.params and c.node.func.value.value == run.params[0]}
        passed: list[cst.BaseExpression] = []
        if init is not None:
            for attr, param in cls.init_param_attrs.items():
                if attr not in called_attrs:
                    continue
                index = init.params.index(param) - 1
                expr = call_argument(call.node, ArgSlot(index, (param,)))
                target = self.resolve_target(expr, call.scope, owner) if expr is not None else None
                if target is not None:
                    targets.append(target)
                    passed += target.bound_args
        return SpawnSite(call, spawner, owner, targets, passed, thread_class=cls)

    # --- targets ------------------------------------------------------------------------

    def is_copied(self, fn: FunctionInfo) -> bool:
        return any(self.copy_wrapper_name(d, fn.parent) for d in fn.decorators)

    def copy_wrapper_name(self, expr: cst.BaseExpression, scope: Scope) -> Optional[str]:
        """The name of a copy decorator/wrapper (``copy_current_request_context``), or None."""
        func = expr.func if isinstance(expr, cst.Call) else expr  # ``@wrapper(...)`` factories
        qual = self.resolver.qualname(func, scope)
        if qual == COPY_REQUEST_CONTEXT:
            return qual
        written = dotted_name(func)
        if self.options.is_context_wrapper(*(n for n in (qual, written) if n)):
            return written or qual
        return None

    def resolve_target(self, expr: cst.BaseExpression, scope: Scope,
                       owner: Optional[FunctionInfo], depth: int = 0) -> Optional[Target]:
        if depth > 4:
            return None
        if isinstance(expr, cst.Lambda):
            fn = self._lambdas.get(id(expr))
            return Target(expr, fn) if fn else None
        if isinstance(expr, cst.Call):
            first = call_argument(expr, ArgSlot(0))
            if first is None:
                return None
            qual = self.resolver.qualname(expr.func, scope)
            if qual == PARTIAL:
                inner = self.resolve_target(first, scope, owner, depth + 1)
                if inner is not None:
                    inner.bound_args = [a.value for a in expr.args[1:]] + inner.bound_args
                return inner
            if self.copy_wrapper_name(expr.func, scope):
                inner = self.resolve_target(first, scope, owner, depth + 1)
                if inner is not None:
                    inner.copied, inner.copy_node, inner.expr = True, expr, expr
                return inner
            return None
        fn = self.resolver.function_of(expr, scope, owner)
        if fn is not None:
            copy = next((d for d in fn.decorators if self.copy_wrapper_name(d, fn.parent)), None)
            return Target(expr, fn, copied=copy is not None, copy_node=copy)
        if isinstance(expr, cst.Name):
            bindings = self.resolver.lookup(scope, expr.value) or []
            if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN and bindings[0].value is not None:
                target = self.resolve_target(bindings[0].value, scope, owner, depth + 1)
                if target is not None:
                    target.expr = expr
                return target
        return None

    # --- what a worker runs ---------------------------------------------------------------

    def reach(self, fn: FunctionInfo) -> list["Reached"]:
        """Every name load ``fn`` executes, directly or through same-module calls and lambdas.

        Copied callees are skipped (they run in their own context). A call back into a
        function that is still being walked (a cycle) or past the depth bound is cut.
        """
        return self._walk(fn, 0)[0]

    def _walk(self, fn: FunctionInfo, depth: int) -> tuple[list["Reached"], int]:
        """(loads, lowest cut): the lowest position in the walk's stack that a cycle cut
        reached (-1: the depth bound cut it). A result is memoized only when no cut reached
        above ``fn`` itself: otherwise it depends on where the walk started, and caching it
        would make findings depend on the order of the code in the file."""
        key = id(fn)
        cached = self._reach.get(key)
        if cached is not None:
            return cached, len(self._in_progress)
        if key in self._in_progress:
            return [], self._in_progress.index(key)
        if depth > MAX_CALL_DEPTH:
            return [], -1
        position = len(self._in_progress)
        self._in_progress.append(key)
        lowest = position + 1
        out = [Reached(ref, (fn,), ref.covered, ref.order) for ref in fn.refs]
        for call in fn.calls:
            callee = self.resolver.function_of(call.node.func, call.scope, fn)
            if callee is None or callee is fn or self.is_copied(callee):
                continue
            loads, low = self._walk(callee, depth + 1)
            lowest = min(lowest, low)
            out += [Reached(r.ref, (fn, *r.path), r.covered | call.covered, call.order) for r in loads]
        for child in self._inline_lambdas(fn):
            loads, low = self._walk(child, depth + 1)
            lowest = min(lowest, low)
            out += [Reached(r.ref, (fn, *r.path), r.covered, r.order) for r in loads]
        self._in_progress.pop()
        if lowest >= position:
            self._reach[key] = out
        return out, lowest

    def context_use(self, ref: Ref) -> Optional[ContextUse]:
        key = id(ref)
        if key not in self._uses:
            self._uses[key] = self.resolver.context_use(ref)
        return self._uses[key]

    def needs(self, fn: FunctionInfo) -> dict[Need, Chain]:
        """The first use of each context ``fn`` needs when it runs with none."""
        key = id(fn)
        if key not in self._needs:
            found: dict[Need, tuple[int, Chain]] = {}
            for r in self.reach(fn):
                use = self.context_use(r.ref)
                if use is None or self.satisfied(use, r.covered):
                    continue
                if use.need not in found or r.order < found[use.need][0]:
                    found[use.need] = (r.order, Chain(use, r.path, r.covered))
            self._needs[key] = {need: chain for need, (_, chain) in found.items()}
        return self._needs[key]

    def first_need(self, site: SpawnSite, need: Need) -> Optional[Chain]:
        """The first use of ``need`` that a worker of ``site`` makes with no such context."""
        for target in site.targets:
            if not target.copied:
                chain = self.needs(target.function).get(need)
                if chain is not None:
                    return chain
        return None

    def satisfied(self, use: ContextUse, covered: frozenset[Need]) -> bool:
        return satisfied(use.qualname, use.need, covered, self.server_name)

    def call_site(self, node: cst.CSTNode) -> Optional[CallSite]:
        if self._call_sites is None:
            self._call_sites = {id(c.node): c for c, _ in self.all_calls()}
        return self._call_sites.get(id(node))


@dataclass(frozen=True)
class Reached:
    """A load a worker executes: ``ref``, reached through ``path`` with ``covered`` pushed."""

    ref: Ref
    path: tuple[FunctionInfo, ...]
    covered: frozenset[Need]
    order: int  # position of the first step in the worker's own body

    @property
    def chain(self) -> str:
        return describe_path(self.path)


def describe_path(path: tuple[FunctionInfo, ...]) -> str:
    """``publish() -> build_event() -> client_ip()``: how a worker reaches a use."""
    return " -> ".join(f"{fn.display}()" for fn in path)
