"""FCX105: a task started in an async view and not awaited before the view returns.

Flask runs each async view in an event loop of its own, which ends when the view returns
(``asgiref``'s ``async_to_sync`` runs ``asyncio.run``): the task still pending is
cancelled at its next ``await``, silently (runtime facts, "Async views"). What it would
have done after that point never happens. Awaiting the task, gathering it, or handing the
work to a thread or a task queue keeps it.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import CallSite, FunctionInfo
from ..catalogue.flask_names import LOOP_GETTERS, TASK_STARTERS
from ..findings import Finding
from .base import Rule
from .details import UnawaitedTask


def _starter(analysis: ModuleAnalysis, call: CallSite, fn: FunctionInfo) -> Optional[str]:
    """``asyncio.create_task`` / ``loop.create_task`` as written, if ``call`` starts a task."""
    func = call.node.func
    qual = analysis.resolver.qualname(func, call.scope)
    if qual in TASK_STARTERS:
        return qual
    if isinstance(func, cst.Attribute) and func.attr.value == "create_task":
        made_by = analysis.workers.receiver_constructors(func.value, call.scope, fn)
        if made_by and made_by <= set(LOOP_GETTERS):
            return "loop.create_task"
    return None


def _kept(fn: FunctionInfo, call: CallSite) -> bool:
    """Is the task awaited, passed on, or kept in a name the view uses again?"""
    if call.awaited or call.consumed:
        return True
    name = call.assigned_to
    return name is not None and any(ref.name == name and ref.order > call.order for ref in fn.refs)


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for fn in analysis.functions:
        node = fn.node
        if not isinstance(node, cst.FunctionDef) or node.asynchronous is None or not analysis.is_view(fn):
            continue
        for call in fn.calls:
            starter = _starter(analysis, call, fn)
            if starter is not None and not _kept(fn, call):
                yield RULE.finding(analysis, call.node, UnawaitedTask(fn), starter=starter.rsplit(".", 1)[-1],
                                   view=fn.name)


RULE = Rule(
    "FCX105",
    "a task started in an async view is not awaited",
    "{starter}() in async view {view}() is not awaited: the view's event loop ends with the "
    "request and cancels the task at its next await; await it, or hand the work to a thread "
    "or a task queue",
    check,
)
