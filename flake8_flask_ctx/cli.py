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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, Optional, Sequence, TextIO

from . import __version__
from .baseline import BaselineError, apply_baseline, load_baseline, write_baseline
from .config import ConfigError, Layers, find_line_length, load_layers, resolve_options
from .options import OPTION_SPECS, Options
from .progress import Progress
from .reporters import (
    FORMATS, Style, fix_record, render_statistics, render_statistics_json, render_text, summary,
)
from .runner import ADD_NOQA, CHECK, DIFF, FIX, FileResult, Settings, iter_results, process_stdin
from .selection import (
    DEFAULT_EXCLUDE, Exclusion, PathPattern, SelectionError, check_code, default_off, default_select,
    parse_codes, parse_per_file_ignores, split_list,
)
from .sources import DEFAULT_MAX_FILE_SIZE, format_size, iter_python_files

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 128  # + the signal's number: 130 for Ctrl-C, 143 for SIGTERM
STDIN = "-"
SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:([kmg])(?:i?b)?|b|bytes)?", re.IGNORECASE)

EPILOG = """\
paths:
  Files are checked whatever their name; directories give their *.py files, recursively,
  leaving out what --exclude names (default: hidden files and directories, __pycache__,
  node_modules, venv). No PATH means the current directory, as in flake8 and ruff; '-'
  reads standard input (--stdin-filename names it). When there is nothing to check, a
  warning says so (exit status 0).

files that cannot be checked:
  Only files that mention Flask (or a configured name) next to a thread, pool, stream,
  copy or internals keyword can hold a finding. Any other file is left to your other
  tools, whatever is wrong with it (not UTF-8, a syntax error): never an error here. A
  file that could hold a finding and cannot be read, decoded or parsed is an error.
  Walking a directory, broken symbolic links and special files are not files to check.

noqa:
  '# noqa' and '# noqa: FCX100,FCX2' (code prefixes) work as in flake8, and so does a
  '# flake8: noqa' line for a whole file. 'fix' never touches a silenced finding.
  --add-noqa writes '# noqa: FCXnnn' on the line of every finding.

codes:
  Codes and prefixes are upper case (FCX, FCX1, FCX100), as in flake8, and each must match
  a rule: an unknown code is an error, not a filter. An empty --select is an error too
  (it would check nothing); leave it out to check every rule.

configuration:
  [tool.flask-ctx] in the nearest pyproject.toml upward from the current directory (up
  to the repository root), or the file given with --config; the fcx-* options of [flake8]
  in setup.cfg, tox.ini or .flake8 too. For the options both front ends share
  (extra-spawners, context-wrappers, app-bound-names): command line > [tool.flask-ctx] >
  [flake8] > default. --isolated reads no configuration file.
  fix keeps the lines it writes within flake8's max-line-length ([flake8] in setup.cfg,
  tox.ini or .flake8), else ruff's line-length (.ruff.toml, ruff.toml, [tool.ruff] in
  pyproject.toml), else 88, from the nearest such file upward from the same directory.

writing (fix, --add-noqa):
  A fix is written into the existing file (mode, owner, group, hard links and ACLs
  stay), only if the file still holds exactly what was read and has a write bit; each
  file is reported the moment it is written (with -j, in the order they are written).
  Ctrl-C stops after the files in progress (press it again to abort at once).

size:
  Files larger than --max-file-size (default 2MB) are not read: 'PATH: skipped: ...' on
  stderr. libcst needs ~0.6 GB and ~10 s per MB of source (fix: ~1 GB, ~37 s).

exit status (the highest one that applies wins):
  0  nothing found (check); nothing left in the files (fix); a file skipped for its
     size does not change the status; findings with --exit-zero
  1  findings (check); findings left unfixed (fix); anything to fix or left (fix --diff,
     which writes nothing)
  2  usage or configuration error, or a file that could hold a finding and could not be
     read, decoded or parsed, reported as 'PATH: error: ...' on stderr while the other
     files are still checked (their findings are printed too); such a file is never
     written. Also (fix) a fix that was not written: a read-only file, or one changed on
     disk while fix ran
  3  internal error of flask-ctx on some file (please report it with that file)
  130  interrupted by Ctrl-C (143: SIGTERM); every file written so far is reported
"""


