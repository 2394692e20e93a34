"""A finding: what every rule yields and every front end prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst


@dataclass(frozen=True)
class Finding:
    code: str
    line: int  # 1-based
    col: int  # 0-based, as flake8 reports it
    message: str  # starts with the code
    node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)
    # rule-specific facts for the fixer (the spawn site, the target...), never re-derived
    detail: Any = field(default=None, compare=False, repr=False)

    def sort_key(self) -> tuple[int, int, str]:
        return (self.line, self.col, self.code)
