"""Python files on disk: finding them, reading them faithfully, writing them back safely.

The engine and the fixer work on decoded text; every byte-level concern lives here, so
that a rewritten file differs from the original only where the fixer changed the text:

- the encoding is the one Python itself would use (PEP 263 cookie or UTF-8 BOM, found by
  ``tokenize.detect_encoding``), and the BOM is remembered and written back;
- newlines are never translated: the bytes are decoded directly, so ``\\r\\n`` (or a mix)
  reaches libcst as it is; where libcst's round trip itself loses bytes (a form feed
  before a statement, a last lone ``\\r``), ``keep_lost_bytes`` puts them back;
- a file over the size budget is not even read (libcst needs ~0.6 GB and ~10 s per MB);
- a write goes into the existing file (overwrite, then truncate), so its mode, owner,
  group, hard links and ACLs stay as they are and no temporary file is ever made; it
  happens only if the file is still exactly what was read (same inode, size and SHA-256)
  and has a write bit, and a deleted file is never created again;
- anything that is not a decodable text file becomes a one-line ``SourceError``, never a
  traceback, so the command line can report it and go on with the other files.
"""

from __future__ import annotations

import codecs
import difflib
import errno
import hashlib
import io
import os
import signal
import stat
import time
import tokenize
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Iterator, Optional

if TYPE_CHECKING:
    from .selection import Exclusion

# skipped in every directory walked, unless ``exclude`` replaces the list; project mode's
# module index skips them too (a directory of them holds no module of the project)
DEFAULT_EXCLUDE: tuple[str, ...] = (".*", "__pycache__", "node_modules", "venv", "build", "dist")

# libcst's parse costs ~10 s and ~0.6 GB per MB of source here (fix: ~37 s, ~1 GB), and
# past some tens of MB its native parser aborts the process; no hand-written module
# comes near 2 MB (the stdlib's largest is 0.8 MB).
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024
WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class SourceError(Exception):
    """A file that cannot be read or decoded; ``str()`` is one line for the user."""


class FileTooLarge(SourceError):
    """Over the size budget: skipped before it is read (a note, not an error)."""


class NotWritten(SourceError):
    """The fix was not written; the file on disk is left exactly as it is."""


class ReadOnlyFile(NotWritten):
    """No write bit for anyone: the owner asked for the file to stay as it is."""


class ChangedOnDisk(NotWritten):
    """Edited, replaced or deleted between the read and the write."""


@dataclass(frozen=True)
class Stamp:
    """What the file was when it was read; a write goes ahead only if it still is."""

    device: int
    inode: int
    size: int
    sha256: bytes


# device, inode, size, mtime_ns, ctime_ns: what a file's ``stat`` says of its content
FileStat = tuple[int, int, int, int, int]
# Linux stamps files from a coarse clock (a tick of a few ms), FAT to 2 s: two writes
# closer than this can leave the same stat
SETTLED_NS = 2_000_000_000


def file_stat(info: os.stat_result) -> FileStat:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def settled_stat(info: os.stat_result, read_at_ns: int) -> Optional[FileStat]:
    """The file's ``stat`` if both its times lie ``SETTLED_NS`` before the read, so that
    any later write shows in them (None: it changed too recently to tell)."""
    if max(info.st_mtime_ns, info.st_ctime_ns) > read_at_ns - SETTLED_NS:
        return None
    return file_stat(info)


@dataclass(frozen=True)
class SourceFile:
    path: str  # as the user will see it
    text: str  # decoded, BOM removed, newlines exactly as in the file
    encoding: str  # the codec that decoded it (and will encode it again)
    bom: bool = False  # the file started with a UTF-8 BOM
    mode: Optional[int] = None  # st_mode when read
    stamp: Optional[Stamp] = None  # set by read_source; None: written without a re-check
    settled: Optional[FileStat] = None  # read_source: ``settled_stat`` before the read

    @property
    def newline(self) -> str:
        """The first line ending in the file (``\\n`` for a file without one)."""
        for index, char in enumerate(self.text):
            if char == "\n":
                return "\n"
            if char == "\r":
                return "\r\n" if self.text[index + 1:index + 2] == "\n" else "\r"
        return "\n"


