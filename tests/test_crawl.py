"""Crawl: every ``.py`` of the standard library and of this venv's site-packages.

The plugin and the fixer must never crash on real code. flake8 alone cannot show that:
the plugin swallows its exceptions by design (a flake8 run must never break). So the
crawl calls the engine's entry points directly, in worker processes, and fails on any
exception other than a syntax error on text that does not parse (CPython's SyntaxError
where ``ast`` rejects the file too, or libcst's ``ParserSyntaxError``: libcst rejects a few
constructs ``ast`` accepts, not our bug, counted and printed):

- the analysis (``check_source``) on the files that pass the prefilter (the larger ones: a
  fixed third), and, with the prefilter forced open, on a fixed sixth of the smaller files
  it rules out and a ninth of the larger (every file with ``FCX_CRAWL_SAMPLE_EVERY=1``):
  the prefilter must not be what keeps the analysis alive, and must not hide a finding;
- the fixer (``fix_source``) on the same files (on the same fixed sample of the files over
  50,000 characters without a finding, where it would only repeat the analysis): its
  output parses, it changes nothing where no finding was reported, ``applied`` matches
  the change, and a second run on its own output does not crash;
- the real command lines, each run once, compared with the crawl's results (one pass over
  the corpus is shared): ``flask-ctx check`` over the whole corpus (findings identical,
  errors only for files that could hold a finding and do not parse), flake8 (``-j 2``) and
  ``fix --diff`` over the files where they have work to do.

flake8 over *everything* takes minutes (pyflakes and pycodestyle run on every file even
with ``--select FCX``), hence the in-process crawl for the whole corpus.

To keep the crawl affordable, each worker process memoizes ``libcst.parse_module`` by
source text, so the fixer's first round reuses the tree the analysis parsed. Parsing is a
pure function and libcst trees are immutable, so this changes no result, only the time.
About 1 minute on two idle cores for ~5,000 files (~1,100 analysed), and about 40 s more
for the command lines; several minutes more with ``FCX_CRAWL_SAMPLE_EVERY=1`` (all of them
analysed).
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import signal
import subprocess
import sys
import sysconfig
import time
import tokenize
import traceback
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import libcst as cst
import pytest

from flake8_flask_ctx.rules import RULES_BY_CODE as CODES
from flake8_flask_ctx.engine import check_source
from flake8_flask_ctx.fixes import fix_source
from flake8_flask_ctx.options import Options
from flake8_flask_ctx.prefilter import may_have_findings
from support.properties import ast_parses, prefilter_open

pytestmark = pytest.mark.slow

PER_FILE_TIMEOUT = 120  # seconds for one file, analysis and fixer together
# force the prefilter open on 1 in N of the files it rules out (1: all of them)
SAMPLE_EVERY = max(1, int(os.environ.get("FCX_CRAWL_SAMPLE_EVERY", "3")))
LARGE_FILE = 50_000  # characters: the fixer runs on 1 in SAMPLE_EVERY of the larger files without a finding
JOBS = max(1, min(2, os.cpu_count() or 1))


def corpus() -> list[Path]:
    """Every .py file of the stdlib and of this interpreter's purelib/platlib, once each."""
    paths = sysconfig.get_paths()
    stdlib = Path(paths["stdlib"])
    roots = [stdlib, Path(paths["purelib"]), Path(paths["platlib"])]
    seen: set[Path] = set()
    files = []
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.py")):
            # the base interpreter's own site-packages is not this venv's
            if root == stdlib and "site-packages" in path.relative_to(stdlib).parts:
                continue
            try:
                real = path.resolve()
            except (OSError, RuntimeError):
                continue
            if real in seen or not real.is_file():
                continue
            seen.add(real)
            files.append(path)
    return files


