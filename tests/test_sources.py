"""sources.py and runner.py on real files: faithful round trips, clear errors, safe writes.

The fixer may change a few lines; everything else about a file (encoding, BOM, newline
style, mode, inode) must come back byte for byte, and a file we cannot read must come
back untouched with a one-line message. tests/test_writes.py has the rest of the write
guarantees, through the real command line.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

import pytest

from flake8_flask_ctx import fixes, runner  # runner imports fixes.fix_source when it fixes
from flake8_flask_ctx.fixes import AppliedFix, FixResult
from flake8_flask_ctx.rules import FixKind
from flake8_flask_ctx.runner import CHECK, DIFF, FIX, Settings, process
from flake8_flask_ctx.sources import (
    FileTooLarge, ReadOnlyFile, SourceError, decode_source, iter_python_files, read_source,
    write_source,
)

BUGGY = (
    "import threading\n"
    "\n"
    "from flask import Flask, request\n"
    "\n"
    "app = Flask(__name__)\n"
    "\n"
    "\n"
    "def work():\n"
    "    print(request.args)\n"
    "\n"
    "\n"
    "@app.route('/')\n"
    "def view():\n"
    "    threading.Thread(target=work).start()\n"
    "    return 'ok'\n"
)
BUGGY_LINE = 14


# --- reading and writing -------------------------------------------------------------

@pytest.mark.parametrize("data, encoding, bom, newline", [
    (b"x = 1\r\ny = 2\r\n", "utf-8", False, "\r\n"),
    (codecs.BOM_UTF8 + b"x = '\xc3\xa9'\n", "utf-8", True, "\n"),
    (b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", "iso-8859-1", False, "\n"),
    (b"x = 1\ry = 2\r", "utf-8", False, "\r"),
    (b"x = 1\r\ny = 2\nz = 3\r", "utf-8", False, "\r\n"),  # mixed: kept as it is
    (b"", "utf-8", False, "\n"),
    (b"x = 1", "utf-8", False, "\n"),  # no newline at the end
])
def test_round_trip_is_byte_identical(tmp_path: Path, data, encoding, bom, newline) -> None:
    path = tmp_path / "mod.py"
    path.write_bytes(data)
    source = read_source(str(path))
    assert (source.encoding, source.bom, source.newline) == (encoding, bom, newline)
    assert "\ufeff" not in source.text
    assert write_source(source, source.text) is False  # unchanged text: no write at all
    assert write_source(source, source.text + "# added\n") is True
    written = path.read_bytes()
    assert written.startswith(data)  # BOM, encoding and newlines untouched
    assert written[len(data):] == "# added\n".encode(encoding)


def test_write_keeps_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "script.py"
    path.write_bytes(b"x = 1\n")
    path.chmod(0o750)
    write_source(read_source(str(path)), "x = 2\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert path.read_bytes() == b"x = 2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["script.py"]


def test_write_is_in_place_and_refuses_read_only_files(tmp_path: Path) -> None:
    path = tmp_path / "script.py"
    path.write_bytes(b"x = 1\n")
    inode = path.stat().st_ino
    write_source(read_source(str(path)), "x = 22\n")  # longer, then shorter
    write_source(read_source(str(path)), "x\n")
    assert path.read_bytes() == b"x\n" and path.stat().st_ino == inode
    path.chmod(0o444)
    with pytest.raises(ReadOnlyFile, match="^read-only file: not written$"):
        write_source(read_source(str(path)), "x = 3\n")
    assert path.read_bytes() == b"x\n"


def test_a_file_over_the_size_budget_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.py"
    path.write_bytes(b"x = 1\n" * 100)
    assert read_source(str(path), max_size=600).text == "x = 1\n" * 100
    with pytest.raises(FileTooLarge, match=r"^601 bytes is larger than --max-file-size \(600 bytes\)"):
        path.write_bytes(b"x = 1\n" * 100 + b"\n")
        read_source(str(path), max_size=600)
    result = process(str(path), Settings(max_file_size=100))
    assert (result.error, result.skipped) == (None, "601 bytes is larger than --max-file-size "
                                                    "(100 bytes): not read")


def test_write_through_a_symlink_replaces_the_target(tmp_path: Path) -> None:
    target = tmp_path / "real.py"
    target.write_bytes(b"x = 1\n")
    link = tmp_path / "link.py"
    link.symlink_to(target)
    write_source(read_source(str(link)), "x = 2\n")
    assert link.is_symlink() and target.read_bytes() == b"x = 2\n"


def test_text_that_the_encoding_cannot_hold_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    original = b"# -*- coding: latin-1 -*-\nx = '\xe9'\n"
    path.write_bytes(original)
    source = read_source(str(path))
    with pytest.raises(SourceError, match="cannot encode"):
        write_source(source, source.text + "y = '\u2603'\n")
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["latin.py"]


@pytest.mark.parametrize("data, message", [
    (bytes(range(256)) * 4, "cannot decode"),  # binary junk
    (b"x = 1\n\x00\x01\x02\n", "NUL bytes"),
    (b"x = 1\ny = '\xff\xfe'\n", "cannot decode as utf-8: byte 0xff on line 2"),
    (b"# -*- coding: klingon -*-\n", "unknown encoding"),
    (codecs.BOM_UTF8 + b"# -*- coding: latin-1 -*-\n", "cannot decode"),
])
def test_undecodable_bytes_give_one_line_errors(data: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message) as info:
        decode_source(data)
    assert "\n" not in str(info.value)


def test_unreadable_paths_give_errors(tmp_path: Path) -> None:
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    (tmp_path / "dir.py").mkdir()
    os.mkfifo(tmp_path / "fifo.py")  # must not block
    for name, message in [("dangling.py", "No such file"), ("loop.py", "symbolic links"),
                          ("dir.py", "(?i)is a directory"), ("fifo.py", "not a regular file")]:
        with pytest.raises(SourceError, match=message):
            read_source(str(tmp_path / name))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their mode")
def test_a_file_without_read_permission_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.py"
    path.write_text("x = 1\n")
    path.chmod(0)
    with pytest.raises(SourceError, match="Permission denied"):
        read_source(str(path))


# --- finding files -------------------------------------------------------------------

def _touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n")


def test_directories_are_walked_sorted_skipping_tool_and_hidden_dirs(tmp_path: Path) -> None:
    _touch(tmp_path, "b.py", "a.py", "notes.txt", "pkg/z.py", "pkg/sub/y.py",
           ".git/hook.py", ".venv/lib.py", "venv/lib.py", "__pycache__/c.py",
           "node_modules/n.py", ".tox/t.py", ".hidden/h.py", ".dotfile.py", "build/b.py", "dist/d.py")
    os.mkfifo(tmp_path / "fifo.py")  # not a file to check (and reading it must not block)
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    found = [Path(p).relative_to(tmp_path).as_posix()
             for p, error in iter_python_files([str(tmp_path)]) if error is None]
    assert found == ["a.py", "b.py", "pkg/z.py", "pkg/sub/y.py"]
    assert [e for _, e in iter_python_files([str(tmp_path)]) if e] == []


def test_named_paths_are_taken_as_given(tmp_path: Path) -> None:
    _touch(tmp_path, ".hidden/h.py", "script")
    found = list(iter_python_files([str(tmp_path / ".hidden"), str(tmp_path / "script"),
                                    str(tmp_path / "missing.py")]))
    assert found == [(str(tmp_path / ".hidden" / "h.py"), None), (str(tmp_path / "script"), None),
                     (str(tmp_path / "missing.py"), "no such file or directory")]


def test_symlink_loops_end_and_each_file_comes_once(tmp_path: Path) -> None:
    _touch(tmp_path, "pkg/a.py")
    (tmp_path / "pkg" / "again").symlink_to(tmp_path / "pkg")
    (tmp_path / "pkg" / "up").symlink_to(tmp_path)
    (tmp_path / "pkg" / "alias.py").symlink_to(tmp_path / "pkg" / "a.py")
    os.link(tmp_path / "pkg" / "a.py", tmp_path / "pkg" / "hard.py")  # one file, two names
    found = list(iter_python_files([str(tmp_path), str(tmp_path / "pkg" / "a.py")]))
    assert found == [(str(tmp_path / "pkg" / "a.py"), None)]


def test_empty_inputs() -> None:
    assert list(iter_python_files([])) == []
    assert runner.run([], Settings(), jobs=4) == []


# --- the runner on real files --------------------------------------------------------

def _codes(result) -> list[tuple[int, str]]:
    return [(f.line, f.code) for f in result.findings]


@pytest.mark.parametrize("encode", [
    lambda text: text.encode(),
    lambda text: text.replace("\n", "\r\n").encode(),
    lambda text: codecs.BOM_UTF8 + text.encode(),
    lambda text: ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + text).encode("latin-1"),
], ids=["lf", "crlf", "bom", "latin-1"])
def test_findings_do_not_depend_on_bytes_encoding(tmp_path: Path, encode) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(encode(BUGGY))
    shift = 2 if b"latin-1" in path.read_bytes() else 0
    result = process(str(path), Settings())
    assert result.error is None
    assert _codes(result) == [(BUGGY_LINE + shift, "FCX100")]


def test_bad_files_are_errors_not_exceptions(tmp_path: Path) -> None:
    header = "import threading\nfrom flask import request\nthreading.Thread()\n"
    cases = {
        "syntax.py": (header + "def f(:\n    pass\n").encode(),
        "py2.py": (header + "print 'hello'\n").encode(),
        "junk.py": bytes(range(256)) * 8,
        "junk_flask.py": header.encode() + bytes(range(256)) * 8,
        "deep.py": (header + "x = " + "(" * 5000 + ")" * 5000 + "\n").encode(),
        "nested.py": (header + "x = " + "[" * 190 + "]" * 190 + "\n").encode(),
        "empty.py": b"",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    for mode in (CHECK, FIX, DIFF):
        errors = {name: process(str(tmp_path / name), Settings(mode=mode)).error for name in cases}
        assert errors["empty.py"] is None
        assert "invalid syntax" in errors["syntax.py"]
        assert "print" in errors["py2.py"]
        assert errors["junk.py"] is None  # no Flask code in it: left to the other tools
        assert "cannot decode" in process(str(tmp_path / "junk_flask.py"), Settings(mode=mode)).error
        assert "nested" in errors["deep.py"]  # CPython: too many nested parentheses
        # libcst may or may not manage 190 nested lists; either way no exception escapes
        assert errors["nested.py"] is None or "nested" in errors["nested.py"]
    for name, data in cases.items():
        assert (tmp_path / name).read_bytes() == data


# --- fix with a stand-in fixer (the real one lives in fixes/) --------------------------

class FakeFixer:
    """Appends a marker comment after the spawn line of every finding it may fix."""

    def __init__(self, output: str | None = None) -> None:
        self.output = output
        self.offered: list[tuple[int, str, bool]] = []

    def __call__(
        self, source, options=None, keep=lambda finding, text: True, unsafe=False, path=None
    ):
        from flake8_flask_ctx.engine import check_source

        findings = check_source(source, options, path)
        self.offered += [(f.line, f.code, keep(f, source)) for f in findings]
        fixable = [f for f in findings if keep(f, source)]
        if self.output is not None:
            return FixResult(self.output, [AppliedFix(f.code, f.line, "broke it", FixKind.HOIST) for f in fixable])
        lines = source.splitlines(keepends=True)
        newline = "\r\n" if source.count("\r\n") else "\n"
        for f in sorted(fixable, key=lambda f: -f.line):
            lines.insert(f.line, f"    # fixed {f.code} \u2713{newline}")
        applied = [AppliedFix(f.code, f.line, "marked", FixKind.HOIST) for f in fixable]
        new = "".join(lines)
        # like the real fixer: what is left, in terms of the new text
        return FixResult(new, applied, [f for f in check_source(new, options) if keep(f, new)])


def test_fix_writes_in_the_files_own_bytes(tmp_path: Path, monkeypatch) -> None:
    fixer = FakeFixer()
    monkeypatch.setattr(fixes, "fix_source", fixer)
    path = tmp_path / "app.py"
    original = codecs.BOM_UTF8 + BUGGY.replace("\n", "\r\n").encode()
    path.write_bytes(original)
    result = process(str(path), Settings(mode=FIX))
    assert result.error is None
    assert [(a.line, a.code) for a in result.applied] == [(BUGGY_LINE, "FCX100")]
    lines = original.split(b"\r\n")
    lines.insert(BUGGY_LINE, "    # fixed FCX100 \u2713".encode())
    assert path.read_bytes() == b"\r\n".join(lines)
    # what is left is reported against the new text: the finding did not move here
    assert _codes(result) == [(BUGGY_LINE, "FCX100")]


def test_fix_diff_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(fixes, "fix_source", FakeFixer())
    path = tmp_path / "app.py"
    path.write_text(BUGGY)
    result = process(str(path), Settings(mode=DIFF))
    assert path.read_text() == BUGGY
    assert result.diff.startswith(f"--- {path}\n+++ {path}\n@@ ".encode())
    assert "+    # fixed FCX100 \u2713\n".encode() in result.diff


def test_fix_never_touches_noqa_or_unselected_findings(tmp_path: Path, monkeypatch) -> None:
    fixer = FakeFixer()
    monkeypatch.setattr(fixes, "fix_source", fixer)
    path = tmp_path / "app.py"
    silenced = BUGGY.replace(".start()\n", ".start()  # noqa: FCX100\n")
    path.write_text(silenced)
    process(str(path), Settings(mode=FIX))
    assert path.read_text() == silenced
    path.write_text(BUGGY)
    process(str(path), Settings(mode=FIX, ignore=("FCX1",)))
    assert path.read_text() == BUGGY
    assert fixer.offered == [(BUGGY_LINE, "FCX100", False)] * 2


def test_fixed_text_that_does_not_parse_is_never_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(fixes, "fix_source", FakeFixer(output=BUGGY + "def broken(:\n"))
    path = tmp_path / "app.py"
    path.write_text(BUGGY)
    result = process(str(path), Settings(mode=FIX))
    assert result.internal and "internal error" in result.error
    assert path.read_text() == BUGGY


def test_diff_marks_a_missing_final_newline() -> None:
    diff = runner.unified_diff("m.py", "x = 1\ny = 2", "x = 1\ny = 3")
    assert diff.endswith("-y = 2\n\\ No newline at end of file\n+y = 3\n\\ No newline at end of file\n")
    assert "\x0c" in runner.unified_diff("m.py", "a = 1\x0c\nb = 2\n", "a = 1\x0c\nb = 3\n")
