"""FCX100: a worker reads a request-bound proxy, and a new thread has no request.

Reported at the spawn call, where the context is lost: one finding per spawn site, naming
the first offending read and the call chain that reaches it (runtime facts, case 1).
"""

from __future__ import annotations

from typing import Iterator

from ..analysis import ModuleAnalysis
from ..catalogue.contexts import RUNTIME_ERROR, Need
from ..findings import Finding
from .base import FixKind, Rule
from .details import WorkerNeed


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for site in analysis.spawn_sites:
        chain = analysis.workers.first_need(site, Need.REQUEST)
        if chain is not None:
            yield RULE.finding(analysis, site.node, WorkerNeed(site, chain), worker=site.worker_chain(chain),
                               what=chain.written, at=chain.at(analysis))


RULE = Rule(
    "FCX100",
    "worker reads a request-bound proxy with no request context",
    "{worker} reads {what} ({at}) with no request context: "
    f"{RUNTIME_ERROR[Need.REQUEST]} Read the value in the view and pass it as an argument, "
    "or decorate a closure made in the view with @copy_current_request_context "
    "(one worker per copy)",
    check,
    fixes=(FixKind.HOIST, FixKind.COPY_PER_WORKER),
)
