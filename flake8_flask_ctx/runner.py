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
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Callable, Iterator, Optional, Sequence

from .deep import run_deep
from .findings import Finding, Step
from .fingerprints import code_hash, line_codes
from .noqa import Suppressions, add_noqa
from .options import Options
from .project.index import forget_module, project_of, share_summaries
from .project.results import Outcome, result_cache_for
from .selection import PerFileIgnore, decide, default_select, ignored_for
from .sources import (
    DEFAULT_MAX_FILE_SIZE, ChangedOnDisk, FileStat, FileTooLarge, NotWritten, SourceError,
    SourceFile, UndecodableSource, _too_large, decode_source, encode_source, keep_lost_bytes, read_source, split_lines,
    write_source,
)

if TYPE_CHECKING:
    from .fixes import AppliedFix

CHECK, FIX, DIFF, ADD_NOQA = "check", "fix", "diff", "add-noqa"
# What a clean verdict rests on besides the file's bytes and the options: the project hints
# the prefilter asked, and what the analysis read of the project (``Outcome.depends``)
RestsOn = tuple[tuple[str, ...], Optional[dict]]
NO_NEWLINE = "\n\\ No newline at end of file\n"


@dataclass(frozen=True)
class Settings:
    """Everything a worker process needs to handle a file (picklable)."""

    options: Options = field(default_factory=Options)
    select: tuple[str, ...] = field(default_factory=default_select)
    ignore: tuple[str, ...] = ()
    mode: str = CHECK
    max_file_size: Optional[int] = DEFAULT_MAX_FILE_SIZE  # bytes; None: no limit
    unsafe_fixes: bool = False  # fix: apply unsafe fixes too; check: count them as fixable
    fix_offers: bool = False  # check: find out which findings fix can rewrite (a dry run)
    per_file_ignores: tuple[PerFileIgnore, ...] = ()
    disable_noqa: bool = False  # report findings a # noqa silences (flake8's --disable-noqa)
    fix_edits: bool = False  # check: the text edits of the fixes on offer (SARIF ``fixes``)
    # ``no-cache`` with workers: a private folder, outside the project, where they share the
    # module summaries of this run (``iter_results`` makes it and removes it)
    shared_summaries: Optional[str] = None

    def selected(self, code: str, path: str = "") -> bool:
        """flake8's rule: the longest matching prefix decides, and a tie goes to ignore;
        ``per-file-ignores`` add to ignore for the files they match."""
        ignore = self.ignore + ignored_for(path, self.per_file_ignores) if path else self.ignore
        return decide(code, self.select, ignore)


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
    source_line: str = ""  # the physical line, without its line ending (--show-source)
    line_hash: str = ""  # of the code on the line (fingerprints.py: baselines, SARIF)


