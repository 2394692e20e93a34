"""FCX104: a request-bound object sent to a task queue or another process.

A queue serializes a task's arguments when it is sent (Celery and dramatiq as JSON by
default, RQ and huey with pickle), and a process pool pickles what it hands its children.
Flask's proxies, the app object and uploaded files do not survive that, and a MultiDict
survives JSON only as a plain dict of first values (runtime facts, "Arguments"). Reported
on the argument, where the value is handed over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import BindingKind, Scope
from ..catalogue.flask_names import CURRENT_APP, CURRENT_USER, MULTIDICT_MEMBERS, REQUEST, UPLOAD_MEMBERS
from ..catalogue.spawners import Serializer, Spawner
from ..findings import Detail, Finding
from .base import Rule


@dataclass(frozen=True)
class Unserializable(Detail):
    """FCX104: ``value`` cannot cross to ``spawner``'s worker as it is."""

    value: cst.BaseExpression
    spawner: Spawner
    sort: str  # proxy, app, upload, multidict


_FAILS = {
    ("proxy", Serializer.JSON): "cannot be sent as JSON: it fails at enqueue",
    ("proxy", Serializer.PICKLE): "cannot be pickled: it fails when sent",
    ("proxy", Serializer.PICKLE_UNLESS_FORKED): "cannot be pickled for a spawn or forkserver child: "
                                                "start() fails",
    ("app", Serializer.JSON): "cannot be sent as JSON: it fails at enqueue",
    ("app", Serializer.PICKLE): "cannot be pickled (the Flask app holds local objects): it fails when sent",
    ("app", Serializer.PICKLE_UNLESS_FORKED): "cannot be pickled for a spawn or forkserver child: "
                                              "start() fails",
    ("upload", Serializer.JSON): "cannot be sent as JSON: it fails at enqueue",
    ("upload", Serializer.PICKLE): "pickles but cannot be unpickled (RecursionError): the work is lost",
    ("upload", Serializer.PICKLE_UNLESS_FORKED): "pickles but cannot be unpickled in a spawn or "
                                                 "forkserver child (RecursionError): the child dies",
    ("multidict", Serializer.JSON): "arrives as a plain dict holding the first value of each key only",
}
_INSTEAD = {
    "proxy": "the plain values the worker needs",
    "app": "nothing: let the worker make its own app (or push its context)",
    "upload": "its content (.read()) and its filename",
    "multidict": ".to_dict(flat=False)",
}


def _sort(analysis: ModuleAnalysis, value: cst.BaseExpression, scope: Scope, depth: int = 0) -> Optional[str]:
    resolver = analysis.resolver
    if isinstance(value, cst.Name) and depth < 2:  # ``upload = request.files["f"]`` first
        bindings = resolver.lookup(scope, value.value) or []
        if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN and bindings[0].value is not None:
            return _sort(analysis, bindings[0].value, scope, depth + 1)
    if resolver.is_proxy_object(value, scope) is not None:
        return "proxy"
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        method, owner = value.func.attr.value, value.func.value
        if method == "_get_current_object" and resolver.qualname(owner, scope) == CURRENT_APP:
            return "app"
        if method in ("get", "getlist") and _request_member(analysis, owner, scope) in UPLOAD_MEMBERS:
            return "upload"
    if isinstance(value, cst.Subscript) and _request_member(analysis, value.value, scope) in UPLOAD_MEMBERS:
        return "upload"
    member = _request_member(analysis, value, scope)
    if member in UPLOAD_MEMBERS:
        return "upload"
    if member in MULTIDICT_MEMBERS:
        return "multidict"
    return None


def _request_member(analysis: ModuleAnalysis, expr: cst.BaseExpression, scope: Scope) -> Optional[str]:
    """``files`` for ``request.files``."""
    if isinstance(expr, cst.Attribute) and analysis.resolver.qualname(expr.value, scope) == REQUEST:
        return expr.attr.value
    return None


def _sends(analysis: ModuleAnalysis):
    """(where, spawner, how it serializes, worker as named in messages, values sent)."""
    for site in analysis.spawn_sites:
        serializer = analysis.serializer(site.spawner)
        if serializer is not None and site.passed and not (
                site.forked_copy and serializer is Serializer.PICKLE_UNLESS_FORKED):  # copied, not sent
            yield site.call.scope, site.spawner, serializer, site.worker_name, site.passed
    for send in analysis.workers.tasks.enqueue_sites():
        serializer = analysis.serializer(send.spawner)
        if serializer is not None:
            yield send.call.scope, send.spawner, serializer, send.task_name, send.passed


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for scope, spawner, serializer, worker, values in _sends(analysis):
        for value in values:
            sort = _sort(analysis, value, scope)
            fails = _FAILS.get((sort, serializer)) if sort else None
            if fails is None:
                continue
            qual = analysis.resolver.qualname(value, scope)
            instead = "current_user.id" if qual == CURRENT_USER else _INSTEAD[sort]
            written = analysis.module.code_for_node(value)
            written = written if len(written) <= 40 else written[:37] + "..."
            yield RULE.finding(analysis, value, Unserializable(value, spawner, sort), what=written,
                               worker=worker, fails=fails, instead=instead)


RULE = Rule(
    "FCX104",
    "a request-bound object is sent to a task queue or another process",
    "{what} sent to {worker} {fails}; send {instead}",
    check,
)
