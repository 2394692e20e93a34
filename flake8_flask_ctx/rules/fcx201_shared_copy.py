"""FCX201: one copied request context entered by more than one worker.

``copy_current_request_context`` captures *one* context object; each worker that runs
the wrapper pushes and pops that same object. Two at once corrupt it (runtime facts,
cases 5, 6d and 7A): a pool ``map`` variant, a spawn inside a loop with the copy made
outside it, or the same copy as the target of several spawns. A copy made per task
(the wrapping call inside the loop, or a decorated closure defined in the loop) is fine.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator, Optional, Union

from ..analysis import ModuleAnalysis
from ..analysis.workers import ExternalTarget, SpawnSite, Target
from ..catalogue.spawners import Carry
from ..findings import Finding
from .base import FixKind, Rule
from .details import SharedCopy


def copied_per_task(analysis: ModuleAnalysis, site: SpawnSite, target: Union[Target, ExternalTarget]) -> bool:
    """Is a new copy made for each task of a looped (non-map) spawn?"""
    parents = analysis.facts.parents
    if target.copy_node is not None and parents.inside(target.copy_node, site.node):
        return True  # ``submit(copy_current_request_context(f), x)``
    copy_call = analysis.workers.call_site(target.copy_node) if target.copy_node is not None else None
    if copy_call is not None:  # ``w = copy_current_request_context(f)`` in the loop
        return copy_call.in_loop
    if isinstance(target, ExternalTarget):
        return False  # copied once, by whoever made the wrapper
    fn = target.function
    return fn.in_loop and analysis.resolver.enclosing_function(fn.parent) is site.owner


def _how(analysis: ModuleAnalysis, site: SpawnSite, target: Union[Target, ExternalTarget],
         shared: int) -> Optional[str]:
    if site.spawner.fan_out:
        return f"{site.spawner.name.split('.')[-1]}() runs it for every item"
    if site.call.in_loop and not copied_per_task(analysis, site, target):
        return "spawned in a loop, copied once outside it"
    if shared > 1:
        return f"the same copy is the target of {shared} spawns"
    return None


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for site in analysis.spawn_sites:  # the spawner makes the one copy: Flask-Executor's map
        if site.spawner.carries is Carry.ONE_COPY:
            for target in (*site.targets, *site.external_targets):
                how = f"{site.spawner.name} copies it once for all the items"
                yield RULE.finding(analysis, site.node, SharedCopy(site, target), worker=f"worker {_display(target)}",
                                   how=how, name=_name(target))
                break
    parents = analysis.facts.parents
    # a copy another module's helper made (``send = with_request(f)``) is one copy too
    copied = [(site, t) for site in analysis.spawn_sites for t in (*site.targets, *site.external_targets)
              if t.copied]
    uses: dict[int, int] = defaultdict(int)
    for site, target in copied:
        if target.copy_node is not None and not parents.inside(target.copy_node, site.node):
            uses[id(target.copy_node)] += 1
    for site, target in copied:
        shared = uses[id(target.copy_node)] if target.copy_node is not None else 0
        how = _how(analysis, site, target, shared)
        if how is not None:
            yield RULE.finding(analysis, site.node, SharedCopy(site, target), worker=f"worker {_display(target)}",
                               how=how, name=_name(target))


def _display(target: Union[Target, ExternalTarget]) -> str:
    return target.display if isinstance(target, ExternalTarget) else f"{target.function.display}()"


def _name(target: Union[Target, ExternalTarget]) -> str:
    if isinstance(target, Target):
        return target.function.name
    return target.function.display.rsplit(".", 1)[-1] if target.function is not None else "f"


RULE = Rule(
    "FCX201",
    "one copied request context entered by several workers",
    "{worker} runs one copied request context in several threads ({how}): tasks that "
    "overlap fail (ValueError: <Token ...> was created in a different Context); copy once "
    "per task: copy_current_request_context({name}) inside the loop",
    check,
    fixes=(FixKind.HOIST, FixKind.COPY_PER_WORKER),
)