@dataclass(frozen=True)
class Replacement:
    """One edit of a file's text, 1-based lines and columns (code points), end exclusive."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int
    text: str


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
    error_line: Optional[int] = None  # where the error is, when known (a syntax error)
    error_col: Optional[int] = None  # 1-based
    edits: dict[str, tuple[Replacement, ...]] = field(default_factory=dict)  # "safe"/"unsafe"
    noqa_added: int = 0  # --add-noqa: findings silenced by the comments written
    output: Optional[bytes] = None  # standard input: the fixed text, in its encoding
    seen: Optional[FileStat] = None  # check: the settled stat of the bytes checked (clean_files.py)
    clean: Optional[RestsOn] = None  # check: no finding, and what that verdict rests on
    learned: dict = field(default_factory=dict)  # check: module facts for the main process (module_facts.py)


def process(path: str, settings: Settings) -> FileResult:
    """Check or fix one file; never raises for anything a file can contain."""
    if settings.shared_summaries is not None:
        share_summaries(settings.shared_summaries)
    return _guarded(path, settings, lambda: read_source(path, settings.max_file_size))


def process_stdin(data: bytes, name: str, settings: Settings) -> FileResult:
    """The same for standard input, shown as ``name``: ``fix`` hands the fixed text back in
    ``FileResult.output`` (in the input's encoding) instead of writing anything."""
    if settings.max_file_size is not None and len(data) > settings.max_file_size:
        return FileResult(name, skipped=_too_large(len(data), settings.max_file_size))
    return _guarded(name, settings, lambda: decode_source(data, name), stdin=True)


def _guarded(path: str, settings: Settings, read: Callable[[], SourceFile], stdin: bool = False) -> FileResult:
    try:
        try:
            source = read()
        except UndecodableSource as exc:
            # Files that cannot hold a finding are left to the other tools, whatever is
            # wrong with them; one that may hold Flask context code is an error.
            if not _prefilter().may_have_findings(exc.data.decode("latin-1"), settings.options):
                return FileResult(path, output=exc.data if stdin and settings.mode == FIX else None)
            raise
        if settings.mode == CHECK:
            return _check(source, settings, cached=not stdin)  # standard input: no result cache
        if settings.mode == ADD_NOQA:
            return _add_noqa(source, settings)
        return _fix(source, settings, stdin)
    except FileTooLarge as exc:
        return FileResult(path, skipped=str(exc))
    except SourceError as exc:
        return FileResult(path, error=str(exc))
    except _CachedError as exc:  # ``seen``: next time the result cache answers again
        return FileResult(path, error=exc.outcome.error, error_line=exc.outcome.error_line,
                          error_col=exc.outcome.error_col, seen=source.settled)
    except _parse_errors() as exc:
        return FileResult(path, **_parse_error(exc))
    except RecursionError:
        return FileResult(path, error="too deeply nested to analyse (recursion limit)")
    except MemoryError:  # what CPython's parser raises on some very deep nesting
        return FileResult(path, error="too deeply nested or too large to analyse")
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not end the whole run
        return FileResult(path, error=f"internal error: {type(exc).__name__}: {exc} "
                                      "(please report this file)", internal=True)


# The engine, the prefilter and the process pool are imported where they are first used:
# a warm run, whose files are all known clean or cached, needs none of them (~45 ms).

def _engine():  # -> the engine module
    from . import engine

    return engine


def _prefilter():  # -> the prefilter module
    from . import prefilter

    return prefilter


def _parse_errors() -> tuple[type[Exception], type[Exception]]:
    """CPython's SyntaxError and libcst's ParserSyntaxError. An ``except`` clause evaluates
    this only while matching an exception that no earlier clause took: a run whose files
    all come from the result cache (parse errors included) or fail the prefilter never
    imports libcst (~0.15 s of a warm run)."""
    from libcst import ParserSyntaxError

    return SyntaxError, ParserSyntaxError


def _parse_error(exc: Exception) -> dict:
    """The ``FileResult`` fields for a text that does not parse."""
    if isinstance(exc, SyntaxError):  # from the guard: CPython's message is the clearest one
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return dict(error=f"syntax error: {exc.msg}{where}", error_line=exc.lineno or None,
                    error_col=exc.offset or None)
    assert isinstance(exc, _parse_errors()[1])  # libcst rejects something CPython accepts
    return dict(error=f"cannot parse (libcst): {exc.message} (line {exc.raw_line})",
                error_line=exc.raw_line or None, error_col=(exc.raw_column + 1) if exc.raw_line else None)


class _CachedError(Exception):
    """The result cache says this text does not parse (and how it was reported)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome


def _analysed(source: SourceFile, options: Options, cached: bool = True) -> tuple[list[Finding], Optional[RestsOn]]:
    """``check_source`` through the result cache of the file's project (``check`` only):
    an unchanged file whose project dependencies are unchanged is not parsed at all. A
    cached parse error is raised as ``_CachedError``. Also: what the verdict rests on
    besides the file's bytes and the options (None: this is not known; ``clean_files.py``
    lists a clean file by it)."""
    cache = result_cache_for(source.path, options) if cached else None
    if cache is None:
        return _engine().check_source(source.text, options, path=source.path), None
    project = project_of(source.path, options)
    hints = project.hints().watched() if project is not None else None
    if not _prefilter().passes_text_test(source.text, options, hints):
        return [], (tuple(sorted(hints.asked)) if hints else (), None)  # no entry: the test costs less
    data = source.text.encode("utf-8", "surrogatepass")
    outcome = cache.get(source.path, options, data, project)
    if outcome is None:
        with project.recording() if project is not None else nullcontext() as reads:
            hints = project.hints().watched() if project is not None else None
            if not _prefilter().may_have_findings(source.text, options, hints):
                # stored: the second stage parses the file's ast
                outcome = Outcome([], ruled_out=tuple(sorted(hints.asked)) if hints else ())
            else:
                try:
                    outcome = Outcome(_engine().check_source(source.text, options, path=source.path,
                                                             prefiltered=True))
                except _parse_errors() as exc:
                    fields = _parse_error(exc)
                    outcome = Outcome([], fields["error"], fields["error_line"], fields["error_col"])
        cache.put(source.path, options, data, outcome, project, reads)
    if outcome.error is not None:
        raise _CachedError(outcome)
    if outcome.ruled_out is not None:
        return [], (outcome.ruled_out, None)
    if project is not None and outcome.depends is None:
        return outcome.findings, None  # an entry from a run that did not record what it read
    return outcome.findings, ((), outcome.depends)


def _keeper(settings: Settings, path: str) -> Callable[[Finding, str], bool]:
    """Selected by --select/--ignore/per-file-ignores and not silenced by a ``# noqa`` in
    the finding's text."""
    parsed: dict[int, Suppressions] = {}  # the fixer asks about each round's text
    ignore = settings.ignore + ignored_for(path, settings.per_file_ignores)

    def keep(finding: Finding, text: str) -> bool:
        if not decide(finding.code, settings.select, ignore):
            return False
        if settings.disable_noqa:
            return True
        if id(text) not in parsed:
            parsed.clear()
            parsed[id(text)] = Suppressions(text)
        return not parsed[id(text)].silences(finding.code, finding.line)

    return keep


