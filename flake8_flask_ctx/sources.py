"""Python files on disk: finding them, reading them faithfully, writing them back safely.

The engine and the fixer work on decoded text; every byte-level concern lives here, so
that a rewritten file differs from the original only where the fixer changed the text:

- the encoding is the one Python itself would use (PEP 263 cookie or UTF-8 BOM, found by
  ``tokenize.detect_encoding``), and the BOM is remembered and written back;
- newlines are never translated: the bytes are decoded directly, so ``\\r\\n`` (or a mix)
  reaches libcst as it is, and libcst gives it back unchanged;
- a write goes to a temporary file in the same directory, then ``os.replace``: a crash or a
  full disk leaves the old file, never half a file; the file's mode is kept;
- anything that is not a decodable text file becomes a one-line ``SourceError``, never a
  traceback, so the command line can report it and go on with the other files.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
import tempfile
import tokenize
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

# Directories nobody wants linted; hidden directories (".mypy_cache", ".eggs"...) are
# skipped as well. A directory named on the command line is always walked.
SKIP_DIRS = frozenset({".git", ".venv", "venv", "__pycache__", "node_modules", ".tox"})


class SourceError(Exception):
    """A file that cannot be read or decoded; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class SourceFile:
    path: str  # as the user will see it
    text: str  # decoded, BOM removed, newlines exactly as in the file
    encoding: str  # the codec that decoded it (and will encode it again)
    bom: bool = False  # the file started with a UTF-8 BOM
    mode: Optional[int] = None  # st_mode when read, restored on write

    @property
    def newline(self) -> str:
        """The first line ending in the file (``\\n`` for a file without one)."""
        for index, char in enumerate(self.text):
            if char == "\n":
                return "\n"
            if char == "\r":
                return "\r\n" if self.text[index + 1:index + 2] == "\n" else "\r"
        return "\n"


def decode_source(data: bytes, path: str = "<bytes>", mode: Optional[int] = None) -> SourceFile:
    """Decode file bytes the way the Python interpreter would, without touching newlines."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # a bad cookie, a BOM with a non-UTF-8 cookie, bad UTF-8 early
        hint = " (not UTF-8 text)" if exc.msg.startswith("invalid or missing") else ""
        raise SourceError(f"cannot decode: {exc.msg}{hint}") from None
    bom = encoding == "utf-8-sig"
    if bom:
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SourceError(
            f"cannot decode as {encoding}: byte 0x{data[exc.start]:02x} on line {line} "
            "(not a text file, or it needs a '# -*- coding: ... -*-' line)"
        ) from None
    except LookupError as exc:  # a codec tokenize accepted but cannot decode with
        raise SourceError(f"cannot decode: {exc}") from None
    if "\x00" in text:
        raise SourceError("contains NUL bytes: not a Python source file")
    return SourceFile(path, text, encoding, bom, mode)


def read_source(path: str) -> SourceFile:
    """Read and decode one file; only regular files (a FIFO named x.py must not block us)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise SourceError("not a regular file")
            data = handle.read()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    return decode_source(data, path, info.st_mode)


def write_source(source: SourceFile, new_text: str) -> bool:
    """Replace the file's text atomically, in its own encoding; False when nothing changed."""
    if new_text == source.text:
        return False
    try:
        data = (codecs.BOM_UTF8 if source.bom else b"") + new_text.encode(source.encoding)
    except UnicodeEncodeError as exc:
        raise SourceError(
            f"cannot encode the fixed text as {source.encoding}: {exc.object[exc.start]!r}"
        ) from None
    target = os.path.realpath(source.path)  # replace a symlink's target, not the link
    directory, name = os.path.split(target)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".flask-ctx.tmp", dir=directory)
    except OSError as exc:
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if source.mode is not None:
            os.chmod(temp, stat.S_IMODE(source.mode))
        os.replace(temp, target)
    except OSError as exc:
        _remove_quietly(temp)
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None
    except BaseException:
        _remove_quietly(temp)
        raise
    return True


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def iter_python_files(paths: Iterable[str]) -> Iterator[tuple[str, Optional[str]]]:
    """``(path, None)`` for each file to check, ``(path, message)`` for a path that fails.

    Named files are taken whatever their suffix (as flake8 does); directories give their
    ``*.py`` files, recursively and sorted. A file reached twice (symlinks, repeated
    arguments) is checked once, so ``fix`` never rewrites one file from two processes, and
    directories are tracked by device and inode so symlink loops end.
    """
    seen_files: set[str] = set()
    seen_dirs: set[tuple[int, int]] = set()
    for path in paths:
        if os.path.isdir(path):
            candidates: Iterable[tuple[str, Optional[str]]] = _walk(path, seen_dirs)
        elif os.path.lexists(path):  # a dangling symlink too: reading it reports the error
            candidates = [(path, None)]
        else:
            candidates = [(path, "no such file or directory")]
        for candidate, error in candidates:
            if error is None:
                key = os.path.realpath(candidate)
                if key in seen_files:
                    continue
                seen_files.add(key)
            yield candidate, error


def _walk(top: str, seen_dirs: set[tuple[int, int]]) -> Iterator[tuple[str, Optional[str]]]:
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            info = os.stat(directory)
            key = (info.st_dev, info.st_ino)
            if key in seen_dirs:
                continue
            seen_dirs.add(key)
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            yield directory, f"cannot list directory: {exc.strerror or exc}"
            continue
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # follows symlinks; a self-loop raises ELOOP
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                    subdirs.append(entry.path)
            elif entry.name.endswith(".py"):
                yield entry.path, None
        stack.extend(reversed(subdirs))
