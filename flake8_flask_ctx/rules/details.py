"""The typed facts each rule hands to the fixer with its findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from ..analysis.model import FunctionInfo, Scope
from ..analysis.workers import Chain, Reached, SpawnSite, Target
from ..findings import Detail


@dataclass(frozen=True)
class WorkerNeed(Detail):
    """FCX100/FCX101: the workers of ``spawn`` need a context; ``chain`` reaches the first use."""

    spawn: SpawnSite
    chain: Chain

    @property
    def site(self) -> SpawnSite:
        return self.spawn


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
    target: Target

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


@dataclass(frozen=True)
class InternalUse(Detail):
    """FCX300: a use of a Flask internal (``name``), or a homemade copier's shared context."""

    name: str


@dataclass(frozen=True)
class StreamedGenerator(Detail):
    """FCX400: ``generator`` is streamed; ``chain`` reaches its first context use."""

    generator: FunctionInfo
    chain: Chain