def _sampled(path: Path, every: int = 1) -> bool:
    """A fixed 1 in ``SAMPLE_EVERY * every`` of the files (all of them when it is 1)."""
    step = SAMPLE_EVERY * every if SAMPLE_EVERY > 1 else 1
    return zlib.crc32(str(path).encode()) % step == 0


def _analysed(path: Path, passed: bool, size: int) -> bool:
    """Which files the analysis runs on, within the suite's time: every file the prefilter
    passes under ``LARGE_FILE`` characters and 1 in N of the larger ones; of the files it
    rules out, 1 in 2N of the smaller and 1 in 3N of the larger (N = ``SAMPLE_EVERY``:
    ``FCX_CRAWL_SAMPLE_EVERY=1`` runs it on every file)."""
    if passed:
        return size < LARGE_FILE or _sampled(path)
    return _sampled(path, 2 if size < LARGE_FILE else 3)


# --- the work done for one file, in a worker process --------------------------------------


@dataclass
class FileResult:
    path: str
    status: str = "ok"  # ok | undecodable | skipped
    passed_prefilter: bool = False
    analysed: bool = False
    parse_error: Optional[str] = None  # SyntaxError / libcst ParserSyntaxError (acceptable)
    findings: list[tuple[int, int, str, str]] = field(default_factory=list)
    fixed: bool = False
    fix_changed: bool = False
    errors: list[str] = field(default_factory=list)  # each: what failed + traceback
    seconds: float = 0.0


class FileTimeout(Exception):
    pass


def _on_alarm(signum, frame):  # pragma: no cover - only on a hang
    raise FileTimeout(f"more than {PER_FILE_TIMEOUT}s")


def _init_worker() -> None:
    """Memoize libcst.parse_module by text (see the module docstring)."""
    original = cst.parse_module
    if getattr(original, "_crawl_memo", False):
        return

    @functools.lru_cache(maxsize=4)
    def _cached(source: str) -> cst.Module:
        return original(source)

    def parse_module(source, config=None):
        if config is None and isinstance(source, str):
            return _cached(source)
        return original(source, config) if config is not None else original(source)

    parse_module._crawl_memo = True  # type: ignore[attr-defined]
    cst.parse_module = parse_module  # type: ignore[assignment]
    signal.signal(signal.SIGALRM, _on_alarm)


def _check_findings(result: FileResult, source: str, found) -> None:
    n_lines = max(1, len(source.splitlines()))
    for f in found:
        ok = (f.code in CODES and 1 <= f.line <= n_lines and f.col >= 0
              and f.message.startswith(f.code + " ") and "\n" not in f.message)
        if not ok:
            result.errors.append(f"malformed finding {f!r} (file has {n_lines} lines)")


def crawl_one(path_str: str) -> FileResult:
    result = FileResult(path_str)
    start = time.perf_counter()
    try:
        with tokenize.open(path_str) as fh:
            source = fh.read()
    except (SyntaxError, UnicodeDecodeError, LookupError, OSError, ValueError):
        result.status = "undecodable"
        return result
    options = Options()
    result.passed_prefilter = may_have_findings(source, options)
    if not _analysed(Path(path_str), result.passed_prefilter, len(source)):
        result.status = "skipped"
        return result
    signal.alarm(PER_FILE_TIMEOUT)
    try:
        # 1. the analysis, through the engine's entry point with the prefilter forced open
        result.analysed = True
        found = None
        try:
            with prefilter_open():
                found = check_source(source, options)
        except (SyntaxError, cst.ParserSyntaxError) as exc:
            result.parse_error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
            if isinstance(exc, SyntaxError) and ast_parses(source):
                result.errors.append("analysis raised SyntaxError on a file ast parses:\n" + traceback.format_exc())
        except Exception:  # noqa: BLE001 - this is what the crawl looks for
            result.errors.append("analysis raised:\n" + traceback.format_exc())
        if found is not None:
            _check_findings(result, source, found)
            result.findings = [(f.line, f.col, f.code, f.message) for f in found]
            if found and not result.passed_prefilter:
                result.errors.append(f"prefilter hid {len(found)} finding(s): {result.findings[:3]}")
        # 2. the fixer: as the CLI runs it where the prefilter passes, forced open elsewhere;
        # on a large file without a finding (where it only repeats the analysis) 1 in N
        if found or len(source) < LARGE_FILE or _sampled(Path(path_str)):
            _crawl_fixer(result, source, options, found)
    except FileTimeout:
        result.errors.append(f"timeout: more than {PER_FILE_TIMEOUT}s on this file")
    finally:
        signal.alarm(0)
        result.seconds = time.perf_counter() - start
    return result


