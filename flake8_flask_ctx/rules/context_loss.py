"""FCX100, FCX101, FCX102: a worker runs with no context and needs one.

Reported at the spawn call, where the context is lost: one finding per spawn site and
code, naming the first offending use and the call chain that reaches it.
"""

from __future__ import annotations

from typing import Iterator, Optional

from ..analysis import ModuleAnalysis
from ..analysis.knowledge import NEEDS_REQUEST_FOR_URLS, Need
from ..analysis.workers import Chain, SpawnSite
from ..codes import AP, APP_FIX, RQ, SN2, URL_FIX, message
from ..findings import Finding

_CODE = {Need.REQUEST: "FCX100", Need.APP: "FCX101"}


def _first_need(analysis: ModuleAnalysis, site: SpawnSite, need: Need) -> Optional[Chain]:
    for target in site.targets:
        if target.copied:
            continue
        chain = analysis.workers.needs(target.function).get(need)
        if chain is not None:
            return chain
    return None


def _worker_text(site: SpawnSite, chain: Chain) -> str:
    if site.thread_class is not None:
        return f"thread {site.thread_class.name}: {chain.describe()}"
    return f"worker {chain.describe()}"


def _app_fields(chain: Chain) -> dict[str, str]:
    """url_for under a bare app context fails differently (flask-runtime.md §3 case 9)."""
    urls = chain.use.qualname in NEEDS_REQUEST_FOR_URLS
    if urls and Need.APP in chain.covered:
        return {"where": "under an app context but no request", "error": SN2, "fix": URL_FIX}
    return {"where": "with no app context", "error": AP, "fix": URL_FIX if urls else APP_FIX}


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for site in analysis.spawn_sites:
        for need in (Need.REQUEST, Need.APP):
            chain = _first_need(analysis, site, need)
            if chain is None:
                continue
            code = _CODE[need]
            line, col = analysis.position(site.node)
            fields = {}
            if code == "FCX101":
                fields = _app_fields(chain)
            text = message(code, worker=_worker_text(site, chain), what=chain.use.written,
                           line=analysis.line(chain.use.ref.node), **fields)
            yield Finding(code, line, col, text, site.node, detail=(site, chain))
        if any(t.copied for t in site.targets):
            continue
        for value in site.passed:
            proxy = analysis.resolver.is_proxy_object(value, site.call.scope)
            if proxy is None:
                continue
            qual = analysis.resolver.qualname(value, site.call.scope) or ""
            error = RQ if qual.endswith(("request", "session", "current_user")) else AP
            worker = site.worker_name
            line, col = analysis.position(site.node)
            yield Finding("FCX102", line, col,
                          message("FCX102", proxy=proxy, worker=worker, error=error.rstrip(".")),
                          site.node, detail=(site, value))
            break
