"""Placeholder until the fix strategies land: changes nothing, reports every finding as remaining."""

from __future__ import annotations

from typing import Callable

from ..engine import check_source
from ..findings import Finding
from ..options import Options


def fix_module_source(source: str, options: Options, keep: Callable[[Finding], bool]):
    from . import FixResult

    return FixResult(source, [], [f for f in check_source(source, options) if keep(f)])
