"""Configuration files, and which one wins: one source of truth for both front ends.

Two places can configure flake8-flask-ctx:

- ``[tool.flask-ctx]`` in ``pyproject.toml`` (the nearest one upward from the working
  directory that has the table, up to the repository root), whose keys are the flake8
  option names without ``fcx-`` plus the command line's own (``select``, ``ignore``,
  ``exclude``, ``per-file-ignores``...);
- ``[flake8]`` in ``setup.cfg``, ``tox.ini`` or ``.flake8`` (found as flake8 finds it), whose
  ``fcx-*`` keys are the plugin's options.

The analysis options (``OPTION_SPECS``: what the code means) are read from both by both
front ends, so ``flake8`` and ``flask-ctx check`` see the same spawners, wrappers and
app-bound names. For each option: **a command-line flag wins, then ``[tool.flask-ctx]``,
then ``[flake8]``, then the default.** Code selection and file selection (``select``,
``ignore``, ``exclude``, ``per-file-ignores``) stay each front end's own: flake8's apply to
all of flake8's plugins, ``[tool.flask-ctx]``'s to ``flask-ctx``.

Values are lists of strings or one comma-separated string (flags: true or false). Unknown
keys, in either place, are an error: a misspelt key silently doing nothing is how a
linter stops linting.

``find_line_length`` reads the line length the fixer keeps to from the project's flake8 or
ruff configuration (it is not a ``[tool.flask-ctx]`` key: one setting per project is enough).
"""

from __future__ import annotations

import configparser
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

from .options import DEFAULT_MAX_LINE_LENGTH, OPTION_SPECS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

SECTION = "flask-ctx"
FLAKE8_SECTION = "flake8"
FLAKE8_PREFIX = "fcx-"
FLAKE8_FILES = ("setup.cfg", "tox.ini", ".flake8")  # flake8's order within a directory
RUFF_FILES = (".ruff.toml", "ruff.toml", "pyproject.toml")  # ruff's order within a directory
OPTION_KEYS = tuple(spec.name for spec in OPTION_SPECS)
SWITCHES = tuple(spec.name for spec in OPTION_SPECS if spec.flag)  # analysis on/off options
LIST_KEYS = ("select", "extend-select", "ignore", "extend-ignore", "exclude", "extend-exclude",
             *(name for name in OPTION_KEYS if name not in SWITCHES))
FLAGS = ("unsafe-fixes", "force-exclude", *SWITCHES)  # true or false
STRINGS = ("baseline",)  # a path, relative to the file's directory
TABLES = ("per-file-ignores",)  # {pattern: [codes]}, or flake8's "pattern:codes ..." string
KEYS = (*LIST_KEYS, *TABLES, *FLAGS, *STRINGS)
PRECEDENCE = "command line > [tool.flask-ctx] (pyproject.toml) > [flake8] fcx-* > default"


class ConfigError(Exception):
    """A configuration file that cannot be used; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class Layers:
    """What the configuration files say (no command line yet)."""

    pyproject: Optional[Path] = None
    table: Mapping[str, object] = field(default_factory=dict)  # [tool.flask-ctx], checked
    flake8: Optional[Path] = None
    section: Mapping[str, list[str]] = field(default_factory=dict)  # [flake8] fcx-*, without "fcx-"

    @property
    def base(self) -> Path:
        """Relative paths in [tool.flask-ctx] are relative to its file."""
        return self.pyproject.parent if self.pyproject else Path.cwd()

    def option(self, name: str) -> Optional[list[str]]:
        """An analysis option's configured value, [tool.flask-ctx] first; None: not set."""
        value = self.table.get(name, self.section.get(name))
        return list(value) if isinstance(value, list) else value  # type: ignore[return-value]

    def source_of(self, name: str) -> str:
        if name in self.table:
            return f"{self.pyproject} [tool.{SECTION}]"
        if name in self.section:
            return f"{self.flake8} [{FLAKE8_SECTION}] {FLAKE8_PREFIX}{name}"
        return "default"


