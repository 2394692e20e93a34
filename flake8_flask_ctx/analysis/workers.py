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
from typing import TYPE_CHECKING, Iterator, Optional

import libcst as cst

from ..catalogue.contexts import Need
from ..catalogue.flask_names import COPY_CONTEXT, COPY_REQUEST_CONTEXT, CURRENT_APP, FLASK_APP, satisfied
from ..catalogue.spawners import (
    CONTEXT_MEMBERS, FORK, PARTIAL, START_METHOD_FACTORIES, TABLE, ArgSlot, Carry, Kind, Serializer, Spawner,
    SpawnerTable, custom_spawner,
)
from ..options import Options, match_dotted
from ..runtime import Runtime
from .model import BindingKind, CallSite, ClassInfo, FunctionInfo, ModuleFacts, Ref, Scope
from .resolve import ContextUse, Resolver
from .tasks import Tasks
from .tree import dotted_name
from .views import is_view

if TYPE_CHECKING:
    from ..project.index import ExternalUse, ProjectFunction, ProjectIndex

MAX_CALL_DEPTH = 12


@dataclass(frozen=True)
class Chain:
    """How a worker reaches a context use: through ``path`` (worker first) to ``use``, and for
    a use in another module, on through ``external`` (its chain names the files)."""

    use: Optional[ContextUse]  # None: the use is in another module (``external``)
    path: tuple[FunctionInfo, ...]
    covered: frozenset[Need] = frozenset()  # contexts pushed around the use (not enough for it)
    external: Optional["ExternalUse"] = None

    def describe(self) -> str:
        local = describe_path(self.path)
        if self.external is None:
            return local
        return " -> ".join(part for part in (local, self.external.describe()) if part)

    @property
    def written(self) -> str:
        return self.external.written if self.external is not None else self.use.written

    @property
    def qualname(self) -> str:
        return self.external.qualname if self.external is not None else self.use.qualname

    def at(self, analysis) -> str:
        """Where the use is: ``line 9``, or ``services/messaging.py:125``."""
        if self.external is not None:
            return f"{self.external.path}:{self.external.line}"
        return f"line {analysis.line(self.use.ref.node)}"


@dataclass(eq=False)
class Target:
    expr: cst.BaseExpression  # as written at the spawn site
    function: FunctionInfo
    copied: bool = False
    copy_node: Optional[cst.CSTNode] = None  # the decorator or wrapping call
    bound_args: list[cst.BaseExpression] = field(default_factory=list)  # partial(f, *these)


@dataclass(eq=False)
class ExternalTarget:
    """A worker that is not a function of this module: one in another project module
    (``function``), or one known only as a copied wrapper (``function`` None, ``copied``)."""

    expr: cst.BaseExpression
    qualname: Optional[str]
    function: Optional["ProjectFunction"] = None
    copied: bool = False
    copy_node: Optional[cst.CSTNode] = None

    @property
    def display(self) -> str:
        if self.function is not None:
            return f"{self.function.display}() ({self.function.path})"
        return f"{dotted_name(self.expr) or 'the function'}()"


@dataclass(eq=False)
class ExternalCall:
    """A call, reached from a worker, into another module of the project."""

    qualname: str
    covered: frozenset[Need]
    path: tuple[FunctionInfo, ...]  # the worker down to the function that makes the call
    order: int


