"""The flake8 front end: options in, findings out, never an exception.

flake8 hands us the file's ``lines`` (already decoded, with any BOM stripped), so the
plugin never rereads the file; ``# noqa`` is applied by flake8 itself. libcst and the
analysis are imported only when a file passes the prefilter: a flake8 run over code
without Flask thread code never pays for them.

Options are the ``OPTION_SPECS``, as ``--fcx-<name>`` flags and ``fcx-<name>`` keys of
``[flake8]``; ``[tool.flask-ctx]`` in ``pyproject.toml`` configures them too, with the
command line's precedence (``config.PRECEDENCE``): a flag given to flake8 wins, then
``[tool.flask-ctx]``, then ``[flake8]``.
"""

from __future__ import annotations

import argparse
import ast
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Union

from . import __version__
from .off_by_default import OFF_BY_DEFAULT
from .options import OPTION_SPECS, Options
from .prefilter import may_have_findings
from .project.index import project_of

LOG = logging.getLogger(__name__)


def _flag(spec_name: str) -> str:
    return f"--fcx-{spec_name}"


def _dest(spec_name: str) -> str:
    return "fcx_" + spec_name.replace("-", "_")


def _argparse_type(check):
    def convert(text: str) -> str:
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return convert


class FlaskCtxChecker:
    name = "flake8-flask-ctx"
    version = __version__
    options = Options()

    def __init__(self, tree: ast.AST, lines: list[str], filename: str = "") -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        for spec in OPTION_SPECS:
            if spec.flag:
                option_manager.add_option(_flag(spec.name), action="store_true", default=False,
                                          parse_from_config=True, help=spec.help)
                continue
            if spec.single is not None:  # argparse reports a bad value as a usage error
                option_manager.add_option(_flag(spec.name), default=None, parse_from_config=True,
                                          type=_argparse_type(spec.single), help=spec.help)
                continue
            option_manager.add_option(
                _flag(spec.name),
                default=",".join(spec.default),
                parse_from_config=True,
                comma_separated_list=True,
                help=spec.help + " Also read from [tool.flask-ctx] in pyproject.toml. "
                                 "(default: %(default)s)",
            )
        if OFF_BY_DEFAULT and hasattr(option_manager, "extend_default_ignore"):
            option_manager.extend_default_ignore(sorted(OFF_BY_DEFAULT))

    @classmethod
    def parse_options(cls, *args: Any) -> None:
        """flake8 calls ``(option_manager, options, filenames)``, older ones ``(options)``."""
        options = args[1] if len(args) >= 2 else args[0]
        merged = {spec.name: _flake8_value(spec, getattr(options, _dest(spec.name), None))
                  for spec in OPTION_SPECS}
        limit = getattr(options, "max_line_length", None)  # flake8's own option, for fixes
        cls.options = Options.from_mapping(_shared_values(options, merged))
        if isinstance(limit, int) and limit > 0:
            cls.options = replace(cls.options, max_line_length=limit)

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        source = "".join(self.lines)
        path = self.filename if self.filename not in ("", "-", "stdin") else None
        try:
            project = project_of(path, self.options)  # one per process: a text scan, no parse
            hints = project.hints() if project is not None else None
            if not may_have_findings(source, self.options, hints, self.tree):
                return  # libcst is never imported for such a file
            from .engine import check_source

            # flake8 parsed it, and the prefilter has just let it through
            findings = check_source(source, self.options, parsed=True, path=path, tree=self.tree, prefiltered=True)
        except Exception as exc:  # noqa: BLE001 - flake8 must never see our exceptions
            # libcst rejects some files ast accepts (and flake8 reports real syntax errors
            # itself as E999): no finding, no traceback.
            LOG.debug("flake8-flask-ctx skipped %s: %s", self.filename, exc)
            return
        for f in findings:
            yield f.line, f.col, f.message, type(self)


def _flake8_value(spec: Any, value: Any) -> Union[bool, list[str]]:
    """An option as flake8 parsed it (switch, one value or a list), in ``from_mapping``'s terms."""
    if spec.flag:
        return bool(value)
    if spec.single is not None:
        return [value] if value else []
    return list(value or [])


def _flake8_argv() -> Optional[list[str]]:
    """flake8's own arguments when this process is the flake8 command (or one of its -j
    workers, which inherit them); None under flake8's Python API."""
    if not sys.argv:
        return None
    program = sys.argv[0].replace("\\", "/")
    if os.path.basename(program) in ("flake8", "flake8.exe") or program.endswith("flake8/__main__.py"):
        return sys.argv[1:]
    return None


def _command_line(argv: list[str]) -> tuple[bool, set[str]]:
    """(--isolated given, the options given as --fcx-* flags). flake8 folds its config
    file into the values it hands us; its command line is read again here so that a flag
    can win over [tool.flask-ctx] while the config file does not (flags written out in full)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--isolated", action="store_true")
    for spec in OPTION_SPECS:
        if spec.flag:
            parser.add_argument(_flag(spec.name), dest=_dest(spec.name), action="store_true", default=None)
        else:
            parser.add_argument(_flag(spec.name), dest=_dest(spec.name), default=None)
    try:
        known, _ = parser.parse_known_args(argv)
    except SystemExit:  # pragma: no cover - a malformed command line flake8 rejects itself
        return False, set()
    return known.isolated, {spec.name for spec in OPTION_SPECS if getattr(known, _dest(spec.name)) is not None}


def _shared_values(options: Any, merged: Mapping[str, Union[bool, list[str]]]) -> dict[str, Union[bool, list[str]]]:
    """Per option: a flag given to flake8, then [tool.flask-ctx], then flake8's config
    file (flake8's merged value), then the default: ``config.PRECEDENCE``."""
    from flake8.exceptions import ExecutionError

    from .config import ConfigError, find_config, load_config

    argv = _flake8_argv()
    isolated, flags = _command_line(argv) if argv is not None else (False, set())
    try:
        pyproject = None if isolated else find_config(Path.cwd())
        table = load_config(pyproject) if pyproject is not None else {}
    except ConfigError as exc:
        raise ExecutionError(f"flake8-flask-ctx: {exc}") from None
    values: dict[str, Union[bool, list[str]]] = {}
    for spec in OPTION_SPECS:
        chosen = table[spec.name] if spec.name not in flags and spec.name in table else merged[spec.name]
        values[spec.name] = chosen if isinstance(chosen, bool) else list(chosen)  # type: ignore[arg-type]
    return values
