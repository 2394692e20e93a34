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

from ..options import Options
from .collector import dotted_name
from .knowledge import (
    ANY_RECEIVER_METHODS,
    COPY_REQUEST_CONTEXT,
    EXECUTOR_CONSTRUCTORS,
    EXECUTOR_METHODS,
    FUNCTION_SPAWNERS,
    POOL_CONSTRUCTORS,
    POOL_METHODS,
    THREAD_BASES,
    Need,
    satisfied,
    SpawnerSpec,
    custom_spawner,
)
from .model import BindingKind, CallSite, ClassInfo, FunctionInfo, ModuleFacts, Ref, Scope
from ..options import match_dotted
from .resolve import ContextUse, Resolver

MAX_CALL_DEPTH = 12
PARTIAL = "functools.partial"


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
    spec: SpawnerSpec
    owner: Optional[FunctionInfo]  # the function that spawns (None: module level)
    targets: list[Target]
    passed: list[cst.BaseExpression]  # values handed to the worker, evaluated by the spawner
    thread_class: Optional[ClassInfo] = None

    @property
    def node(self) -> cst.Call:
        return self.call.node

    @property
    def worker_name(self) -> str:
        if self.thread_class is not None:
            return f"thread {self.thread_class.name}"
        names = ", ".join(t.function.display for t in self.targets)
        return f"worker {names}"


