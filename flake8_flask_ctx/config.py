"""``[tool.flask-ctx]`` in ``pyproject.toml``: the configuration for teams without flake8.

The keys are the flake8 option names without the ``fcx-`` prefix (``extra-spawners``,
``context-wrappers``, ``app-bound-names``) plus ``select`` and ``ignore``, so moving a
configuration between ``setup.cfg`` and ``pyproject.toml`` is a rename of the section.
Each value is a list of strings or one comma-separated string (``unsafe-fixes``: true or
false). Unknown keys are an error:
a misspelt key silently doing nothing is how a linter stops linting.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Union

from .options import OPTION_SPECS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

SECTION = "flask-ctx"
FLAGS = ("unsafe-fixes",)  # true or false
KEYS = ("select", "ignore", *(spec.name for spec in OPTION_SPECS), *FLAGS)


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
