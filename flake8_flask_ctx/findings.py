"""A finding: what every rule yields and every front end prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import libcst as cst

if TYPE_CHECKING:
    from .analysis.workers import SpawnSite


class Detail:
    """The facts behind a finding that the fixer needs (``rules/details.py``), never re-derived."""

    @property
    def site(self) -> Optional["SpawnSite"]:
        """The spawn site the finding is about, for findings fixed per site."""
        return None


@dataclass(frozen=True)
class Finding:
    code: str
    line: int  # 1-based
    col: int  # 0-based, as flake8 reports it
    message: str  # starts with the code
    node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)
    detail: Optional[Detail] = field(default=None, compare=False, repr=False)

    def sort_key(self) -> tuple[int, int, str]:
        return (self.line, self.col, self.code)
