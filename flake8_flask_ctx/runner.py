"""One file in, one picklable result out; many files over a process pool.

This is the command line's working part, kept apart from ``cli.py`` (argument parsing)
and from the engine (which knows nothing about files). Every per-file failure becomes a
one-line ``FileResult.error`` here, so one bad file never stops a run, and nothing that is
not plain data crosses a process boundary (findings carry libcst nodes; results do not).
"""

from __future__ import annotations

import difflib
import io
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Optional, Sequence

from libcst import ParserSyntaxError

from .engine import check_source, parse_guard
from .findings import Finding
from .fixes import AppliedFix, fix_source
from .noqa import Suppressions
from .options import Options
from .sources import SourceError, SourceFile, read_source, write_source

CHECK, FIX, DIFF = "check", "fix", "diff"


@dataclass(frozen=True)
class Settings:
    """Everything a worker process needs to handle a file (picklable)."""

    options: Options = field(default_factory=Options)
    select: tuple[str, ...] = ("FCX",)
    ignore: tuple[str, ...] = ()
    mode: str = CHECK

    def selected(self, code: str) -> bool:
        """flake8's rule: the longest matching prefix decides, and a tie goes to ignore."""
        chosen = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        dropped = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return chosen >= 0 and chosen > dropped


@dataclass(frozen=True)
class Reported:
    """A finding as printed: plain data, col 0-based like ``Finding.col``."""

    path: str
    line: int
    col: int
    code: str
    message: str  # starts with the code, as in flake8's output


@dataclass
class FileResult:
    path: str
    findings: list[Reported] = field(default_factory=list)  # left in the file (check: all)
    applied: list[AppliedFix] = field(default_factory=list)  # fixed (fix) or fixable (diff)
    diff: str = ""
    error: Optional[str] = None  # one line, without the path
    internal: bool = False  # the error is a bug in flask-ctx, not in the file


def process(path: str, settings: Settings) -> FileResult:
    """Check or fix one file; never raises for anything a file can contain."""
    try:
        source = read_source(path)
        if settings.mode == CHECK:
            return _check(source, settings)
        return _fix(source, settings)
    except SourceError as exc:
        return FileResult(path, error=str(exc))
    except SyntaxError as exc:  # from the guard: CPython's message is the clearest one
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return FileResult(path, error=f"syntax error: {exc.msg}{where}")
    except ParserSyntaxError as exc:  # libcst rejects something CPython accepts
        return FileResult(path, error=f"cannot parse (libcst): {exc.message} "
                                      f"(line {exc.raw_line})")
    except RecursionError:
        return FileResult(path, error="too deeply nested to analyse (recursion limit)")
    except MemoryError:  # what CPython's parser raises on some very deep nesting
        return FileResult(path, error="too deeply nested or too large to analyse")
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not end the whole run
        return FileResult(path, error=f"internal error: {type(exc).__name__}: {exc} "
                                      "(please report this file)", internal=True)


def _keeper(settings: Settings) -> Callable[[Finding, str], bool]:
    """Selected by --select/--ignore and not silenced by a ``# noqa`` in the finding's text."""
    parsed: dict[int, Suppressions] = {}  # the fixer asks about each round's text

    def keep(finding: Finding, text: str) -> bool:
        if not settings.selected(finding.code):
            return False
        if id(text) not in parsed:
            parsed.clear()
            parsed[id(text)] = Suppressions(text)
        return not parsed[id(text)].silences(finding.code, finding.line)

    return keep


def _reported(path: str, findings: Sequence[Finding]) -> list[Reported]:
    return [Reported(path, f.line, f.col, f.code, f.message)
            for f in sorted(findings, key=Finding.sort_key)]


def _check(source: SourceFile, settings: Settings) -> FileResult:
    keep = _keeper(settings)
    findings = [f for f in check_source(source.text, settings.options) if keep(f, source.text)]
    return FileResult(source.path, _reported(source.path, findings))


def _fix(source: SourceFile, settings: Settings) -> FileResult:
    result = fix_source(source.text, settings.options, keep=_keeper(settings))
    # ``remaining`` refers to the new text: lines move when a fix adds lines
    outcome = FileResult(source.path, _reported(source.path, result.remaining), list(result.applied))
    if result.source == source.text:
        return outcome
    try:  # the fixer promises text that parses; a file is never written on its word alone
        parse_guard(result.source)
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise RuntimeError(f"the fixed text does not parse ({exc}); the file was not written")
    if settings.mode == DIFF:
        outcome.diff = unified_diff(source.path, source.text, result.source)
    else:
        write_source(source, result.source)
    return outcome


def unified_diff(path: str, old: str, new: str) -> str:
    """A ``patch -p0``-able diff; marks a last line without a newline as diff(1) does."""
    lines = difflib.unified_diff(_lines(old), _lines(new), fromfile=path, tofile=path)
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def _lines(text: str) -> list[str]:
    """Python's lines (\\n, \\r\\n, \\r), endings kept; str.splitlines also splits on \\f."""
    return io.StringIO(text, newline="").readlines()


def run(paths: Sequence[str], settings: Settings, jobs: int) -> list[FileResult]:
    """Results in the order of ``paths``; a process pool when it can pay off."""
    work = partial(process, settings=settings)
    if jobs <= 1 or len(paths) <= 1:
        return [work(p) for p in paths]
    results: list[FileResult] = []
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(paths))) as pool:
            chunksize = max(1, min(32, len(paths) // (jobs * 4)))
            for result in pool.map(work, paths, chunksize=chunksize):
                results.append(result)
    except (OSError, NotImplementedError, ImportError, BrokenProcessPool):
        # No usable multiprocessing here (no /dev/shm, a sandbox), or a worker died:
        # finish in this process. Fixing is idempotent, so a file done twice is harmless.
        pass
    return results + [work(p) for p in paths[len(results):]]
