"""The one path from source text to findings, shared by the flake8 plugin and the CLI."""

from __future__ import annotations

import ast
import warnings
from typing import Optional

from .deep import run_deep
from .findings import Finding
from .options import Options
from .prefilter import may_have_findings, parse_ast
from .project.index import project_of


def parse_guard(source: str) -> None:
    """Let CPython parse first: it raises SyntaxError on what libcst's native parser
    could crash the process on (a C stack overflow on extreme nesting), and its messages
    are the ones users know."""
    if parse_ast(source) is not None:  # the prefilter's parse of this very text
        return
    with warnings.catch_warnings():  # "invalid escape sequence" is not ours to report
        warnings.simplefilter("ignore")
        ast.parse(source)


def check_source(source: str, options: Optional[Options] = None, parsed: bool = False,
                 path: Optional[str] = None, tree: Optional[ast.AST] = None,
                 prefiltered: bool = False) -> list[Finding]:
    """Findings for one module's text; ``path`` (where the text comes from) puts it in its
    project, whose other modules its workers are followed into.

    Raises SyntaxError (CPython's) or libcst's ParserSyntaxError when the text does not
    parse. ``parsed=True`` skips CPython's parse when the caller already did it (flake8),
    and ``tree`` is that parse's result; ``prefiltered=True``: the caller already knows
    that ``may_have_findings`` holds (the result cache).
    """
    options = options or Options()
    project = project_of(path, options)
    if not prefiltered and not may_have_findings(source, options, project.hints() if project is not None else None,
                                                 tree):
        return []
    if not parsed:
        parse_guard(source)
    from .analysis import analyze
    from .rules import run_rules

    module = project.module_of(path) if project is not None and path else None
    package = bool(path) and path.endswith("__init__.py")  # type: ignore[union-attr]
    return run_deep(lambda: run_rules(analyze(source, options, module, package, project, path, tree)))
