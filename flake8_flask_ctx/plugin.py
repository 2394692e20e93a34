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

import ast
import logging
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

from . import __version__
from .options import OPTION_SPECS, Options
from .prefilter import may_have_findings

LOG = logging.getLogger(__name__)


def _flag(spec_name: str) -> str:
    return f"--fcx-{spec_name}"


def _dest(spec_name: str) -> str:
    return "fcx_" + spec_name.replace("-", "_")


class FlaskCtxChecker:
    name = "flake8-flask-ctx"
    version = __version__
    options = Options()

    def __init__(self, tree: ast.AST, lines: list[str], filename: str = "") -> None:
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        for spec in OPTION_SPECS:
            option_manager.add_option(
                _flag(spec.name),
                default=",".join(spec.default),
                parse_from_config=True,
                comma_separated_list=True,
                help=spec.help + " Also read from [tool.flask-ctx] in pyproject.toml. "
                                 "(default: %(default)s)",
            )
        from .rules import RULES

        off = [rule.code for rule in RULES if not rule.default]
        if off and hasattr(option_manager, "extend_default_ignore"):
            option_manager.extend_default_ignore(off)

    @classmethod
    def parse_options(cls, *args: Any) -> None:
        """flake8 calls ``(option_manager, options, filenames)``, older ones ``(options)``."""
        options = args[1] if len(args) >= 2 else args[0]
        merged = {spec.name: list(getattr(options, _dest(spec.name), None) or [])
                  for spec in OPTION_SPECS}
        cls.options = Options.from_mapping(_shared_values(options, merged))

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        source = "".join(self.lines)
        if not may_have_findings(source, self.options):
            return
        try:
            from .engine import check_source

            findings = check_source(source, self.options, parsed=True)  # flake8 parsed it
        except Exception as exc:  # noqa: BLE001 - flake8 must never see our exceptions
            # libcst rejects some files ast accepts (and flake8 reports real syntax errors
            # itself as E999): no finding, no traceback.
            LOG.debug("flake8-flask-ctx skipped %s: %s", self.filename, exc)
            return
        for f in findings:
            yield f.line, f.col, f.message, type(self)


def _flake8_config_section(options: Any) -> Optional[tuple[str, dict[str, str]]]:
    """The ``[flake8]`` section flake8 itself read (its --config, --append-config and
    --isolated included), or None when flake8 cannot tell us."""
    try:
        from flake8.options.config import load_config
    except ImportError:  # pragma: no cover - flake8 < 5
        return None
    try:
        cfg, cfg_dir = load_config(getattr(options, "config", None),
                                   list(getattr(options, "append_config", None) or []),
                                   isolated=bool(getattr(options, "isolated", False)))
    except Exception:  # noqa: BLE001 - flake8 reported its own config errors already
        return None
    if "flake8" not in cfg:
        return (cfg_dir, {})
    return (getattr(options, "config", None) or cfg_dir, dict(cfg["flake8"]))


def _shared_values(options: Any, merged: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """flake8's merged value (its command line over its config files) becomes a
    command-line value when it differs from what the config file says; otherwise
    ``[tool.flask-ctx]`` comes before ``[flake8]``."""
    from flake8.exceptions import ExecutionError

    from .config import ConfigError, find_config, flake8_section_options, load_config

    isolated = bool(getattr(options, "isolated", False))
    try:
        pyproject = None if isolated else find_config(Path.cwd())
        table = load_config(pyproject) if pyproject is not None else {}
        found = _flake8_config_section(options)
        section = flake8_section_options(found[0], found[1]) if found is not None else None
    except ConfigError as exc:
        raise ExecutionError(f"flake8-flask-ctx: {exc}") from None
    values: dict[str, list[str]] = {}
    for spec in OPTION_SPECS:
        value = merged[spec.name]
        if section is None:  # cannot tell the command line from the config file
            from_command_line = value != list(spec.default)
        else:
            from_command_line = value != section.get(spec.name, list(spec.default))
        if from_command_line:
            values[spec.name] = value
        elif spec.name in table:
            values[spec.name] = list(table[spec.name])  # type: ignore[arg-type]
        else:
            values[spec.name] = value
    return values
