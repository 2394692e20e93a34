"""FCX101: a worker uses an app-bound proxy or extension object, and where it runs there is
no app context.

Reported where the work leaves the request, like FCX100. ``url_for`` is special: under a
bare app context it still needs a request, or SERVER_NAME (runtime facts, case 9). A task
queue's task has an app context where the project's task class pushes one (Flask's Celery
pattern): see ``analysis/tasks.py``.
"""

from __future__ import annotations

from typing import Iterator

from ..analysis import ModuleAnalysis
from ..analysis.workers import Chain, SpawnSite
from ..catalogue.contexts import URL_ADAPTER_ERROR, Need
from ..catalogue.flask_names import NEEDS_REQUEST_FOR_URLS
from ..findings import Finding
from .base import FixKind, Rule
from .details import WorkerNeed
from .wording import APP_ERROR, NO_APP, PUSH_APP

URL_FIX = "build the URL in the view and pass it (an app context alone needs SERVER_NAME)"


def _failure(site: SpawnSite, chain: Chain) -> dict[str, str]:
    urls = chain.qualname in NEEDS_REQUEST_FOR_URLS
    if urls and Need.APP in chain.covered | site.given:
        return {"where": "under an app context but no request", "error": URL_ADAPTER_ERROR.rstrip("."),
                "fix": URL_FIX}
    return {"where": NO_APP[site.spawner.kind], "error": APP_ERROR,
            "fix": URL_FIX if urls else PUSH_APP[site.spawner.kind]}


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for site in analysis.spawn_sites:
        chain = analysis.workers.first_need(site, Need.APP)
        if chain is not None:
            yield RULE.finding(analysis, site.node, WorkerNeed(site, chain), worker=site.worker_chain(chain),
                               what=chain.written, at=chain.at(analysis), **_failure(site, chain))


RULE = Rule(
    "FCX101",
    "worker uses an app-bound proxy or extension object with no app context",
    "{worker} uses {what} ({at}) {where} ({error}); {fix}",
    check,
    fixes=(FixKind.HOIST, FixKind.APP_CONTEXT, FixKind.COPY_PER_WORKER),
)
