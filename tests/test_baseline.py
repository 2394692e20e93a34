"""Adopting the checks on an existing code base, through the real command line:
``--add-noqa`` (silence every current finding in the code) and a baseline file
(``--write-baseline`` / ``--baseline``: CI fails on new findings only)."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

from support.cli import BUGGY, BUGGY_LINE, SPAWN, codes, flake8, flask_ctx, found, write

SECOND = '''

@app.route("/other")
def other():
    threading.Thread(target=work).start()
'''


# --- --add-noqa ---------------------------------------------------------------------------------

def test_add_noqa_silences_every_finding_for_both_front_ends(tmp_path: Path) -> None:
    write(tmp_path / "a.py", BUGGY + SECOND)
    write(tmp_path / "pkg" / "b.py", BUGGY.replace(SPAWN, SPAWN + "  # noqa: E501"))
    before = found(flask_ctx("check", ".", cwd=tmp_path).stdout)
    assert len(before) == 6
    proc = flask_ctx("check", "--add-noqa", ".", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "Added 6 noqa comments to 2 files\n" and proc.stdout == ""
    text = (tmp_path / "a.py").read_text()
    assert text.splitlines()[BUGGY_LINE - 1] == SPAWN + "  # noqa: FCX100, FCX101"
    # merged into the noqa comment already there
    assert (tmp_path / "pkg" / "b.py").read_text().splitlines()[BUGGY_LINE - 1] == \
        SPAWN + "  # noqa: E501, FCX100, FCX101"
    assert flask_ctx("check", ".", cwd=tmp_path).returncode == 0
    assert found(flake8(".", cwd=tmp_path).stdout) == set()  # flake8 reads them the same way
    # only the comments were added
    assert text.replace("  # noqa: FCX100, FCX101", "") == BUGGY + SECOND
    # nothing left to add: a second run changes nothing
    mtime = (tmp_path / "a.py").stat().st_mtime_ns
    proc = flask_ctx("check", "--add-noqa", ".", cwd=tmp_path)
    assert proc.stderr == "Added 0 noqa comments to 0 files\n" and (tmp_path / "a.py").stat().st_mtime_ns == mtime


def test_add_noqa_keeps_encoding_newlines_and_respects_selection(tmp_path: Path) -> None:
    source = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + BUGGY).replace("\n", "\r\n")
    path = tmp_path / "latin.py"
    path.write_bytes(source.encode("latin-1"))
    bom = tmp_path / "bom.py"
    bom.write_bytes(codecs.BOM_UTF8 + BUGGY.encode())
    proc = flask_ctx("check", "--add-noqa", "--select", "FCX100", ".", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = path.read_bytes()
    assert data == source.replace(SPAWN, SPAWN + "  # noqa: FCX100").encode("latin-1")
    assert bom.read_bytes() == codecs.BOM_UTF8 + BUGGY.replace(SPAWN, SPAWN + "  # noqa: FCX100").encode()
    assert codes(flask_ctx("check", ".", cwd=tmp_path)) == {"FCX101"}


def test_add_noqa_never_writes_into_a_string_and_says_so(tmp_path: Path) -> None:
    """A '# noqa' inside a string on the line is what flake8 reads first: no comment after it
    could silence the finding, so the finding is printed and the run exits 1."""
    line = SPAWN + '; x = "# noqa: E501"'
    source = BUGGY.replace(SPAWN, line)
    write(tmp_path / "a.py", source)
    proc = flask_ctx("check", "--add-noqa", "a.py", cwd=tmp_path)
    assert proc.returncode == 1
    assert codes(proc) == {"FCX100", "FCX101"} and "could not be silenced" in proc.stderr
    assert (tmp_path / "a.py").read_text() == source


def test_add_noqa_leaves_read_only_files_and_reports_them(tmp_path: Path) -> None:
    path = write(tmp_path / "a.py", BUGGY)
    path.chmod(0o444)
    proc = flask_ctx("check", "--add-noqa", "a.py", cwd=tmp_path)
    assert proc.returncode == 2 and "read-only file: not written" in proc.stderr
    assert path.read_text() == BUGGY


# --- baseline -------------------------------------------------------------------------------------

def test_baseline_reports_new_findings_only(tmp_path: Path) -> None:
    app = write(tmp_path / "app.py", BUGGY)
    proc = flask_ctx("check", "--write-baseline", "baseline.json", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "")
    assert proc.stderr == "flask-ctx: wrote 2 findings to baseline.json\n"
    document = json.loads((tmp_path / "baseline.json").read_text())
    assert document["format"] == "flake8-flask-ctx baseline"
    assert [(e["path"], e["code"], e["scope"], e["count"]) for e in document["findings"]] == [
        ("app.py", "FCX100", "view", 1), ("app.py", "FCX101", "view", 1)]
    proc = flask_ctx("check", "--baseline", "baseline.json", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")

    # edits above the findings move them: they stay accepted
    app.write_text('"""A docstring."""\n\nimport os\n\n' + BUGGY.replace(SPAWN, "    x = 1\n\n" + SPAWN))
    assert flask_ctx("check", "--baseline", "baseline.json", cwd=tmp_path).returncode == 0
    # re-indented into a block, a comment added: still the same finding
    app.write_text(BUGGY.replace(SPAWN, "    if True:\n    " + SPAWN + "  # started here"))
    assert flask_ctx("check", "--baseline", "baseline.json", cwd=tmp_path).returncode == 0
    # a second spawn in the same function is new, and so is one in another function
    app.write_text(BUGGY + SPAWN + "\n" + SECOND)
    proc = flask_ctx("check", "--baseline", "baseline.json", cwd=tmp_path)
    assert proc.returncode == 1
    assert {(line, code) for _, line, _, code in found(proc.stdout)} == {
        (15, "FCX100"), (15, "FCX101"), (20, "FCX100"), (20, "FCX101")}
    # from another directory the paths are still relative to the baseline file
    (tmp_path / "sub").mkdir()
    proc = flask_ctx("check", "--baseline", "../baseline.json", "..", cwd=tmp_path / "sub")
    assert len(found(proc.stdout)) == 4
    # every format is filtered
    sarif = json.loads(flask_ctx("check", "--format", "sarif", "--baseline", "baseline.json", cwd=tmp_path).stdout)
    assert len(sarif["runs"][0]["results"]) == 4


def test_baseline_changing_the_line_or_the_function_makes_it_new(tmp_path: Path) -> None:
    app = write(tmp_path / "app.py", BUGGY)
    flask_ctx("check", "--write-baseline", "b.json", cwd=tmp_path)
    app.write_text(BUGGY.replace("target=work", "target=work, daemon=True"))
    assert len(found(flask_ctx("check", "--baseline", "b.json", cwd=tmp_path).stdout)) == 2
    app.write_text(BUGGY.replace("def view():", "def renamed_view():"))
    assert len(found(flask_ctx("check", "--baseline", "b.json", cwd=tmp_path).stdout)) == 2


def test_baseline_from_config_and_on_a_terminal(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / "app.py", BUGGY)
    (tmp_path / "ci").mkdir()
    assert flask_ctx("check", "--write-baseline", "ci/baseline.json", cwd=tmp_path).returncode == 0
    write(tmp_path / "pyproject.toml", '[tool.flask-ctx]\nbaseline = "ci/baseline.json"\n')
    assert flask_ctx("check", cwd=tmp_path).returncode == 0
    from support.cli import clean_env, on_tty

    tty = on_tty("check", cwd=tmp_path, env=clean_env(TERM="xterm", NO_COLOR="1"))
    assert tty.text.splitlines()[-1] == "No findings in 1 file; 2 in the baseline not shown."


def test_bad_baseline_files_are_usage_errors(tmp_path: Path) -> None:
    write(tmp_path / "app.py", BUGGY)
    write(tmp_path / "junk.json", "{not json")
    write(tmp_path / "other.json", '{"format": "something else"}')
    for name, message in (("missing.json", "no such file"), ("junk.json", "invalid JSON"),
                          ("other.json", "not a flake8-flask-ctx baseline")):
        proc = flask_ctx("check", "--baseline", name, cwd=tmp_path)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
