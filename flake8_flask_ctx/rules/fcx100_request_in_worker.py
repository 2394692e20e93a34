"""FCX100: a worker reads a request-bound proxy, and where it runs there is no request.

Reported where the work leaves the request: the spawn call, or the decorator that makes a
function a task or a job. One finding per site, naming the first offending read and the
call chain that reaches it (runtime facts, case 1; task queues, schedulers, processes).
"""

from __future__ import annotations

from typing import Iterator

from ..analysis import ModuleAnalysis
from ..analysis.workers import SpawnSite
from ..catalogue.contexts import Need
from ..catalogue.spawners import FORK, Kind
from ..findings import Finding
from .base import FixKind, Rule
from .details import WorkerNeed
from .wording import (
    NO_REQUEST, NO_REQUEST_FORKED_BEFORE, NO_REQUEST_FORKSERVER, NO_REQUEST_STARTED, PASS_REQUEST_VALUE,
    PASS_TO_CONSTRUCTOR, REQUEST_ERROR,
)


def _fix(site: SpawnSite) -> str:
    if site.thread_class is not None and site.targets and site.targets[0].function.name == "run":
        return PASS_TO_CONSTRUCTOR  # a closure or a copy cannot help run() itself
    return PASS_REQUEST_VALUE[site.spawner.kind]


def _where(analysis: ModuleAnalysis, site: SpawnSite) -> str:
    if site.start_method == FORK:  # a pool forked elsewhere (a child forked here has the request)
        return NO_REQUEST_FORKED_BEFORE
    if site.start_method is not None:
        return NO_REQUEST_STARTED.format(method=site.start_method)
    if site.spawner.kind is Kind.PROCESS and not analysis.runtime.forks_by_default:
        return NO_REQUEST_FORKSERVER
    return NO_REQUEST[site.spawner.kind]


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for site in analysis.spawn_sites:
        chain = analysis.workers.first_need(site, Need.REQUEST)
        if chain is not None:
            yield RULE.finding(analysis, site.node, WorkerNeed(site, chain), worker=site.worker_chain(chain),
                               what=chain.written, at=chain.at(analysis), where=_where(analysis, site),
                               error=REQUEST_ERROR, fix=_fix(site))


RULE = Rule(
    "FCX100",
    "worker reads a request-bound proxy with no request context",
    "{worker} reads {what} ({at}) {where} ({error}); {fix}",
    check,
    fixes=(FixKind.HOIST, FixKind.COPY_PER_WORKER),
)
