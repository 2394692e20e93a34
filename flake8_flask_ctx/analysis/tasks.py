"""Task queues and schedulers: which decorators make a function a task, which context a
task runs in, and where a task is enqueued with which arguments.

A task never runs in a request. It runs in an app context only where the project's task
class pushes one: a subclass of the queue's task base (``celery.Task``) whose ``__call__``
calls the task inside ``with app.app_context():``, as in Flask's Celery pattern
(``celery_init_app`` with ``FlaskTask``) and in the older ``ContextTask`` recipe (runtime
facts, "Task queues"). Such a class in this module, or (project mode) in any module of the
project, is taken to be installed: defining one and not using it is not what projects do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Union

import libcst as cst

from ..catalogue.contexts import Need
from ..catalogue.spawners import ArgSlot, Spawner
from .model import BindingKind, CallSite, ClassInfo, FunctionInfo, Scope

if TYPE_CHECKING:
    from ..project.index import ProjectFunction
    from .workers import SpawnSite, WorkerAnalysis

# ``apply_async(args=[...], kwargs={...})``, ``signature(args, kwargs)``, ``schedule(args=...)``
_ARGS_SLOT = ArgSlot(0, ("args",))
_KWARGS_SLOT = ArgSlot(1, ("kwargs",))
_SLOTTED_SENDS = frozenset({"apply_async", "signature", "schedule", "send_with_options", "message_with_options"})


@dataclass(eq=False)
class EnqueueSite:
    """``send_receipt.delay(...)``: a task sent to its queue, with what it is given."""

    call: CallSite
    spawner: Spawner
    task: Union[FunctionInfo, "ProjectFunction"]
    passed: list[cst.BaseExpression]

    @property
    def node(self) -> cst.Call:
        return self.call.node

    @property
    def task_name(self) -> str:
        return f"{self.spawner.label} {self.task.display}()"


class Tasks:
    def __init__(self, workers: "WorkerAnalysis") -> None:
        self.workers = workers
        self.resolver = workers.resolver
        self._task_of: dict[int, Optional[Spawner]] = {}
        self._pushes: Optional[bool] = None

    # --- which functions are tasks -----------------------------------------------------------

    def decorator_spawner(self, decorator: cst.BaseExpression, scope: Scope) -> Optional[Spawner]:
        """The task queue or scheduler a decorator belongs to: ``@shared_task``,
        ``@celery.task(bind=True)``, ``@scheduler.scheduled_job("interval")``."""
        func = decorator.func if isinstance(decorator, cst.Call) else decorator
        table = self.workers.spawners
        qual = self.resolver.qualname(func, scope)
        if qual in table.decorators_by_callable:
            return table.decorators_by_callable[qual]
        if isinstance(func, cst.Attribute) and func.attr.value in table.decorators_by_method:
            method = func.attr.value
            found = {table.method(method, c, decorator=True)
                     for c in self.workers.receiver_constructors(func.value, scope, None)}
            found.discard(None)
            return found.pop() if len(found) == 1 else None
        return None

    def task_spawner(self, fn: FunctionInfo) -> Optional[Spawner]:
        """The spawner whose decorator makes ``fn`` a task (None: not a task)."""
        if id(fn) not in self._task_of:
            spawners = (self.decorator_spawner(d, fn.parent) for d in fn.decorators)
            self._task_of[id(fn)] = next((s for s in spawners if s is not None), None)
        return self._task_of[id(fn)]

    # --- which context a task runs in ----------------------------------------------------------

    def given(self, site: "SpawnSite") -> frozenset[Need]:
        """The contexts a task of ``site`` runs in: an app context where its task class pushes
        one. ``@celery.task(base=ContextTask)`` names it; ``@celery.task`` has its app's (the
        ``task_cls=`` of the ``Celery(...)`` that made it, or ``celery.Task = ContextTask``,
        followed into the factory that returns it); ``@shared_task`` has the default app's,
        which is taken to be the project's own task class, wherever it is defined."""
        bases = site.spawner.task_bases
        if not bases:
            return frozenset()
        decorator, scope = site.target_expr, site.call.scope
        app = frozenset({Need.APP})
        if isinstance(decorator, cst.Call) and self._pushing_class(_keyword(decorator, "base"), scope, bases):
            return app
        func = decorator.func if isinstance(decorator, cst.Call) else decorator
        if isinstance(func, cst.Attribute) and not self._imported(func.value, scope):
            return app if self._app_installs(func.value, scope, bases) else frozenset()
        if self._pushes is None:
            self._pushes = self.defines_context_task(bases) or (
                self.workers.project is not None and self.workers.project.has_context_task())
        return app if self._pushes else frozenset()

    def _imported(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        bindings = self.resolver.lookup(scope, expr.value) if isinstance(expr, cst.Name) else None
        return bool(bindings) and all(b.kind is BindingKind.IMPORT for b in bindings)

    def _app_installs(self, expr: cst.BaseExpression, scope: Scope, bases: tuple[str, ...], depth: int = 0) -> bool:
        """Does the queue app ``expr`` get a task class that pushes the app's context?"""
        if depth > 3 or not isinstance(expr, cst.Name):
            return False
        defining = self.resolver.defining_scope(scope, expr.value)
        for binding in (defining.bindings.get(expr.value, []) if defining is not None else []):
            made = binding.value
            if binding.kind is not BindingKind.ASSIGN or not isinstance(made, cst.Call):
                continue
            factory = self.resolver.function_of(made.func, defining)
            if factory is not None:  # ``celery = make_celery(app)``: what the factory returns
                if any(self._app_installs(r.value, factory.scope, bases, depth + 1)
                       for r in factory.returns if r.value is not None):
                    return True
            elif self._pushing_class(_keyword(made, "task_cls"), defining, bases):
                return True
            if any(self._pushing_class(value, defining, bases)
                   for value in self._task_assignments(expr.value, defining)):  # ``celery.Task = X``
                return True
        return False

    def _task_assignments(self, name: str, scope: Scope) -> list[cst.BaseExpression]:
        """The values assigned to ``<name>.Task`` in ``scope``."""
        parents = self.workers.facts.parents
        refs = scope.function.refs if scope.function is not None else self.workers.facts.module_refs
        values = []
        for ref in refs:
            if ref.name == name and ref.store and ref.attrs == ("Task",):
                target = parents.of(ref.node)
                statement = parents.of(target) if isinstance(target, cst.AssignTarget) else None
                if isinstance(statement, cst.Assign):
                    values.append(statement.value)
        return values

    def _pushing_class(self, expr: Optional[cst.BaseExpression], scope: Scope, bases: tuple[str, ...]) -> bool:
        cls = self.resolver.class_of(expr, scope) if expr is not None else None
        return cls is not None and self._is_task_class(cls, bases) and self._call_pushes_app(cls)

    def defines_context_task(self, bases: tuple[str, ...]) -> bool:
        """Does this module define a task class whose ``__call__`` pushes an app context?"""
        return any(self._is_task_class(cls, bases) and self._call_pushes_app(cls)
                   for cls in self.workers.facts.classes)

    def _is_task_class(self, cls: ClassInfo, bases: tuple[str, ...]) -> bool:
        for base in cls.bases:
            value = self._assigned(base, cls.parent)  # ``TaskBase = celery.Task``
            if self.resolver.qualname(value, cls.parent) in bases:
                return True
            # ``celery.Task`` where ``celery = Celery(...)``: the queue app's own task class
            if isinstance(value, cst.Attribute) and value.attr.value == bases[0].rsplit(".", 1)[-1]:
                apps = {r for s in self.workers.spawners if s.task_bases == bases for r in s.receivers or ()}
                if self.workers.receiver_constructors(value.value, cls.parent, None) & apps:
                    return True
        return False

    def _assigned(self, expr: cst.BaseExpression, scope: Scope) -> cst.BaseExpression:
        if isinstance(expr, cst.Name):
            bindings = self.resolver.lookup(scope, expr.value) or []
            if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN and bindings[0].value is not None:
                return bindings[0].value
        return expr

    @staticmethod
    def _call_pushes_app(cls: ClassInfo) -> bool:
        method = cls.methods.get("__call__")
        return method is not None and any(Need.APP in call.covered for call in method.calls)

    # --- where tasks are sent --------------------------------------------------------------------

    def enqueue_sites(self) -> list[EnqueueSite]:
        """``task.delay(...)``, ``task.apply_async(args=[...])``, ``actor.send(...)``, and a
        huey task called: each with the values that will be serialized."""
        sites = []
        for call, owner in self.workers.all_calls():
            site = self._enqueue_site(call, owner)
            if site is not None:
                sites.append(site)
        return sites

    def _enqueue_site(self, call: CallSite, owner: Optional[FunctionInfo]) -> Optional[EnqueueSite]:
        func = call.node.func
        method = func.attr.value if isinstance(func, cst.Attribute) else None
        named = func.value if isinstance(func, cst.Attribute) else func
        task, spawner = self._task_named(named, call.scope, owner)
        if spawner is None:
            return None
        if method is None:
            if not spawner.enqueue_by_call:
                return None
            return EnqueueSite(call, spawner, task, [a.value for a in call.node.args if not a.star])
        if method not in spawner.enqueues:
            return None
        if method in _SLOTTED_SENDS:
            from .workers import call_argument, literal_elements

            passed = literal_elements(call_argument(call.node, _ARGS_SLOT))
            passed += literal_elements(call_argument(call.node, _KWARGS_SLOT))
        else:
            passed = [a.value for a in call.node.args if not a.star]
        return EnqueueSite(call, spawner, task, passed)

    def _task_named(self, expr: cst.BaseExpression, scope: Scope, owner: Optional[FunctionInfo]):
        fn = self.resolver.function_of(expr, scope, owner)
        if fn is not None:
            return fn, self.task_spawner(fn)
        project = self.workers.project
        if project is not None and isinstance(expr, (cst.Name, cst.Attribute)):
            qual = self.resolver.qualname(expr, scope)
            function = project.function(qual) if qual else None
            name = function.summary.get("task") if function is not None else None
            spawner = next((s for s in self.workers.spawners if s.name == name), None) if name else None
            return function, spawner
        return None, None


def _keyword(call: cst.Call, name: str) -> Optional[cst.BaseExpression]:
    return next((a.value for a in call.args if a.keyword is not None and a.keyword.value == name), None)
