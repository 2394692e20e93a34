"""FCX102: pass the object behind the proxy, not the proxy.

``current_app`` is replaced by ``current_app._get_current_object()``: the app object stays
valid in the worker. The request-bound proxies and ``g`` are left alone: their objects die
with the request (or its context), so the worker should get values instead, which changes
its signature: a human's call.
"""

from __future__ import annotations

import libcst as cst

from ..findings import Finding
from .context import FixContext

UNWRAPPABLE = frozenset({"flask.current_app"})


def unwrap_proxy(ctx: FixContext, finding: Finding) -> bool:
    site, value = finding.detail
    qual = ctx.analysis.resolver.qualname(value, site.call.scope)
    if qual not in UNWRAPPABLE or not ctx.plan.claim(value):
        return False
    ctx.plan.replace[id(value)] = cst.Call(cst.Attribute(value, cst.Name("_get_current_object")))
    ctx.note(finding, "passed the proxy's current object (_get_current_object())")
    return True
