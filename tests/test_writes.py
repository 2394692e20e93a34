"""``fix`` writes that lose nothing: real files, the real fixer, the real command line.

A rewritten file keeps its mode, owner, group and hard links (it is written in place),
a read-only file or one that changed since it was read is left alone and reported, a
huge file is skipped without stopping the run, bytes libcst's round trip drops come
back, ``--diff`` speaks the file's encoding, and a run killed half way leaves every file
either as it was or fully fixed, with stdout listing exactly the files it rewrote.
"""

from __future__ import annotations

import ast
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flake8_flask_ctx import fixes, runner  # runner imports fixes.fix_source when it fixes
from flake8_flask_ctx.cli import _max_size
from flake8_flask_ctx.fixes import fix_source
from flake8_flask_ctx.runner import FIX, Settings, process
from flake8_flask_ctx.sources import (
    DEFAULT_MAX_FILE_SIZE, ChangedOnDisk, NotWritten, keep_lost_bytes, read_source, write_source,
)

# fixtures/autofix' closure hoist, inline: fixtures get renamed, this test must not care
HOIST = '''\
"""Hoist: a closure's request read becomes a local computed in the view."""
import threading

from flask import Flask, request

app = Flask(__name__)


@app.route("/report")
def report():
    def build():
        fmt = request.args.get("format", "csv")
        print(f"building report as {fmt}")

    t = threading.Thread(target=build)  # error: FCX100
    t.start()
    return {"started": True}
'''
FIXED = fix_source(HOIST).source
FINDING_LINE = 15  # the spawn; the hoist moves a line but adds none
assert FIXED != HOIST and FIXED.count("\n") == HOIST.count("\n")