def _crawl_fixer(result: FileResult, source: str, options: Options, found) -> None:
    forced = contextlib.nullcontext() if result.passed_prefilter else prefilter_open()
    try:
        with forced:
            fixed = fix_source(source, options)
    except (SyntaxError, cst.ParserSyntaxError):
        if result.parse_error is None:
            result.errors.append("fix_source raised a syntax error on a file the analysis parsed:\n"
                                 + traceback.format_exc())
        return
    except Exception:  # noqa: BLE001
        result.errors.append("fix_source raised:\n" + traceback.format_exc())
        return
    result.fixed = True
    if result.parse_error is not None:
        result.errors.append("fix_source returned a result for a file the analysis cannot parse")
        return
    changed = fixed.source != source
    result.fix_changed = changed
    if changed != bool(fixed.applied):
        result.errors.append(f"fix_source: text changed={changed} but applied={fixed.applied!r}")
    if changed and not found:
        result.errors.append("fix_source changed a file with no finding")
    if changed:
        if not ast_parses(fixed.source):
            result.errors.append("fix_source output does not parse")
            return
        try:  # a second run on the fixed text must not crash either
            with forced:
                again = fix_source(fixed.source, options)
            if not ast_parses(again.source):
                result.errors.append("fix_source output (second run) does not parse")
        except Exception:  # noqa: BLE001
            result.errors.append("fix_source on its own output raised:\n" + traceback.format_exc())


# --- one crawl for the whole session, two tests reading it --------------------------------


@dataclass
class CrawlReport:
    results: list[FileResult]
    seconds: float
    cpu_seconds: float

    def summary(self) -> str:
        r = self.results
        analysed = [x for x in r if x.analysed]
        slowest = sorted(analysed, key=lambda x: x.seconds, reverse=True)[:5]
        lines = [
            f"crawl: {len(r)} files in {self.seconds:.0f}s wall, {self.cpu_seconds:.0f}s CPU, {JOBS} process(es)",
            f"  undecodable (skipped): {sum(x.status == 'undecodable' for x in r)}",
            f"  passed the prefilter: {sum(x.passed_prefilter for x in r)}",
            f"  analysed with the prefilter forced open (1 in {SAMPLE_EVERY}): "
            f"{sum(x.analysed and not x.passed_prefilter for x in r)}",
            f"  syntax errors / libcst parse failures (not our bug): {sum(x.parse_error is not None for x in r)}",
            f"  findings: {sum(len(x.findings) for x in r)} in {sum(bool(x.findings) for x in r)} files",
            f"  fixer runs: {sum(x.fixed for x in r)}, changed files: {sum(x.fix_changed for x in r)}",
            f"  files with errors: {sum(bool(x.errors) for x in r)}",
            "  slowest: " + ", ".join(f"{Path(x.path).name} {x.seconds:.1f}s" for x in slowest),
        ]
        lines += [f"  cannot parse {x.path}: {x.parse_error}" for x in r if x.parse_error]
        return "\n".join(lines)


