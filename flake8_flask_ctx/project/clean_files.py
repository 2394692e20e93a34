"""Files ``flask-ctx check`` found clean, known again by their ``stat``: a warm run opens none
of them.

The result cache (``results.py``) is keyed by content, so using it costs a read and a hash
of every file, and nine files in ten have no entry at all (the substring tests rule them
out, and running those again costs a read too). ruff skips that work by trusting a file's
modification time; this is the same idea, made safe for a tool whose answer is "clean":

- A file is listed when it was clean, with what that verdict rests on besides its bytes
  and the options, all checked again on every run: the hashes of the project hints the
  prefilter asked (its packages, its spawners), or, for a file the analysis followed into
  other modules, the result cache's record of what it read (``ResultCache.still_true``,
  which the module facts of ``module_facts.py`` answer without reading a module).
- It is listed with the ``stat`` taken before it was read: device, inode, size,
  modification and change time in ns. Any write sets the change time, which no program
  can set back, so an edited file no longer matches its entry.
- It is listed only if both times were ``SETTLED_NS`` old at that read
  (``sources.settled_stat``): two writes within one tick of the file system's clock can
  leave the same ``stat``, so a file that had just changed is read again next time (the
  "racy git" problem, solved as git solves it).
- Each entry holds a hash of what the verdict was computed under: ``findings_key`` (the
  options, the target Python, project mode) and whether the file was in a project. The
  list's name holds the tool's fingerprint: another version of the tool starts a new list.
- A file found with findings or a parse error is kept too, as ``NOT_CLEAN``: never a
  reason to skip it, only a sign for the scheduler that its result cache entry will
  answer (``ANSWERED``), so that a warm run need not start a process pool for it.

One JSON file per project root, ``.flask_ctx_cache/results/clean-<fingerprint>.json``,
read once a run and written once at its end, through a temporary file renamed into place.
Two runs at once merge what they learnt with what is on disk; at worst a clean file is
read once more.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Callable, Optional

from ..options import Options
from ..sources import FileStat, file_stat
from .cache import CACHE_DIR, read_json_map, tool_fingerprint, update_json_map
from .index import project_of
from .layout import find_root
from .results import findings_key, result_cache_for

if TYPE_CHECKING:
    from ..runner import RestsOn
    from .index import ProjectIndex


CLEAN = "clean"  # not even opened: no finding
ANSWERED = "answered"  # opened, but its result cache entry will answer (a parse is unlikely)
NOT_CLEAN = "-"  # the verdict of an entry kept only to tell ``ANSWERED``


class CleanFiles:
    """One project root's list, by path relative to the root (as given, not resolved: the
    verdict key says which project and settings the file was checked under)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.path = os.path.join(root, CACHE_DIR, "results", f"clean-{tool_fingerprint().hex()[:32]}.json")
        self._entries = read_json_map(self.path)
        self._changes: dict[str, Optional[list]] = {}  # relative path -> entry (None: drop it)

    def state(self, relative: str, path: str, verdict: Callable[[tuple[str, ...]], str],
              still_true: Callable[[dict], bool], max_size: Optional[int]) -> Optional[str]:
        """``CLEAN``, ``ANSWERED`` or None (see ``CleanLists.state``)."""
        entry = self._entries.get(relative)
        if not isinstance(entry, list) or len(entry) != 8 or not isinstance(entry[6], list):
            return None
        try:
            info = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode) or (max_size is not None and info.st_size > max_size):
            return None  # a FIFO now, or skipped as too large
        if list(file_stat(info)) != entry[:5]:
            return None
        if entry[5] == NOT_CLEAN:
            return ANSWERED
        if entry[5] != verdict(tuple(entry[6])):
            return None
        return CLEAN if entry[7] is None or (isinstance(entry[7], dict) and still_true(entry[7])) else None

    def note(self, relative: str, verdict: Callable[[tuple[str, ...]], str],
             seen: Optional[FileStat], rests_on: Optional["RestsOn"]) -> None:
        if seen is None:
            if relative in self._entries:
                self._changes[relative] = None
        elif rests_on is None:  # a finding, an error, or a verdict on more than is recorded
            self._changes[relative] = [*seen, NOT_CLEAN, [], None]
        else:
            hints, depends = rests_on
            self._changes[relative] = [*seen, verdict(hints), list(hints), depends]

    def save(self) -> None:
        """This run's changes written over what the file holds now."""
        if self._changes:
            self._entries = update_json_map(os.path.dirname(os.path.dirname(self.path)), self.path, self._changes)
            self._changes = {}


