"""One file in, one picklable result out; many files over a process pool.

This is the command line's working part, kept apart from ``cli.py`` (argument parsing)
and from the engine (which knows nothing about files). Every per-file failure becomes a
one-line ``FileResult.error`` here, so one bad file never stops a run, and nothing that is
not plain data crosses a process boundary (findings carry libcst nodes; results do not).
Results are handed out as each file is done (``iter_results``), so the command line can
report every rewritten file at once: an interrupted ``fix`` leaves an honest record.
"""

from __future__ import annotations

import codecs
import difflib
import os
import signal
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable, Iterator, Optional, Sequence

import libcst as cst
from libcst import ParserSyntaxError

from .deep import run_deep
from .engine import check_source, parse_guard
from .findings import Finding, Step
from .fixes import AppliedFix, fix_source
from .project.index import forget_module
from .noqa import Suppressions
from .options import Options
from .sources import (
    DEFAULT_MAX_FILE_SIZE, ChangedOnDisk, FileTooLarge, NotWritten, SourceError,
    SourceFile, encode_source, keep_lost_bytes, read_source, split_lines, write_source,
)

CHECK, FIX, DIFF = "check", "fix", "diff"
NO_NEWLINE = "\n\\ No newline at end of file\n"


@dataclass(frozen=True)
class Settings:
    """Everything a worker process needs to handle a file (picklable)."""

    options: Options = field(default_factory=Options)
    select: tuple[str, ...] = ("FCX",)
    ignore: tuple[str, ...] = ()
    mode: str = CHECK
    max_file_size: Optional[int] = DEFAULT_MAX_FILE_SIZE  # bytes; None: no limit
    unsafe_fixes: bool = False  # fix: apply unsafe fixes too; check: count them as fixable
    fix_offers: bool = False  # check: find out which findings fix can rewrite (a dry run)

    def selected(self, code: str) -> bool:
        """flake8's rule: the longest matching prefix decides, and a tie goes to ignore."""
        chosen = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        dropped = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return chosen >= 0 and chosen > dropped


@dataclass(frozen=True)
class FixOffer:
    """What ``fix`` would do about a finding: ``safe`` or ``unsafe`` (with the reason)."""

    applicability: str
    description: str
    reason: str = ""


@dataclass(frozen=True)
class Reported:
    """A finding as printed: plain data, col 0-based like ``Finding.col``."""

    path: str
    line: int
    col: int
    code: str
    message: str  # starts with the code, as in flake8's output
    fix: Optional[FixOffer] = None  # check: the fix on offer, if any
    steps: tuple[Step, ...] = ()  # from the worker to the use (SARIF's code flow)
    scope: str = ""  # the enclosing def or class, dotted (a baseline matches on it)


@dataclass
class FileResult:
    path: str
    findings: list[Reported] = field(default_factory=list)  # left in the file (check: all)
    applied: list[AppliedFix] = field(default_factory=list)  # fixed (fix) or fixable (diff)
    diff: bytes = b""  # in the file's own encoding, the path as the file system has it
    error: Optional[str] = None  # one line, without the path
    internal: bool = False  # the error is a bug in flask-ctx, not in the file
    skipped: Optional[str] = None  # not read at all (too large): a note, not an error
    written: bool = False  # fix wrote the file
    unsafe_fixable: int = 0  # fix: findings left that --unsafe-fixes would rewrite


def process(path: str, settings: Settings) -> FileResult:
    """Check or fix one file; never raises for anything a file can contain."""
    try:
        source = read_source(path, settings.max_file_size)
        if settings.mode == CHECK:
            return _check(source, settings)
        return _fix(source, settings)
    except FileTooLarge as exc:
        return FileResult(path, skipped=str(exc))
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
    return [Reported(path, f.line, f.col, f.code, f.message, steps=f.steps, scope=f.scope)
            for f in sorted(findings, key=Finding.sort_key)]


def _check(source: SourceFile, settings: Settings, offers: bool = True) -> FileResult:
    offers = offers and settings.fix_offers
    keep = _keeper(settings)
    findings = [f for f in check_source(source.text, settings.options, path=source.path) if keep(f, source.text)]
    reported = _reported(source.path, findings)
    if findings and offers:  # which of them fix can rewrite: a dry run, with unsafe fixes on
        fixes = fix_source(source.text, settings.options, keep=keep, unsafe=True, path=source.path)
        by_finding = {(a.code, a.line, a.col): FixOffer(a.applicability, a.description, a.reason)
                      for a in fixes.applied} if fixes.converged else {}
        reported = [replace(r, fix=by_finding.get((r.code, r.line, r.col))) for r in reported]
    return FileResult(source.path, reported)


