"""The flake8 front end: options in, findings out, never an exception.

flake8 hands us the file's ``lines`` (already decoded, with any BOM stripped), so the
plugin never rereads the file; ``# noqa`` is applied by flake8 itself. libcst and the
analysis are imported only when a file passes the prefilter: a flake8 run over code
without Flask thread code never pays for them.
"""

from __future__ import annotations

import argparse
import ast
import logging
from dataclasses import replace
from typing import Any, Iterator

from . import __version__
from .options import OPTION_SPECS, Options
from .prefilter import may_have_findings
from .project.index import project_of

LOG = logging.getLogger(__name__)


def _flag(spec_name: str) -> str:
    return f"--fcx-{spec_name}"


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
                help=spec.help + " (default: %(default)s)",
            )

    @classmethod
    def parse_options(cls, options: Any) -> None:
        values = {spec.name: getattr(options, "fcx_" + spec.name.replace("-", "_"), None)
                  for spec in OPTION_SPECS}
        limit = getattr(options, "max_line_length", None)  # flake8's own option, for fixes
        cls.options = Options.from_mapping(values)
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

            findings = check_source(source, self.options, parsed=True, path=path, tree=self.tree)  # flake8 parsed it
        except Exception as exc:  # noqa: BLE001 - flake8 must never see our exceptions
            # libcst rejects some files ast accepts (and flake8 reports real syntax errors
            # itself as E999): no finding, no traceback.
            LOG.debug("flake8-flask-ctx skipped %s: %s", self.filename, exc)
            return
        for f in findings:
            yield f.line, f.col, f.message, type(self)
