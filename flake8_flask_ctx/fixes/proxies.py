"""FCX102: pass the object behind the proxy, not the proxy.

``current_app`` is replaced by ``current_app._get_current_object()``: the app object stays
valid in the worker. The request-bound proxies and ``g`` are left alone: their objects die
with the request (or its context), so the worker should get values instead, which changes
its signature: a human's call.
"""

from __future__ import annotations

import libcst as cst

from ..catalogue.flask_names import LONG_LIVED_PROXIES
from ..findings import Finding
from ..rules.details import ProxyArgument
from .context import FixContext


def unwrap_proxy(ctx: FixContext, finding: Finding) -> bool:
    detail = finding.detail
    if not isinstance(detail, ProxyArgument) or detail.proxy not in LONG_LIVED_PROXIES:
        return False
    value = detail.value
    if not ctx.plan.claim(value):
        return False
    ctx.plan.replace[id(value)] = cst.Call(cst.Attribute(value, cst.Name("_get_current_object")))
    ctx.note(finding, "passed the proxy's current object (_get_current_object())")
    return True
