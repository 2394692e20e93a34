"""The properties every fuzzed or crawled program must keep, shared by test_fuzz and test_crawl.

Kept free of hypothesis and hypothesmith, so a test module that only needs the properties
does not pay for their import.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import pkgutil
import sys
import warnings
from typing import Iterator, Optional

import libcst as cst

from flake8_flask_ctx import prefilter
from flake8_flask_ctx.engine import check_source
from flake8_flask_ctx.findings import Finding
from flake8_flask_ctx.fixes import fix_source
from flake8_flask_ctx.options import Options
from flake8_flask_ctx.rules import RULES_BY_CODE



def compiles(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning on odd escapes and 'is' literals
            compile(source, "<fuzz>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def libcst_known_gap(source: str) -> bool:
    """Constructs ``ast`` accepts and libcst is known to reject (not our bug).

    - a parenthesised annotated name, ``(x): int`` (found by the stdlib crawl);
    - a line continuation right before the end of the file, ``x = 1\\<CR><LF>``: CPython
      3.11 accepts it after ``\\r\\n`` (not after ``\\n``), libcst never (found by hypothesmith).
    """
    if source.rstrip().endswith("\\"):
        return True
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(n, ast.AnnAssign) and not n.simple and isinstance(n.target, ast.Name)
               for n in ast.walk(tree))


@contextlib.contextmanager
def prefilter_open() -> Iterator[None]:
    """Force the prefilter open: the engine's own entry points (``check_source``,
    ``fix_source``: parse guard, deep-recursion retry, analysis, rules) then run on any text.

    Every ``flake8_flask_ctx`` module that imported ``may_have_findings`` is patched, so
    the test follows the engine's real path without knowing its internals.
    """
    _import_whole_package()
    original = prefilter.may_have_findings
    modules = [m for name, m in list(sys.modules.items())
               if name.startswith("flake8_flask_ctx") and getattr(m, "may_have_findings", None) is original]
    for module in modules:
        module.may_have_findings = _always  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in modules:
            module.may_have_findings = original  # type: ignore[attr-defined]


def _import_whole_package() -> None:
    """Import every submodule now: one imported while patched would keep the patch."""
    import flake8_flask_ctx

    for info in pkgutil.walk_packages(flake8_flask_ctx.__path__, "flake8_flask_ctx."):
        if info.name not in sys.modules and not info.name.endswith("__main__"):
            importlib.import_module(info.name)


def _always(source: str, options: Options, project=None, tree=None) -> bool:
    return True


def ast_parses(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def analyse(source: str, options: Optional[Options] = None) -> Optional[list[Finding]]:
    """Findings with the prefilter forced open; None when the text does not parse.

    A SyntaxError or libcst's ParserSyntaxError is acceptable only where ``ast`` rejects the
    text too, or for a construct libcst is known to reject.
    """
    try:
        with prefilter_open():
            found = check_source(source, options)
    except (SyntaxError, cst.ParserSyntaxError) as exc:
        if not ast_parses(source):
            return None
        if isinstance(exc, cst.ParserSyntaxError) and libcst_known_gap(source):
            return None
        raise  # ast accepts it, the engine does not: a new gap, look at it
    check_findings(source, found)
    return found


def check_findings(source: str, found: list[Finding]) -> None:
    lines = source.splitlines()
    for f in found:
        assert f.code in RULES_BY_CODE, f
        assert f.message.startswith(f.code + " "), f
        assert "\n" not in f.message, f
        assert 1 <= f.line <= len(lines), (f, len(lines))
        assert 0 <= f.col <= len(lines[f.line - 1]), (f, lines[f.line - 1])
    assert found == sorted(found, key=Finding.sort_key)
    assert len(set(found)) == len(found), "duplicate findings"


def check_fixer(source: str, found: Optional[list[Finding]], options: Optional[Options] = None) -> None:
    """``fix_source`` (prefilter forced open): no exception, output compiles, no change without a finding."""
    try:
        with prefilter_open():
            result = fix_source(source, options)
    except (SyntaxError, cst.ParserSyntaxError):
        assert found is None, "fix_source cannot parse what the analysis parsed"
        return
    assert found is not None, "fix_source accepted text the analysis could not parse"
    changed = result.source != source
    assert changed == bool(result.applied), result.applied
    if not found:
        assert not changed, "the fixer changed a file without a finding"
    if changed:
        assert ast_parses(result.source), "the fixed text does not parse:\n" + result.source
        if compiles(source):
            assert compiles(result.source), "the fixed text no longer compiles:\n" + result.source
        check_findings(result.source, result.remaining)
        with prefilter_open():
            again = fix_source(result.source, options)
        # idempotent: a pre-commit fix hook must not rewrite its own output on the next run
        assert again.source == result.source, "a second fix changed the fixed text again"
