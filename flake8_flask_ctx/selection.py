"""Which codes and which files: code lists checked against the rule registry, and the path
patterns of ``exclude`` and ``per-file-ignores``. Both front ends' rules in one place.

Codes. A code or prefix is upper case (``FCX``, ``FCX1``, ``FCX100``), as flake8 requires,
and must match at least one rule of the registry: ``FCX999``, ``E501`` or a typo is an
error, never a filter that silently checks nothing. Empty means empty: an empty
``ignore`` ignores nothing, and an empty ``select`` (which would check nothing) is an
error. flake8's rule decides between them: the longest matching prefix wins, and a tie
goes to ignore.

Paths. A pattern is an ``fnmatch`` glob (``*`` matches ``/`` too). Without a ``/`` it
matches a file's or directory's name (``migrations``, ``test_*.py``, ``.*``); with one, the
path relative to the directory of the configuration file that set it (the working
directory for command-line flags), or an absolute path. ``per-file-ignores`` and
``--force-exclude`` test a file and each of its parent directories below that base, so
``tests`` or ``tests/`` cover everything under it.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence, Union

from .off_by_default import OFF_BY_DEFAULT
from .rules import CODES  # the codes alone: the rules' checks (and libcst) are not imported
from .sources import DEFAULT_EXCLUDE  # the CLI's default exclude, shared with project mode

CODE_SYNTAX = re.compile(r"[A-Z]{1,3}[0-9]{0,3}")  # flake8's VALID_CODE_PREFIX
_SPLIT = re.compile(r"[,\s]+")

class SelectionError(ValueError):
    """A code or pattern that cannot be used; ``str()`` is one line for the user."""


def split_list(value: Union[str, Sequence[str], None]) -> list[str]:
    """``"a, b c"`` or ``["a", "b"]``: the items, stripped, empty ones dropped."""
    if value is None:
        return []
    items = _SPLIT.split(value) if isinstance(value, str) else [i for v in value for i in _SPLIT.split(v)]
    return [item for item in items if item]


def known_codes() -> tuple[str, ...]:
    return CODES


def check_code(item: str, where: str) -> str:
    """``item`` if it is an upper-case prefix of at least one rule's code."""
    if not CODE_SYNTAX.fullmatch(item):
        if CODE_SYNTAX.fullmatch(item.upper()):
            raise SelectionError(f"{where}: {item!r}: codes are upper case, as in flake8 "
                                 f"(did you mean {item.upper()}?)")
        raise SelectionError(f"{where}: {item!r} is not a code or prefix like FCX or FCX100")
    if not any(code.startswith(item) for code in CODES):
        if not "FCX".startswith(item[:3]):
            raise SelectionError(f"{where}: {item!r} is not a flask-ctx code: flask-ctx reports "
                                 f"only FCX codes ({', '.join(CODES)})")
        raise SelectionError(f"{where}: {item!r} matches no flask-ctx rule (the codes are "
                             f"{', '.join(CODES)}; 'flask-ctx rule --all' describes them)")
    return item


def parse_codes(value: Union[str, Sequence[str], None], where: str, *, empty_ok: bool = True) -> tuple[str, ...]:
    items = tuple(check_code(item, where) for item in split_list(value))
    if not items and not empty_ok:
        raise SelectionError(f"{where} is empty: no rule would be checked (leave it out to "
                             "check every rule)")
    return items


def default_select() -> tuple[str, ...]:
    return ("FCX",)


def default_off(explicit: Sequence[str]) -> tuple[str, ...]:
    """Rules off by default (``off_by_default``, which ``Rule.default`` reads), unless a select or extend-select given by
    the user names them (the code itself or a longer prefix than FCX, as flake8's
    extended default ignore)."""
    return tuple(code for code in CODES if code in OFF_BY_DEFAULT
                 and not any(code.startswith(p) and len(p) > 3 for p in explicit))


