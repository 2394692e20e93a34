"""``flask-ctx check|fix``: the front end for teams that do not run flake8 (ruff users).

Thin on purpose: argparse, settings from ``[tool.flask-ctx]`` and flags, then the runner
and a reporter. Findings, noqa and file handling live in their own modules, so the flake8
plugin and this command line cannot disagree on what they report.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import re
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Iterator, Optional, Sequence

from . import __version__
from .config import ConfigError, find_config, find_line_length, load_config
from .options import OPTION_SPECS, Options
from .reporters import FORMATS, fix_record, render_text, render_text_with_fixes
from .runner import CHECK, DIFF, FIX, FileResult, Settings, iter_results
from .sources import DEFAULT_MAX_FILE_SIZE, format_size, iter_python_files

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 128  # + the signal's number: 130 for Ctrl-C, 143 for SIGTERM
CODE_PREFIX = re.compile(r"[A-Z]{1,3}[0-9]{0,3}")
SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:([kmg])(?:i?b)?|b|bytes)?", re.IGNORECASE)

EPILOG = """\
paths:
  Files are checked whatever their name; directories give their *.py files, recursively,
  skipping .git, .venv, venv, __pycache__, node_modules, .tox and hidden directories.
  No PATH means nothing to check (exit status 0), so an empty file list from a hook or a
  script is not an error. Only files that mention Flask (or a configured name) next to a
  thread, pool, stream, copy or internals keyword are parsed: syntax errors in other
  files are left to your other tools.

noqa:
  '# noqa' and '# noqa: FCX100,FCX2' (code prefixes) work as in flake8, and so does a
  '# flake8: noqa' line for a whole file. 'fix' never touches a silenced finding.

configuration:
  [tool.flask-ctx] in the nearest pyproject.toml upward from the current directory (up
  to the repository root), or the file given with --config. Keys: select, ignore,
  extra-spawners, context-wrappers, app-bound-names (lists or comma-separated strings).
  Command-line flags replace the configured value of the same key.
  fix keeps the lines it writes within flake8's max-line-length ([flake8] in setup.cfg,
  tox.ini or .flake8), else ruff's line-length (.ruff.toml, ruff.toml, [tool.ruff] in
  pyproject.toml), else 88, from the nearest such file upward from the same directory.

writing (fix):
  A fix is written into the existing file (mode, owner, group, hard links and ACLs
  stay), only if the file still holds exactly what was read and has a write bit; each
  file is reported the moment it is written (with -j, in the order they are written).
  Ctrl-C stops after the files in progress (press it again to abort at once).

size:
  Files larger than --max-file-size (default 2MB) are not read: 'PATH: skipped: ...' on
  stderr. libcst needs ~0.6 GB and ~10 s per MB of source (fix: ~1 GB, ~37 s).

exit status (the highest one that applies wins):
  0  nothing found (check); nothing left in the files (fix); a file skipped for its
     size does not change the status
  1  findings (check); findings left unfixed (fix); anything to fix or left (fix --diff,
     which writes nothing)
  2  usage or configuration error, or a file that could not be read, decoded or parsed,
     reported as 'PATH: error: ...' on stderr while the other files are still checked
     (their findings are printed too); such a file is never written. Also (fix) a fix
     that was not written: a read-only file, or one changed on disk while fix ran
  3  internal error of flask-ctx on some file (please report it with that file)
  130  interrupted by Ctrl-C (143: SIGTERM); every file written so far is reported