class UsageError(Exception):
    """Options that do not go together; ``str()`` is one line."""


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
    common.add_argument("paths", nargs="*", metavar="PATH",
                        help="files and directories (default: the current directory); '-' "
                             "for standard input")
    codes = common.add_argument_group("codes")
    codes.add_argument("--select", metavar="CODES",
                       help="comma-separated code prefixes to report (default: every rule)")
    codes.add_argument("--extend-select", metavar="CODES", help="add to --select")
    codes.add_argument("--ignore", metavar="CODES",
                       help="comma-separated code prefixes not to report; the longer of a "
                            "matching select and ignore prefix wins, as in flake8")
    codes.add_argument("--extend-ignore", metavar="CODES", help="add to --ignore")
    codes.add_argument("--per-file-ignores", metavar="PATTERN:CODES",
                       help="codes to ignore in matching files, flake8's syntax: "
                            "'tests/*:FCX100,FCX2 legacy.py:FCX' (replaces the configured ones)")
    codes.add_argument("--extend-per-file-ignores", metavar="PATTERN:CODES",
                       help="add to per-file-ignores")
    codes.add_argument("--disable-noqa", action="store_true",
                       help="report findings even where a # noqa silences them")
    files = common.add_argument_group("files")
    files.add_argument("--exclude", metavar="PATTERNS",
                       help="comma-separated globs of files and directories to leave out of "
                            f"directories walked (replaces the default: {','.join(DEFAULT_EXCLUDE)})")
    files.add_argument("--extend-exclude", metavar="PATTERNS", help="add to --exclude")
    files.add_argument("--force-exclude", action="store_true", default=None,
                       help="exclude paths named on the command line too (the pre-commit "
                            "hooks use it, as ruff's do)")
    files.add_argument("--stdin-filename", metavar="NAME",
                       help="the name standard input is reported as (and matched against "
                            "per-file-ignores and --exclude); implies '-' when no PATH is given")
    files.add_argument("--max-file-size", type=_max_size, metavar="SIZE",
                       default=DEFAULT_MAX_FILE_SIZE,
                       help="skip larger files without reading them: bytes or with a unit "
                            f"(500KB, 2MB); 0 for no limit (default: "
                            f"{format_size(DEFAULT_MAX_FILE_SIZE).replace(' ', '')})")
    analysis = common.add_argument_group("analysis (also read from [flake8] fcx-* options)")
    for spec in OPTION_SPECS:
        if spec.flag:
            analysis.add_argument(f"--{spec.name}", action="store_true", default=None,
                                  help=f"{spec.help} Same as flake8's --fcx-{spec.name}")
            continue
        if spec.single is not None:
            analysis.add_argument(f"--{spec.name}", metavar="VALUE",
                                  help=f"{spec.help} Same as flake8's --fcx-{spec.name}")
            continue
        default = f" (default: {', '.join(spec.default)})" if spec.default else ""
        analysis.add_argument(f"--{spec.name}", metavar="NAMES",
                              help=f"{spec.help} Comma-separated; same as flake8's "
                                   f"--fcx-{spec.name}{default}")
    run = common.add_argument_group("run")
    run.add_argument("--jobs", "-j", type=_jobs, default=None, metavar="N",
                     help=f"processes to use (default: the number of CPUs, {_default_jobs()})")
    run.add_argument("--config", type=Path, metavar="PATH",
                     help="the pyproject.toml to read [tool.flask-ctx] from")
    run.add_argument("--isolated", action="store_true",
                     help="read no configuration file (neither pyproject.toml nor flake8's)")
    run.add_argument("--unsafe-fixes", action="store_true", default=None,
                     help="fix: also apply the fixes that cannot be proven to keep behaviour; "
                          "check: count them as fixable (README, What fix does)")
    run.add_argument("--show-fixes", action="store_true",
                     help="check: print under each finding the fix on offer (safe, unsafe "
                          "and why, or none); fix: also list the unsafe fixes left")
    run.add_argument("--exit-zero", action="store_true",
                     help="exit with status 0 even when there are findings (errors still exit 2)")
    run.add_argument("--output-file", "-o", type=Path, metavar="FILE",
                     help="write the report to FILE instead of standard output")
    run.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the text output: auto (on a terminal, unless NO_COLOR is "
                          "set), always or never (default: auto)")

    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="flask-ctx", formatter_class=formatter, epilog=EPILOG,
        description="Find and fix Flask request/app context bugs in threads, pools and "
                    "streams.")
    parser.add_argument("--version", action="version",
                        version=f"flask-ctx {__version__} (flake8-flask-ctx)")
    commands = parser.add_subparsers(dest="command", metavar="{check,fix,rule}")
    check = commands.add_parser(
        "check", parents=[common], formatter_class=formatter, epilog=EPILOG,
        help="report findings", description="Report Flask context bugs as PATH:LINE:COL: "
                                            "CODE message (or --format).")
    check.add_argument("--format", choices=sorted(FORMATS), default="text",
                       help="output format (default: text)")
    check.add_argument("--statistics", action="store_true",
                       help="print a count per code (with how many are fixable) instead of the "
                            "findings (text or json)")
    check.add_argument("--show-source", action="store_true",
                       help="print the line of each finding with a caret under its column")
    check.add_argument("--add-noqa", action="store_true",
                       help="write '# noqa: FCXnnn' on the line of every finding (merged into a "
                            "noqa comment already there), so that a code base can adopt the "
                            "checks today; files are written as fix writes them")
    check.add_argument("--baseline", type=Path, metavar="FILE",
                       help="report only the findings that are not in FILE (see --write-baseline)")
    check.add_argument("--write-baseline", type=Path, metavar="FILE",
                       help="record the current findings in FILE and exit 0: with --baseline "
                            "FILE, later runs report only new ones")
    fix = commands.add_parser(
        "fix", parents=[common], formatter_class=formatter, epilog=EPILOG,
        help="rewrite files to fix findings",
        description="Fix what can be fixed safely (and, with --unsafe-fixes, what cannot be "
                    "proven safe), in place; print 'PATH:LINE:COL: CODE fixed (safe): ...' for "
                    "each fix, the findings that are left, and a summary. With '-', the fixed "
                    "text goes to standard output.")
    fix.add_argument("--format", choices=("text", "json"), default="text",
                     help="text (default), or json: one object per file with its fixes and "
                          "the findings left")
    fix.add_argument("--diff", action="store_true",
                     help="print a unified diff instead of writing (the fixes and the "
                          "findings left go to stderr)")
    rule = commands.add_parser(
        "rule", formatter_class=formatter, help="print a rule's documentation",
        description="Print the documentation of the rules matching CODE (a code or a prefix), "
                    "or of every rule with --all.")
    rule.add_argument("codes", nargs="*", metavar="CODE")
    rule.add_argument("--all", action="store_true", help="every rule")
    return parser