class UndecodableSource(SourceError):
    """Bytes that are not text in the file's encoding; ``data`` holds them, so that the
    caller can tell whether the file could contain Flask code at all."""

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data


def _not_utf8(data: bytes, encoding: str = "utf-8") -> str:
    """The one wording for text that is not in its encoding, wherever the byte is."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return (f"cannot decode as {encoding}: byte 0x{data[exc.start]:02x} on line {line} "
                "(not a text file, or it needs a '# -*- coding: ... -*-' line)")
    return f"cannot decode as {encoding}"


def decode_source(data: bytes, path: str = "<bytes>", mode: Optional[int] = None,
                  stamp: Optional[Stamp] = None, settled: Optional[FileStat] = None) -> SourceFile:
    """Decode file bytes the way the Python interpreter would, without touching newlines.

    Raises ``UndecodableSource`` (one line, the same wording wherever the bad byte is)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # a bad cookie, a BOM with a non-UTF-8 cookie, bad UTF-8 early
        if exc.msg.startswith("invalid or missing encoding declaration"):
            raise UndecodableSource(_not_utf8(data), data) from None
        raise UndecodableSource(f"cannot decode: {exc.msg}", data) from None
    bom = encoding == "utf-8-sig"
    if bom:
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise UndecodableSource(_not_utf8(data, encoding), data) from None
    except LookupError as exc:  # a codec tokenize accepted but cannot decode with
        raise UndecodableSource(f"cannot decode: {exc}", data) from None
    if "\x00" in text:
        raise UndecodableSource("contains NUL bytes: not a Python source file", data)
    return SourceFile(path, text, encoding, bom, mode, stamp, settled)


def read_stdin(display_name: str, stream: Optional[io.BufferedIOBase] = None) -> SourceFile:
    """Standard input as a source file named ``display_name`` (never written back)."""
    import sys

    reader = stream if stream is not None else sys.stdin.buffer
    try:
        data = reader.read()
    except OSError as exc:
        raise SourceError(f"cannot read standard input: {exc.strerror or exc}") from None
    return decode_source(data, display_name)