@pytest.fixture(scope="module")
def crawl() -> CrawlReport:
    files = corpus()
    # biggest first, so that one slow file does not finish alone at the end
    files.sort(key=lambda p: p.stat().st_size, reverse=True)
    start, cpu0 = time.perf_counter(), _cpu()
    if JOBS == 1:  # in this process: undo the worker set-up afterwards
        original, handler = cst.parse_module, signal.getsignal(signal.SIGALRM)
        try:
            _init_worker()
            results = [crawl_one(str(p)) for p in files]
        finally:
            cst.parse_module = original  # type: ignore[assignment]
            signal.signal(signal.SIGALRM, handler)
    else:
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                              else None)
        with ProcessPoolExecutor(JOBS, mp_context=context, initializer=_init_worker) as pool:
            results = list(pool.map(crawl_one, map(str, files), chunksize=4))
    report = CrawlReport(results, time.perf_counter() - start, _cpu() - cpu0)
    print("\n" + report.summary())
    return report


def _cpu() -> float:
    own, children = os.times()[0:2], os.times()[2:4]
    return sum(own) + sum(children)


def _failures(report: CrawlReport, kind: str) -> str:
    bad = [(x.path, e) for x in report.results for e in x.errors if e.startswith(kind)]
    return "\n\n".join(f"{path}\n{error}" for path, error in bad[:10]) + (
        f"\n... and {len(bad) - 10} more" if len(bad) > 10 else "")


def test_corpus_is_real(crawl: CrawlReport) -> None:
    results = crawl.results
    assert len(results) > 1000, "expected the whole standard library"
    assert any("flask" in Path(x.path).parts for x in results), "flask is a test dependency"
    assert sum(x.passed_prefilter for x in results) >= 5
    # the forced sample is 1 in 2N of the files the prefilter rules out (fewer of the large)
    assert sum(x.analysed and not x.passed_prefilter for x in results) > len(results) // SAMPLE_EVERY // 4


def test_analysis_never_raises(crawl: CrawlReport) -> None:
    kinds = ("analysis", "malformed", "timeout", "prefilter")
    bad = [x for x in crawl.results if any(e.startswith(kinds) for e in x.errors)]
    assert not bad, f"{len(bad)} file(s):\n" + "\n\n".join(_failures(crawl, k) for k in kinds if _failures(crawl, k))


def test_fixer_never_raises_and_only_changes_what_it_reports(crawl: CrawlReport) -> None:
    bad = [x for x in crawl.results if any(e.startswith("fix_source") for e in x.errors)]
    assert not bad, f"{len(bad)} file(s):\n" + _failures(crawl, "fix_source")
    # the fixer runs where the analysis does: the files that pass the prefilter (a few dozen)
    # and the 1 in 2N sample of those it rules out, less the large ones without a finding
    assert sum(x.fixed for x in crawl.results) > len(crawl.results) // SAMPLE_EVERY // 3


