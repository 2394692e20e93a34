"""A finding: what every rule yields and every front end prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    import libcst as cst

    from .analysis import ModuleAnalysis
    from .analysis.workers import SpawnSite


@dataclass(frozen=True)
class Step:
    """A place on the way from a finding to its cause: the worker, a helper it calls, the
    read. SARIF shows them as the result's code flow."""

    line: int  # 1-based
    col: int  # 0-based
    message: str
    path: Optional[str] = None  # another file (project mode); None: the finding's own file


class Detail:
    """The facts behind a finding that the fixer needs (``rules/details.py``), never re-derived."""

    @property
    def site(self) -> Optional["SpawnSite"]:
        """The spawn site the finding is about, for findings fixed per site."""
        return None

    def steps(self, analysis: "ModuleAnalysis") -> tuple[Step, ...]:
        """Where the finding's cause is: the chain from the worker to the use."""
        return ()


@dataclass(frozen=True)
class Finding:
    code: str
    line: int  # 1-based
    col: int  # 0-based, as flake8 reports it
    message: str  # starts with the code
    node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)
    detail: Optional[Detail] = field(default=None, compare=False, repr=False)
    steps: tuple[Step, ...] = field(default=(), compare=False, repr=False)
    scope: str = field(default="", compare=False, repr=False)  # the enclosing def/class, dotted

    def sort_key(self) -> tuple[int, int, str]:
        return (self.line, self.col, self.code)
