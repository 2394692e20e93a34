"""What ``flask-ctx check`` prints, through the real command line: standard input,
--exit-zero, --statistics, --show-source, colour, --output-file, and on a terminal the
closing summary and the progress line (run on a pseudo-terminal)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from support.cli import BUGGY, BUGGY_LINE, CLEAN, SPAWN, clean_env, codes, flask_ctx, found, on_tty, write
from support.marks import ROOT

HOIST = (ROOT / "fixtures" / "autofix" / "fcx100_hoist_closure_local.py").read_text()
HOIST_FIXED = (ROOT / "fixtures" / "autofix" / "fcx100_hoist_closure_local.fixed.py").read_text()
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --- standard input --------------------------------------------------------------------------

def test_check_reads_standard_input(tmp_path: Path) -> None:
    proc = flask_ctx("check", "-", cwd=tmp_path, stdin=BUGGY)
    assert proc.returncode == 1 and found(proc.stdout) == {("-", BUGGY_LINE, 5, "FCX100"), ("-", BUGGY_LINE, 5, "FCX101")}
    proc = flask_ctx("check", "-", "--stdin-filename", "web/views.py", cwd=tmp_path, stdin=BUGGY)
    assert {p for p, *_ in found(proc.stdout)} == {"web/views.py"}
    # --stdin-filename alone implies '-' (as in ruff); per-file-ignores match the name
    proc = flask_ctx("check", "--stdin-filename", "web/views.py", "--per-file-ignores", "web/*:FCX100",
                     cwd=tmp_path, stdin=BUGGY)
    assert codes(proc) == {"FCX101"}
    assert flask_ctx("check", "-", cwd=tmp_path, stdin=CLEAN).returncode == 0
    proc = flask_ctx("check", "--format", "json", "-", cwd=tmp_path, stdin=BUGGY)
    assert {item["path"] for item in json.loads(proc.stdout)} == {"-"}


def test_stdin_honours_encoding_noqa_exclude_and_syntax_errors(tmp_path: Path) -> None:
    latin = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + BUGGY).encode("latin-1")
    import subprocess

    from support.cli import FLASK_CTX

    proc = subprocess.run([FLASK_CTX, "check", "-"], input=latin, capture_output=True, cwd=tmp_path)
    assert proc.returncode == 1 and b"-:16:5: FCX100 " in proc.stdout
    assert flask_ctx("check", "-", cwd=tmp_path, stdin=BUGGY.replace(SPAWN, SPAWN + "  # noqa")).returncode == 0
    # --force-exclude with a name that is excluded: nothing is checked (the editor case)
    proc = flask_ctx("check", "--force-exclude", "--stdin-filename", ".venv/x.py", cwd=tmp_path, stdin=BUGGY)
    assert (proc.returncode, proc.stdout) == (0, "")
    proc = flask_ctx("check", "-", cwd=tmp_path, stdin=BUGGY + "def f(:\n")
    assert proc.returncode == 2 and proc.stderr.startswith("-: error: syntax error: ")


def test_fix_standard_input_prints_the_fixed_text(tmp_path: Path) -> None:
    proc = flask_ctx("fix", "-", "--stdin-filename", "app.py", cwd=tmp_path, stdin=HOIST)
    assert proc.stdout == HOIST_FIXED
    assert proc.returncode == 0 and "app.py:15:9: FCX100 fixed (safe): " in proc.stderr
    # nothing to fix, or not Python at all: the input comes back as it was
    assert flask_ctx("fix", "-", cwd=tmp_path, stdin=CLEAN).stdout == CLEAN
    broken = BUGGY + "def f(:\n"
    proc = flask_ctx("fix", "-", cwd=tmp_path, stdin=broken)
    assert proc.stdout == broken and proc.returncode == 2
    proc = flask_ctx("fix", "--diff", "-", "--stdin-filename", "app.py", cwd=tmp_path, stdin=HOIST)
    assert proc.returncode == 1 and proc.stdout.startswith("--- app.py\n+++ app.py\n")


# --- exit status and counts ---------------------------------------------------------------------

def test_exit_zero(tmp_path: Path) -> None:
    write(tmp_path / "a.py", BUGGY)
    proc = flask_ctx("check", "--exit-zero", "a.py", cwd=tmp_path)
    assert proc.returncode == 0 and codes(proc) == {"FCX100", "FCX101"}
    # errors still fail the run
    write(tmp_path / "b.py", BUGGY + "def f(:\n")
    assert flask_ctx("check", "--exit-zero", "a.py", "b.py", cwd=tmp_path).returncode == 2
    assert flask_ctx("fix", "--diff", "--exit-zero", "a.py", cwd=tmp_path).returncode == 0


def test_statistics(tmp_path: Path) -> None:
    write(tmp_path / "a.py", BUGGY)
    write(tmp_path / "b.py", BUGGY.replace("request.args, ", ""))
    write(tmp_path / "hoist.py", HOIST)
    proc = flask_ctx("check", "--statistics", ".", cwd=tmp_path)
    assert proc.returncode == 1
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert [(row[0], row[1]) for row in rows] == [("2", "FCX100"), ("2", "FCX101")]
    assert proc.stdout.splitlines()[0].endswith("worker reads a request-bound proxy with no request context")
    findings = json.loads(flask_ctx("check", "--format", "json", ".", cwd=tmp_path).stdout)
    safe = {code: sum(1 for f in findings if f["code"] == code and (f["fix"] or {}).get("applicability") == "safe")
            for code in ("FCX100", "FCX101")}
    assert safe["FCX100"] >= 1  # the hoist
    assert f"[{safe['FCX100']} fixable]" in proc.stdout.splitlines()[0]
    stats = json.loads(flask_ctx("check", "--statistics", "--format", "json", ".", cwd=tmp_path).stdout)
    assert stats == [
        {"code": "FCX100", "count": 2, "fixable": safe["FCX100"],
         "title": "worker reads a request-bound proxy with no request context"},
        {"code": "FCX101", "count": 2, "fixable": safe["FCX101"],
         "title": "worker uses an app-bound proxy or extension object with no app context"}]


# --- show-source, colour, output file ----------------------------------------------------------

def test_show_source(tmp_path: Path) -> None:
    tabbed = BUGGY.replace(SPAWN, "\tif True:\n\t\tthreading.Thread(target=work).start()")
    write(tmp_path / "a.py", tabbed)
    proc = flask_ctx("check", "--show-source", "--select", "FCX100", "a.py", cwd=tmp_path)
    assert proc.stdout.splitlines() == [
        f"a.py:{BUGGY_LINE + 1}:3: FCX100 " + proc.stdout.splitlines()[0].split(" FCX100 ", 1)[1],
        "\t\tthreading.Thread(target=work).start()",
        "\t\t^",
    ]


def test_colour_on_a_terminal_unless_no_color(tmp_path: Path) -> None:
    write(tmp_path / "a.py", BUGGY)
    plain = flask_ctx("check", "a.py", cwd=tmp_path)
    assert "\x1b[" not in plain.stdout  # a pipe: never
    forced = flask_ctx("check", "--color", "always", "a.py", cwd=tmp_path)
    assert "\x1b[1;31mFCX100\x1b[0m" in forced.stdout and ANSI.sub("", forced.stdout) == plain.stdout
    tty = on_tty("check", "a.py", cwd=tmp_path)
    assert "\x1b[1;31mFCX100\x1b[0m" in tty.output
    for env, args in ((clean_env(TERM="xterm", NO_COLOR="1"), ()), (clean_env(TERM="xterm"), ("--color", "never"))):
        quiet = on_tty("check", *args, "a.py", cwd=tmp_path, env=env)
        assert "\x1b[" not in quiet.output, args
        assert quiet.text.splitlines()[:2] == plain.stdout.splitlines()
    # --color always wins over NO_COLOR (a flag given for this run)
    assert "\x1b[" in flask_ctx("check", "--color", "always", "a.py", cwd=tmp_path,
                                env=clean_env(NO_COLOR="1")).stdout


def test_output_file(tmp_path: Path) -> None:
    write(tmp_path / "a.py", BUGGY)
    proc = flask_ctx("check", "--output-file", "report.txt", "a.py", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert found((tmp_path / "report.txt").read_text()) == found(flask_ctx("check", "a.py", cwd=tmp_path).stdout)
    proc = flask_ctx("check", "-o", "report.sarif", "--format", "sarif", "a.py", cwd=tmp_path)
    assert proc.stdout == "" and json.loads((tmp_path / "report.sarif").read_text())["version"] == "2.1.0"
    # on a terminal: the report in the file (no colour), the summary on the terminal
    tty = on_tty("check", "-o", "tty.txt", "a.py", cwd=tmp_path)
    assert "\x1b[" not in (tmp_path / "tty.txt").read_text()
    assert "Found 2 findings in 1 file" in tty.text and "FCX100" not in tty.text
    proc = flask_ctx("check", "-o", str(tmp_path / "missing" / "r.txt"), "a.py", cwd=tmp_path)
    assert proc.returncode == 2 and "--output-file" in proc.stderr


# --- on a terminal: the summary and the progress line ---------------------------------------------

def test_summary_line_on_a_terminal_only(tmp_path: Path) -> None:
    for name in ("a.py", "b.py", "c.py"):
        write(tmp_path / name, BUGGY)
    write(tmp_path / "hoist.py", HOIST)
    write(tmp_path / "clean.py", CLEAN)
    tty = on_tty("check", ".", cwd=tmp_path, env=clean_env(TERM="xterm", NO_COLOR="1"))
    assert tty.returncode == 1
    findings = json.loads(flask_ctx("check", "--format", "json", ".", cwd=tmp_path).stdout)
    safe = sum(1 for f in findings if (f["fix"] or {}).get("applicability") == "safe")
    assert len(findings) == 7 and safe
    assert tty.text.splitlines()[-1] == f"Found 7 findings in 4 files ({safe} fixable with 'flask-ctx fix')."
    piped = flask_ctx("check", ".", cwd=tmp_path)
    assert "Found" not in piped.stdout + piped.stderr
    clean = tmp_path / "clean"
    write(clean / "x.py", CLEAN)
    assert ANSI.sub("", on_tty("check", ".", cwd=clean).text).splitlines()[-1] == "No findings in 1 file."
    # unsafe fixes counted apart
    unsafe = (ROOT / "fixtures" / "autofix").glob("*_unsafe_*.py")
    path = next(p for p in sorted(unsafe) if not p.name.endswith(".fixed.py"))
    write(tmp_path / "unsafe" / "u.py", path.read_text())
    line = on_tty("check", "u.py", cwd=tmp_path / "unsafe", env=clean_env(TERM="xterm", NO_COLOR="1")).text
    assert re.search(r"more with --unsafe-fixes\)\.$", line.splitlines()[-1]), line


def test_progress_only_on_a_terminal_and_only_when_slow(tmp_path: Path) -> None:
    for i in range(12):
        write(tmp_path / f"m{i:02}.py", BUGGY)
    slow = clean_env(TERM="xterm", FLASK_CTX_PROGRESS_DELAY="0", NO_COLOR="1")
    tty = on_tty("check", "-j", "1", ".", cwd=tmp_path, env=slow)
    assert re.search(r"flask-ctx: +\d+/12 files checked", tty.output), tty.output
    assert "\r\x1b[K" in tty.output  # erased: the findings are not mixed with it
    assert not any("files checked" in line for line in tty.output.split("\r\x1b[K")[-1].splitlines())
    # runs shorter than the delay (1 s by default; 60 s here, whatever the machine's load)
    # and pipes never show it
    quick = clean_env(TERM="xterm", FLASK_CTX_PROGRESS_DELAY="60")
    assert "files checked" not in on_tty("check", ".", cwd=tmp_path, env=quick).output
    piped = flask_ctx("check", "-j", "1", ".", cwd=tmp_path, env=clean_env(FLASK_CTX_PROGRESS_DELAY="0"))
    assert "files checked" not in piped.stderr + piped.stdout
    fixing = on_tty("fix", "--diff", "-j", "1", ".", cwd=tmp_path, env=slow)
    assert "files" in fixing.output and "Traceback" not in fixing.output
