"""``flask-ctx check``'s result cache: a file's findings, reused while nothing they came from
has changed (ruff's cache, for this tool).

One JSON entry per checked file in ``.flask_ctx_cache/results/`` at the project's root
(the folder of the summaries, with the same ``.gitignore`` of ``*``). The entry's name is
a hash of the tool's code (``tool_fingerprint``), the options that change findings and the
file's path relative to the root, so an edit of the file replaces its entry instead of
adding one. The entry holds the hash of the bytes it was computed from and, in project
mode, what the analysis read of the project:

- the hash of every module whose summary it looked up (``ProjectIndex.recording``,
  memoized cross-module answers included), checked against the files on disk;
- the module list (names and paths) and the prefilter's project hints (spawner names,
  package names), checked against this run's: adding, removing or renaming a module, or
  adding a spawning helper anywhere, re-checks every file of the project (conservative);
- whether the project has a context-pushing task class, when the analysis asked.

What is cached is the analysis's outcome before ``--select``/``--ignore``/
``per-file-ignores``/``# noqa`` (those are applied to it afterwards, which costs nothing),
so one entry serves runs with different selections. Parse errors are cached too, and so is
the prefilter's "nothing here" from its second stage (which parses the file's ``ast``),
with the project hints it asked (so that ``clean_files.py`` can list the file); a
file its first stage, the substring tests, rules out gets no entry: those tests cost less
than reading one (the runner asks them first).
Files outside any project (no ``pyproject.toml``, ``setup.cfg`` or ``.git`` above them)
and standard input have no cache: nothing is written into the current directory. Writes go to a temporary file renamed into place: ``-j`` processes share the
folder without a lock, and a read-only checkout simply has no cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence

from ..findings import Finding, Step
from ..options import Options
from ..runtime import runtime_of
from ..sources import real_path
from .cache import CACHE_DIR, store_json, tool_fingerprint
from .index import options_key
from .layout import find_root

if TYPE_CHECKING:
    from .index import ProjectIndex, Reads

FORMAT = 1


def findings_key(options: Options, path: str) -> str:
    """What in the options changes a file's findings: ``options_key`` (what changes the
    summaries) plus the runtime (the target Python may come from ``pyproject.toml``) and
    project mode. ``max_line_length`` and ``no_cache`` change no finding."""
    return repr((FORMAT, options_key(options), runtime_of(options, path), options.no_project))


@dataclass
class Outcome:
    """A cached analysis: the findings before any selection, or a parse error (as the
    ``FileResult`` fields it is reported with)."""

    findings: list[Finding]
    error: Optional[str] = None
    error_line: Optional[int] = None
    error_col: Optional[int] = None
    # the prefilter's second stage ruled the file out, asking these of the project's hints
    ruled_out: Optional[tuple[str, ...]] = None
    depends: Optional[dict] = None  # project mode: what the analysis read of the project


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ResultCache:
    def __init__(self, root: str) -> None:
        self.root = root
        self.folder = os.path.join(root, CACHE_DIR, "results")
        self.hits = self.misses = self.writes = 0  # this process's (the tests count them)
        self._facts: dict[int, tuple["ProjectIndex", dict]] = {}  # id(project) -> facts

    # --- names ----------------------------------------------------------------------------

    def entry(self, path: str, options: Options) -> str:
        relative = os.path.relpath(real_path(path), self.root).replace(os.sep, "/")
        digest = hashlib.sha256()
        for part in (tool_fingerprint(), findings_key(options, path).encode(), relative.encode()):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        key = digest.hexdigest()
        return os.path.join(self.folder, key[:2], key + ".json")

    # --- what a project-mode analysis depended on ------------------------------------------

    @staticmethod
    def _module_hash(project: "ProjectIndex", path: Optional[str]) -> Optional[str]:
        """The hash of a module's bytes (None: no such file), known by its ``stat``."""
        facts = project.facts.of(path) if path is not None else None
        return facts.sha256 if facts is not None else None

    def _project_facts(self, project: "ProjectIndex") -> dict:
        """The module list and the prefilter's hints, hashed once per process."""
        known = self._facts.get(id(project))
        if known is None or known[0] is not project:
            modules = sorted((name, project.relative(path)) for name, path in project.modules().items())
            hints = project.hints()
            facts = {
                "modules": _hash(repr(modules).encode()),
                "hints": _hash(repr((sorted(hints.spawners), sorted(hints.packages))).encode()),
            }
            known = (project, facts)
            self._facts[id(project)] = known
        return known[1]

    def _depends(self, project: "ProjectIndex", reads: "Reads") -> dict:
        modules = project.modules()
        depends = dict(self._project_facts(project))
        depends["summaries"] = {name: self._module_hash(project, modules.get(name)) for name in sorted(reads.modules)}
        if reads.context_task:
            depends["context_task"] = project.has_context_task()
        return depends

    def still_true(self, project: Optional["ProjectIndex"], depends: Optional[dict]) -> bool:
        """What an analysis read of the project (``Outcome.depends``) still holds."""
        if depends is None or project is None:
            return depends is None and project is None
        facts = self._project_facts(project)
        if depends.get("modules") != facts["modules"] or depends.get("hints") != facts["hints"]:
            return False
        modules = project.modules()
        for name, value in depends.get("summaries", {}).items():
            if self._module_hash(project, modules.get(name)) != value:
                return False
        return "context_task" not in depends or depends["context_task"] == project.has_context_task()

    # --- entries ---------------------------------------------------------------------------

    def get(self, path: str, options: Options, data: bytes,
            project: Optional["ProjectIndex"]) -> Optional[Outcome]:
        try:
            with open(self.entry(path, options), encoding="utf-8") as handle:
                stored = json.load(handle)
            if stored.get("content") != _hash(data) or not self.still_true(project, stored.get("project")):
                self.misses += 1
                return None
            error, ruled_out = stored.get("error"), stored.get("ruled_out")
            if error is not None:
                outcome = Outcome([], error["message"], error.get("line"), error.get("col"))
            elif ruled_out is not None:
                outcome = Outcome([], ruled_out=tuple(str(name) for name in ruled_out))
            else:
                outcome = Outcome([Finding(code, line, col, message, scope=scope,
                                           steps=tuple(Step(*step) for step in steps))
                                   for code, line, col, message, scope, steps in stored["findings"]])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.misses += 1
            return None  # none yet, or broken: computed again (and rewritten)
        outcome.depends = stored.get("project")
        self.hits += 1
        return outcome

    def put(self, path: str, options: Options, data: bytes, outcome: Outcome,
            project: Optional["ProjectIndex"], reads: Optional["Reads"]) -> None:
        outcome.depends = self._depends(project, reads) if project is not None and reads else None
        stored: dict = {"content": _hash(data), "project": outcome.depends}
        if outcome.error is not None:
            stored["error"] = {"message": outcome.error, "line": outcome.error_line, "col": outcome.error_col}
        elif outcome.ruled_out is not None:
            stored["ruled_out"] = list(outcome.ruled_out)
        else:
            stored["findings"] = [[f.code, f.line, f.col, f.message, f.scope,
                                   [[s.line, s.col, s.message, s.path] for s in f.steps]]
                                  for f in outcome.findings]
        if store_json(os.path.dirname(self.folder), self.entry(path, options), stored):
            self.writes += 1  # else: a read-only checkout, no cache


_CACHES: dict[str, ResultCache] = {}


def result_cache_for(path: Optional[str], options: Options) -> Optional[ResultCache]:
    """The result cache of the project ``path`` is in (None: ``no-cache``, no path, or a
    file outside any project)."""
    if not path or options.no_cache:
        return None
    root = find_root(os.path.dirname(os.path.abspath(path)))
    if root is None:
        return None
    if root not in _CACHES:
        _CACHES[root] = ResultCache(root)
    return _CACHES[root]


def cache_stats() -> tuple[int, int, int]:
    """(hits, misses, writes) of this process's result caches."""
    caches: Sequence[ResultCache] = list(_CACHES.values())
    return (sum(c.hits for c in caches), sum(c.misses for c in caches), sum(c.writes for c in caches))
