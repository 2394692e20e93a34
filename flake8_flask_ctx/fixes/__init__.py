"""Autofixes: libcst transforms fed by the findings, never re-deriving them.

``fix_source`` is the one entry point the CLI, the pre-commit hook and the codemod
commands share. It takes decoded text (encoding, BOM and newline handling belong to the
caller) and returns the new text plus what was changed; it never returns text that does
not parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from ..findings import Finding
from ..options import Options
from ..rules.base import FixKind


@dataclass(frozen=True)
class AppliedFix:
    code: str  # the finding's code
    line: int  # the finding's line in the original text
    description: str  # one line: what was rewritten
    kind: FixKind  # the strategy that made the change
    col: int = 0  # the finding's column (0-based) in the original text
    safe: bool = True  # proven to keep behaviour (else applied only with unsafe fixes on)
    reason: str = ""  # why it is unsafe

    @property
    def applicability(self) -> str:
        return "safe" if self.safe else "unsafe"


@dataclass
class FixResult:
    source: str  # the new text (identical to the input when nothing was fixed)
    applied: list[AppliedFix] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)  # findings left for a human
    # findings left that an unsafe fix could rewrite, as (code, line, col) of the original text
    unsafe_fixable: list[tuple[str, int, int]] = field(default_factory=list)
    converged: bool = True  # False: the rounds never settled, and ``source`` is the input

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def fix_source(source: str, options: Optional[Options] = None,
               keep: Callable[[Finding, str], bool] = lambda finding, text: True,
               fixes: Optional[frozenset[FixKind]] = None, unsafe: bool = False,
               path: Optional[str] = None) -> FixResult:
    """Fix what can be fixed safely in ``source``.

    ``keep(finding, text)`` False leaves a finding alone (``--select``, ``# noqa``);
    ``text`` is the text whose lines the finding refers to, which after a first round of
    fixes is no longer ``source``. ``fixes`` limits the rewrites to some kinds (the
    codemod commands use a few each; default: all). ``unsafe`` also applies the fixes
    that cannot be proven to keep behaviour (``--unsafe-fixes``). Lines the fixes add or
    change are kept within ``options.max_line_length``. ``FixResult.remaining``
    refers to ``FixResult.source``. Raises SyntaxError / ParserSyntaxError on text that
    does not parse.
    """
    from ..deep import run_deep
    from ..engine import parse_guard
    from ..prefilter import may_have_findings
    from .engine import ALL_FIXES, fix_module_source

    from ..project.index import project_of

    options = options or Options()
    project = project_of(path, options)
    if not may_have_findings(source, options, project.hints() if project is not None else None):
        return FixResult(source)
    parse_guard(source)
    return run_deep(lambda: fix_module_source(source, options, keep, fixes or ALL_FIXES, unsafe, path))