@dataclass
class Run:
    """What ``main`` needs besides the per-file ``Settings``."""

    settings: Settings
    paths: list[str]
    jobs: int
    exclusion: Exclusion
    output_format: str = "text"
    stdin_name: Optional[str] = None  # reading standard input, shown as this name
    show_source: bool = False
    show_fixes: bool = False
    statistics: bool = False
    exit_zero: bool = False
    output_file: Optional[Path] = None
    color: str = "auto"
    baseline: Optional[Path] = None
    write_baseline: Optional[Path] = None
    layers: Layers = field(default_factory=Layers)


def _config_codes(layers: Layers, key: str, **kw) -> Optional[tuple[str, ...]]:
    if key not in layers.table:
        return None
    return parse_codes(layers.table[key], f"{layers.pyproject}: {key}", **kw)  # type: ignore[arg-type]


def _patterns(values: Sequence[str], base: Path) -> tuple[PathPattern, ...]:
    return tuple(PathPattern.make(value, str(base)) for value in values)


def _configure(args: argparse.Namespace) -> Run:
    cwd = Path.cwd()
    layers = load_layers(cwd, args.config, isolated=args.isolated)
    table, base = layers.table, layers.base
    flag = lambda name: getattr(args, name.replace("-", "_"), None)  # noqa: E731

    # codes
    if args.select is not None:
        select = parse_codes(args.select, "--select", empty_ok=False)
    else:
        select = _config_codes(layers, "select", empty_ok=False) or ()
    explicit = select + (_config_codes(layers, "extend-select") or ()) + parse_codes(
        args.extend_select, "--extend-select")
    select = (select or default_select()) + explicit[len(select):]
    if args.ignore is not None:
        ignore = parse_codes(args.ignore, "--ignore")
    else:
        ignore = _config_codes(layers, "ignore") or ()
    ignore = default_off(explicit) + ignore
    ignore += _config_codes(layers, "extend-ignore") or ()
    ignore += parse_codes(args.extend_ignore, "--extend-ignore")
    if args.per_file_ignores is not None:
        per_file = parse_per_file_ignores(args.per_file_ignores, str(cwd), "--per-file-ignores")
    else:
        per_file = parse_per_file_ignores(table.get("per-file-ignores"), str(base),  # type: ignore[arg-type]
                                          f"{layers.pyproject}: per-file-ignores")
    per_file += parse_per_file_ignores(args.extend_per_file_ignores, str(cwd), "--extend-per-file-ignores")

    # files
    if args.exclude is not None:
        exclude = _patterns(split_list(args.exclude), cwd)
    elif "exclude" in table:
        exclude = _patterns(table["exclude"], base)  # type: ignore[arg-type]
    else:
        exclude = _patterns(DEFAULT_EXCLUDE, cwd)
    exclude += _patterns(table.get("extend-exclude", ()), base)  # type: ignore[arg-type]
    exclude += _patterns(split_list(args.extend_exclude), cwd)
    force = args.force_exclude if args.force_exclude is not None else bool(table.get("force-exclude"))
    exclusion = Exclusion(exclude, force)

    # analysis options: the command line, then [tool.flask-ctx], then [flake8]
    command_line = {spec.name: None if flag(spec.name) is None
                    else flag(spec.name) if spec.flag else split_list(flag(spec.name))
                    for spec in OPTION_SPECS}
    try:
        options = Options.from_mapping(resolve_options(layers, command_line))  # type: ignore[arg-type]
    except ValueError as exc:  # a target-python the runtime table does not know
        raise ConfigError(str(exc)) from None
    start = args.config.resolve().parent if args.config is not None else cwd
    options = replace(options, max_line_length=find_line_length(start))  # for the fixed lines

    # inputs
    paths = list(args.paths)
    stdin_name = None
    if STDIN in paths or (not paths and args.stdin_filename):
        if paths not in ([STDIN], []):
            raise UsageError("'-' (standard input) cannot be combined with other paths")
        stdin_name = args.stdin_filename or STDIN
    elif args.stdin_filename:
        raise UsageError("--stdin-filename names standard input: give '-' (or no PATH)")
    elif not paths:
        paths = ["."]

    command = args.command
    output_format = getattr(args, "format", "text")
    add_noqa = getattr(args, "add_noqa", False)
    baseline = getattr(args, "baseline", None)
    if baseline is None and command == "check" and "baseline" in table:
        baseline = base / str(table["baseline"])
    write = getattr(args, "write_baseline", None)
    statistics = getattr(args, "statistics", False)
    if add_noqa and (baseline is not None and getattr(args, "baseline", None) is not None or write):
        raise UsageError("--add-noqa cannot be combined with --baseline or --write-baseline")
    if add_noqa and stdin_name is not None:
        raise UsageError("--add-noqa writes files: it cannot read standard input")
    if statistics and output_format not in ("text", "json"):
        raise UsageError("--statistics prints text or json, not --format " + output_format)
    if getattr(args, "show_source", False) and output_format != "text":
        raise UsageError("--show-source is for --format text")
    if command == "fix" and stdin_name is not None and output_format == "json":
        raise UsageError("fix - prints the fixed text on standard output: --format json cannot go there too")
    if add_noqa:
        baseline = None

    mode = CHECK if command == "check" and not add_noqa else ADD_NOQA if add_noqa else DIFF if args.diff else FIX
    unsafe = args.unsafe_fixes if args.unsafe_fixes is not None else bool(table.get("unsafe-fixes"))
    summary_wanted = _is_terminal(sys.stdout) and output_format == "text"
    offers = mode == CHECK and (args.show_fixes or output_format in ("json", "sarif") or statistics
                                or summary_wanted)
    settings = Settings(options, tuple(dict.fromkeys(select)), tuple(dict.fromkeys(ignore)), mode,
                        args.max_file_size, unsafe, offers, per_file, args.disable_noqa,
                        fix_edits=mode == CHECK and output_format == "sarif")
    return Run(settings, paths, args.jobs or _default_jobs(), exclusion, output_format, stdin_name,
               getattr(args, "show_source", False), args.show_fixes, statistics, args.exit_zero,
               args.output_file, args.color, baseline, write, layers)


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def _use_color(choice: str, stream: object) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):  # https://no-color.org: set and not empty
        return False
    return _is_terminal(stream) and os.environ.get("TERM") != "dumb"


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


