"""Summaries on disk, keyed by what they are computed from.

``.flask_ctx_cache/`` at the project's root holds one JSON file per module content: its name
is a hash of the tool's own code, the options that change the analysis and the module's
bytes, so a changed file, option or tool (even an unreleased edit of it) simply has no entry
yet, and an old entry is never read for new content. Writes go to a temporary file and are renamed into place, so several
flake8 processes (``-j``) can share the folder without a lock: at worst two of them compute
the same summary once each. The folder holds a ``.gitignore`` of ``*``, so it never lands in
a commit; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from typing import Optional

from .. import __version__

CACHE_DIR = ".flask_ctx_cache"
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@lru_cache(maxsize=1)
def tool_fingerprint() -> bytes:
    """A hash of the version and of every source file of the package (~1 ms, once a process)."""
    digest = hashlib.sha256(__version__.encode())
    for directory, dirs, files in sorted(os.walk(_PACKAGE)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            with open(os.path.join(directory, name), "rb") as handle:
                digest.update(name.encode() + b"\0" + handle.read())
    return digest.digest()


class SummaryCache:
    def __init__(self, root: str, options_key: str) -> None:
        self.folder = os.path.join(root, CACHE_DIR, "summaries")
        self.options_key = options_key
        self.writes = 0  # summaries written by this process (the tests count re-indexing)

    def key(self, data: bytes) -> str:
        digest = hashlib.sha256()
        for part in (tool_fingerprint(), self.options_key.encode(), data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        return digest.hexdigest()

    def get(self, key: str) -> Optional[dict]:
        try:
            with open(os.path.join(self.folder, key[:2], key + ".json"), encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def put(self, key: str, summary: dict) -> None:
        target = os.path.join(self.folder, key[:2], key + ".json")
        if store_json(os.path.dirname(self.folder), target, summary):  # else: computed again
            self.writes += 1


def store_json(cache_folder: str, target: str, data: object) -> bool:
    """Write ``data`` as JSON at ``target`` under ``cache_folder`` (made, with its
    ``.gitignore``, if need be) through a temporary file renamed into place, so that
    processes sharing the folder never read half a file. False: not written (a read-only
    checkout has no cache)."""
    import tempfile  # only a run that writes something needs it

    directory = os.path.dirname(target)
    try:
        os.makedirs(directory, exist_ok=True)
        _ignore_folder(cache_folder)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, separators=(",", ":"))
            os.replace(temp, target)
        except BaseException:
            try:
                os.remove(temp)
            except OSError:
                pass
            raise
    except OSError:
        return False
    return True


def read_json_map(path: str) -> dict:
    """The JSON object in ``path``; empty when there is none, or it is broken."""
    try:
        with open(path, encoding="utf-8") as handle:
            stored = json.load(handle)
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) else {}


def update_json_map(cache_folder: str, path: str, changes: "dict[str, Optional[object]]") -> dict:
    """``changes`` (None: drop the key) applied over what ``path`` holds now, not over what
    this run read of it (another run may have written it since), and written back; the
    merged map. Two runs at once lose at worst the other's changes, never a file."""
    entries = read_json_map(path)
    for key, value in changes.items():
        if value is None:
            entries.pop(key, None)
        else:
            entries[key] = value
    store_json(cache_folder, path, entries)
    return entries


def _ignore_folder(folder: str) -> None:
    path = os.path.join(folder, ".gitignore")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("# made by flake8-flask-ctx: its cache, safe to delete\n*\n")