@dataclass(eq=False)
class SpawnSite:
    call: CallSite
    spawner: Spawner
    owner: Optional[FunctionInfo]  # the function that spawns (None: module level)
    targets: list[Target]
    passed: list[cst.BaseExpression]  # values handed to the worker, evaluated by the spawner
    thread_class: Optional[ClassInfo] = None
    receiver: Optional[cst.BaseExpression] = None  # ``pool`` in ``pool.map(...)``
    target_expr: Optional[cst.BaseExpression] = None  # the worker as written
    external_targets: list[ExternalTarget] = field(default_factory=list)
    carried: bool = False  # the call hands the worker a copy of the caller's contextvars
    given: frozenset[Need] = frozenset()  # the contexts the worker starts with (see ``_given``)
    # inherited thread contexts (3.14t): the worker runs in the contexts of the request that
    # started it (``inherited``: shared with the view, FCX205), or, for an executor made outside
    # the request, of the first request that made its threads (``stale_context``: FCX204)
    inherited: bool = False
    stale_context: bool = False
    start_method: Optional[str] = None  # a process's, when written: ``get_context("spawn")``
    # forked from inside the request: ``get_context("fork").Process(...)`` in the view, or a
    # pool made there with that context; the child is a copy of the caller, request included
    forked_copy: bool = False

    @property
    def node(self) -> cst.Call:
        return self.call.node

    @property
    def worker_name(self) -> str:
        if self.thread_class is not None:
            return f"{self._class_word} {self.thread_class.name}"
        names = ", ".join([*(f"{t.function.display}()" for t in self.targets),
                           *(t.display for t in self.external_targets)])
        return f"{self.spawner.label} {names}"

    def worker_chain(self, chain: "Chain") -> str:
        """``worker publish() -> client_ip()``, ``Celery task send()``, or ``thread Job:
        Job.run() -> ...``."""
        if self.thread_class is not None:
            return f"{self._class_word} {self.thread_class.name}: {chain.describe()}"
        return f"{self.spawner.label} {chain.describe()}"

    @property
    def _class_word(self) -> str:
        return "process" if self.spawner.kind is Kind.PROCESS else "thread"


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
                 server_name: bool = False, spawners: SpawnerTable = TABLE,
                 project: Optional["ProjectIndex"] = None, runtime: Runtime = Runtime()) -> None:
        self.facts = facts
        self.project = project
        self.runtime = runtime
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
        self._needs: dict[tuple[int, frozenset[Need]], dict[Need, Chain]] = {}
        self._caller_map: Optional[dict[int, list[Optional[FunctionInfo]]]] = None
        self._reach: dict[int, list[Reached]] = {}
        self._external: dict[int, list[ExternalCall]] = {}
        self._uses: dict[int, Optional[ContextUse]] = {}
        self._in_progress: list[int] = []  # the functions being walked, outermost first
        self._call_sites: Optional[dict[int, CallSite]] = None
        self._sites: Optional[list[SpawnSite]] = None
        self._spawned: Optional[set[int]] = None  # ids of the functions some spawn runs
        self._pushers: dict[int, frozenset[Need]] = {}
        self._param_spawners: Optional[dict[int, str]] = None
        self.tasks = Tasks(self)

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
            decorated = self._decorator_sites()
            # ``Thread(target=notify)`` where ``@run_async`` made ``notify`` a spawner itself:
            # the thread runs the wrapper, which starts another; the decorator's site owns it
            respawned = {id(site.targets[0].function) for site in decorated if site.spawner.kind is Kind.THREAD}
            for site in self._sites:
                site.targets = [t for t in site.targets if id(t.function) not in respawned]
            self._sites += decorated
            for site in self._sites:
                self._set_given(site)
        return self._sites

    def _set_given(self, site: SpawnSite) -> None:
        """The contexts the worker starts with (``site.given``), and where they come from.

        - the spawner carries them: ``asyncio.to_thread``, Flask-Executor, a worker run by
          ``contextvars.copy_context().run`` or started with ``Thread(context=copy_context())``;
        - a task queue's task: an app context where the project's task class pushes one;
        - with inherited thread contexts (3.14t, ``thread-inherit-context``): a thread started
          in a request gets that request's contexts; an executor's threads, made at its first
          tasks, keep the contexts of whoever made them: stale, unless the executor belongs to
          the spawning function itself.
        """
        site.forked_copy = site.start_method == FORK and site.owner is not None and (
            site.spawner.serializer is Serializer.PICKLE_UNLESS_FORKED or self._made_by(site.receiver, site.owner))
        if site.spawner.carries is not Carry.NOTHING or site.carried or site.forked_copy:
            site.given = frozenset(Need)
        elif site.spawner.kind is Kind.TASK:
            site.given = self.tasks.given(site)
        elif self.runtime.inherit_context and site.owner is not None and site.spawner.kind is Kind.THREAD \
                and (site.spawner.inherits or site.spawner.lazy_threads) and self.may_run_in_request(site.owner):
            site.given = frozenset(Need)
            site.stale_context = site.spawner.lazy_threads and not self._made_by(site.receiver, site.owner)
            site.inherited = not site.stale_context

    def may_run_in_request(self, fn: FunctionInfo, seen: Optional[set[int]] = None) -> bool:
        """Can ``fn`` run in a request: a view, a function this module never calls (a view
        elsewhere may), or one called from such a function; not one called only at import
        time or from functions that are."""
        if is_view(fn):
            return True
        seen = seen if seen is not None else set()
        if id(fn) in seen:
            return False
        seen.add(id(fn))
        callers = self._callers().get(id(fn))
        if not callers:
            return True
        return any(caller is not None and self.may_run_in_request(caller, seen) for caller in callers)

    def _callers(self) -> dict[int, list[Optional[FunctionInfo]]]:
        """``id(function)`` -> the functions of this module that call it (None: module level)."""
        if self._caller_map is None:
            self._caller_map = {}
            for call, owner in self.facts.all_calls():
                callee = self.resolver.function_of(call.node.func, call.scope, owner)
                if callee is not None:
                    self._caller_map.setdefault(id(callee), []).append(owner)
        return self._caller_map

    def _made_by(self, receiver: Optional[cst.BaseExpression], owner: FunctionInfo) -> bool:
        """Is the executor ``receiver`` created by ``owner`` itself (``with ThreadPoolExecutor()
        as pool:`` in the view), so that its threads are made in this request?"""
        if not isinstance(receiver, cst.Name):
            return False
        defining = self.resolver.defining_scope(owner.scope, receiver.value)
        return defining is owner.scope

    def _decorator_sites(self) -> list[SpawnSite]:
        """Functions a decorator makes a worker: a task queue's or a scheduler's task
        (``@shared_task``, ``@scheduler.scheduled_job(...)``), or a function a decorator runs
        in another thread (``@run_async``, defined in this module or in another of the
        project). The finding goes on the decorator, where the function becomes one."""
        sites = []
        spawners = self.parameter_spawners()
        for fn in self.facts.functions:
            for decorator in fn.decorators:
                func = decorator.func if isinstance(decorator, cst.Call) else decorator
                task = self.tasks.decorator_spawner(decorator, fn.parent)
                if task is not None:
                    call = CallSite(decorator, fn.parent, (), -1, False)  # type: ignore[arg-type]
                    sites.append(SpawnSite(call, task, None, [Target(decorator, fn)], [], target_expr=decorator))
                    break
                maker = self.resolver.function_of(func, fn.parent)
                name = spawners.get(id(maker)) if maker is not None else None
                if name is None and self.project is not None and maker is None:
                    qual = self.resolver.qualname(func, fn.parent)
                    name = self.project.spawns(qual) if qual else None
                if name is None:
                    continue
                call = CallSite(decorator, fn.parent, (), -1, False)  # type: ignore[arg-type]
                spawner = Spawner(f"@{dotted_name(func)} ({name})", ArgSlot(None))
                sites.append(SpawnSite(call, spawner, None, [Target(decorator, fn)], [], target_expr=decorator))
                break
        return sites

    def parameter_spawners(self) -> dict[int, str]:
        """Functions of this module that run one of their parameters (or the function they
        decorate) in another thread: id -> the spawner's name.
        ``def run_async(f): ... Thread(target=f).start()``."""
        if self._param_spawners is None:
            self._param_spawners = {}
            sites = self._sites if self._sites is not None else []
            for site in sites:
                expr = site.target_expr
                if not isinstance(expr, cst.Name):
                    continue
                for binding in self.resolver.lookup(site.call.scope, expr.value) or ():
                    if binding.kind is BindingKind.PARAM:
                        outer = self._outermost_function(binding.node)
                        if outer is not None:
                            self._param_spawners[id(outer)] = site.spawner.name
        return self._param_spawners

    def _outermost_function(self, node: cst.CSTNode) -> Optional[FunctionInfo]:
        """The module-level function (or method of a module-level class) around ``node``."""
        for fn in self.facts.functions:
            if not isinstance(fn.node, cst.FunctionDef):
                continue
            top = fn.parent is self.facts.scope or (fn.cls is not None and fn.cls.parent is self.facts.scope
                                                    and fn.parent.kind.value == "class")
            if top and self.facts.parents.inside(node, fn.node):
                return fn
        return None

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
        external_class = self._project_thread_class(node.func, call.scope)
        if external_class is not None:
            return external_class(call, owner)
        spawner = self.spawner_of(node.func, call.scope, owner)
        if spawner is None:
            return None
        target_expr = call_argument(node, spawner.worker)
        if target_expr is None:
            return None
        carried = self._passes_context(node, call.scope)
        runner = self._context_runner(target_expr, call.scope)
        if runner:  # ``Thread(target=ctx.run, args=(work,))``: the worker is the first argument
            passed = literal_elements(call_argument(node, spawner.args))
            extra = [a.value for a in node.args if a.keyword is None and not a.star]
            passed += extra[spawner.extra_from:] if spawner.extra_from is not None else []
            if not passed:
                return None
            target_expr, carried = passed[0], True
        target = self.resolve_target(target_expr, call.scope, owner, before=call.order)
        external = self.resolve_external(target_expr, call.scope, owner, call.order) if target is None else None
        passed = literal_elements(call_argument(node, spawner.args))
        passed += literal_elements(call_argument(node, spawner.kwargs))
        if spawner.extra_from is not None:
            positional = [a for a in node.args if a.keyword is None and not a.star]
            passed += [a.value for a in positional[spawner.extra_from:]]
            passed += [a.value for a in node.args if a.keyword is not None
                       and a.keyword.value not in spawner.worker.keywords]
        if target is not None:
            passed += target.bound_args
        if runner:
            passed = passed[1:]  # what ``ctx.run`` hands the worker
        receiver = node.func.value if spawner.methods and isinstance(node.func, cst.Attribute) else None
        start_method = self.start_method(receiver, call.scope) if spawner.kind is Kind.PROCESS else None
        return SpawnSite(call, spawner, owner, [target] if target else [], passed, receiver=receiver,
                         target_expr=target_expr, external_targets=[external] if external else [],
                         carried=carried, start_method=start_method)

    def start_method(self, expr: Optional[cst.BaseExpression], scope: Scope, depth: int = 0) -> Optional[str]:
        """The start method written where ``expr`` (a context, or a pool made from one) comes
        from: ``"spawn"`` for ``ctx`` in ``ctx = get_context("spawn")``, or in
        ``pool = ctx.Pool(2)``; None when not written."""
        if expr is None or depth > 4:
            return None
        if isinstance(expr, cst.Name):
            bindings = self.resolver.lookup(scope, expr.value) or []
            values = {self.start_method(b.value, scope, depth + 1) for b in bindings
                      if b.kind is BindingKind.ASSIGN and b.value is not None}
            return values.pop() if len(values) == 1 else None
        if isinstance(expr, cst.Call):
            if self.resolver.qualname(expr.func, scope) in START_METHOD_FACTORIES:
                first = expr.args[0].value if expr.args else None
                return first.evaluated_value if isinstance(first, cst.SimpleString) else None
            if isinstance(expr.func, cst.Attribute):  # ``ctx.Pool(2)``
                return self.start_method(expr.func.value, scope, depth + 1)
        return None

    def _context_runner(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """``contextvars.copy_context().run`` (or ``ctx.run`` with ``ctx`` such a copy)."""
        return isinstance(expr, cst.Attribute) and expr.attr.value == "run" \
            and self._is_context_copy(expr.value, scope)

    def _is_context_copy(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> bool:
        if isinstance(expr, cst.Call):
            return self.resolver.qualname(expr.func, scope) == COPY_CONTEXT
        if isinstance(expr, cst.Name) and depth < 3:
            bindings = self.resolver.lookup(scope, expr.value) or []
            return len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN \
                and bindings[0].value is not None and self._is_context_copy(bindings[0].value, scope, depth + 1)
        return False

    def _passes_context(self, node: cst.Call, scope: Scope) -> bool:
        """``Thread(target=f, context=contextvars.copy_context())`` (Python 3.14)."""
        context = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "context"), None)
        return context is not None and self._is_context_copy(context, scope)

    def _project_thread_class(self, func: cst.BaseExpression, scope: Scope):
        """A ``Thread`` subclass of another project module, instantiated here: its ``run()``."""
        if self.project is None or not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        qual = self.resolver.qualname(func, scope)
        if qual is None:
            return None
        bases = self.project.class_bases(qual)
        spawner = next((self.spawners.subclass_bases[b] for b in bases if b in self.spawners.subclass_bases), None)
        run = self.project.function(qual + ".run") if spawner is not None else None
        if run is None:
            return None

        def site(call: CallSite, owner: Optional[FunctionInfo]) -> SpawnSite:
            target = ExternalTarget(func, run.qualname, run)
            return SpawnSite(call, spawner, owner, [], [], target_expr=func, external_targets=[target])
        return site

    def resolve_external(self, expr: cst.BaseExpression, scope: Scope, owner: Optional[FunctionInfo],
                         before: int) -> Optional[ExternalTarget]:
        """A worker that is no function of this module: a project function (``MessageService.send``
        imported from another module), or a copy some helper made (``fn = self._prepare(fn)``)."""
        copy = self._returned_copy(expr, scope, owner, before)
        if copy is not None:
            return ExternalTarget(expr, None, copied=True, copy_node=copy)
        if self.project is None or not isinstance(expr, (cst.Name, cst.Attribute)):
            return None
        qual = self.resolver.qualname(expr, scope)
        function = self.project.function(qual) if qual else None
        if function is None:
            return None
        return ExternalTarget(expr, qual, function, copied=bool(function.summary.get("copied")))

    def _returned_copy(self, expr: cst.BaseExpression, scope: Scope, owner: Optional[FunctionInfo],
                       before: int) -> Optional[cst.Call]:
        """``fn = self._prepare_fn(fn)`` where the helper returns
        ``copy_current_request_context(fn)``: the call that made the one copy."""
        if not isinstance(expr, cst.Name):
            return None
        value = self._latest_value(expr.value, scope, before)
        if not isinstance(value, cst.Call):
            return None
        helper = self.resolver.function_of(value.func, scope, owner)
        if helper is not None:
            returns_copy = any(isinstance(r.value, cst.Call) and self.copy_wrapper_name(r.value.func, helper.scope)
                               for r in helper.returns)
        elif self.project is not None:
            qual = self.resolver.qualname(value.func, scope)
            returns_copy = bool(qual) and self.project.returns_copy(qual)
        else:
            returns_copy = False
        return value if returns_copy else None

    def _latest_value(self, name: str, scope: Scope, before: int) -> Optional[cst.BaseExpression]:
        """The value of the last assignment to ``name`` before ``before`` (straight-line code)."""
        bindings = [b for b in self.resolver.lookup(scope, name) or ()
                    if b.kind is BindingKind.ASSIGN and b.value is not None and b.order < before]
        return max(bindings, key=lambda b: b.order).value if bindings else None

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
            factory = self.resolver.function_of(expr.func, scope, owner)
            if factory is not None and factory.returns:  # ``celery = make_celery(app)``
                return {c for r in factory.returns if r.value is not None
                        for c in self.receiver_constructors(r.value, factory.scope, factory, depth + 1)}
            qual = self.resolver.qualname(expr.func, scope)
            if qual is None and isinstance(expr.func, cst.Attribute):  # ``get_context("spawn").Pool(2)``
                made_by = self.receiver_constructors(expr.func.value, scope, owner, depth + 1)
                if len(made_by) == 1 and next(iter(made_by)) in CONTEXT_MEMBERS:
                    return {f"{CONTEXT_MEMBERS[next(iter(made_by))]}.{expr.func.attr.value}"}
            return {qual}
        if isinstance(expr, cst.Name):
            bindings = self.resolver.lookup(scope, expr.value) or []
            values = [b.value for b in bindings if b.kind is BindingKind.ASSIGN and b.value is not None]
            if not values and self.project is not None and any(b.kind is BindingKind.IMPORT for b in bindings):
                qual = self.resolver.qualname(expr, scope)  # ``from .extensions import executor``
                return {self.project.object_constructor(qual) if qual else None}
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
                       owner: Optional[FunctionInfo], depth: int = 0, before: Optional[int] = None) -> Optional[Target]:
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

    def external_calls(self, fn: FunctionInfo) -> list[ExternalCall]:
        """The calls into other modules ``fn`` makes, directly or through same-module calls."""
        return self._walk(fn, 0)[1]

    def _walk(self, fn: FunctionInfo, depth: int) -> tuple[list["Reached"], list[ExternalCall], int]:
        """(loads, external calls, lowest cut): the lowest position in the walk's stack that a
        cycle cut reached (-1: the depth bound cut it). A result is memoized only when no cut
        reached above ``fn`` itself: otherwise it depends on where the walk started, and
        caching it would make findings depend on the order of the code in the file."""
        key = id(fn)
        cached = self._reach.get(key)
        if cached is not None:
            return cached, self._external[key], len(self._in_progress)
        if key in self._in_progress:
            return [], [], self._in_progress.index(key)
        if depth > MAX_CALL_DEPTH:
            return [], [], -1
        position = len(self._in_progress)
        self._in_progress.append(key)
        lowest = position + 1
        pushed = self.pushed_by_decorators(fn)  # ``@with_app_context def job():``
        out = [Reached(ref, (fn,), ref.covered | pushed, ref.order) for ref in fn.refs]
        external: list[ExternalCall] = []
        for call in fn.calls:
            callee = self.resolver.function_of(call.node.func, call.scope, fn)
            if callee is None:
                qual = self.resolver.qualname(call.node.func, call.scope)
                if qual is not None:
                    external.append(ExternalCall(qual, call.covered | pushed, (fn,), call.order))
                continue
            if callee is fn or self.is_copied(callee):
                continue
            loads, calls, low = self._walk(callee, depth + 1)
            lowest = min(lowest, low)
            out += [Reached(r.ref, (fn, *r.path), r.covered | call.covered | pushed, call.order) for r in loads]
            external += [ExternalCall(x.qualname, x.covered | call.covered | pushed, (fn, *x.path), call.order)
                         for x in calls]
        for child in self._inline_lambdas(fn):
            loads, calls, low = self._walk(child, depth + 1)
            lowest = min(lowest, low)
            out += [Reached(r.ref, (fn, *r.path), r.covered | pushed, r.order) for r in loads]
            external += [ExternalCall(x.qualname, x.covered | pushed, (fn, *x.path), x.order) for x in calls]
        self._in_progress.pop()
        if lowest >= position:
            self._reach[key] = out
            self._external[key] = external
        return out, external, lowest

    # --- contexts pushed by decorators, values known from every caller -----------------------

    def pushed_by_decorators(self, fn: FunctionInfo) -> frozenset[Need]:
        """The contexts ``fn``'s decorators push around its body (a same-module decorator
        whose wrapper calls the function inside ``with app.app_context():``)."""
        pushed: frozenset[Need] = frozenset()
        for decorator in fn.decorators:
            func = decorator.func if isinstance(decorator, cst.Call) else decorator
            maker = self.resolver.function_of(func, fn.parent)
            if maker is not None and maker is not fn:
                pushed |= self.pushing_decorator(maker)
            elif maker is None and self.project is not None:
                qual = self.resolver.qualname(func, fn.parent)
                pushed |= self.project.pushes(qual) if qual else frozenset()
        return pushed

    def pushing_decorator(self, maker: FunctionInfo) -> frozenset[Need]:
        """What a decorator (or decorator factory) pushes around calling what it decorates:
        a function nested in it calls one of the parameters in scope under a pushed context."""
        key = id(maker)
        if key not in self._pushers:
            self._pushers[key] = frozenset()  # a recursive decorator pushes nothing more
            parents = self.facts.parents
            pushed: set[Need] = set()
            for inner in self.facts.functions:
                if inner is maker or not parents.inside(inner.node, maker.node):
                    continue
                for call in inner.calls:
                    func = call.node.func
                    if isinstance(func, cst.Name):
                        for binding in self.resolver.lookup(call.scope, func.value) or ():
                            if binding.kind is BindingKind.PARAM and parents.inside(binding.node, maker.node):
                                pushed |= call.covered
            self._pushers[key] = frozenset(pushed)
        return self._pushers[key]

    def truthy_params(self) -> set[tuple[int, str]]:
        """(function, parameter) pairs that every call and every spawn of the function passes a
        value known to be true: an app object (``Flask(...)``, ``current_app._get_current_object()``).
        ``if app_obj: ... else: ...`` then never takes its else branch."""
        passed: dict[tuple[int, str], list[Optional[cst.BaseExpression]]] = {}
        for call, owner in self.all_calls():
            callee = self.resolver.function_of(call.node.func, call.scope, owner)
            if callee is not None and isinstance(callee.node, cst.FunctionDef):
                self._record_arguments(callee, list(call.node.args), passed)
        for site in self.spawn_sites():
            for target in site.targets:
                if isinstance(target.function.node, cst.FunctionDef) and site.thread_class is None:
                    args = [cst.Arg(v) for v in target.bound_args]
                    args += [cst.Arg(v) for v in literal_elements(call_argument(site.node, site.spawner.args))]
                    if site.spawner.extra_from is not None:
                        args += [a for a in site.node.args[site.spawner.extra_from:] if a.keyword is None]
                    self._record_arguments(target.function, args, passed)
        scopes = {id(fn): fn for fn in self.facts.functions}
        return {key for key, values in passed.items()
                if values and all(v is not None and self._known_true(v, scopes[key[0]].parent) for v in values)}

    def _record_arguments(self, fn: FunctionInfo, args: list[cst.Arg], passed) -> None:
        if any(a.star for a in args):
            return  # *args: which parameter gets what is unknown
        node = fn.node
        assert isinstance(node, cst.FunctionDef)
        params = [p for p in (*node.params.posonly_params, *node.params.params)]
        positional = [a.value for a in args if a.keyword is None]
        keywords = {a.keyword.value: a.value for a in args if a.keyword is not None}
        offset = 1 if fn.cls is not None else 0  # ``self``
        for index, param in enumerate(params[offset:]):
            name = param.name.value
            value = positional[index] if index < len(positional) else keywords.get(name, param.default)
            passed.setdefault((id(fn), name), []).append(value)

    def _known_true(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> bool:
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value == "_get_current_object":
                return self.resolver.qualname(func.value, scope) == CURRENT_APP
            return self.resolver.qualname(func, scope) == FLASK_APP
        if isinstance(expr, cst.Name) and depth < 3:
            bindings = self.resolver.lookup(scope, expr.value) or []
            return len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN and bindings[0].value is not None \
                and self._known_true(bindings[0].value, scope, depth + 1)
        return False

    def context_use(self, ref: Ref) -> Optional[ContextUse]:
        key = id(ref)
        if key not in self._uses:
            self._uses[key] = self.resolver.context_use(ref)
        return self._uses[key]

    def needs(self, fn: FunctionInfo, given: frozenset[Need] = frozenset()) -> dict[Need, Chain]:
        """The first use of each context ``fn`` needs when it runs with only ``given`` (none,
        by default): in this module, or (project mode) in a project function it calls."""
        key = (id(fn), given)
        if key not in self._needs:
            found: dict[Need, tuple[int, Chain]] = {}
            for r in self.reach(fn):
                use = self.context_use(r.ref)
                if use is None or self.satisfied(use, r.covered | given):
                    continue
                if use.need not in found or r.order < found[use.need][0]:
                    found[use.need] = (r.order, Chain(use, r.path, r.covered))
            if self.project is not None:
                for call in self.external_calls(fn):
                    for need, external in self.project.function_needs(call.qualname).items():
                        if satisfied(external.qualname, need, call.covered | given, self.server_name):
                            continue
                        if need not in found or call.order < found[need][0]:
                            found[need] = (call.order, Chain(None, call.path, call.covered, external))
            self._needs[key] = {need: chain for need, (_, chain) in found.items()}
        return self._needs[key]

    def external_needs(self, target: ExternalTarget, given: frozenset[Need] = frozenset()) -> dict[Need, Chain]:
        """What a worker in another project module needs, as chains through that module."""
        if self.project is None or target.function is None or target.copied:
            return {}
        return {need: Chain(None, (), frozenset(), use)
                for need, use in self.project.function_needs(target.function.qualname).items()
                if not satisfied(use.qualname, need, given, self.server_name)}

    def first_need(self, site: SpawnSite, need: Need) -> Optional[Chain]:
        """The first use of ``need`` that a worker of ``site`` makes with no such context
        (beyond what the site gives it: ``site.given``)."""
        for target in site.targets:
            if not target.copied:
                chain = self.needs(target.function, site.given).get(need)
                if chain is not None:
                    return chain
        for external in site.external_targets:
            chain = self.external_needs(external, site.given).get(need)
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
