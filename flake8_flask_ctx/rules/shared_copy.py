"""FCX201: one copied request context entered by more than one worker.

``copy_current_request_context`` captures *one* context object; each worker that runs
the wrapper pushes and pops that same object. Two at once corrupt it (flask-runtime.md §3
cases 5, 6d, 7A): a pool ``map`` variant, a spawn inside a loop with the copy made
outside it, or the same copy as the target of several spawns. A copy made per task
(the wrapping call inside the loop, or a decorated closure defined in the loop) is fine.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator, Optional

from ..analysis import ModuleAnalysis
from ..analysis.workers import SpawnSite, Target
from ..codes import message
from ..findings import Finding


def _contains(outer, inner) -> bool:
    """Is ``inner`` part of ``outer``'s subtree? (the copy made inside the spawn call)"""
    stack = [outer]
    while stack:
        node = stack.pop()
        if node is inner:
            return True
        stack.extend(node.children)
    return False


def _copy_per_task(analysis: ModuleAnalysis, site: SpawnSite, target: Target) -> bool:
    """Is a new copy made for each task of a looped (non-map) spawn?"""
    if target.copy_node is not None and _contains(site.node, target.copy_node):
        return True  # ``submit(copy_current_request_context(f), x)``
    copy_call = analysis.workers.call_site(target.copy_node) if target.copy_node is not None else None
    if copy_call is not None:  # ``w = copy_current_request_context(f)`` in the loop
        return copy_call.in_loop
    fn = target.function
    return fn.in_loop and analysis.resolver.enclosing_function(fn.parent) is site.owner


def _how(analysis: ModuleAnalysis, site: SpawnSite, target: Target, shared: int) -> Optional[str]:
    if site.spec.fan_out:
        return f"{site.spec.name.split('.')[-1]}() runs it for every item"
    if site.call.in_loop and not _copy_per_task(analysis, site, target):
        return "spawned in a loop, copied once outside it"
    if shared > 1:
        return f"the same copy is the target of {shared} spawns"
    return None


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    copied = [(site, t) for site in analysis.spawn_sites for t in site.targets if t.copied]
    uses: dict[int, int] = defaultdict(int)
    for site, target in copied:
        if target.copy_node is not None and not _contains(site.node, target.copy_node):
            uses[id(target.copy_node)] += 1
    for site, target in copied:
        shared = uses[id(target.copy_node)] if target.copy_node is not None else 0
        how = _how(analysis, site, target, shared)
        if how is None:
            continue
        line, col = analysis.position(site.node)
        text = message("FCX201", worker=f"worker {target.function.display}()", how=how,
                       name=target.function.name)
        yield Finding("FCX201", line, col, text, site.node, detail=(site, target))