def _fix(source: SourceFile, settings: Settings) -> FileResult:
    result = fix_source(source.text, settings.options, keep=_keeper(settings), unsafe=settings.unsafe_fixes,
                        path=source.path)
    if not result.converged:
        return FileResult(source.path, _reported(source.path, result.remaining), internal=True,
                          error="the fixes failed to converge (each round changed the text again): "
                                "nothing was written (please report this file)")
    # ``remaining`` refers to the new text: lines move when a fix adds lines
    outcome = FileResult(source.path, _reported(source.path, result.remaining), list(result.applied),
                         unsafe_fixable=len(result.unsafe_fixable))
    if result.source == source.text:
        return outcome
    try:  # the fixer promises text that parses; a file is never written on its word alone
        parse_guard(result.source)
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise RuntimeError(f"the fixed text does not parse ({exc}); the file was not written")
    try:
        new_text = _faithful(source.text, result.source)
        if settings.mode == DIFF:
            outcome.diff = encoded_diff(source, new_text)
            return outcome
        if _parent_pid is not None and os.getppid() != _parent_pid:  # orphaned: nobody
            raise NotWritten("flask-ctx was stopped: not written")  # would report it
        outcome.written = write_source(source, new_text)
        forget_module(source.path)  # files fixed after it see its new text
    except NotWritten as exc:
        # nothing was written: what is left is what the file holds (unless it changed)
        left = [] if isinstance(exc, ChangedOnDisk) else _check(source, settings, offers=False).findings
        return FileResult(source.path, left, error=str(exc))
    return outcome


def _faithful(original: str, fixed: str) -> str:
    """The fixed text with whatever libcst's round trip dropped from the original put back."""
    round_trip = run_deep(lambda: cst.parse_module(original).code)
    if round_trip == original:
        return fixed
    text = keep_lost_bytes(original, round_trip, fixed)
    if text != fixed:
        parse_guard(text)
    return text


def encoded_diff(source: SourceFile, new: str) -> bytes:
    """``unified_diff`` as bytes for ``patch``: the file's encoding and BOM, the path's bytes."""
    encode_source(source, new)  # the one error message for a text the encoding cannot hold
    old_lines, new_lines = ([line.encode(source.encoding) for line in split_lines(text)]
                            for text in (source.text, new))
    if source.bom:
        for lines in (old_lines, new_lines):
            lines[:1] = [codecs.BOM_UTF8 + line for line in lines[:1]]
    name = os.fsencode(source.path)
    lines = difflib.diff_bytes(difflib.unified_diff, old_lines, new_lines, fromfile=name, tofile=name)
    return b"".join(line if line.endswith((b"\n", b"\r")) else line + NO_NEWLINE.encode()
                    for line in lines)


def unified_diff(path: str, old: str, new: str) -> str:
    """A ``patch -p0``-able diff; marks a last line without a newline as diff(1) does."""
    lines = difflib.unified_diff(split_lines(old), split_lines(new), fromfile=path, tofile=path)
    return "".join(line if line.endswith(("\n", "\r")) else line + NO_NEWLINE for line in lines)


_parent_pid: Optional[int] = None  # in a pool's worker: its parent when it started


def _worker_init() -> None:
    """A worker leaves Ctrl-C to the main process (which lets the files in progress end)
    and dies with it: a worker that outlived it could write files nobody reports. Its
    parent is the main process (fork, spawn) or a fork server that ends with it."""
    global _parent_pid
    _parent_pid = os.getppid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    except (OSError, AttributeError, ImportError, TypeError):  # not Linux: getppid() guards
        pass


def iter_results(paths: Sequence[str], settings: Settings, jobs: int, ordered: bool = True,
                 stopping: Callable[[], bool] = lambda: False) -> Iterator[tuple[int, FileResult]]:
    """``(index in paths, result)`` as each file is done: in the order of ``paths``, or
    (``ordered=False``) in the order the files are finished, each the moment it is.

    Once ``stopping()`` is true no file is started; the files in progress are finished
    and handed out. A process pool is used when it can pay off.
    """
    work = partial(process, settings=settings)
    done: set[int] = set()
    if jobs > 1 and len(paths) > 1:
        try:
            for index, result in _pooled(work, paths, jobs, ordered, stopping):
                done.add(index)
                yield index, result
        except (OSError, NotImplementedError, ImportError, BrokenProcessPool):
            # No usable multiprocessing here (no /dev/shm, a sandbox), or a worker died:
            # finish in this process. A file already fixed is left as it is (fixing is
            # idempotent), one that a dying worker changed is reported as changed on disk.
            pass
    for index, path in enumerate(paths):
        if index not in done:
            if stopping():
                return
            yield index, work(path)


def _pooled(work: Callable[[str], FileResult], paths: Sequence[str], jobs: int, ordered: bool,
            stopping: Callable[[], bool]) -> Iterator[tuple[int, FileResult]]:
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(paths)), initializer=_worker_init)
    try:
        if ordered:
            chunksize = max(1, min(32, len(paths) // (jobs * 4)))
            for index, result in enumerate(pool.map(work, paths, chunksize=chunksize)):
                yield index, result
                if stopping():
                    return
            return
        futures = {pool.submit(work, path): index for index, path in enumerate(paths)}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=futures.__getitem__):
                if not future.cancelled():
                    yield futures[future], future.result()
            if stopping():
                for future in pending:
                    future.cancel()  # the running ones go on; they are handed out when done
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run(paths: Sequence[str], settings: Settings, jobs: int) -> list[FileResult]:
    """All results, in the order of ``paths``."""
    results = dict(iter_results(paths, settings, jobs))
    return [results[index] for index in range(len(paths))]