"""


def _prefixes(value: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in value.split(",") if item.strip())
    for item in items:
        if not CODE_PREFIX.fullmatch(item):
            raise argparse.ArgumentTypeError(f"{item!r} is not a code prefix like FCX or FCX100")
    return items


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of processes")
    return jobs


def _max_size(value: str) -> Optional[int]:
    """Bytes, or with a unit (K, M, G: powers of 1024; KB, MiB... too); 0: no limit."""
    match = SIZE.fullmatch(value.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{value!r} is not a size like 2000000, 500KB or 2MB")
    factor = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get((match.group(2) or "").lower(), 1)
    size = int(float(match.group(1)) * factor)
    return size or None


def _default_jobs() -> int:
    if hasattr(os, "sched_getaffinity"):  # the CPUs this process may use (containers, taskset)
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("paths", nargs="*", metavar="PATH", help="files and directories")
    common.add_argument("--select", type=_prefixes, metavar="CODES",
                        help="comma-separated code prefixes to report (default: FCX)")
    common.add_argument("--ignore", type=_prefixes, metavar="CODES",
                        help="comma-separated code prefixes not to report; the longer of a "
                             "matching select and ignore prefix wins, as in flake8")
    for spec in OPTION_SPECS:
        if spec.flag:
            common.add_argument(f"--{spec.name}", action="store_true", default=None,
                                help=f"{spec.help} Same as flake8's --fcx-{spec.name}")
            continue
        if spec.single is not None:
            common.add_argument(f"--{spec.name}", metavar="VALUE",
                                help=f"{spec.help} Same as flake8's --fcx-{spec.name}")
            continue
        default = f" (default: {', '.join(spec.default)})" if spec.default else ""
        common.add_argument(f"--{spec.name}", metavar="NAMES",
                            help=f"{spec.help} Comma-separated; same as flake8's "
                                 f"--fcx-{spec.name}{default}")
    common.add_argument("--jobs", "-j", type=_jobs, default=_default_jobs(), metavar="N",
                        help="processes to use (default: the number of CPUs, %(default)s)")
    common.add_argument("--config", type=Path, metavar="PATH",
                        help="the pyproject.toml to read [tool.flask-ctx] from")
    common.add_argument("--unsafe-fixes", action="store_true", default=None,
                        help="fix: also apply the fixes that cannot be proven to keep behaviour; "
                             "check: count them as fixable (README, What fix does)")
    common.add_argument("--show-fixes", action="store_true",
                        help="check: print under each finding the fix on offer (safe, unsafe "
                             "and why, or none); fix: also list the unsafe fixes left")
    common.add_argument("--max-file-size", type=_max_size, metavar="SIZE",
                        default=DEFAULT_MAX_FILE_SIZE,
                        help="skip larger files without reading them: bytes or with a unit "
                             f"(500KB, 2MB); 0 for no limit (default: "
                             f"{format_size(DEFAULT_MAX_FILE_SIZE).replace(' ', '')})")

    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="flask-ctx", formatter_class=formatter, epilog=EPILOG,
        description="Find and fix Flask request/app context bugs in threads, pools and "
                    "streams.")
    parser.add_argument("--version", action="version",
                        version=f"flask-ctx {__version__} (flake8-flask-ctx)")
    commands = parser.add_subparsers(dest="command", metavar="{check,fix}")
    check = commands.add_parser(
        "check", parents=[common], formatter_class=formatter, epilog=EPILOG,
        help="report findings", description="Report Flask context bugs as PATH:LINE:COL: "
                                            "CODE message (or --format).")
    check.add_argument("--format", choices=sorted(FORMATS), default="text",
                       help="output format (default: text)")
    fix = commands.add_parser(
        "fix", parents=[common], formatter_class=formatter, epilog=EPILOG,
        help="rewrite files to fix findings",
        description="Fix what can be fixed safely (and, with --unsafe-fixes, what cannot be "
                    "proven safe), in place; print 'PATH:LINE:COL: CODE fixed (safe): ...' for "
                    "each fix, the findings that are left, and a summary.")
    fix.add_argument("--format", choices=("text", "json"), default="text",
                     help="text (default), or json: one object per file with its fixes and "
                          "the findings left")
    fix.add_argument("--diff", action="store_true",
                     help="print a unified diff instead of writing (the fixes and the "
                          "findings left go to stderr)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    config_path = args.config if args.config is not None else find_config(Path.cwd())
    if args.config is not None and not args.config.is_file():
        raise ConfigError(f"{args.config}: no such file")
    values: dict = load_config(config_path) if config_path else {}
    for key in ("select", "ignore"):
        if key in values:
            try:
                values[key] = _prefixes(",".join(values[key]))
            except argparse.ArgumentTypeError as exc:
                raise ConfigError(f"{config_path}: {key}: {exc}") from None
    for spec in OPTION_SPECS:
        flag = getattr(args, spec.name.replace("-", "_"))
        if flag is not None:
            values[spec.name] = flag
    select = args.select if args.select is not None else values.get("select") or ("FCX",)
    ignore = args.ignore if args.ignore is not None else values.get("ignore", ())
    mode = CHECK if args.command == "check" else DIFF if args.diff else FIX
    try:
        options = Options.from_mapping({spec.name: values.get(spec.name) for spec in OPTION_SPECS})
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    start = args.config.resolve().parent if args.config is not None else Path.cwd()
    options = replace(options, max_line_length=find_line_length(start))  # for the fixed lines
    unsafe = args.unsafe_fixes if args.unsafe_fixes is not None else bool(values.get("unsafe-fixes"))
    offers = mode == CHECK and (args.show_fixes or args.format in ("json", "sarif"))
    return Settings(options, tuple(select), tuple(ignore), mode, args.max_file_size, unsafe, offers)


class _Stop:
    """The first Ctrl-C (or SIGTERM) during fix: start no new file, finish the ones in
    progress and report them; a second one aborts (KeyboardInterrupt)."""

    def __init__(self) -> None:
        self.signal: Optional[int] = None

    def __call__(self, signum: int, frame: object) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signum
        print("flask-ctx: stopping after the files in progress (Ctrl-C again to abort)",
              file=sys.stderr, flush=True)

    def __bool__(self) -> bool:
        return self.signal is not None


def _collect(paths: Sequence[str], settings: Settings, jobs: int,
             stop: Optional[_Stop] = None) -> Iterator[FileResult]:
    """Results as the files are done, paths that do not exist included as errors: in
    command-line order, except that ``fix`` hands out each file the moment it is written."""
    found = list(iter_python_files(paths))
    files = [path for path, error in found if error is None]
    ordered = settings.mode != FIX
    stopping = (lambda: bool(stop)) if stop is not None else (lambda: False)
    done = iter_results(files, settings, jobs, ordered=ordered, stopping=stopping)
    if not ordered:
        yield from (FileResult(path, error=error) for path, error in found if error is not None)
        yield from (result for _, result in done)
        return
    for path, error in found:
        if error is not None:
            yield FileResult(path, error=error)
            continue
        item = next(done, None)
        if item is None:  # stopped
            return
        yield item[1]


def exit_status(results: Sequence[FileResult], settings: Settings) -> int:
    if any(r.internal for r in results):
        return EXIT_INTERNAL
    if any(r.error for r in results):
        return EXIT_ERROR
    left = any(r.findings or (settings.mode == DIFF and r.applied) for r in results)
    return EXIT_FINDINGS if left else EXIT_CLEAN


def _notes(result: FileResult) -> None:
    if result.error:
        print(f"{result.path}: error: {result.error}", file=sys.stderr)
    if result.skipped:
        print(f"{result.path}: skipped: {result.skipped}", file=sys.stderr)


def _report_check(results: Sequence[FileResult], output_format: str, show_fixes: bool) -> None:
    for result in results:
        _notes(result)
    if output_format == "text" and show_fixes:
        sys.stdout.write(render_text_with_fixes(results))
        return
    sys.stdout.write(FORMATS[output_format](results))


def _report_fix(result: FileResult, settings: Settings, output_format: str) -> None:
    """One file's fixes and what is left, flushed at once: the record of a run so far."""
    _notes(result)
    if output_format == "json":
        sys.stdout.write(json.dumps(fix_record(result)) + "\n")
        sys.stdout.flush()
        return
    log = sys.stderr if settings.mode == DIFF else sys.stdout
    verb = "would fix" if settings.mode == DIFF else "fixed"
    if result.diff:  # bytes in the file's own encoding, so that patch(1) applies them
        sys.stdout.flush()
        sys.stdout.buffer.write(result.diff)
        sys.stdout.buffer.flush()
    for applied in sorted(result.applied, key=lambda a: (a.line, a.col, a.code)):
        log.write(f"{result.path}:{applied.line}:{applied.col + 1}: {applied.code} {verb} "
                  f"({applied.applicability}): {applied.description}\n")
    log.write(render_text([result]))
    log.flush()
    sys.stderr.flush()