def test_parse_failures_are_rare(crawl: CrawlReport) -> None:
    """libcst rejecting a file is acceptable, but not for a large share of the corpus."""
    analysed = [x for x in crawl.results if x.analysed]
    failures = [x for x in analysed if x.parse_error]
    assert len(failures) <= max(5, len(analysed) // 100), crawl.summary()


# --- the real command lines, on the files where they have work to do ------------------------------
#
# The crawl above analysed and fixed every file that passes the prefilter (and a sample of
# the others) in-process. The command lines add their own layers (reading and decoding,
# walking, noqa, the process pool, reporting) but no new analysis: they are run once each,
# the CLI over the whole corpus except the largest prefilter-passing files without a
# finding (whose analysis the crawl has done; the analysis is all they would cost), flake8
# and ``fix --diff`` over the files where they do work, and compared with the crawl.

FORMAT = "%(path)s|%(row)d|%(col)d|%(code)s"
LARGE = 50_000  # bytes: a prefilter-passing file this large and without finding is left to the crawl


def _worked(crawl: CrawlReport) -> list[FileResult]:
    """The files the command lines analyse: they pass the prefilter and parse."""
    return [x for x in crawl.results if x.passed_prefilter and x.parse_error is None and not x.errors]


def _command_line_files(crawl: CrawlReport) -> list[Path]:
    return sorted(Path(x.path) for x in _worked(crawl) if x.findings or os.path.getsize(x.path) < LARGE)


def _in_process(crawl: CrawlReport, paths: set[str]) -> set[tuple[str, int, int, str]]:
    return {(str(Path(x.path).resolve()), line, col, code) for x in crawl.results if x.path in paths
            for line, col, code, _ in x.findings}


def test_flake8_jobs_2_where_the_plugin_works(crawl: CrawlReport, tmp_path: Path) -> None:
    """One flake8 run (-j 2) over the files where the plugin has work to do (it stops at the
    prefilter on the others): no traceback, and exactly the findings the crawl's in-process
    analysis gave (``--disable-noqa``: the same set)."""
    files = _command_line_files(crawl)
    assert len(files) > 30
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "FCX", "--disable-noqa", "-j", "2",
         f"--format={FORMAT}", *map(str, files)],
        capture_output=True, text=True, cwd=tmp_path, timeout=900,
    )
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert proc.returncode in (0, 1), proc.stderr
    via_flake8 = set()
    for line in proc.stdout.splitlines():
        path, row, col, code = line.split("|")
        via_flake8.add((str(Path(path).resolve()), int(row), int(col) - 1, code))
    assert via_flake8 == _in_process(crawl, set(map(str, files)))


def test_cli_check_over_stdlib_and_site_packages(crawl: CrawlReport, tmp_path: Path) -> None:
    """``flask-ctx check`` over everything crawled: no internal error, no traceback; the
    only errors are the files that could hold a finding and do not parse (the skipped-file
    policy: the standard library's undecodable test data is not Flask code and never fails
    the run); and exactly the crawl's findings."""
    import json

    large = {x.path for x in _worked(crawl) if not x.findings and os.path.getsize(x.path) >= LARGE}
    files = [x.path for x in crawl.results if x.path not in large]  # ~4,000 names: ~300 KB of argv
    proc = subprocess.run([sys.executable, "-m", "flake8_flask_ctx", "check", "--isolated", "-j", "2",
                           "--disable-noqa", "--format", "json", *files],
                          capture_output=True, text=True, timeout=1200, cwd=tmp_path)
    assert proc.returncode in (0, 1, 2), proc.stderr[-2000:]  # 3 would be our own bug
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr[-2000:]
    errors = {line.split(": error: ", 1)[0] for line in proc.stderr.splitlines() if ": error: " in line}
    unparsable = {x.path for x in crawl.results if x.passed_prefilter and x.parse_error}
    assert errors <= unparsable, sorted(errors - unparsable)[:10]
    assert (proc.returncode == 2) == bool(errors)
    reported = {(str(Path(item["path"]).resolve()), item["line"], item["column"] - 1, item["code"])
                for item in json.loads(proc.stdout or "[]")}
    assert reported == _in_process(crawl, set(files))
    assert len(files) > 1000


def test_cli_fix_diff_changes_only_what_check_reports(crawl: CrawlReport, tmp_path: Path) -> None:
    """``fix --diff`` (the real command line, -j 2) over the files where the fixer can act
    (it stops at the prefilter elsewhere): no internal error, and changes only in files with
    findings."""
    files = _command_line_files(crawl)
    proc = subprocess.run([sys.executable, "-m", "flake8_flask_ctx", "fix", "--isolated", "--diff", "-j", "2",
                           *map(str, files)], capture_output=True, text=True, timeout=1200, cwd=tmp_path)
    assert proc.returncode in (0, 1, 2), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr[-2000:]
    changed = {line[4:].strip() for line in proc.stdout.splitlines() if line.startswith("+++ ")}
    with_findings = {x.path for x in crawl.results if x.findings}
    assert changed <= with_findings, sorted(changed - with_findings)[:10]
