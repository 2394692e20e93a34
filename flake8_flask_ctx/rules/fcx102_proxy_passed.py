"""FCX102: a context proxy object itself is passed to a worker in this process.

The proxy is looked up again in the worker's thread, where it is unbound (runtime facts,
case 8). Reported at the spawn call, once per site; not for copied workers (their copy
binds it), nor for workers the spawner gives the caller's context. A proxy sent to a task
queue or another process is FCX104: it never gets that far.
"""

from __future__ import annotations

from typing import Iterator

from ..analysis import ModuleAnalysis
from ..catalogue.flask_names import REQUEST_PROXY_OBJECTS
from ..findings import Finding
from .base import FixKind, Rule
from .details import ProxyArgument
from .wording import APP_ERROR, REQUEST_ERROR


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for site in analysis.spawn_sites:
        if any(t.copied for t in site.targets) or site.given or site.spawner.serializer is not None:
            continue
        for value in site.passed:
            proxy = analysis.resolver.is_proxy_object(value, site.call.scope)
            if proxy is None:
                continue
            qual = analysis.resolver.qualname(value, site.call.scope) or ""
            error = REQUEST_ERROR if qual in REQUEST_PROXY_OBJECTS else APP_ERROR
            yield RULE.finding(analysis, site.node, ProxyArgument(site, value, qual), proxy=proxy,
                               worker=site.worker_name, error=error)
            break


RULE = Rule(
    "FCX102",
    "a context proxy object itself is passed to a worker",
    "{proxy} passed to {worker} is unbound in the worker's thread ({error}); "
    "pass {proxy}._get_current_object() or the values it needs",
    check,
    fixes=(FixKind.UNWRAP_PROXY,),
)
