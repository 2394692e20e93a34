"""The user-settable options, declared once.

The flake8 plugin registers them as ``--fcx-<name>`` flags (also read from flake8's config
files); the ``flask-ctx`` CLI and ``[tool.flask-ctx]`` use the same names without the
``fcx-`` prefix. Values are dotted names, matched against both the code as written and
the imported name it resolves to; ``*`` matches within one dotted component
(``*.defer`` matches ``tasks.defer``, not ``a.tasks.defer``; ``myapp.tasks.*``).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence

from .catalogue.extensions import DEFAULT_APP_BOUND_NAMES

DEFAULT_MAX_LINE_LENGTH = 88  # black's and ruff's default, used when nothing is configured
_TARGET = re.compile(r"^\s*(\d+)\.(\d+)(t?)\s*$")


def target_python(text: str) -> str:
    """A ``target-python`` value: ``3.14`` or ``3.14t`` (raises ValueError otherwise)."""
    if _TARGET.match(text) is None:
        raise ValueError(f"target-python must look like 3.14 or 3.14t (free-threaded), not {text!r}")
    return text.strip()


@dataclass(frozen=True)
class OptionSpec:
    name: str
    help: str
    default: tuple[str, ...] = ()
    flag: bool = False  # an on/off switch (``--no-project``), not a list of names
    single: Optional[Callable[[str], str]] = None  # one value, checked by this (not a list)


OPTION_SPECS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "extra-spawners",
        "Callables that run their argument in another thread, as dotted names "
        "(myapp.tasks.run_later, *.defer); the worker is the first argument, or argument N "
        "with 'name:N'.",
    ),
    OptionSpec(
        "context-wrappers",
        "Decorators, wrappers or context managers that give a worker a request context "
        "(like copy_current_request_context), as dotted names.",
    ),
    OptionSpec(
        "app-bound-names",
        "Objects that need an app context (extension objects), as dotted names matched "
        "against the code as written; '*' matches any name.",
        DEFAULT_APP_BOUND_NAMES,
    ),
    OptionSpec(
        "target-python",
        "The Python the code runs on, as X.Y, or X.Yt for a free-threaded build (where threads "
        "inherit the caller's context); default: the lower bound of requires-python in "
        "pyproject.toml, when it has one.",
        single=target_python,
    ),
    OptionSpec(
        "thread-inherit-context",
        "Threads start with a copy of the context of whoever starts them (Python 3.14 with "
        "-X thread_inherit_context=1 or PYTHON_THREAD_INHERIT_CONTEXT=1; the default on 3.14t).",
        flag=True,
    ),
    OptionSpec(
        "no-project",
        "Check each file on its own: do not follow workers, helpers and decorators into the "
        "project's other modules.",
        flag=True,
    ),
    OptionSpec(
        "no-cache",
        "Do not read or write the project's summaries in .flask_ctx_cache/ (they are then "
        "computed again for every run), nor, for flask-ctx check, its cached results.",
        flag=True,
    ),
)


def match_dotted(pattern: str, name: str) -> bool:
    """``*`` matches within one dotted component; both sides have as many components."""
    pparts, nparts = pattern.split("."), name.split(".")
    return len(pparts) == len(nparts) and all(
        fnmatch.fnmatchcase(n, p) for p, n in zip(pparts, nparts)
    )


def _matches(patterns: Iterable[str], *names: str) -> bool:
    return any(match_dotted(p, n) for p in patterns for n in names if n)


@dataclass(frozen=True)
class Options:
    extra_spawners: tuple[str, ...] = ()
    context_wrappers: tuple[str, ...] = ()
    app_bound_names: tuple[str, ...] = field(
        default_factory=lambda: next(s.default for s in OPTION_SPECS if s.name == "app-bound-names")
    )
    target_python: tuple[str, ...] = ()  # one item: "3.14" or "3.14t" (see ``runtime.py``)
    thread_inherit_context: bool = False
    no_project: bool = False
    no_cache: bool = False
    # Not an fcx- option: the line length the fixer keeps the lines it writes to, taken from
    # flake8's max-line-length or ruff's line-length (see config.find_line_length).
    max_line_length: int = DEFAULT_MAX_LINE_LENGTH

    @classmethod
    def from_mapping(cls, values: dict[str, Sequence[str] | str | None]) -> "Options":
        """Build from ``{"extra-spawners": [...]}`` / ``{"extra_spawners": "a,b"}``; missing keys keep defaults."""
        kwargs: dict[str, object] = {}
        for spec in OPTION_SPECS:
            for key in (spec.name, spec.name.replace("-", "_")):
                if values.get(key) is not None:
                    raw = values[key]
                    if spec.flag:
                        text = ",".join(raw) if isinstance(raw, (list, tuple)) else str(raw)
                        kwargs[spec.name.replace("-", "_")] = raw if isinstance(raw, bool) else \
                            text.strip().lower() in ("1", "true", "yes", "on")
                        break
                    items = raw.split(",") if isinstance(raw, str) and spec.single is None else \
                        [raw] if isinstance(raw, str) else raw
                    given = tuple(i.strip() for i in items if i.strip())
                    if spec.single is not None:
                        if len(given) > 1:
                            raise ValueError(f"{spec.name} takes one value, not {', '.join(given)}")
                        given = tuple(spec.single(v) for v in given)
                    kwargs[spec.name.replace("-", "_")] = given
                    break
        return cls(**kwargs)

    def is_context_wrapper(self, *names: str) -> bool:
        return _matches(self.context_wrappers, *names)

    def is_app_bound(self, *names: str) -> bool:
        return _matches(self.app_bound_names, *names)

    def is_app_bound_by_name(self, *names: str) -> bool:
        """Matched by a pattern that names its object (not ``*.query``)."""
        return _matches((p for p in self.app_bound_names if not p.startswith("*")), *names)