def flask_ctx(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real command line; output as bytes (file names need not be UTF-8)."""
    proc = subprocess.run([sys.executable, "-m", "flake8_flask_ctx", *args], cwd=cwd,
                          capture_output=True, timeout=300)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")
    return proc


def fixed_paths(stdout: bytes) -> list[str]:
    return [line.split(b":")[0].decode() for line in stdout.splitlines() if b" FCX100 fixed (" in line]


# --- what a write keeps ----------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root can give a file to another owner")
def test_owner_and_group_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(HOIST)
    os.chown(path, 12345, 12345)
    proc = flask_ctx("fix", "app.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    info = path.stat()
    assert (info.st_uid, info.st_gid) == (12345, 12345)
    assert path.read_text() == FIXED


def test_mode_is_kept_and_no_temp_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(HOIST)
    path.chmod(0o640)
    inode = path.stat().st_ino
    proc = flask_ctx("fix", "app.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert fixed_paths(proc.stdout) == ["app.py"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino == inode  # the same file, written in place
    assert path.read_text() == FIXED
    assert [p.name for p in tmp_path.iterdir()] == ["app.py"]


def test_hard_links_are_kept(tmp_path: Path) -> None:
    path, other = tmp_path / "app.py", tmp_path / "linked.py"
    path.write_text(HOIST)
    os.link(path, other)
    proc = flask_ctx("fix", "app.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert path.stat().st_ino == other.stat().st_ino and path.stat().st_nlink == 2
    assert other.read_text() == path.read_text() == FIXED
    # both names in one run: one file, fixed once (by one process)
    path.write_text(HOIST)
    proc = flask_ctx("fix", "-j", "2", "app.py", "linked.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(fixed_paths(proc.stdout)) == 1 and other.read_text() == FIXED


def test_a_read_only_file_is_reported_and_not_written(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(HOIST)
    path.chmod(0o444)  # root could write it: the mode bits decide, not the open() call
    proc = flask_ctx("fix", "app.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == b"app.py: error: read-only file: not written\nFixed 0, 1 left\n"
    # no fix is claimed; the finding is still in the file and is reported as left
    assert [line.split(b" ")[:2] for line in proc.stdout.splitlines()] == [
        [f"app.py:{FINDING_LINE}:9:".encode(), b"FCX100"]]
    assert path.read_text() == HOIST and stat.S_IMODE(path.stat().st_mode) == 0o444
    # --diff writes nothing, so a read-only file is no error there
    proc = flask_ctx("fix", "--diff", "app.py", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout.startswith(b"--- app.py\n")
    assert b"error" not in proc.stderr
    # a clean read-only file is no error either: nothing had to be written
    path.chmod(0o644)
    path.write_text(FIXED)
    path.chmod(0o444)
    assert flask_ctx("fix", "app.py", cwd=tmp_path).returncode == 0


# --- re-checked before the write -------------------------------------------------------

def test_write_source_rechecks_the_file(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(HOIST)
    source = read_source(str(path))
    edited = HOIST.replace("csv", "tsv")  # same size: only the content tells
    path.write_text(edited)
    with pytest.raises(ChangedOnDisk, match=r"changed on disk since it was read \(edited\): not written"):
        write_source(source, FIXED)
    assert path.read_text() == edited

    path.write_text(HOIST)
    source = read_source(str(path))
    path.unlink()
    with pytest.raises(ChangedOnDisk, match=r"\(deleted\)"):
        write_source(source, FIXED)
    assert not path.exists()  # never created again

    path.write_text(HOIST)
    source = read_source(str(path))
    (tmp_path / "new.py").write_text(HOIST)  # the same text, but another file
    os.replace(tmp_path / "new.py", path)
    inode = path.stat().st_ino
    with pytest.raises(ChangedOnDisk, match=r"\(replaced\)"):
        write_source(source, FIXED)
    assert path.read_text() == HOIST and path.stat().st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.py"]


@pytest.mark.parametrize("change", ["edit", "delete", "replace"])
def test_a_change_while_fix_runs_is_never_lost(tmp_path: Path, monkeypatch, change: str) -> None:
    path = tmp_path / "app.py"
    path.write_text(HOIST)
    edited = HOIST + "# edited in the editor meanwhile\n"

    def fixer_with_a_concurrent_change(text, *args, **kwargs):
        result = fix_source(text, *args, **kwargs)
        if change == "edit":
            with open(path, "a") as handle:
                handle.write("# edited in the editor meanwhile\n")
        elif change == "delete":
            path.unlink()
        else:
            (tmp_path / "other.py").write_text(edited)
            os.replace(tmp_path / "other.py", path)
        return result

    monkeypatch.setattr(fixes, "fix_source", fixer_with_a_concurrent_change)
    result = process(str(path), Settings(mode=FIX))
    how = {"edit": "edited", "delete": "deleted", "replace": "replaced"}[change]
    assert result.error == f"changed on disk since it was read ({how}): not written"
    assert not result.internal and not result.applied and not result.written
    if change == "delete":
        assert not path.exists()
    else:
        assert path.read_text() == edited


# --- huge files ------------------------------------------------------------------------

def test_a_huge_file_is_skipped_and_the_run_goes_on(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    padding = "# generated\n" * ((DEFAULT_MAX_FILE_SIZE - len(HOIST)) // 12 + 1)
    big.write_text(HOIST + padding)
    size = big.stat().st_size
    assert DEFAULT_MAX_FILE_SIZE < size < DEFAULT_MAX_FILE_SIZE + 20
    before = big.read_bytes()
    small = tmp_path / "small.py"
    small.write_text(HOIST)
    started = time.monotonic()
    proc = flask_ctx("fix", "big.py", "small.py", cwd=tmp_path)
    assert time.monotonic() - started < 60  # the big one is not even read
    # a skipped file is a note, not an error: the status is the other files'
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (f"big.py: skipped: {size} bytes is larger than --max-file-size "
                           f"({DEFAULT_MAX_FILE_SIZE} bytes): not read\nFixed 1, 0 left\n").encode()
    assert fixed_paths(proc.stdout) == ["small.py"]
    assert small.read_text() == FIXED and big.read_bytes() == before

    small.write_text(HOIST)
    assert len(HOIST) > 300
    proc = flask_ctx("check", "--max-file-size", "300", "big.py", "small.py", cwd=tmp_path)
    assert proc.returncode == 0  # both skipped: nothing found (and said so on stderr)
    assert proc.stderr.splitlines() == [
        b"big.py: skipped: 2 MB is larger than --max-file-size (300 bytes): not read",
        f"small.py: skipped: {len(HOIST)} bytes is larger than --max-file-size (300 bytes): "
        "not read".encode()]
    proc = flask_ctx("check", "--max-file-size", "1MiB", "small.py", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr == b""


@pytest.mark.parametrize("value, size", [
    ("2097152", 2097152), ("2MB", 2 << 20), ("2M", 2 << 20), ("2 MiB", 2 << 20), ("500k", 500 << 10),
    ("1.5mb", 3 << 19), ("1G", 1 << 30), ("300b", 300), ("0", None),
])
def test_max_file_size_values(value: str, size) -> None:
    assert _max_size(value) == size


def test_a_bad_max_file_size_is_a_usage_error(tmp_path: Path) -> None:
    proc = flask_ctx("check", "--max-file-size", "2XB", ".", cwd=tmp_path)
    assert proc.returncode == 2 and b"not a size" in proc.stderr


# --- bytes libcst's round trip loses ---------------------------------------------------

def _with_form_feeds(text: str) -> str:
    """Form feeds where libcst keeps them (a line of its own) and where it drops them
    (before a statement, at the top level and in a body), and a function after one."""
    text = text.replace("\n\n\n@app.route", "\n\n\x0c\n\x0c@app.route")
    text = text.replace("    t.start()\n", "\x0c    t.start()\n")
    return text + "\n\n\x0cdef helper():\n    return 1\n"


def test_form_feeds_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(_with_form_feeds(HOIST).encode())
    proc = flask_ctx("fix", "app.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert fixed_paths(proc.stdout) == ["app.py"]
    # byte for byte what the plain file's fix is, with the same form feeds
    assert path.read_bytes() == _with_form_feeds(FIXED).encode()
    ast.parse(path.read_bytes())
    assert flask_ctx("fix", "app.py", cwd=tmp_path).stdout == b""  # stable


def test_cr_only_newlines_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(HOIST.replace("\n", "\r").encode())
    proc = flask_ctx("fix", "app.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert fixed_paths(proc.stdout) == ["app.py"]
    assert path.read_bytes() == FIXED.replace("\n", "\r").encode()  # the last \r too
    proc = flask_ctx("fix", "--diff", "app.py", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, b"")


def test_keep_lost_bytes() -> None:
    # a changed last line gets its lost final newline back
    assert keep_lost_bytes("a = 1\rb = 2\r", "a = 1\rb = 2", "a = 1\rb = 3") == "a = 1\rb = 3\r"
    # lines the fix did not touch come from the original; changed ones from the fix
    original = "\x0cx = 1\ny = 2\n\x0cz = 3\n"
    assert keep_lost_bytes(original, "x = 1\ny = 2\nz = 3\n", "x = 1\ny = 20\nz = 3\n") == \
        "\x0cx = 1\ny = 20\n\x0cz = 3\n"
    assert keep_lost_bytes(original, original, "anything") == "anything"
    # anything else libcst could not reproduce: not written
    with pytest.raises(NotWritten, match="byte for byte"):
        keep_lost_bytes("x = 1\ny = 2\n", "x = 1\n", "x = 1\n")
    with pytest.raises(NotWritten, match="line 2"):
        keep_lost_bytes("x = 1\ny  = 2\n", "x = 1\ny = 2\n", "x = 1\n")


# --- --diff in the file's encoding -----------------------------------------------------

def test_diff_is_in_the_files_encoding_and_patch_applies_it(tmp_path: Path) -> None:
    text = "# -*- coding: latin-1 -*-\n" + HOIST.replace('"csv"', '"caf\xe9"')
    for name in ("diffed", "fixed"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "latin.py").write_bytes(text.encode("latin-1"))
    proc = flask_ctx("fix", "--diff", "latin.py", cwd=tmp_path / "diffed")
    assert proc.returncode == 1, proc.stderr
    diff = proc.stdout
    assert diff.startswith(b"--- latin.py\n+++ latin.py\n")
    assert b'"caf\xe9"' in diff and b"\xc3\xa9" not in diff  # latin-1, not UTF-8
    assert flask_ctx("fix", "latin.py", cwd=tmp_path / "fixed").returncode == 0
    expected = (tmp_path / "fixed" / "latin.py").read_bytes()
    assert expected != text.encode("latin-1")
    patch = shutil.which("patch")
    if patch:
        subprocess.run([patch, "-p0", "--quiet"], input=diff, cwd=tmp_path / "diffed", check=True)
        assert (tmp_path / "diffed" / "latin.py").read_bytes() == expected
    else:  # every added line is in the fixed file, in its bytes
        added = [line[1:] for line in diff.splitlines(keepends=True)
                 if line.startswith(b"+") and not line.startswith(b"+++")]
        assert added and all(line in expected for line in added)


# --- interrupted runs ------------------------------------------------------------------

def _many_files(root: Path, count: int) -> list[Path]:
    root.mkdir()
    paths = [root / f"mod{i:03}.py" for i in range(count)]
    for path in paths:
        path.write_text(HOIST)
    return paths


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _interrupt(tmp_path: Path, jobs: int, signum: int, count: int = 120, after: int = 8):
    """Start ``fix`` on ``count`` files, send ``signum`` once ``after`` files are
    reported, and return (exit status, stdout, stderr, files, worker pids). SIGINT goes
    to the whole process group, as Ctrl-C in a terminal does; other signals to flask-ctx."""
    paths = _many_files(tmp_path / "tree", count)
    with open(tmp_path / "stderr", "w+b") as err:
        proc = subprocess.Popen([sys.executable, "-m", "flake8_flask_ctx", "fix", "-j", str(jobs),
                                 "tree"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=err,
                                start_new_session=True)
        seen = []
        while len(seen) < after:
            line = proc.stdout.readline()
            assert line, err.read()
            seen.append(line)
        workers = _children(proc.pid) if jobs > 1 else []
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)
        else:
            os.kill(proc.pid, signum)
        rest = proc.stdout.read()  # to the end, what readline() buffered included
        proc.wait(timeout=120)
        err.seek(0)
        return proc.returncode, b"".join(seen) + rest, err.read(), paths, workers


def _states(paths: list[Path]) -> dict[str, str]:
    states = {}
    for path in paths:
        text = path.read_text()
        ast.parse(text)  # never half a file
        assert text in (HOIST, FIXED), path
        states[str(path.relative_to(path.parent.parent))] = "fixed" if text == FIXED else "original"
    return states


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("jobs", [1, 2])
def test_sigkill_leaves_whole_files_and_an_honest_record(tmp_path: Path, jobs: int) -> None:
    status, out, _, paths, workers = _interrupt(tmp_path, jobs, signal.SIGKILL)
    assert status == -signal.SIGKILL
    deadline = time.monotonic() + 10  # the workers die with the main process
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)
    states = _states(paths)
    assert sorted(p.name for p in (tmp_path / "tree").iterdir()) == sorted(p.name for p in paths)
    rewritten = {path for path, state in states.items() if state == "fixed"}
    printed = set(fixed_paths(out))
    assert 8 <= len(printed) < len(paths)  # killed mid-run
    assert len(fixed_paths(out)) == len(printed)  # each file once
    if jobs == 1:
        assert printed == rewritten
    else:
        # everything printed was written; a worker may finish one write in the instant
        # its parent dies, before the parent can print it
        assert printed <= rewritten and len(rewritten - printed) <= jobs
    time.sleep(0.5)
    assert _states(paths) == states  # nothing goes on writing behind our back


@pytest.mark.parametrize("jobs, signum", [(1, signal.SIGINT), (2, signal.SIGINT), (2, signal.SIGTERM)])
def test_ctrl_c_finishes_the_files_in_progress_and_reports_them(
        tmp_path: Path, jobs: int, signum: int) -> None:
    status, out, err, paths, _ = _interrupt(tmp_path, jobs, signum)
    assert status == 128 + signum
    assert b"stopping after the files in progress" in err and b"Traceback" not in err
    states = _states(paths)
    rewritten = {path for path, state in states.items() if state == "fixed"}
    assert set(fixed_paths(out)) == rewritten and len(fixed_paths(out)) == len(rewritten)
    assert 8 <= len(rewritten) < len(paths)
    assert sorted(p.name for p in (tmp_path / "tree").iterdir()) == sorted(p.name for p in paths)


def test_results_are_streamed_as_files_are_done(tmp_path: Path) -> None:
    """The first file is reported while the others are still being fixed."""
    paths = _many_files(tmp_path / "tree", 60)
    proc = subprocess.Popen([sys.executable, "-m", "flake8_flask_ctx", "fix", "-j", "1", "tree"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    left = sum(path.read_text() == HOIST for path in paths)
    proc.communicate(timeout=120)
    assert first.startswith(b"tree/mod000.py:15:")  and b" FCX100 fixed (safe): " in first
    assert left > 0, "the whole run was over before the first line came out"
