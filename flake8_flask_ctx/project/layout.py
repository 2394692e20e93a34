"""Where a project is, and which module each of its files is."""

from __future__ import annotations

import fnmatch
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

from ..sources import DEFAULT_EXCLUDE

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", ".git")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z")


@lru_cache(maxsize=256)
def find_root(directory: str) -> Optional[str]:
    """The nearest directory upward from ``directory`` that holds a project marker."""
    return _root_of(str(Path(directory).resolve()))


@lru_cache(maxsize=4096)
def _root_of(directory: str) -> Optional[str]:
    """``find_root`` of a resolved directory, each parent looked at once per process."""
    if any(os.path.exists(os.path.join(directory, marker)) for marker in ROOT_MARKERS):
        return directory
    parent = os.path.dirname(directory)
    return None if parent == directory else _root_of(parent)


def source_roots(root: str) -> tuple[str, ...]:
    """Where the project's importable modules start: ``src/`` (if it holds packages), then
    the root itself."""
    src = os.path.join(root, "src")
    if os.path.isdir(src) and any(os.path.isfile(os.path.join(src, name, "__init__.py"))
                                  for name in os.listdir(src)):
        return (src, root)
    return (root,)


def module_name(path: str, roots: tuple[str, ...]) -> Optional[str]:
    """``pkg.sub.mod`` for ``<root>/pkg/sub/mod.py`` (``pkg.sub`` for its ``__init__.py``)."""
    directory, name = os.path.split(os.path.abspath(path))
    for folder in _relative_folders(directory, roots):
        relative = name if folder == os.curdir else folder + os.sep + name
        if relative.startswith(".."):
            continue
        parts = relative[:-3].split(os.sep) if relative.endswith(".py") else None
        if not parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and all(_IDENTIFIER.match(p) for p in parts) and not any(_excluded(p) for p in parts[:-1]):
            return ".".join(parts)
    return None


@lru_cache(maxsize=4096)
def _relative_folders(directory: str, roots: tuple[str, ...]) -> tuple[str, ...]:
    """``directory`` relative to each root (a check asks the module of every file)."""
    return tuple(os.path.relpath(directory, root) for root in roots)


@lru_cache(maxsize=4096)
def _excluded(directory: str) -> bool:
    """A directory the module index does not walk (``build``, ``venv``, hidden ones); asked
    of every part of every module's path."""
    return any(fnmatch.fnmatch(directory, pattern) for pattern in DEFAULT_EXCLUDE)


def iter_modules(roots: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(module name, path) for every importable ``.py`` file under the roots; a module found
    under two roots (``src/`` first) is the first one's."""
    seen: set[str] = set()
    for root in roots:
        for directory, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not _excluded(d)
                             and _IDENTIFIER.match(d) and os.path.join(directory, d) not in roots)
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    module = module_name(path, (root,))
                    if module is not None and module not in seen:
                        seen.add(module)
                        yield module, path
