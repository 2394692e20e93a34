"""``flask-ctx`` through its real entry points: the console script and ``python -m``.

The reference for what ``check`` reports is flake8 itself running our plugin: same files,
same options, same ``# noqa`` comments, same (path, line, col, code) set.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from support.cli import (
    BUGGY, BUGGY_LINE, CLEAN, CLI_FIXTURE_ARGS, FLASK_CTX, SPAWN, WORKER, codes, flake8, flask_ctx, found, write,
)
from support.marks import ROOT
from flake8_flask_ctx import __version__


# --- what check reports --------------------------------------------------------------

def test_check_matches_flake8_on_all_fixtures(flake8_on_fixtures, cli_on_fixtures) -> None:
    proc = cli_on_fixtures()
    assert proc.returncode == 1 and proc.stderr == ""
    expected = {(path, row, col, code) for path, row, col, code, _ in flake8_on_fixtures
                if not path.startswith(CLI_FIXTURE_ARGS[1])}
    assert found(proc.stdout) == expected
    assert len(expected) > 50
    # one block per file, lines in order, the same order whatever the number of processes
    rows = [(ln.split(":")[0], int(ln.split(":")[1])) for ln in proc.stdout.splitlines()]
    paths = [p for i, (p, _) in enumerate(rows) if i == 0 or rows[i - 1][0] != p]
    assert len(paths) == len(set(paths)) and rows == sorted(rows, key=lambda r: (paths.index(r[0]), r[1]))
    assert proc.stdout == flask_ctx("check", *CLI_FIXTURE_ARGS, "--jobs", "1", module=True).stdout


def test_exit_status_0_when_clean_1_with_findings(tmp_path: Path) -> None:
    clean = write(tmp_path / "clean.py", CLEAN)
    buggy = write(tmp_path / "buggy.py", BUGGY)
    proc = flask_ctx("check", str(clean))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    proc = flask_ctx("check", str(buggy), str(clean))
    assert proc.returncode == 1
    assert [line.split(" ")[:2] for line in proc.stdout.splitlines()] == [
        [f"{buggy}:14:5:", "FCX100"], [f"{buggy}:14:5:", "FCX101"]]


def test_no_path_checks_the_current_directory(tmp_path: Path) -> None:
    """Defect: `flask-ctx check` with no path exited 0 silently; flake8 and ruff check '.'."""
    write(tmp_path / "pkg" / "views.py", BUGGY)
    proc = flask_ctx("check", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert found(proc.stdout) == {("pkg/views.py", BUGGY_LINE, 5, "FCX100"), ("pkg/views.py", BUGGY_LINE, 5, "FCX101")}
    assert found(proc.stdout) == found(flask_ctx("check", ".", cwd=tmp_path).stdout)
    proc = flask_ctx("fix", "--diff", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout.startswith("--- ./pkg/views.py")


def test_nothing_to_check_is_said_not_an_error(tmp_path: Path) -> None:
    """Defect: an empty directory said nothing. It still exits 0 (an empty file list from a
    script is fine), the report is still printed (JSON consumers get []), and stderr says so."""
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    write(empty / "notes.txt", "not python\n")
    for args in (["check"], ["check", str(empty)], ["fix", str(empty)], ["fix", "--diff"],
                 ["check", "--format", "json", str(empty)]):
        proc = flask_ctx(*args, cwd=empty)
        assert proc.returncode == 0, (args, proc.stderr)
        assert proc.stderr.startswith("flask-ctx: warning: no Python files to check in "), (args, proc.stderr)
    assert flask_ctx("check", "--format", "json", str(empty)).stdout.strip() == "[]"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    for args in ([], ["lint", "x.py"], ["check", "--format", "xml", "x.py"],
                 ["check", "--select", "FCX-100", "x.py"], ["check", "--jobs", "0", "x.py"],
                 ["check", "--config", str(tmp_path / "missing.toml"), "x.py"],
                 ["check", "-", "x.py"], ["check", "--stdin-filename", "a.py", "x.py"],
                 ["check", "--statistics", "--format", "sarif", "x.py"],
                 ["check", "--add-noqa", "-"], ["rule"], ["rule", "FCX999"]):
        proc = flask_ctx(*args, cwd=tmp_path)
        assert proc.returncode == 2, args
        assert proc.stderr.strip(), args


def test_version_and_help() -> None:
    for module in (False, True):
        proc = flask_ctx("--version", module=module)
        assert proc.returncode == 0 and __version__ in proc.stdout
    proc = flask_ctx("check", "--help")
    assert proc.returncode == 0
    for text in ("exit status", "--extra-spawners", "--exclude", "--stdin-filename", "--baseline",
                 "--add-noqa", "--statistics", "--show-source", "--output-file", "--color", "--exit-zero"):
        assert text in proc.stdout, text


def test_select_and_ignore_prefixes_work_as_in_flake8(tmp_path: Path) -> None:
    buggy = write(tmp_path / "buggy.py", BUGGY)
    cases = [
        ([], {"FCX100", "FCX101"}),
        (["--select", "FCX101"], {"FCX101"}),
        (["--select", "FCX100,FCX101"], {"FCX100", "FCX101"}),
        (["--ignore", "FCX100"], {"FCX101"}),
        (["--ignore", "FCX1"], set()),
        (["--select", "FCX1", "--ignore", "FCX100"], {"FCX101"}),  # the longer prefix wins
        (["--select", "FCX100", "--ignore", "FCX1"], {"FCX100"}),
        (["--select", "FCX2"], set()),
    ]
    for args, expected in cases:
        proc = flask_ctx("check", str(buggy), *args)
        assert codes(proc) == expected, args
        assert proc.returncode == (1 if expected else 0)
        reference = flake8(*args, str(buggy), select=() if "--select" in args else ("FCX",))
        assert found(reference.stdout) == found(proc.stdout), args
    # extend-select / extend-ignore add to the list
    assert codes(flask_ctx("check", str(buggy), "--select", "FCX100", "--extend-select", "FCX101")) == {
        "FCX100", "FCX101"}
    assert codes(flask_ctx("check", str(buggy), "--extend-ignore", "FCX101")) == {"FCX100"}


def test_noqa_is_honoured_exactly_like_flake8(tmp_path: Path) -> None:
    comments = ["", "  # noqa", "  # noqa: FCX100", "  # noqa:FCX100,FCX101", "  # NOQA: FCX1",
                "  # NoQa:FCX100 FCX101", "  # noqa: fcx100", "  #noqa", "  # noqa : FCX100",
                "  # noqa:  FCX100", "  # noqa: FCX2", "  # noqa: FCX", "  # type: ignore # noqa",
                "  # noqa: FCX100, E501"]
    body = "".join(f"{SPAWN}{comment}\n" for comment in comments)
    body += "    threading.Thread(\n        target=work).start()  # noqa\n"
    body += "    threading.Thread(target=work) \\\n        .start()  # noqa: FCX101\n"
    body += '    threading.Thread(target=work).start(); x = """\n    # noqa\n    """\n'
    path = write(tmp_path / "noqa_cases.py", WORKER + body)
    ours = found(flask_ctx("check", str(path)).stdout)
    theirs = found(flake8(str(path)).stdout)
    assert ours == theirs
    lines = {line for _, line, _, _ in ours}
    assert 14 in lines and 15 not in lines and len(ours) > 6  # some silenced, some not
    # --disable-noqa, as flake8's
    assert found(flask_ctx("check", "--disable-noqa", str(path)).stdout) == found(
        flake8("--disable-noqa", str(path)).stdout)


