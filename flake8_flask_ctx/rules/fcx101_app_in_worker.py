"""FCX101: a worker uses an app-bound proxy or extension object, and a new thread has no app.

Reported at the spawn call, like FCX100. ``url_for`` is special: under a bare app context
it still needs a request, or SERVER_NAME (runtime facts, case 9).
"""

from __future__ import annotations

from typing import Iterator

from ..analysis import ModuleAnalysis
from ..analysis.workers import Chain
from ..catalogue.contexts import RUNTIME_ERROR, URL_ADAPTER_ERROR, Need
from ..catalogue.flask_names import NEEDS_REQUEST_FOR_URLS
from ..findings import Finding
from .base import FixKind, Rule
from .details import WorkerNeed

APP_FIX = ("Compute the value in the view and pass it, or pass app = "
           "current_app._get_current_object() and use 'with app.app_context():' in the worker")
URL_FIX = ("Build the URL in the view and pass it, or run this one worker in a request copy "
           "(copy_current_request_context); an app context alone needs SERVER_NAME")


def _failure(chain: Chain) -> dict[str, str]:
    urls = chain.qualname in NEEDS_REQUEST_FOR_URLS
    if urls and Need.APP in chain.covered:
        return {"where": "under an app context but no request", "error": URL_ADAPTER_ERROR, "fix": URL_FIX}
    return {"where": "with no app context", "error": RUNTIME_ERROR[Need.APP], "fix": URL_FIX if urls else APP_FIX}


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for site in analysis.spawn_sites:
        chain = analysis.workers.first_need(site, Need.APP)
        if chain is not None:
            yield RULE.finding(analysis, site.node, WorkerNeed(site, chain), worker=site.worker_chain(chain),
                               what=chain.written, at=chain.at(analysis),
                               **_failure(chain))


RULE = Rule(
    "FCX101",
    "worker uses an app-bound proxy or extension object with no app context",
    "{worker} uses {what} ({at}) {where}: {error} {fix}",
    check,
    fixes=(FixKind.HOIST, FixKind.APP_CONTEXT, FixKind.COPY_PER_WORKER),
)