def _reported(path: str, findings: Sequence[Finding], text: str) -> list[Reported]:
    if not findings:
        return []
    lines = split_lines(text)
    codes = line_codes(text, sorted({f.line for f in findings}))
    return [Reported(path, f.line, f.col, f.code, f.message, steps=f.steps, scope=f.scope,
                     source_line=lines[f.line - 1].rstrip("\r\n") if 0 < f.line <= len(lines) else "",
                     line_hash=code_hash(codes.get(f.line, "")))
            for f in sorted(findings, key=Finding.sort_key)]


def _check(source: SourceFile, settings: Settings, offers: bool = True, cached: bool = True) -> FileResult:
    offers = offers and (settings.fix_offers or settings.fix_edits)
    keep = _keeper(settings, source.path)
    cached = cached and settings.mode == CHECK
    analysed, rests_on = _analysed(source, settings.options, cached=cached)
    findings = [f for f in analysed if keep(f, source.text)]
    reported = _reported(source.path, findings, source.text)
    project = project_of(source.path, settings.options) if cached else None
    result = FileResult(source.path, reported, seen=source.settled if cached else None,
                        clean=rests_on if not analysed else None,
                        learned=project.facts.take_learned() if project is not None else {})
    if findings and offers:  # which of them fix can rewrite: a dry run, with unsafe fixes on
        from .fixes import fix_source

        fixes = fix_source(source.text, settings.options, keep=keep, unsafe=True, path=source.path)
        by_finding = {(a.code, a.line, a.col): FixOffer(a.applicability, a.description, a.reason)
                      for a in fixes.applied} if fixes.converged else {}
        result.findings = [replace(r, fix=by_finding.get((r.code, r.line, r.col))) for r in reported]
        if settings.fix_edits and by_finding:
            kinds = {offer.applicability for offer in by_finding.values()}
            if "unsafe" in kinds and fixes.source != source.text:
                result.edits["unsafe"] = replacements(source.text, fixes.source)
            if kinds == {"safe"}:  # no unsafe fix chosen: the text is the one fix writes
                result.edits["safe"] = replacements(source.text, fixes.source)
            elif "safe" in kinds:
                safe = fix_source(source.text, settings.options, keep=keep, unsafe=False, path=source.path)
                if safe.converged and safe.source != source.text:
                    result.edits["safe"] = replacements(source.text, safe.source)
    return result


def replacements(old: str, new: str) -> tuple[Replacement, ...]:
    """``new`` as line-wise edits of ``old`` (each line's ending counted as characters)."""
    old_lines, new_lines = split_lines(old), split_lines(new)
    out = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        text = "".join(new_lines[j1:j2])
        if i2 > i1:
            out.append(Replacement(i1 + 1, 1, i2, len(old_lines[i2 - 1]) + 1, text))
        elif i1 < len(old_lines):
            out.append(Replacement(i1 + 1, 1, i1 + 1, 1, text))
        elif old_lines:  # after the last line
            out.append(Replacement(i1, len(old_lines[-1]) + 1, i1, len(old_lines[-1]) + 1, text))
        else:
            out.append(Replacement(1, 1, 1, 1, text))
    return tuple(out)


def apply_replacements(old: str, edits: Sequence[Replacement]) -> str:
    """The inverse of ``replacements`` (for tests and SARIF consumers written in Python)."""
    lines = split_lines(old)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, col: int) -> int:
        return starts[line - 1] + col - 1 if line - 1 < len(starts) else starts[-1]

    out, at = [], 0
    for edit in sorted(edits, key=lambda e: (e.start_line, e.start_col)):
        begin, end = offset(edit.start_line, edit.start_col), offset(edit.end_line, edit.end_col)
        out.append(old[at:begin])
        out.append(edit.text)
        at = end
    out.append(old[at:])
    return "".join(out)


def _add_noqa(source: SourceFile, settings: Settings) -> FileResult:
    """``--add-noqa``: a ``# noqa: CODE`` on every finding's line, written like a fix."""
    keep = _keeper(settings, source.path)
    findings = [f for f in _engine().check_source(source.text, settings.options, path=source.path)
                if keep(f, source.text)]
    if not findings:
        return FileResult(source.path)
    new_text, left = add_noqa(source.text, [(f.line, f.code) for f in findings])
    outcome = FileResult(source.path, [r for r in _reported(source.path, findings, source.text)
                                       if (r.line, r.code) in set(left)])
    outcome.noqa_added = len(findings) - len(left)
    if new_text == source.text:
        return outcome
    _engine().parse_guard(new_text)  # a comment at the end of a line cannot break the code; checked anyway
    try:
        outcome.written = write_source(source, new_text)
    except NotWritten as exc:
        return FileResult(source.path, _reported(source.path, findings, source.text), error=str(exc))
    return outcome