def format_size(size: int) -> str:
    """``2 MB``, ``1.5 MB``, ``300 KB``, ``12 bytes`` (powers of 1024)."""
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def read_source(path: str, max_size: Optional[int] = None) -> SourceFile:
    """Read and decode one file; only regular files (a FIFO named x.py must not block us).

    A file larger than ``max_size`` bytes raises ``FileTooLarge`` before it is read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())  # before the read: a write after it shows
            read_at_ns = time.time_ns()
            if not stat.S_ISREG(info.st_mode):
                raise SourceError("not a regular file")
            if max_size is not None and info.st_size > max_size:
                raise FileTooLarge(_too_large(info.st_size, max_size))
            data = handle.read() if max_size is None else handle.read(max_size + 1)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    if max_size is not None and len(data) > max_size:  # it grew after the fstat
        raise FileTooLarge(_too_large(len(data), max_size))
    stamp = Stamp(info.st_dev, info.st_ino, len(data), hashlib.sha256(data).digest())
    settled = settled_stat(info, read_at_ns) if len(data) == info.st_size else None
    return decode_source(data, path, info.st_mode, stamp, settled)


def _too_large(size: int, limit: int) -> str:
    shown, budget = format_size(size), format_size(limit)
    if shown == budget:  # 2 MB and one byte
        shown, budget = f"{size} bytes", f"{limit} bytes"
    return f"{shown} is larger than --max-file-size ({budget}): not read"


def encode_source(source: SourceFile, text: str) -> bytes:
    """The bytes of ``text`` as the file holds them: its encoding, its BOM."""
    try:
        return (codecs.BOM_UTF8 if source.bom else b"") + text.encode(source.encoding)
    except UnicodeEncodeError as exc:
        raise SourceError(
            f"cannot encode the fixed text as {source.encoding}: {exc.object[exc.start]!r}"
        ) from None


def write_source(source: SourceFile, new_text: str) -> bool:
    """Write the new text into the file, in place; False when nothing changed.

    Raises ``ReadOnlyFile`` or ``ChangedOnDisk`` (and writes nothing) when the file has
    no write bit (checked on the mode, since root may write anything) or is no longer
    what ``read_source`` read; ``SourceError`` when the system refuses the write.
    """
    if new_text == source.text:
        return False
    data = encode_source(source, new_text)
    flags = os.O_RDWR | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(source.path, flags)  # never O_CREAT: a deleted file stays deleted
    except FileNotFoundError:
        raise ChangedOnDisk("changed on disk since it was read (deleted): not written") from None
    except OSError as exc:
        stamp = source.stamp
        if stamp is not None and _identity(source.path) != (stamp.device, stamp.inode):
            raise ChangedOnDisk("changed on disk since it was read (replaced): not written") from None
        if _read_only(source.path):
            raise ReadOnlyFile("read-only file: not written") from None
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None
    with os.fdopen(fd, "r+b", buffering=0) as handle:
        try:
            info = os.fstat(fd)
            if not stat.S_IMODE(info.st_mode) & WRITE_BITS:
                raise ReadOnlyFile("read-only file: not written")
            old = _unchanged(handle, info, source.stamp)
            with _signals_held():  # Ctrl-C or SIGTERM cannot leave half a write
                _overwrite(fd, old, data)
        except OSError as exc:
            raise SourceError(f"cannot write: {exc.strerror or exc}") from None
    return True


def _identity(path: str) -> Optional[tuple[int, int]]:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _read_only(path: str) -> bool:
    try:
        return not stat.S_IMODE(os.stat(path).st_mode) & WRITE_BITS
    except OSError:
        return False


def _unchanged(handle: io.RawIOBase, info: os.stat_result, stamp: Optional[Stamp]) -> bytes:
    """The file's bytes, if they are still the ones that were read."""
    if stamp is not None and (info.st_dev, info.st_ino) != (stamp.device, stamp.inode):
        raise ChangedOnDisk("changed on disk since it was read (replaced): not written")
    if not stat.S_ISREG(info.st_mode):
        raise ChangedOnDisk("changed on disk since it was read (not a regular file): not written")
    if stamp is not None and info.st_size != stamp.size:
        raise ChangedOnDisk("changed on disk since it was read (edited): not written")
    chunks = []
    while True:
        chunk = handle.read(1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    old = b"".join(chunks)
    if stamp is not None and (len(old), hashlib.sha256(old).digest()) != (stamp.size, stamp.sha256):
        raise ChangedOnDisk("changed on disk since it was read (edited): not written")
    return old


def _overwrite(fd: int, old: bytes, data: bytes) -> None:
    """Write ``data`` over ``old`` in the open file, then cut what is left of ``old``."""
    if len(data) > len(old) and hasattr(os, "posix_fallocate"):
        try:  # claim the space first: a full disk must fail before the first byte moves
            os.posix_fallocate(fd, 0, len(data))
        except OSError as exc:
            os.ftruncate(fd, len(old))  # undo a partial extension
            if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", -1)):
                raise
    try:
        _write_all(fd, data)
        if len(data) < len(old):
            os.ftruncate(fd, len(data))
        os.fsync(fd)
    except OSError as exc:  # after the first byte: put the old bytes back if we can
        try:
            _write_all(fd, old)
            os.ftruncate(fd, len(old))
        except OSError:
            raise OSError(exc.errno, f"{exc.strerror or exc}; the file may be left half "
                                     "written, restore it from version control") from None
        raise OSError(exc.errno, f"{exc.strerror or exc} (the file was left as it was)") from None


def _write_all(fd: int, data: bytes) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    view, offset = memoryview(data), 0
    while offset < len(data):
        offset += os.write(fd, view[offset:])


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the few system calls of a write (main thread or not)."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def keep_lost_bytes(original: str, round_trip: str, fixed: str) -> str:
    """``fixed`` with the bytes libcst's round trip lost from ``original`` put back.

    libcst 1.x gives back neither a form feed in the indentation before a statement
    (LibCST#446) nor a last lone ``\\r``, so the fixer's output lacks them too. Where the
    round trip lost only those, each line the fix left alone is taken from the original
    (and a lost final newline is restored); anything else it cannot reproduce raises
    ``NotWritten``.
    """
    if round_trip == original:
        return fixed
    old, base = split_lines(original), split_lines(round_trip)
    if len(old) != len(base):
        raise NotWritten("libcst cannot reproduce this file byte for byte: not written")
    for number, (line, kept) in enumerate(zip(old, base), 1):
        if line != kept and _without_lossy(line) != _without_lossy(kept):
            raise NotWritten(f"libcst cannot reproduce line {number} of this file byte for "
                             "byte: not written")
    new = split_lines(fixed)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, base, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        out.extend(old[i1:i2] if tag == "equal" else new[j1:j2])
    text = "".join(out)
    if original.endswith("\r") and not round_trip.endswith("\r") and not text.endswith(("\r", "\n")):
        text += "\r"
    return text


def _without_lossy(line: str) -> str:
    line = line.replace("\x0c", "")
    return line[:-1] if line.endswith("\r") else line


def split_lines(text: str) -> list[str]:
    """Python's lines (\\n, \\r\\n, \\r), endings kept; str.splitlines also splits on \\f."""
    return io.StringIO(text, newline="").readlines()


def real_path(path: str) -> str:
    """``os.path.realpath(path)``, each directory resolved once per process: a check asks
    for the real path of every file (its cache entry, its project's settings), and
    ``realpath`` costs one ``lstat`` per component of the path."""
    if os.path.islink(path) or ".." in path.replace(os.sep, "/").split("/"):
        return os.path.realpath(path)  # ``link/..``: the link is resolved before the ``..``
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(_real_directory(directory), name)


@lru_cache(maxsize=4096)
def _real_directory(directory: str) -> str:
    return os.path.realpath(directory)


def iter_python_files(paths: Iterable[str], exclusion: Optional["Exclusion"] = None
                      ) -> Iterator[tuple[str, Optional[str]]]:
    """``(path, None)`` for each file to check, ``(path, message)`` for a path that fails.

    Named files are taken whatever their suffix (as flake8 does); directories give their
    ``*.py`` files, recursively and sorted, leaving out what ``exclusion`` excludes (by
    default hidden entries, ``__pycache__``, ``node_modules`` and ``venv``) and what is not
    a regular file (a broken symbolic link, a FIFO). A named path is excluded only with
    ``force``. A file reached twice (symlinks, hard links, repeated arguments) is checked
    once, so ``fix`` never rewrites one file from two processes, and directories are
    tracked by device and inode so symlink loops end.
    """
    from .selection import default_exclusion

    if exclusion is None:
        exclusion = default_exclusion(os.getcwd())
    seen_files: set[object] = set()
    seen_dirs: set[tuple[int, int]] = set()
    for path in paths:
        if exclusion.skips_named(path):
            continue
        if os.path.isdir(path):
            candidates: Iterable[tuple[str, Optional[str]]] = _walk(path, seen_dirs, exclusion)
        elif os.path.islink(path) and not os.path.exists(path):
            candidates = [(path, "broken symbolic link (its target does not exist)")]
        elif os.path.lexists(path):
            candidates = [(path, None)]
        else:
            candidates = [(path, "no such file or directory")]
        for candidate, error in candidates:
            if error is None:
                key: object = _identity(candidate) or os.path.realpath(candidate)
                if key in seen_files:
                    continue
                seen_files.add(key)
            yield candidate, error


def _walk(top: str, seen_dirs: set[tuple[int, int]], exclusion: "Exclusion"
          ) -> Iterator[tuple[str, Optional[str]]]:
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
            if exclusion.skips_entry(entry.path):
                continue
            try:
                is_dir = entry.is_dir()  # follows symlinks; a self-loop raises ELOOP
                is_file = not is_dir and entry.name.endswith(".py") and entry.is_file()
            except OSError:
                continue  # a symlink loop: nothing to check
            if is_dir:
                subdirs.append(entry.path)
            elif is_file:  # a broken symlink or a FIFO named x.py is no source file
                yield entry.path, None
        stack.extend(reversed(subdirs))
