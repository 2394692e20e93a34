"""A module's summary: what other modules need to know about it, as plain (JSON-able) data.

Computed from the module's own analysis, so a summary says exactly what checking the
module itself would find:

- ``imports``: the names its imports bind at module level, as absolute qualified names (a
  re-export through ``__init__`` is found here);
- ``objects``: module-level names bound to a call, with the callee (``executor =
  ThreadPoolExecutor(4)``: a worker receiver other modules import);
- ``classes``: each class's bases (qualified) and methods;
- ``functions`` (``name`` and ``Class.method``): the first use of each context the function
  needs when it runs with none, through its same-module callees, with the chain; the calls
  it makes into other project modules (with the contexts pushed around them), for the index
  to follow; whether it is a decorator or helper that runs its argument in another thread
  (``spawns``), pushes a context around calling it (``pushes``), returns a copy of the
  request context of it (``returns_copy``), or is a task queue's task (``task``);
- ``context_task``: the module defines a task class that pushes the app's context (its
  queue's tasks, everywhere in the project, run in an app context).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import libcst as cst

from ..analysis.model import BindingKind, FunctionInfo, ScopeKind
from ..analysis.tree import dotted_name

if TYPE_CHECKING:
    from ..analysis import ModuleAnalysis

SUMMARY_VERSION = 3


def summarize(analysis: "ModuleAnalysis", module: str) -> dict:
    """The summary of ``analysis``'s module. It depends on the module's text, name and path
    alone (the summary cache's key): every call into another module is recorded, and the
    index tells at each lookup which ones land in the project. Keeping only the calls into
    the project's modules of the day made a cached summary miss a module added later."""
    facts = analysis.facts
    resolver = analysis.resolver
    summary: dict = {"version": SUMMARY_VERSION, "module": module, "imports": {}, "objects": {},
                     "classes": {}, "functions": {}}
    for name, bindings in facts.scope.bindings.items():
        binding = bindings[-1]  # the one a later import sees
        if binding.kind is BindingKind.IMPORT:
            qual = resolver.qualname_of_name(facts.scope, name)
            if qual:
                summary["imports"][name] = qual
        elif binding.kind is BindingKind.ASSIGN and isinstance(binding.value, cst.Call):
            qual = resolver.qualname(binding.value.func, facts.scope)
            if qual:
                summary["objects"][name] = qual
    for cls in facts.classes:
        if cls.parent is facts.scope:
            bases = [resolver.qualname(b, cls.parent) or dotted_name(b) or "" for b in cls.bases]
            summary["classes"][cls.name] = {"bases": [b for b in bases if b], "methods": sorted(cls.methods)}
    analysis.spawn_sites  # noqa: B018 - they tell which functions spawn their parameter
    spawned = analysis.workers.parameter_spawners()
    if any(s.task_bases and analysis.workers.tasks.defines_context_task(s.task_bases) for s in analysis.workers.spawners):
        summary["context_task"] = True  # a task class whose __call__ pushes the app's context
    for fn in facts.functions:
        name = _importable_name(fn, facts)
        if name is None:
            continue
        summary["functions"][name] = _function(analysis, fn, spawned)
    return summary


def _importable_name(fn: FunctionInfo, facts) -> Optional[str]:
    """``f`` for a module-level function, ``Cls.m`` for a method of a module-level class."""
    if not isinstance(fn.node, cst.FunctionDef):
        return None
    if fn.parent is facts.scope:
        return fn.name
    if fn.cls is not None and fn.cls.parent is facts.scope and fn.parent.kind is ScopeKind.CLASS:
        return f"{fn.cls.name}.{fn.name}"
    return None


def _function(analysis: "ModuleAnalysis", fn: FunctionInfo, spawned: dict[int, str]) -> dict:
    workers = analysis.workers
    line, col = analysis.position(fn.node)
    out: dict = {"line": line, "col": col, "needs": {}, "calls": [],
                 "copied": workers.is_copied(fn)}
    decorators = [analysis.resolver.qualname(d.func if isinstance(d, cst.Call) else d, fn.parent) for d in fn.decorators]
    if any(decorators):
        out["decorators"] = [d for d in decorators if d]
    for need, chain in workers.needs(fn).items():
        use_line, use_col = analysis.position(chain.use.ref.node)
        out["needs"][need.value] = {"what": chain.use.written, "qualname": chain.use.qualname,
                                    "member": chain.use.member, "line": use_line, "col": use_col,
                                    "chain": [f"{f.display}()" for f in chain.path]}
    for call in workers.external_calls(fn):
        out["calls"].append({"target": call.qualname, "covered": sorted(n.value for n in call.covered),
                             "chain": [f"{f.display}()" for f in call.path]})
    if id(fn) in spawned:
        out["spawns"] = spawned[id(fn)]
    task = workers.tasks.task_spawner(fn)
    if task is not None:
        out["task"] = task.name  # ``send.delay(...)`` elsewhere sends it to this queue
    pushed = workers.pushing_decorator(fn)
    if pushed:
        out["pushes"] = sorted(n.value for n in pushed)
    if _returns_copy(analysis, fn):
        out["returns_copy"] = True
    return out


def _returns_copy(analysis: "ModuleAnalysis", fn: FunctionInfo) -> bool:
    """``return copy_current_request_context(f)``: the caller gets one copied wrapper."""
    for ret in fn.returns:
        value = ret.value
        if isinstance(value, cst.Call) and analysis.workers.copy_wrapper_name(value.func, fn.scope):
            return True
    return False