def _fix(source: SourceFile, settings: Settings, stdin: bool = False) -> FileResult:
    from .fixes import fix_source  # libcst, once per process

    result = fix_source(source.text, settings.options, keep=_keeper(settings, source.path),
                        unsafe=settings.unsafe_fixes, path=source.path)
    if not result.converged:
        return FileResult(source.path, _reported(source.path, result.remaining, source.text), internal=True,
                          error="the fixes failed to converge (each round changed the text again): "
                                "nothing was written (please report this file)",
                          output=encode_source(source, source.text) if stdin and settings.mode == FIX else None)
    # ``remaining`` refers to the new text: lines move when a fix adds lines
    outcome = FileResult(source.path, _reported(source.path, result.remaining, result.source),
                         list(result.applied), unsafe_fixable=len(result.unsafe_fixable))
    if stdin and settings.mode == FIX:
        outcome.output = encode_source(source, source.text)
    if result.source == source.text:
        return outcome
    try:  # the fixer promises text that parses; a file is never written on its word alone
        _engine().parse_guard(result.source)
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise RuntimeError(f"the fixed text does not parse ({exc}); the file was not written")
    try:
        new_text = _faithful(source.text, result.source)
        if settings.mode == DIFF:
            outcome.diff = encoded_diff(source, new_text)
            return outcome
        if stdin:
            outcome.output = encode_source(source, new_text)
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
    import libcst as cst

    round_trip = run_deep(lambda: cst.parse_module(original).code)
    if round_trip == original:
        return fixed
    text = keep_lost_bytes(original, round_trip, fixed)
    if text != fixed:
        _engine().parse_guard(text)
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
    and handed out. A process pool is used when it can pay off. ``check`` with its cache
    first leaves out the files known clean by their ``stat`` (``clean_files.py``), and
    keeps what the others' results say for the next run.
    """
    if settings.options.no_cache and jobs > 1 and len(paths) > 1 and settings.shared_summaries is None:
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="flask-ctx-summaries-")
        try:
            yield from iter_results(paths, replace(settings, shared_summaries=folder), jobs, ordered, stopping)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if settings.mode != CHECK or settings.options.no_cache:
        yield from _iter_work(paths, settings, jobs, ordered, stopping)
        return
    from .project.clean_files import ANSWERED, CLEAN, CleanLists

    clean = CleanLists(settings.options, settings.max_file_size)
    states = [clean.state(path) for path in paths]
    rest = [index for index, state in enumerate(states) if state != CLEAN]  # CLEAN: not even opened
    if not ordered:
        yield from ((index, FileResult(paths[index])) for index, state in enumerate(states) if state == CLEAN)
    answered = sum(states[index] == ANSWERED for index in rest)
    if not _pool_pays(len(rest) - answered, answered):
        jobs = 1
    try:
        after = 0  # ordered: the next index to hand out
        for position, result in _iter_work([paths[index] for index in rest], settings, jobs, ordered, stopping):
            index = rest[position]
            clean.note(result.path, result.seen, result.clean, result.learned)
            if ordered:
                yield from ((i, FileResult(paths[i])) for i in range(after, index))  # listed ones
                after = index + 1
            yield index, result
        if ordered and not stopping():
            yield from ((i, FileResult(paths[i])) for i in range(after, len(paths)))
    finally:
        clean.save()


# What a file costs in ``check``, as measured on the 2-core machine: one its result cache
# entry answers ~3 ms, one checked afresh from ~1 ms (the substring tests) to ~100 ms (the
# analysis), ~50 ms is the guess; a process pool costs ~0.1-0.15 s to start (its workers
# import the prefilter and more). Below this much work, the files are checked here.
_CACHED_S, _UNKNOWN_S, _POOL_PAYS_S = 0.003, 0.05, 0.3


def _pool_pays(unknown: int, answered: int) -> bool:
    return unknown * _UNKNOWN_S + answered * _CACHED_S > _POOL_PAYS_S


def _iter_work(paths: Sequence[str], settings: Settings, jobs: int, ordered: bool,
               stopping: Callable[[], bool]) -> Iterator[tuple[int, FileResult]]:
    work = partial(process, settings=settings)
    done: set[int] = set()
    if jobs > 1 and len(paths) > 1:
        from concurrent.futures.process import BrokenProcessPool

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
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

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
