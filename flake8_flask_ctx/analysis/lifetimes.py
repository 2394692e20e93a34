"""Does a worker finish before the function that spawned it returns?

A copied request context keeps the ``request`` object alive, but not the connection: once
the view has returned, the server may have closed the body stream and sent the session
cookie (docs/runtime-facts.md, "A thread that outlives the request"). A worker is
*joined* when the spawning function waits for it, in one of the ways its spawner's record
allows (``Spawner.joins``): ``t.join()``, ``future.result()``, ``concurrent.futures.wait``,
a blocking pool method, an executor ``with`` block, a consumed ``executor.map``; and an
``await``ed ``run_in_executor``.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..catalogue.spawners import WAIT_FUNCTIONS, WAIT_METHODS, Join
from .model import BindingKind, CallSite, FunctionInfo
from .workers import SpawnSite, WorkerAnalysis


def _receiver_name(call: cst.Call) -> Optional[str]:
    if isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name):
        return call.func.value.value
    return None


def _method(call: cst.Call) -> Optional[str]:
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else None


def _waits_later(owner: FunctionInfo, site: CallSite, names: set[str], workers: WorkerAnalysis) -> bool:
    """A later call in ``owner`` waits on one of ``names`` (or on a loop variable, or on all)."""
    for call in owner.calls:
        if call.order <= site.order:
            continue
        method = _method(call.node)
        receiver = _receiver_name(call.node)
        if method in WAIT_METHODS and receiver is not None:
            if receiver in names:
                return True
            bindings = workers.resolver.lookup(call.scope, receiver) or []
            if any(b.kind is BindingKind.OTHER for b in bindings):  # ``for t in threads: t.join()``
                return True
        if _is_wait_function(call, workers):
            return True
    return False


def _is_wait_function(call: CallSite, workers: WorkerAnalysis) -> bool:
    """``wait(fs)``, ``concurrent.futures.as_completed(fs)``, ``gevent.joinall(gs)``."""
    func = call.node.func
    if isinstance(func, cst.Name):
        return func.value in WAIT_FUNCTIONS
    if isinstance(func, cst.Attribute) and func.attr.value in WAIT_FUNCTIONS:
        module = workers.resolver.qualname(func.value, call.scope)
        return module is not None  # a module function, not ``something.wait()``
    return False


def _in_with_block(receiver: cst.BaseExpression, site: SpawnSite, workers: WorkerAnalysis) -> bool:
    """``with ThreadPoolExecutor() as ex: ex.submit(...)``: leaving the block waits."""
    if not isinstance(receiver, cst.Name):
        return False
    for b in workers.resolver.lookup(site.call.scope, receiver.value) or []:
        if b.value is not None:
            bound = workers.call_site(b.value)
            if bound is not None and bound.with_target == receiver.value:
                return True
    return False


def is_joined(site: SpawnSite, workers: WorkerAnalysis) -> bool:
    owner = site.owner
    call = site.call
    if owner is None or call.awaited:
        return True  # module-level code has no request to outlive
    joins = site.spawner.joins
    if Join.BLOCKING in joins:
        return True
    if Join.CONSUMED in joins and call.consumed:
        return True
    names = {call.assigned_to} if call.assigned_to else set()
    if Join.RECEIVER in joins and site.receiver is not None:
        if _in_with_block(site.receiver, site, workers):
            return True
        if isinstance(site.receiver, cst.Name):
            names.add(site.receiver.value)
    return _waits_later(owner, call, names, workers)