def decide(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """flake8's rule: the longest matching prefix decides, and a tie goes to ignore."""
    chosen = max((len(p) for p in select if code.startswith(p)), default=-1)
    dropped = max((len(p) for p in ignore if code.startswith(p)), default=-1)
    return chosen >= 0 and chosen > dropped


# --- paths ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PathPattern:
    """A glob with the directory its relative form is relative to."""

    pattern: str
    base: str  # absolute

    @classmethod
    def make(cls, pattern: str, base: str) -> "PathPattern":
        pattern = pattern.strip()
        if "/" in pattern.rstrip("/"):
            pattern = pattern.rstrip("/")
            if not os.path.isabs(pattern):
                pattern = os.path.normpath(os.path.join(base, pattern)).replace(os.sep, "/")
            return cls(pattern, os.path.abspath(base))
        return cls(pattern.rstrip("/"), os.path.abspath(base))

    @property
    def by_name(self) -> bool:
        return "/" not in self.pattern

    def matches(self, absolute: str) -> bool:
        """Does the pattern match this path itself (not its parents)?"""
        if self.by_name:
            return fnmatch.fnmatchcase(os.path.basename(absolute), self.pattern)
        return fnmatch.fnmatchcase(absolute.replace(os.sep, "/"), self.pattern)


def _self_and_parents(path: str, base: str) -> Iterator[str]:
    """``path`` (absolute) and its parents, up to but not including ``base``; only the path
    itself when it is not below ``base``."""
    absolute = os.path.abspath(path)
    yield absolute
    relative = os.path.relpath(absolute, base) if absolute.startswith(base.rstrip(os.sep) + os.sep) else None
    if relative is None:
        return
    parent = os.path.dirname(absolute)
    while parent != base and parent.startswith(base.rstrip(os.sep) + os.sep):
        yield parent
        parent = os.path.dirname(parent)


def matches_tree(path: str, patterns: Iterable[PathPattern]) -> bool:
    """A pattern matches the path or one of its parents below the pattern's base."""
    return any(p.matches(candidate) for p in patterns for candidate in _self_and_parents(path, p.base))


@dataclass(frozen=True)
class Exclusion:
    """``exclude`` (+ ``extend-exclude``) and whether it applies to paths named explicitly."""

    patterns: tuple[PathPattern, ...] = ()
    force: bool = False

    def skips_entry(self, path: str) -> bool:
        """A file or directory met while walking a directory (every one of them is asked:
        the patterns are matched as two regexes, names first)."""
        by_name, by_path = self._matchers
        if by_name is not None and by_name(os.path.basename(path)) is not None:
            return True
        return by_path is not None and by_path(os.path.abspath(path).replace(os.sep, "/")) is not None

    @cached_property
    def _matchers(self) -> tuple[Optional[Callable], Optional[Callable]]:
        """``PathPattern.matches`` for all the name patterns at once, and for the others."""
        def joined(globs: list[str]) -> Optional[Callable]:
            return re.compile("|".join(fnmatch.translate(g) for g in globs)).match if globs else None

        return (joined([p.pattern for p in self.patterns if p.by_name]),
                joined([p.pattern for p in self.patterns if not p.by_name]))

    def skips_named(self, path: str) -> bool:
        """A path named on the command line (or by ``--stdin-filename``)."""
        return self.force and matches_tree(path, self.patterns)


def default_exclusion(base: str) -> Exclusion:
    return Exclusion(tuple(PathPattern.make(p, base) for p in DEFAULT_EXCLUDE))


@dataclass(frozen=True)
class PerFileIgnore:
    pattern: PathPattern
    codes: tuple[str, ...]


def parse_per_file_ignores(value: Union[str, Mapping[str, object], None], base: str,
                           where: str) -> tuple[PerFileIgnore, ...]:
    """flake8's ``PATTERN:CODES`` pairs (``"tests/*:FCX100,FCX2 legacy.py:FCX"``) or a
    ``{pattern: [codes]}`` table (``[tool.flask-ctx.per-file-ignores]``, as in ruff)."""
    if value is None:
        return ()
    pairs: list[tuple[str, object]] = []
    if isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        pairs = _flake8_pairs(value, where)
    out = []
    for pattern, codes in pairs:
        if not isinstance(pattern, str) or not pattern.strip():
            raise SelectionError(f"{where}: an empty file pattern")
        if not isinstance(codes, (str, list, tuple)) or not all(isinstance(c, str) for c in (
                [codes] if isinstance(codes, str) else codes)):
            raise SelectionError(f"{where}: {pattern!r}: the codes must be a list of strings")
        parsed = parse_codes(codes, f"{where} ({pattern})")
        if not parsed:
            raise SelectionError(f"{where}: {pattern!r} has no codes")
        out.append(PerFileIgnore(PathPattern.make(pattern, base), parsed))
    return tuple(out)


def _flake8_pairs(value: str, where: str) -> list[tuple[str, object]]:
    """``a.py:FCX1 b/*:FCX2,FCX3`` (and the multi-line config form), read by flake8's own
    parser so that both front ends accept the same text."""
    from flake8.exceptions import ExecutionError
    from flake8.utils import parse_files_to_codes_mapping

    try:
        return list(parse_files_to_codes_mapping(value))
    except (ExecutionError, ValueError):
        raise SelectionError(f"{where}: expected PATTERN:CODES pairs like "
                             f"'tests/*:FCX100,FCX2 legacy.py:FCX', got {value.strip()!r}") from None


def ignored_for(path: str, per_file: Sequence[PerFileIgnore]) -> tuple[str, ...]:
    """The codes ``per-file-ignores`` adds to ``ignore`` for this file."""
    return tuple(code for entry in per_file if matches_tree(path, (entry.pattern,)) for code in entry.codes)
