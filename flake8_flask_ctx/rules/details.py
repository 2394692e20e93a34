"""The typed facts each rule hands to the fixer with its findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import FunctionInfo, Scope
from ..analysis.streams import Stream
from ..analysis.workers import Chain, ExternalTarget, Reached, SpawnSite, Target
from ..findings import Detail, Step


def path_steps(analysis: ModuleAnalysis, path: tuple[FunctionInfo, ...]) -> list[Step]:
    """The worker and each function it calls on the way."""
    steps = []
    for index, fn in enumerate(path):
        line, col = analysis.position(fn.node)
        role = "runs in the worker" if index == 0 else f"is called by {path[index - 1].display}()"
        steps.append(Step(line, col, f"{fn.display}() {role}"))
    return steps


def chain_steps(analysis: ModuleAnalysis, chain: Chain, what: str) -> tuple[Step, ...]:
    """The worker, each function on the way (in other files too), and the use itself."""
    steps = path_steps(analysis, chain.path)
    if chain.external is not None:
        use = chain.external
        steps.append(Step(use.line, use.col, f"{use.describe()} {what}", use.path))
    else:
        line, col = analysis.position(chain.use.ref.node)
        steps.append(Step(line, col, what))
    return tuple(steps)


@dataclass(frozen=True)
class WorkerNeed(Detail):
    """FCX100/FCX101: the workers of ``spawn`` need a context; ``chain`` reaches the first use."""

    spawn: SpawnSite
    chain: Chain

    @property
    def site(self) -> SpawnSite:
        return self.spawn

    def steps(self, analysis: ModuleAnalysis) -> tuple[Step, ...]:
        return chain_steps(analysis, self.chain, f"uses {self.chain.written}")


@dataclass(frozen=True)
class ProxyArgument(Detail):
    """FCX102: ``value``, a proxy object, is passed to the workers of ``spawn``."""

    spawn: SpawnSite
    value: cst.BaseExpression
    proxy: str  # its qualified name

    @property
    def site(self) -> SpawnSite:
        return self.spawn


@dataclass(frozen=True)
class CopyOutsideRequest(Detail):
    """FCX200: a copy decorator or call evaluated in ``scope``, where no request is active."""

    scope: Scope
    decorated: Optional[FunctionInfo] = None  # the decorated function, for a decorator


@dataclass(frozen=True)
class SharedCopy(Detail):
    """FCX201: the copied ``target`` of ``spawn`` is entered by several workers."""

    spawn: SpawnSite
    target: Union[Target, ExternalTarget]  # external: a copy a helper elsewhere made

    @property
    def site(self) -> SpawnSite:
        return self.spawn


@dataclass(frozen=True)
class WorkerUse(Detail):
    """FCX202, FCX203, FCX500: a use inside a worker of ``spawn`` (``reached`` from ``target``)."""

    spawn: SpawnSite
    target: Target
    reached: Reached

    @property
    def site(self) -> SpawnSite:
        return self.spawn

    def steps(self, analysis: ModuleAnalysis) -> tuple[Step, ...]:
        line, col = analysis.position(self.spawn.node)
        spawned = Step(line, col, f"the worker is started here ({self.spawn.spawner.name})")
        line, col = analysis.position(self.reached.ref.node)
        return (spawned, *path_steps(analysis, self.reached.path), Step(line, col, "the use"))


@dataclass(frozen=True)
class InternalUse(Detail):
    """FCX300: a use of a Flask internal (``name``), or a homemade copier's shared context."""

    name: str


@dataclass(frozen=True)
class StreamedGenerator(Detail):
    """FCX400: ``generator`` is streamed; ``chain`` reaches its first context use."""

    generator: FunctionInfo
    chain: Chain

    def steps(self, analysis: ModuleAnalysis) -> tuple[Step, ...]:
        return chain_steps(analysis, self.chain, f"uses {self.chain.written}")


@dataclass(frozen=True)
class ImportTimeUse(Detail):
    """FCX103: a use at import time, directly (``function`` None) or in ``function``, called
    at import time, reaching it through ``chain``."""

    function: Optional[FunctionInfo]
    chain: Optional[Chain]

    def steps(self, analysis: ModuleAnalysis) -> tuple[Step, ...]:
        return chain_steps(analysis, self.chain, f"uses {self.chain.written}") if self.chain else ()


@dataclass(frozen=True)
class UnawaitedTask(Detail):
    """FCX105: a task the async ``view`` starts and does not await."""

    view: FunctionInfo


@dataclass(frozen=True)
class StreamedSession(Detail):
    """FCX401/FCX402: a session use ``reached`` from the generator of ``stream``."""

    stream: Stream
    reached: Reached