def load_layers(cwd: Path, pyproject: Optional[Path] = None, isolated: bool = False) -> Layers:
    """Both files as the CLI and the plugin find them; ``isolated``: neither."""
    if isolated:
        return Layers()
    if pyproject is not None and not pyproject.is_file():
        raise ConfigError(f"{pyproject}: no such file")
    path = pyproject if pyproject is not None else find_config(cwd)
    table = load_config(path) if path is not None else {}
    flake8 = find_flake8_config(cwd)
    section = load_flake8_options(flake8) if flake8 is not None else {}
    return Layers(path, table, flake8, section)


def resolve_options(layers: Layers, command_line: Mapping[str, Optional[Sequence[str]]]) -> dict[str, list[str]]:
    """``{option name: value}`` for the options set anywhere (the precedence above)."""
    values: dict[str, list[str]] = {}
    for name in OPTION_KEYS:
        flag = command_line.get(name)
        if flag is not None:
            values[name] = flag if isinstance(flag, bool) else list(flag)  # type: ignore[assignment]
        elif layers.option(name) is not None:
            values[name] = layers.option(name)  # type: ignore[assignment]
    return values


# --- [tool.flask-ctx] ------------------------------------------------------------------------

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


def load_config(path: Path) -> dict[str, object]:
    """The ``[tool.flask-ctx]`` settings of ``path`` (empty when it has no such table)."""
    table = _read_tool_tables(path).get(SECTION, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{SECTION}] must be a table")
    settings: dict[str, object] = {}
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
        elif key in STRINGS:
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{path}: {raw_key} must be a file name")
            settings[key] = value.strip()
        elif key in TABLES:
            if not isinstance(value, (dict, str)):
                raise ConfigError(f"{path}: {raw_key} must be a table of pattern = [codes]")
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


# --- [flake8] --------------------------------------------------------------------------------

def find_flake8_config(start: Path) -> Optional[Path]:
    """The file flake8 itself would read: the first of setup.cfg, tox.ini, .flake8 with a
    ``[flake8]`` section, in ``start`` or upward, stopping below the home directory."""
    home = Path(os.path.expanduser("~"))
    directory = start.resolve()
    while True:
        for name in FLAKE8_FILES:
            candidate = directory / name
            parser = configparser.RawConfigParser()
            try:
                parser.read(candidate, encoding="UTF-8")
            except (UnicodeDecodeError, configparser.Error):
                continue  # flake8 ignores an unparseable file too
            if FLAKE8_SECTION in parser or "flake8:local-plugins" in parser:
                return candidate
        parent = directory.parent
        if parent == directory or parent == home:
            return None
        directory = parent


def load_flake8_options(path: Path) -> dict[str, list[str]]:
    """The ``fcx-*`` options of ``[flake8]`` in ``path``, by option name without ``fcx-``."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="UTF-8")
    except (UnicodeDecodeError, configparser.Error) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    if FLAKE8_SECTION not in parser:
        return {}
    return flake8_section_options(path, dict(parser[FLAKE8_SECTION]))


def flake8_section_options(path: object, section: Mapping[str, str]) -> dict[str, list[str]]:
    """``fcx-*`` keys (flake8 also accepts ``fcx_*``) as lists, unknown ones an error."""
    from .selection import split_list

    options: dict[str, list[str]] = {}
    for raw_key, value in section.items():
        key = raw_key.replace("_", "-")
        if not key.startswith(FLAKE8_PREFIX):
            continue
        name = key[len(FLAKE8_PREFIX):]
        if name not in OPTION_KEYS:
            known = ", ".join(FLAKE8_PREFIX + k for k in OPTION_KEYS)
            raise ConfigError(f"{path}: unknown key {raw_key!r} in [{FLAKE8_SECTION}] (known: {known})")
        options[name] = split_list(value)
    return options


# --- line length -------------------------------------------------------------------------

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