def _collect(run: Run, stop: Optional[_Stop] = None, progress: Optional[Progress] = None,
             found: Optional[list] = None) -> Iterator[FileResult]:
    """Results as the files are done, paths that do not exist included as errors: in
    command-line order, except that ``fix`` hands out each file the moment it is written."""
    settings = run.settings
    found = found if found is not None else list(iter_python_files(run.paths, run.exclusion))
    files = [path for path, error in found if error is None]
    ordered = settings.mode not in (FIX, ADD_NOQA)
    stopping = (lambda: bool(stop)) if stop is not None else (lambda: False)
    done = iter_results(files, settings, run.jobs, ordered=ordered, stopping=stopping)

    def advanced(item: FileResult) -> FileResult:
        if progress is not None:
            progress.advance()
        return item

    if not ordered:
        yield from (FileResult(path, error=error) for path, error in found if error is not None)
        yield from (advanced(result) for _, result in done)
        return
    for path, error in found:
        if error is not None:
            yield FileResult(path, error=error)
            continue
        item = next(done, None)
        if item is None:  # stopped
            return
        yield advanced(item[1])


def exit_status(results: Sequence[FileResult], settings: Settings, exit_zero: bool = False) -> int:
    if any(r.internal for r in results):
        return EXIT_INTERNAL
    if any(r.error for r in results):
        return EXIT_ERROR
    left = any(r.findings or (settings.mode == DIFF and r.applied) for r in results)
    return EXIT_FINDINGS if left and not exit_zero else EXIT_CLEAN


