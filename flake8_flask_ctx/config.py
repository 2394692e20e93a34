"""``[tool.flask-ctx]`` in ``pyproject.toml``: the configuration for teams without flake8.

The keys are the flake8 option names without the ``fcx-`` prefix (``extra-spawners``,
``context-wrappers``, ``app-bound-names``) plus ``select`` and ``ignore``, so moving a
configuration between ``setup.cfg`` and ``pyproject.toml`` is a rename of the section.
Each value is a list of strings or one comma-separated string (``unsafe-fixes``: true or
false). Unknown keys are an error:
a misspelt key silently doing nothing is how a linter stops linting.

``find_line_length`` reads the line length the fixer keeps to from the project's flake8 or
ruff configuration (it is not a ``[tool.flask-ctx]`` key: one setting per project is enough).
"""

from __future__ import annotations

import configparser
import sys
from pathlib import Path
from typing import Optional, Union

from .options import DEFAULT_MAX_LINE_LENGTH, OPTION_SPECS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

SECTION = "flask-ctx"
FLAGS = ("unsafe-fixes", *(spec.name for spec in OPTION_SPECS if spec.flag))  # true or false
KEYS = ("select", "ignore", *(spec.name for spec in OPTION_SPECS if not spec.flag), *FLAGS)


class ConfigError(Exception):
    """A configuration file that cannot be used; ``str()`` is one line for the user."""


def find_config(start: Path) -> Optional[Path]:
    """The nearest ``pyproject.toml`` upward from ``start`` that has a ``[tool.flask-ctx]`` table.

    The search stops at the repository root (a directory holding ``.git``), so a stray
    ``pyproject.toml`` above the project never configures it.
    """
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and SECTION in _read_tool_tables(candidate):
            return candidate
        if (directory / ".git").exists():
            return None
    return None


def load_config(path: Path) -> dict[str, list[str]]:
    """The ``[tool.flask-ctx]`` settings of ``path`` (empty when it has no such table)."""
    table = _read_tool_tables(path).get(SECTION, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{SECTION}] must be a table")
    settings: dict[str, list[str]] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("_", "-")
        if key not in KEYS:
            raise ConfigError(
                f"{path}: unknown key {raw_key!r} in [tool.{SECTION}] (known: {', '.join(KEYS)})"
            )
        if key in FLAGS:
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: {raw_key} must be true or false")
            settings[key] = value
        else:
            settings[key] = _as_list(path, raw_key, value)
    return settings


def _read_tool_tables(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    tool = document.get("tool", {})
    return tool if isinstance(tool, dict) else {}


def _as_list(path: Path, key: str, value: Union[str, list]) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{path}: {key} must be a list of strings or a comma-separated string")
    return [item.strip() for item in value if item.strip()]


FLAKE8_FILES = ("setup.cfg", "tox.ini", ".flake8")  # flake8's own order within a directory
RUFF_FILES = (".ruff.toml", "ruff.toml", "pyproject.toml")  # ruff's own order within a directory


def find_line_length(start: Path) -> int:
    """The line length for the lines the fixer writes, from the configuration nearest to
    ``start`` (upward, to the repository root, as ``find_config``).

    flake8's wins: ``max-line-length`` in the ``[flake8]`` section of the first of
    setup.cfg, tox.ini, .flake8 that has one (flake8's own choice of file). Else ruff's:
    ``line-length`` in the nearest ruff configuration (.ruff.toml, ruff.toml, or a
    pyproject.toml with a ``[tool.ruff]`` table). Else 88 (black's and ruff's default).
    flake8's wins over ruff's because this is a flake8 plugin and flake8's setting is
    explicitly about E501; the two rarely disagree in one project.
    """
    flake8 = _nearest(start, _flake8_line_length)
    if flake8 is not None:
        return flake8
    ruff = _nearest(start, _ruff_line_length)
    return ruff if ruff is not None else DEFAULT_MAX_LINE_LENGTH


def _nearest(start: Path, read) -> Optional[int]:
    """The setting from the first directory upward whose files configure the tool at all."""
    for directory in (start, *start.parents):
        found, value = read(directory)
        if found:
            return value
        if (directory / ".git").exists():
            return None
    return None


def _flake8_line_length(directory: Path) -> tuple[bool, Optional[int]]:
    for name in FLAKE8_FILES:
        path = directory / name
        if not path.is_file():
            continue
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError, OSError):
            continue  # flake8 ignores a file it cannot parse, too
        if not parser.has_section("flake8"):
            continue
        for key in ("max-line-length", "max_line_length"):
            if parser.has_option("flake8", key):
                return True, _line_length(path, f"[flake8] {key}", parser.get("flake8", key))
        return True, None
    return False, None


def _ruff_line_length(directory: Path) -> tuple[bool, Optional[int]]:
    for name in RUFF_FILES:
        path = directory / name
        if not path.is_file():
            continue
        if name == "pyproject.toml":
            table = _read_tool_tables(path).get("ruff")
            if not isinstance(table, dict):
                continue
            where = "[tool.ruff] line-length"
        else:
            table = _read_toml(path)
            where = "line-length"
        value = table.get("line-length")
        return True, None if value is None else _line_length(path, where, value)
    return False, None


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _line_length(path: Path, where: str, value: object) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if isinstance(value, bool) or number < 1:
        raise ConfigError(f"{path}: {where} must be a positive whole number, not {value!r}")
    return number
