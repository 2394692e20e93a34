"""FCX204: with inherited thread contexts, an executor's threads keep a stale request.

Where threads start with a copy of the context of the code that starts them (Python 3.14t,
or ``-X thread_inherit_context=1``: the ``thread-inherit-context`` setting), a
``ThreadPoolExecutor`` made outside the request creates its threads inside the first
``submit()`` calls, in whatever request made them, and keeps them: every later task runs
in that first request's context and reads its ``request``, ``session`` and ``g``, another
user's data, silently (runtime facts, "Python 3.14", measured with the simulation).
Reported only for that runtime. An executor made in the view itself is fresh each time.
"""

from __future__ import annotations

from typing import Iterator, Optional

from ..analysis import ModuleAnalysis
from ..analysis.workers import Chain, SpawnSite
from ..catalogue.contexts import Need
from ..catalogue.flask_names import G
from ..findings import Finding
from .base import Rule
from .details import WorkerNeed


def _stale_read(analysis: ModuleAnalysis, site: SpawnSite) -> Optional[Chain]:
    """The first request-bound (or ``g``) use of the worker: what it would read stale."""
    for target in site.targets:
        if target.copied:
            continue
        needs = analysis.workers.needs(target.function)
        chain = needs.get(Need.REQUEST)
        if chain is None and Need.APP in needs and needs[Need.APP].qualname == G:
            chain = needs[Need.APP]
        if chain is not None:
            return chain
    return None


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for site in analysis.spawn_sites:
        if not site.stale_context:
            continue
        chain = _stale_read(analysis, site)
        if chain is not None:
            receiver = analysis.module.code_for_node(site.receiver) if site.receiver is not None else "the pool"
            yield RULE.finding(analysis, site.node, WorkerNeed(site, chain), worker=site.worker_chain(chain),
                               what=chain.written, at=chain.at(analysis), pool=receiver)


RULE = Rule(
    "FCX204",
    "with inherited thread contexts, an executor made outside the request runs tasks in a stale request",
    "{worker} reads {what} ({at}) in {pool}'s threads, which keep the context of the request that "
    "made them (inherited thread contexts): later requests read that first request's data; create the "
    "executor in the view, or pass the values",
    check,
    inherited_contexts=True,
)