def _notes(result: FileResult) -> None:
    if result.error:
        print(f"{result.path}: error: {result.error}", file=sys.stderr)
    if result.skipped:
        print(f"{result.path}: skipped: {result.skipped}", file=sys.stderr)


def _report_fix(result: FileResult, run: Run, out: TextIO) -> None:
    """One file's fixes and what is left, flushed at once: the record of a run so far."""
    settings = run.settings
    _notes(result)
    if run.output_format == "json":
        out.write(json.dumps(fix_record(result)) + "\n")
        out.flush()
        return
    to_stdout = run.stdin_name is not None and settings.mode == FIX  # stdout holds the fixed text
    log = sys.stderr if settings.mode == DIFF or to_stdout else out
    verb = "would fix" if settings.mode == DIFF else "fixed"
    if result.diff:  # bytes in the file's own encoding, so that patch(1) applies them
        out.flush()
        out.buffer.write(result.diff)  # type: ignore[attr-defined]
        out.buffer.flush()  # type: ignore[attr-defined]
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


def _open_output(path: Optional[Path]) -> TextIO:
    if path is None:
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8", errors="flask-ctx-names", newline="")
    except OSError as exc:
        raise UsageError(f"--output-file {path}: {exc.strerror or exc}") from None


def _rule(args: argparse.Namespace) -> int:
    from .rules import RULES_BY_CODE
    from .ruledocs import terminal_page

    if args.all == bool(args.codes):
        print("flask-ctx: error: rule: give a CODE (FCX201, or a prefix like FCX2) or --all",
              file=sys.stderr)
        return EXIT_ERROR
    try:
        prefixes = [check_code(code, "rule") for code in args.codes]
    except SelectionError as exc:
        print(f"flask-ctx: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    codes = [code for code in RULES_BY_CODE if args.all or code.startswith(tuple(prefixes))]
    try:
        sys.stdout.write(("\n" + "-" * 80 + "\n\n").join(terminal_page(code) for code in codes))
        sys.stdout.flush()
    except BrokenPipeError:  # `flask-ctx rule --all | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_CLEAN


def main(argv: Optional[Sequence[str]] = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # odd file names must not crash the output
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="flask-ctx-names")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("flask-ctx: error: choose a command: check, fix or rule", file=sys.stderr)
        return EXIT_ERROR
    if args.command == "rule":
        return _rule(args)
    try:
        run = _configure(args)
        baseline = load_baseline(run.baseline) if run.baseline is not None else None
        out = _open_output(run.output_file)
    except (ConfigError, SelectionError, UsageError, BaselineError) as exc:
        print(f"flask-ctx: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        return _main(run, baseline, out)
    finally:
        if out is not sys.stdout:
            out.close()


def _main(run: Run, baseline, out: TextIO) -> int:
    settings = run.settings
    stop = _Stop() if settings.mode in (FIX, ADD_NOQA) else None
    previous = {}
    results: list[FileResult] = []
    stdin_data: Optional[bytes] = None
    progress: Optional[Progress] = None
    try:
        if stop is not None:  # fix: a signal must not cut a run short without its record
            for signum in (signal.SIGINT, signal.SIGTERM):
                try:
                    previous[signum] = signal.signal(signum, stop)
                except ValueError:  # not the main thread (main() called from a thread)
                    break
        if run.stdin_name is not None:
            stdin_data = sys.stdin.buffer.read()
            if run.exclusion.skips_named(run.stdin_name):
                if settings.mode == FIX:
                    out.buffer.write(stdin_data)  # type: ignore[attr-defined]
                return EXIT_CLEAN
            inputs: Iterator[FileResult] = iter([process_stdin(stdin_data, run.stdin_name, settings)])
            checked = 1
        else:
            found = list(iter_python_files(run.paths, run.exclusion))
            checked = sum(error is None for _, error in found)
            if not found:  # said, not an error: the report is still printed (an empty one)
                print(f"flask-ctx: warning: no Python files to check in {' '.join(run.paths)}",
                      file=sys.stderr)
            progress = Progress(checked, sys.stderr, label="fixed" if settings.mode == FIX else "checked")
            inputs = _collect(run, stop, progress, found)
        for result in inputs:
            results.append(result)
            if settings.mode in (FIX, DIFF):
                if progress is not None:
                    progress.clear()
                _report_fix(result, run, out)
                if run.stdin_name is not None and settings.mode == FIX:
                    out.flush()
                    out.buffer.write(result.output if result.output is not None else stdin_data)  # type: ignore
                    out.buffer.flush()  # type: ignore[attr-defined]
        if progress is not None:
            progress.clear()
        if settings.mode == CHECK:
            return _finish_check(run, results, baseline, out, checked)
        if settings.mode == ADD_NOQA:
            return _finish_add_noqa(run, results, out)
        if run.output_format == "text" and any(r.applied or r.findings for r in results):
            out.flush()
            sys.stderr.write(_fix_summary(results, settings))  # stdout keeps one line per fix or finding
        out.flush()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED + signal.SIGINT
    except BrokenPipeError:  # `flask-ctx check . | head`: stop quietly, keep the status
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        if progress is not None:
            progress.clear()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stop:
        return EXIT_INTERRUPTED + stop.signal
    return exit_status(results, settings, run.exit_zero)


def _finish_check(run: Run, results: list[FileResult], baseline, out: TextIO, checked: int) -> int:
    settings = run.settings
    for result in results:
        _notes(result)
    if run.write_baseline is not None:
        try:
            written = write_baseline(run.write_baseline, results)
        except BaselineError as exc:
            print(f"flask-ctx: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        print(f"flask-ctx: wrote {written} finding{'s' if written != 1 else ''} to "
              f"{run.write_baseline}", file=sys.stderr)
        return exit_status(results, settings, exit_zero=True)  # recorded: findings are no failure
    baselined = 0
    if baseline is not None:
        filtered = apply_baseline(results, baseline)
        results, baselined = filtered.results, filtered.matched
    style = Style(_use_color(run.color, out))
    fmt = run.output_format
    if run.statistics:
        text = (render_statistics_json(results, settings.unsafe_fixes) if fmt == "json"
                else render_statistics(results, style, settings.unsafe_fixes))
    elif fmt == "text":
        text = render_text(results, style, run.show_source, run.show_fixes)
    else:
        text = FORMATS[fmt](results)
    out.write(text)
    out.flush()
    if fmt == "text" and _is_terminal(sys.stdout):
        files = sum(1 for r in results if not r.error and not r.skipped) if checked else 0
        line = summary(results, settings.unsafe_fixes, baselined, files).rstrip("\n")
        sys.stdout.write(Style(_use_color(run.color, sys.stdout)).paint(line, "1") + "\n")
        sys.stdout.flush()
    return exit_status(results, settings, run.exit_zero)


def _finish_add_noqa(run: Run, results: list[FileResult], out: TextIO) -> int:
    for result in results:
        _notes(result)
    added = sum(r.noqa_added for r in results)
    files = sum(1 for r in results if r.noqa_added)
    left = [r for r in results if r.findings]
    out.write(render_text(left))  # the findings a comment could not silence
    out.flush()
    print(f"Added {added} noqa comment{'s' if added != 1 else ''} to {files} file{'s' if files != 1 else ''}"
          + (f"; {sum(len(r.findings) for r in left)} finding(s) could not be silenced" if left else ""),
          file=sys.stderr)
    return exit_status(results, run.settings, run.exit_zero)