def _fix_summary(results: Sequence[FileResult], settings: Settings) -> str:
    """``Fixed 3, 1 left; 2 more with --unsafe-fixes`` (ruff's closing line, in our words)."""
    fixed = sum(len({(a.code, a.line, a.col) for a in r.applied}) for r in results)
    left = sum(len(r.findings) for r in results)
    more = sum(r.unsafe_fixable for r in results)
    verb = "Would fix" if settings.mode == DIFF else "Fixed"
    text = f"{verb} {fixed}, {left} left"
    if more and not settings.unsafe_fixes:
        text += f"; {more} more with --unsafe-fixes"
    return text + "\n"


def _names_or_backslashes(error: UnicodeError) -> tuple[object, int]:
    """A file name's undecodable bytes (surrogate escapes) go out as those bytes, so the
    name printed is the name on disk; any other unencodable character as a \\ escape."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start:error.end]
    if all(0xDC80 <= ord(char) <= 0xDCFF for char in chunk):
        return bytes(ord(char) - 0xDC00 for char in chunk), error.end
    return codecs.backslashreplace_errors(error)


codecs.register_error("flask-ctx-names", _names_or_backslashes)


def main(argv: Optional[Sequence[str]] = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # odd file names must not crash the output
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="flask-ctx-names")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("flask-ctx: error: choose a command: check or fix", file=sys.stderr)
        return EXIT_ERROR
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"flask-ctx: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    output_format = getattr(args, "format", "text")
    stop = _Stop() if settings.mode == FIX else None
    previous = {}
    results: list[FileResult] = []
    try:
        if stop is not None:  # fix: a signal must not cut a run short without its record
            for signum in (signal.SIGINT, signal.SIGTERM):
                try:
                    previous[signum] = signal.signal(signum, stop)
                except ValueError:  # not the main thread (main() called from a thread)
                    break
        for result in _collect(args.paths, settings, args.jobs, stop):
            results.append(result)
            if settings.mode != CHECK:
                _report_fix(result, settings, output_format)
        if settings.mode == CHECK:
            _report_check(results, output_format, args.show_fixes)
        elif output_format == "text" and any(r.applied or r.findings for r in results):
            sys.stdout.flush()
            sys.stderr.write(_fix_summary(results, settings))  # stdout keeps one line per fix or finding
        sys.stdout.flush()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED + signal.SIGINT
    except BrokenPipeError:  # `flask-ctx check . | head`: stop quietly, keep the status
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stop:
        return EXIT_INTERRUPTED + stop.signal
    return exit_status(results, settings)