def test_a_flake8_noqa_line_silences_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "skip.py", "# flake8: noqa\n" + BUGGY)
    assert flask_ctx("check", str(path)).returncode == 0
    assert found(flake8(str(path)).stdout) == set()


# --- bad input: the skipped-file policy ---------------------------------------------------

FLASK_HEADER = b"import threading\nfrom flask import request\nthreading.Thread()\n"


def _bad_tree(root: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Files that cannot be checked: (those that could hold a finding, those that cannot)."""
    flask = {
        "syntax.py": FLASK_HEADER + b"def f(:\n    pass\n",
        "python2.py": FLASK_HEADER + b"print 'hello'\n",
        "latin_no_cookie.py": FLASK_HEADER + b"s = '\xe9'\n",
        "latin_early.py": b"s = '\xe9'\n" + FLASK_HEADER,  # the bad byte in the first two lines
        "deep.py": FLASK_HEADER + b"x = " + b"(" * 5000 + b")" * 5000 + b"\n",
        "nul_flask.py": FLASK_HEADER + b"x = 1\x00\n",
    }
    other = {
        "junk.py": bytes(range(256)) * 8,
        "nul.py": b"x = 1\x00\n",
        "latin_plain.py": b"s = '\xe9'\nprint(s)\n",
        "syntax_plain.py": b"def f(:\n",
    }
    for name, data in {**flask, **other}.items():
        (root / name).write_bytes(data)
    (root / "dangling.py").symlink_to(root / "nowhere.py")
    (root / "loop").symlink_to(root)  # a directory symlink loop
    return flask, other


def test_files_that_cannot_hold_a_finding_never_fail_the_run(tmp_path: Path) -> None:
    """Defect: an undecodable non-Flask file (or a broken symlink met walking a directory)
    made the whole run exit 2. Policy: a file that cannot hold a finding is left to the
    other tools, whatever is wrong with it; walking a directory, a broken symlink is no file."""
    _, other = _bad_tree(tmp_path)
    (tmp_path / "nowhere.py").unlink(missing_ok=True)
    for name in ("syntax.py", "python2.py", "latin_no_cookie.py", "latin_early.py", "deep.py", "nul_flask.py"):
        (tmp_path / name).unlink()
    write(tmp_path / "zz_buggy.py", BUGGY)
    for jobs in ("1", "2"):
        proc = flask_ctx("check", "--jobs", jobs, ".", cwd=tmp_path)
        assert (proc.returncode, proc.stderr) == (1, ""), proc.stderr
        assert codes(proc) == {"FCX100", "FCX101"}
    proc = flask_ctx("check", *other, cwd=tmp_path)  # named explicitly: the same
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    # a broken symlink named explicitly is an error, like a missing file
    proc = flask_ctx("check", "dangling.py", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr == "dangling.py: error: broken symbolic link (its target does not exist)\n"


def test_files_that_could_hold_a_finding_are_errors_and_the_run_goes_on(tmp_path: Path) -> None:
    flask, _ = _bad_tree(tmp_path)
    write(tmp_path / "zz_buggy.py", BUGGY)
    for jobs in ("1", "2"):
        proc = flask_ctx("check", "--jobs", jobs, ".", cwd=tmp_path)
        assert proc.returncode == 2
        errors = proc.stderr.splitlines()
        assert sorted(line.split(":")[0] for line in errors) == sorted(f"./{name}" for name in flask)
        assert all(": error: " in line for line in errors)
        assert codes(proc) == {"FCX100", "FCX101"}  # still checked
    # one wording for text that is not UTF-8, wherever the byte is
    by_name = dict(line.split(": error: ", 1) for line in proc.stderr.splitlines())
    assert by_name["./latin_no_cookie.py"] == ("cannot decode as utf-8: byte 0xe9 on line 4 (not a text "
                                               "file, or it needs a '# -*- coding: ... -*-' line)")
    assert by_name["./latin_early.py"] == by_name["./latin_no_cookie.py"].replace("line 4", "line 1")


def test_fix_never_writes_bad_files(tmp_path: Path) -> None:
    flask, other = _bad_tree(tmp_path)
    for args in (["fix", "."], ["fix", "--diff", "."]):
        proc = flask_ctx(*args, cwd=tmp_path)
        assert proc.returncode == 2
        for name, data in {**flask, **other}.items():
            assert (tmp_path / name).read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*flask, *other, "dangling.py", "loop"])


def test_a_large_file(tmp_path: Path) -> None:
    views = "".join(f'@app.route("/{i}")\ndef view{i}():\n{SPAWN}\n    return "ok"\n\n\n'
                    for i in range(1000))
    path = write(tmp_path / "big.py", WORKER.rsplit("@app.route", 1)[0] + views)
    proc = flask_ctx("check", "--select", "FCX100", str(path))
    assert proc.returncode == 1 and len(proc.stdout.splitlines()) == 1000


def test_missing_paths_are_errors_but_other_paths_are_checked(tmp_path: Path) -> None:
    buggy = write(tmp_path / "buggy.py", BUGGY)
    proc = flask_ctx("check", str(tmp_path / "missing.py"), str(buggy))
    assert proc.returncode == 2
    assert proc.stderr == f"{tmp_path / 'missing.py'}: error: no such file or directory\n"
    assert len(found(proc.stdout)) == 2


def test_a_closed_pipe_ends_quietly() -> None:
    proc = subprocess.run(f"'{FLASK_CTX}' check fixtures | head -n 1", shell=True,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.stdout.count("\n") == 1 and "Error" not in proc.stderr


# --- fix -------------------------------------------------------------------------------

def test_fix_on_a_clean_file_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "clean.py", CLEAN)
    before = path.stat()
    proc = flask_ctx("fix", str(path))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    after = path.stat()
    assert path.read_text() == CLEAN
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_fix_reports_what_is_left_and_diff_writes_nothing(tmp_path: Path) -> None:
    # Only what the fixer cannot (yet) fix is checked here; the fixes have their own tests.
    source = BUGGY.replace("\n", "\r\n")
    path = tmp_path / "buggy.py"
    path.write_bytes(source.encode())
    before = path.stat().st_mtime_ns
    proc = flask_ctx("fix", "--diff", str(path))
    assert path.read_bytes() == source.encode() and path.stat().st_mtime_ns == before
    assert proc.returncode == 1  # findings are in the file as it stands
    assert not proc.stdout.strip() or proc.stdout.startswith(f"--- {path}")
    proc = flask_ctx("fix", str(path))
    assert proc.returncode in (0, 1)
    lines = proc.stdout.splitlines()
    summary = proc.stderr.splitlines()[-1]
    assert re.fullmatch(r"Fixed \d+, \d+ left(; \d+ more with --unsafe-fixes)?", summary)
    left = found("\n".join(ln for ln in lines if " fixed (" not in ln))
    assert (proc.returncode == 1) == bool(left)
    for line in lines:  # PATH:LINE:COL, the column included (it was missing once)
        assert re.fullmatch(rf"{re.escape(str(path))}:\d+:\d+: (FCX\d{{3}} .+|FCX\d{{3}} fixed \((safe|unsafe)\): .+)",
                            line)
    assert found(flask_ctx("check", str(path)).stdout) == left
    assert b"\r\n" in path.read_bytes() and b"\n" not in path.read_bytes().replace(b"\r\n", b"")


def test_fix_prints_the_column_and_json(tmp_path: Path) -> None:
    source = (ROOT / "fixtures" / "autofix" / "fcx100_hoist_closure_local.py").read_text()
    path = write(tmp_path / "app.py", source)
    proc = flask_ctx("fix", "--diff", "app.py", cwd=tmp_path)
    assert re.match(r"app\.py:15:9: FCX100 would fix \(safe\): ", proc.stderr), proc.stderr
    proc = flask_ctx("fix", "--format", "json", "app.py", cwd=tmp_path)
    import json

    record = json.loads(proc.stdout)
    assert record["path"] == "app.py" and record["written"] is True
    assert record["fixed"][0]["line"] == 15 and record["fixed"][0]["column"] == 9
    assert path.read_text() != source


def test_fix_leaves_noqa_findings_alone(tmp_path: Path) -> None:
    source = WORKER + SPAWN + "  # noqa\n"
    path = write(tmp_path / "silenced.py", source)
    proc = flask_ctx("fix", str(path))
    assert (proc.returncode, proc.stdout) == (0, "")
    assert path.read_text() == source


def test_github_and_sarif_give_the_line_of_a_syntax_error(tmp_path: Path) -> None:
    """Defect: the github annotation for a syntax error had no line= although it is known."""
    write(tmp_path / "broken.py", BUGGY + "def f(:\n")
    proc = flask_ctx("check", "--format", "github", "broken.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert re.fullmatch(r"::error file=broken\.py,line=15,col=\d+,title=flask-ctx::syntax error: .+\(line 15\)\n",
                        proc.stdout), proc.stdout
    import json

    log = json.loads(flask_ctx("check", "--format", "sarif", "broken.py", cwd=tmp_path).stdout)
    (note,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["region"]["startLine"] == 15
