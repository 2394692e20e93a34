"""What project mode reads of every module's text, known again by its ``stat``.

Three things are read of each module of the project, as text, on every run in project
mode: the hash of its bytes (the result cache checks the modules a finding came through),
the names of its top-level definitions whose code holds a spawn word (the prefilter's
``spawners`` hint) and whether it holds every word of a context-pushing task class. On a
warm run that is a read of the whole project, as much as the check itself; so they are
kept per project root in ``.flask_ctx_cache/results/modules-<fingerprint>.json``, by
``stat``, under the rule of the clean list (``clean_files.py``): taken before the read,
kept only once both file times are ``SETTLED_NS`` old.

Only the main process writes the file: a worker hands what it learnt back with each result
(``FileResult.learned``), and the main process merges it (``learn``) and saves it at the
end of the run.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass
from typing import Optional

from ..sources import file_stat, settled_stat
from .cache import CACHE_DIR, read_json_map, tool_fingerprint, update_json_map

CONTEXT_TASK_WORDS = ("__call__", "app_context", "Task")  # in any module defining such a class
_TOP_LEVEL = re.compile(r"^(?:async\s+)?def\s+(\w+)|^class\s+(\w+)|^(\w+)\s*(?::[^=\n]*)?=(?!=)", re.M)


@dataclass(frozen=True)
class TextFacts:
    sha256: str  # hex, of the bytes
    spawners: tuple[str, ...]  # top-level names whose own code holds a spawn word
    context_task: bool  # holds every word of ``CONTEXT_TASK_WORDS``


def read_facts(data: bytes) -> TextFacts:
    """The facts of a module's bytes (decoded as UTF-8 with replacements, newlines as a
    text-mode ``open`` gives them)."""
    from ..catalogue.spawners import TABLE  # only a run that reads a module needs it

    text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    words = TABLE.words()
    names: set[str] = set()
    if any(w in text for w in words):
        starts = list(_TOP_LEVEL.finditer(text))
        for index, match in enumerate(starts):
            end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
            if any(w in text[match.start():end] for w in words):
                names.add(next(g for g in match.groups() if g))
    return TextFacts(hashlib.sha256(data).hexdigest(), tuple(sorted(names)),
                     all(word in text for word in CONTEXT_TASK_WORDS))


class ModuleFacts:
    """One project root's modules (see the module docstring)."""

    def __init__(self, root: str, on_disk: bool = True) -> None:
        self.root = root
        self.path = os.path.join(root, CACHE_DIR, "results", f"modules-{tool_fingerprint().hex()[:32]}.json")
        self.on_disk = on_disk  # else (``no-cache``) memory only
        self._stored: Optional[dict[str, list]] = None if on_disk else {}  # read on first use
        self._known: dict[str, tuple[tuple, Optional[TextFacts]]] = {}  # path -> (stat, facts)
        self._learned: dict[str, list] = {}  # relative path -> entry, not yet on disk

    def _entries(self) -> dict[str, list]:
        if self._stored is None:
            self._stored = read_json_map(self.path)
        return self._stored

    def _relative(self, path: str) -> str:
        return os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")

    def of(self, path: str) -> Optional[TextFacts]:
        """The facts of the module at ``path`` as it is now (None: it cannot be read)."""
        try:
            info = os.stat(path)
        except OSError:
            return None
        seen = file_stat(info)
        known = self._known.get(path)
        if known is not None and known[0] == seen:
            return known[1]
        relative = self._relative(path)
        entry = self._entries().get(relative)
        facts: Optional[TextFacts] = None
        if isinstance(entry, list) and len(entry) == 8 and entry[:5] == list(seen):
            facts = TextFacts(str(entry[5]), tuple(str(name) for name in entry[6]), bool(entry[7]))
        else:
            read_at = time.time_ns()
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                data = None
            if data is not None:
                facts = read_facts(data)
                if len(data) == info.st_size and settled_stat(info, read_at) is not None:
                    self._learned[relative] = [*seen, facts.sha256, list(facts.spawners), facts.context_task]
        self._known[path] = (seen, facts)
        return facts

    def forget(self, path: str) -> None:
        """The file was rewritten (perhaps within one tick of the clock: same ``stat``)."""
        self._known.pop(path, None)
        self._learned.pop(self._relative(path), None)

    def take_learned(self) -> dict[str, list]:
        """What this process learnt since it was last asked (a worker's, for its parent)."""
        learned, self._learned = self._learned, {}
        return learned

    def learn(self, learned: dict[str, list]) -> None:
        self._learned.update(learned)

    def save(self) -> None:
        """What this process learnt or was handed, written over what the file holds now
        (whether or not this process ever read it: a main process whose workers did the
        reading never does)."""
        if self._learned and self.on_disk:
            self._stored = update_json_map(os.path.join(self.root, CACHE_DIR), self.path, self._learned)
            self._learned = {}