@dataclass(frozen=True)
class _Folder:
    """What the files of one directory share: their list, their path's prefix in it, and
    their ``findings_key`` (a symbolic link's target may lie under other settings)."""

    listed: Optional[CleanFiles]
    prefix: str
    key: str


class CleanLists:
    """The lists of every project root a ``check`` run meets (files outside any project
    have none, as they have no result cache). It runs in the main process before any file
    is handed out, so what the files of a directory share is worked out once."""

    def __init__(self, options: Options, max_size: Optional[int]) -> None:
        self.options = options
        self.max_size = max_size
        self.hits = 0
        self._lists: dict[str, CleanFiles] = {}
        self._folders: dict[str, _Folder] = {}
        self._verdicts: dict[tuple, str] = {}
        self._hints: dict[tuple[int, str], str] = {}
        self._projects: dict[int, "ProjectIndex"] = {}  # whose module facts to save

    def _folder(self, directory: str) -> _Folder:
        folder = self._folders.get(directory)
        if folder is None:
            root = find_root(directory)
            if root is not None and root not in self._lists:
                self._lists[root] = CleanFiles(root)
            prefix = os.path.relpath(directory, root).replace(os.sep, "/") + "/" if root else ""
            # the key of a file of this directory that is no symbolic link (it need not exist)
            key = findings_key(self.options, os.path.join(directory, "_"))
            folder = _Folder(self._lists.get(root) if root else None, prefix.removeprefix("./"), key)
            self._folders[directory] = folder
        return folder

    def _verdict(self, path: str, key: str, hints: tuple[str, ...]) -> str:
        """A hash of what the verdict on ``path`` was computed under: the options, whether
        the file is in a project, and the values of the project hints it asked."""
        project = project_of(path, self.options)
        values = tuple(self._hint(project, name) for name in hints) if project is not None else ()
        memo = (key, project is not None, values)
        if memo not in self._verdicts:
            self._verdicts[memo] = hashlib.sha256(repr(memo).encode()).hexdigest()[:32]
        return self._verdicts[memo]

    def _hint(self, project: "ProjectIndex", name: str) -> str:
        """A hash of one of the project's prefilter hints (``spawners`` reads every module:
        only a list holding a file that asked for it makes a run pay for it)."""
        memo = (id(project), name)
        self._projects[id(project)] = project  # the hints read its module facts
        if memo not in self._hints:
            value = sorted(getattr(project.hints(), name)) if name in ("spawners", "packages") else None
            self._hints[memo] = hashlib.sha256(repr((name, value)).encode()).hexdigest()
        return self._hints[memo]

    def _where(self, path: str) -> tuple[Optional[CleanFiles], str, str]:
        directory, name = os.path.split(os.path.abspath(path))
        folder = self._folder(directory)
        key = findings_key(self.options, path) if os.path.islink(path) else folder.key
        return folder.listed, folder.prefix + name, key

    def _still_true(self, path: str, depends: dict) -> bool:
        """What the analysis read of the project still holds (``ResultCache.still_true``)."""
        cache = result_cache_for(path, self.options)
        project = project_of(path, self.options)
        if project is not None:
            self._projects[id(project)] = project  # checking reads its module facts
        return cache is not None and project is not None and cache.still_true(project, depends)

    def state(self, path: str) -> Optional[str]:
        """``CLEAN``: listed as clean, and its ``stat``, its verdict key and what its
        analysis read of the project still match. ``ANSWERED``: its ``stat`` is the one it
        had when it was last checked and found not clean, so its result cache entry will
        answer (a hint for the scheduler only). None: it must be checked."""
        listed, relative, key = self._where(path)
        if listed is None:
            return None
        state = listed.state(relative, path, partial(self._verdict, path, key), partial(self._still_true, path),
                             self.max_size)
        self.hits += state == CLEAN
        return state

    def note(self, path: str, seen: Optional[FileStat], rests_on: Optional["RestsOn"],
             learned: Optional[dict] = None) -> None:
        """This run's verdict on ``path``: as of ``seen`` (None: no settled ``stat``), clean
        and resting on ``rests_on`` (None: not clean, or on more than is recorded); and the
        module facts its worker learnt."""
        listed, relative, key = self._where(path)
        if listed is not None:
            listed.note(relative, partial(self._verdict, path, key), seen, rests_on)
        if learned:
            project = project_of(path, self.options)
            if project is not None:
                project.facts.learn(learned)
                self._projects[id(project)] = project

    def save(self) -> None:
        for listed in self._lists.values():
            listed.save()
        for project in self._projects.values():
            project.facts.save()
