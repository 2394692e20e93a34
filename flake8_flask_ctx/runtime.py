"""The Python the checked code runs on, as far as the context rules care.

Two facts change what a worker gets (docs/runtime-facts.md, "Python 3.14"):

- whether a new ``threading.Thread`` starts with a copy of the context of the code that
  calls ``start()``: true on free-threaded builds (3.14t) and wherever
  ``-X thread_inherit_context=1`` or ``PYTHON_THREAD_INHERIT_CONTEXT=1`` is set, false
  on the GIL build's default. A linter cannot see the interpreter's flags, so this is a
  setting (``thread-inherit-context``), implied by a target of ``3.14t``;
- the target version (``target-python``, default the lower bound of ``requires-python``
  in the project's ``pyproject.toml`` when it has one): from 3.14 ``multiprocessing``
  starts children with ``forkserver`` on Linux, so a process started in a view no longer
  gets a forked copy of the request.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from .options import Options, target_python
from .sources import real_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

FORKSERVER_SINCE = (3, 14)  # multiprocessing's default start method on Linux is forkserver
# ``>=3.14``, ``>= 3.14.1``, ``~=3.14``, ``==3.14.*``: a lower bound; other clauses may follow
_LOWER_BOUND = re.compile(r"(?:>=|~=|==)\s*(\d+)\.(\d+)")


@dataclass(frozen=True)
class Runtime:
    version: Optional[tuple[int, int]] = None  # None: unknown
    inherit_context: bool = False

    @property
    def forks_by_default(self) -> bool:
        """Does ``multiprocessing`` fork on Linux by default? Until 3.14; then forkserver
        (unknown counts as yes: the older default is the one most code still runs on)."""
        return self.version is None or self.version < FORKSERVER_SINCE


def parse_target(text: str) -> tuple[tuple[int, int], bool]:
    """``"3.14t"`` -> ((3, 14), True) (``options.target_python`` checked the form)."""
    text = target_python(text)
    free_threaded = text.endswith("t")
    major, minor = text.rstrip("t").split(".")
    return (int(major), int(minor)), free_threaded


def runtime_of(options: Options, path: Optional[str] = None) -> Runtime:
    """The runtime for the file at ``path`` under ``options``."""
    if options.target_python:
        version, free_threaded = parse_target(options.target_python[0])
        return Runtime(version, options.thread_inherit_context or free_threaded)
    version = _requires_python(os.path.dirname(real_path(path))) if path else None
    return Runtime(version, options.thread_inherit_context)


@lru_cache(maxsize=None)
def _requires_python(directory: str) -> Optional[tuple[int, int]]:
    """The lower bound of ``[project] requires-python`` in the nearest pyproject.toml, up to
    the repository's root; each directory is looked at once per process."""
    candidate = os.path.join(directory, "pyproject.toml")
    if os.path.isfile(candidate):
        return _lower_bound(candidate)
    parent = os.path.dirname(directory)
    if parent == directory or os.path.exists(os.path.join(directory, ".git")):
        return None
    return _requires_python(parent)


def _lower_bound(pyproject: str) -> Optional[tuple[int, int]]:
    try:
        with open(pyproject, "rb") as handle:
            project = tomllib.load(handle).get("project", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    spec = project.get("requires-python") if isinstance(project, dict) else None
    bounds = _LOWER_BOUND.findall(spec) if isinstance(spec, str) else []
    return max((int(a), int(b)) for a, b in bounds) if bounds else None
