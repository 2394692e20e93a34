"""``flask-ctx check|fix``: the front end for teams that do not run flake8 (ruff users).

Thin on purpose: argparse, settings from ``[tool.flask-ctx]`` and flags, then the runner
and a reporter. Findings, noqa and file handling live in their own modules, so the flake8
plugin and this command line cannot disagree on what they report.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

from . import __version__
from .config import ConfigError, find_config, find_line_length, load_config
from .options import OPTION_SPECS, Options
from .reporters import FORMATS, render_text
from .runner import CHECK, DIFF, FIX, FileResult, Settings, run
from .sources import iter_python_files

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3
CODE_PREFIX = re.compile(r"[A-Z]{1,3}[0-9]{0,3}")

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

exit status (the highest one that applies wins):
  0  nothing found (check); nothing left in the files (fix)
  1  findings (check); findings left unfixed (fix); anything to fix or left (fix --diff,
     which writes nothing)
  2  usage or configuration error, or a file that could not be read, decoded or parsed,
     reported as 'PATH: error: ...' on stderr while the other files are still checked
     (their findings are printed too); such a file is never written
  3  internal error of flask-ctx on some file (please report it with that file)
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
        default = f" (default: {', '.join(spec.default)})" if spec.default else ""
        common.add_argument(f"--{spec.name}", metavar="NAMES",
                            help=f"{spec.help} Comma-separated; same as flake8's "
                                 f"--fcx-{spec.name}{default}")
    common.add_argument("--jobs", "-j", type=_jobs, default=_default_jobs(), metavar="N",
                        help="processes to use (default: the number of CPUs, %(default)s)")
    common.add_argument("--config", type=Path, metavar="PATH",
                        help="the pyproject.toml to read [tool.flask-ctx] from")

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
        description="Fix what can be fixed safely, in place; print 'PATH:LINE: CODE fixed: "
                    "...' for each fix and the findings that are left.")
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
    options = Options.from_mapping({spec.name: values.get(spec.name) for spec in OPTION_SPECS})
    start = args.config.resolve().parent if args.config is not None else Path.cwd()
    options = replace(options, max_line_length=find_line_length(start))  # for the fixed lines
    return Settings(options, tuple(select), tuple(ignore), mode)


def _collect(paths: Sequence[str], settings: Settings, jobs: int) -> list[FileResult]:
    """Results in command-line order, paths that do not exist included as errors."""
    found = list(iter_python_files(paths))
    files = [path for path, error in found if error is None]
    done = iter(run(files, settings, jobs))
    return [next(done) if error is None else FileResult(path, error=error)
            for path, error in found]


def exit_status(results: Sequence[FileResult], settings: Settings) -> int:
    if any(r.internal for r in results):
        return EXIT_INTERNAL
    if any(r.error for r in results):
        return EXIT_ERROR
    left = any(r.findings or (settings.mode == DIFF and r.applied) for r in results)
    return EXIT_FINDINGS if left else EXIT_CLEAN


def _report(results: Sequence[FileResult], settings: Settings, output_format: str) -> None:
    for result in results:
        if result.error:
            print(f"{result.path}: error: {result.error}", file=sys.stderr)
    if settings.mode == CHECK:
        sys.stdout.write(FORMATS[output_format](results))
        return
    log = sys.stderr if settings.mode == DIFF else sys.stdout
    verb = "would fix" if settings.mode == DIFF else "fixed"
    for result in results:
        sys.stdout.write(result.diff)
        for applied in sorted(result.applied, key=lambda a: a.line):
            log.write(f"{result.path}:{applied.line}: {applied.code} {verb}: "
                      f"{applied.description}\n")
        log.write(render_text([result]))


def main(argv: Optional[Sequence[str]] = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # odd file names must not crash the output
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
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
    try:
        results = _collect(args.paths, settings, args.jobs)
    except KeyboardInterrupt:
        return 130
    try:
        _report(results, settings, getattr(args, "format", "text"))
        sys.stdout.flush()
    except BrokenPipeError:  # `flask-ctx check . | head`: stop quietly, keep the status
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return exit_status(results, settings)
