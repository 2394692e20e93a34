"""FCX102: a context proxy object itself is passed to a worker.

The proxy is looked up again in the worker's thread, where it is unbound (runtime facts,
case 8). Reported at the spawn call, once per site; not for copied workers (their copy
binds it).
"""

from __future__ import annotations

from typing import Iterator

from ..analysis import ModuleAnalysis
from ..catalogue.contexts import RUNTIME_ERROR, Need
from ..catalogue.flask_names import REQUEST_PROXY_OBJECTS
from ..findings import Finding
from .base import FixKind, Rule
from .details import ProxyArgument


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for site in analysis.spawn_sites:
        if any(t.copied for t in site.targets):
            continue
        for value in site.passed:
            proxy = analysis.resolver.is_proxy_object(value, site.call.scope)
            if proxy is None:
                continue
            qual = analysis.resolver.qualname(value, site.call.scope) or ""
            need = Need.REQUEST if qual in REQUEST_PROXY_OBJECTS else Need.APP
            yield RULE.finding(analysis, site.node, ProxyArgument(site, value, qual), proxy=proxy,
                               worker=site.worker_name, error=RUNTIME_ERROR[need].rstrip("."))
            break


RULE = Rule(
    "FCX102",
    "a context proxy object itself is passed to a worker",
    "{proxy} is passed to {worker} as an argument; the proxy is unbound in the "
    "worker thread ({error}). Pass {proxy}._get_current_object() or the values "
    "the worker needs",
    check,
    fixes=(FixKind.UNWRAP_PROXY,),
)