def call_argument(call: cst.Call, pos: Optional[int], keywords: tuple[str, ...]) -> Optional[cst.BaseExpression]:
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for a in call.args:
        if a.keyword is not None and a.keyword.value in keywords:
            return a.value
    if pos is not None and pos < len(positional):
        return positional[pos].value
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
                 server_name: bool = False) -> None:
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
        self._custom = [custom_spawner(p) for p in options.extra_spawners]
        self._needs: dict[int, dict[Need, Chain]] = {}
        self._reach: dict[int, list[Reached]] = {}
        self._uses: dict[int, Optional[ContextUse]] = {}
        self._in_progress: set[int] = set()
        self._call_sites: Optional[dict[int, CallSite]] = None

    # --- all calls, with their owners ---------------------------------------------------

    def all_calls(self) -> Iterator[tuple[CallSite, Optional[FunctionInfo]]]:
        for call in self.facts.module_calls:
            yield call, None
        for fn in self.facts.functions:
            for call in fn.calls:
                yield call, fn

    # --- spawn sites ------------------------------------------------------------------

    def spawn_sites(self) -> list[SpawnSite]:
        sites = []
        for call, owner in self.all_calls():
            site = self._spawn_site(call, owner)
            if site is not None:
                sites.append(site)
        return sites

    def _spawn_site(self, call: CallSite, owner: Optional[FunctionInfo]) -> Optional[SpawnSite]:
        node = call.node
        thread_class = self.resolver.class_of(node.func, call.scope)
        if thread_class is not None:
            if self.resolver.class_bases(thread_class) & THREAD_BASES:
                return self._thread_subclass_site(call, owner, thread_class)
            return None
        spec = self.spawner_spec(node.func, call.scope, owner)
        if spec is None:
            return None
        target_expr = call_argument(node, spec.target_pos, spec.target_kw)
        if target_expr is None:
            return None
        target = self.resolve_target(target_expr, call.scope, owner)
        passed = literal_elements(call_argument(node, spec.args_pos, (spec.args_kw,) if spec.args_kw else ()))
        passed += literal_elements(call_argument(node, spec.kwargs_pos, (spec.kwargs_kw,) if spec.kwargs_kw else ()))
        if spec.extra_from is not None:
            positional = [a for a in node.args if a.keyword is None and not a.star]
            passed += [a.value for a in positional[spec.extra_from:]]
            passed += [a.value for a in node.args if a.keyword is not None
                       and a.keyword.value not in spec.target_kw]
        if target is not None:
            passed += target.bound_args
        return SpawnSite(call, spec, owner, [target] if target else [], passed)

    def spawner_spec(self, func: cst.BaseExpression, scope: Scope,
                     owner: Optional[FunctionInfo]) -> Optional[SpawnerSpec]:
        qual = self.resolver.qualname(func, scope)
        if qual in FUNCTION_SPAWNERS:
            return FUNCTION_SPAWNERS[qual]
        written = dotted_name(func)
        if qual in (COPY_REQUEST_CONTEXT, PARTIAL) or self.options.is_context_wrapper(*(n for n in (qual, written) if n)):
            return None  # wrappers build a worker, they do not start one (even for a '*' spawner option)
        for spec in self._custom:
            if any(match_dotted(spec.name, n) for n in (qual, written) if n):
                return spec
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in ANY_RECEIVER_METHODS:
                return ANY_RECEIVER_METHODS[method]
            if method in POOL_METHODS or method in EXECUTOR_METHODS:
                kind = self.receiver_kind(func.value, scope, owner)
                if kind == "pool":
                    return POOL_METHODS.get(method)
                if kind == "executor":
                    return EXECUTOR_METHODS.get(method)
        return None

    def receiver_kind(self, expr: cst.BaseExpression, scope: Scope,
                      owner: Optional[FunctionInfo], depth: int = 0) -> Optional[str]:
        """``pool`` / ``executor`` when ``expr`` is a thread pool this module creates."""
        if depth > 4:
            return None
        if isinstance(expr, cst.Call):
            qual = self.resolver.qualname(expr.func, scope)
            if qual in POOL_CONSTRUCTORS:
                return "pool"
            if qual in EXECUTOR_CONSTRUCTORS:
                return "executor"
            return None
        if isinstance(expr, cst.Name):
            bindings = self.resolver.lookup(scope, expr.value) or []
            kinds = {self.receiver_kind(b.value, scope, owner, depth + 1)
                     for b in bindings if b.kind is BindingKind.ASSIGN and b.value is not None}
            return kinds.pop() if len(kinds) == 1 else None
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and owner is not None \
                and owner.cls is not None and owner.params and expr.value.value == owner.params[0]:
            values = owner.cls.self_attrs.get(expr.attr.value, [])
            kinds = {self.receiver_kind(v, owner.cls.parent, None, depth + 1) for v in values}
            return kinds.pop() if len(kinds) == 1 else None
        return None

    def _thread_subclass_site(self, call: CallSite, owner: Optional[FunctionInfo],
                              cls: ClassInfo) -> Optional[SpawnSite]:
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
                expr = call_argument(call.node, index, (param,))
                target = self.resolve_target(expr, call.scope, owner) if expr is not None else None
                if target is not None:
                    targets.append(target)
                    passed += target.bound_args
        return SpawnSite(call, SpawnerSpec(cls.name), owner, targets, passed, thread_class=cls)

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
            first = call_argument(expr, 0, ())
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

    def reach(self, fn: FunctionInfo, depth: int = 0) -> list["Reached"]:
        """Every name load ``fn`` executes, directly or through same-module calls and lambdas.

        Copied callees are skipped (they run in their own context). Results are memoized;
        a cycle or the depth bound cuts the walk instead of recursing forever.
        """
        key = id(fn)
        if key in self._reach:
            return self._reach[key]
        if key in self._in_progress or depth > MAX_CALL_DEPTH:
            return []
        self._in_progress.add(key)
        out = [Reached(ref, (fn,), ref.covered, ref.order) for ref in fn.refs]
        for call in fn.calls:
            callee = self.resolver.function_of(call.node.func, call.scope, fn)
            if callee is None or callee is fn or self.is_copied(callee):
                continue
            out += [Reached(r.ref, (fn, *r.path), r.covered | call.covered, call.order)
                    for r in self.reach(callee, depth + 1)]
        for child in self._children.get(key, []):
            out += [Reached(r.ref, (fn, *r.path), r.covered, r.order) for r in self.reach(child, depth + 1)]
        self._in_progress.discard(key)
        self._reach[key] = out
        return out

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
