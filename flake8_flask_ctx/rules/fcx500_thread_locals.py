"""FCX500: thread-local state set in the spawning thread and read in a worker.

``threading.local()``, Werkzeug's ``Local``/``LocalStack`` and a ``ContextVar`` hold one
value per thread (per context): a new thread starts with its own empty copy, so what the
spawning code stored is not there (the second blog post). The worker reads ``None``, or gets
``AttributeError`` / ``LookupError``. A worker that sets the value itself first is the
intended use and is not reported.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import Binding, BindingKind, Ref
from ..analysis.workers import SpawnSite, call_argument, literal_elements
from ..catalogue.spawners import Kind
from ..catalogue.thread_locals import THREAD_LOCAL_WRITES, THREAD_LOCALS, ThreadLocal
from ..findings import Finding
from .base import Rule
from .details import WorkerUse


class _Locals:
    def __init__(self, analysis: ModuleAnalysis) -> None:
        self.analysis = analysis
        self.kinds: dict[int, ThreadLocal] = {}
        for scope in analysis.facts.scopes:
            for bindings in scope.bindings.values():
                for b in bindings:
                    if b.kind is BindingKind.ASSIGN and isinstance(b.value, cst.Call):
                        qual = analysis.resolver.qualname(b.value.func, scope)
                        if qual in THREAD_LOCALS:
                            self.kinds[id(b)] = THREAD_LOCALS[qual]

    def binding(self, ref: Ref, params: dict[str, Binding]) -> Optional[Binding]:
        """The thread-local object ``ref`` is rooted at, if any (``params``: worker args)."""
        bindings = self.analysis.resolver.lookup(ref.scope, ref.name) or []
        for b in bindings:
            if id(b) in self.kinds:
                return b
            if b.kind is BindingKind.PARAM and ref.name in params:
                return params[ref.name]
        return None

    @staticmethod
    def is_write(ref: Ref) -> bool:
        return ref.store or (bool(ref.attrs) and ref.attrs[0] in THREAD_LOCAL_WRITES)

    def passed_params(self, site: SpawnSite) -> dict[str, Binding]:
        """Worker parameters that receive a thread-local object through ``args=``."""
        result: dict[str, Binding] = {}
        values = literal_elements(call_argument(site.node, site.spawner.args))
        for target in site.targets:
            params = target.function.params
            offset = 1 if target.function.cls is not None else 0
            for i, value in enumerate(values):
                if isinstance(value, cst.Name) and i + offset < len(params):
                    for b in self.analysis.resolver.lookup(site.call.scope, value.value) or []:
                        if id(b) in self.kinds:
                            result[params[i + offset]] = b
        return result


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    locals_ = _Locals(analysis)
    if not locals_.kinds:
        return
    reported: set[int] = set()
    for site in analysis.spawn_sites:
        if site.spawner.kind not in (Kind.THREAD, Kind.JOB):
            continue  # another process: what it sees of this one is not thread-local state
        spawner_refs = site.owner.refs if site.owner is not None else analysis.facts.module_refs
        set_before = {id(b) for ref in spawner_refs if ref.order < site.call.order and locals_.is_write(ref)
                      for b in [locals_.binding(ref, {})] if b is not None}
        if not set_before:
            continue
        params = locals_.passed_params(site)
        for target in site.targets:
            reached = analysis.workers.reach(target.function)
            own = {id(b) for r in reached if locals_.is_write(r.ref)
                   for b in [locals_.binding(r.ref, params)] if b is not None}
            for r in reached:
                b = locals_.binding(r.ref, params)
                if b is None or id(b) not in set_before or id(b) in own or locals_.is_write(r.ref) \
                        or not r.ref.attrs or id(r.ref) in reported:
                    continue
                local = locals_.kinds[id(b)]
                if local.in_context and site.given:
                    continue  # the worker runs in a copy of the spawner's contextvars
                reported.add(id(r.ref))
                what = ".".join((r.ref.name, *r.ref.attrs))
                yield RULE.finding(analysis, r.ref.node, WorkerUse(site, target, r), worker=f"worker {r.chain}",
                                   what=what, obj=r.ref.name, kind=local.what, result=local.result)


RULE = Rule(
    "FCX500",
    "thread-local state set in the spawning thread is read in a worker",
    "{worker} reads {what}, but {obj} is {kind} set in the spawning thread: the worker "
    "has its own empty copy ({result}); pass the value as an argument",
    check,
)
