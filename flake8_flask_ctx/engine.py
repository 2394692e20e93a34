"""The one path from source text to findings, shared by the flake8 plugin and the CLI."""

from __future__ import annotations

from typing import Optional

from .analysis import analyze
from .findings import Finding
from .options import Options
from .prefilter import may_have_findings
from .rules import run_rules


def check_source(source: str, options: Optional[Options] = None) -> list[Finding]:
    """Findings for one module's text. Raises libcst's ParserSyntaxError when it cannot parse."""
    options = options or Options()
    if not may_have_findings(source, options):
        return []
    return run_rules(analyze(source, options))
