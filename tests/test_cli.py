"""``flask-ctx`` through its real entry points: the console script and ``python -m``.

The reference for what ``check`` reports is flake8 itself running our plugin: same files,
same options, same ``# noqa`` comments, same (path, line, col, code) set.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support.marks import ROOT
from flake8_flask_ctx import __version__

# the installed console script of the environment running the tests (.venv in CI)
PYTHON = sys.executable
FLASK_CTX = str(Path(sys.executable).with_name("flask-ctx"))
if not Path(FLASK_CTX).exists():
    FLASK_CTX = str(ROOT / ".venv" / "bin" / "flask-ctx")

WORKER = '''\
import threading

from flask import Flask, current_app, request

app = Flask(__name__)


def work():
    print(request.args, current_app.config)


@app.route("/")
def view():
'''
SPAWN = "    threading.Thread(target=work).start()"
CLEAN = "from flask import Flask\n\napp = Flask(__name__)\n"


def flask_ctx(*args: str, cwd: Path = ROOT, module: bool = False) -> subprocess.CompletedProcess:
    command = [PYTHON, "-m", "flake8_flask_ctx"] if module else [FLASK_CTX]
    proc = subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def flake8(*args: str, cwd: Path = ROOT, select=("FCX",)) -> subprocess.CompletedProcess:
    select_args = ["--select", ",".join(select)] if select else []
    proc = subprocess.run([PYTHON, "-m", "flake8", "--isolated", *select_args,
                           "--format=%(path)s:%(row)d:%(col)d: %(code)s", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return proc


def found(stdout: str) -> set[tuple[str, int, int, str]]:
    """(path, line, col, code) of ``path:line:col: CODE ...`` lines."""
    out = set()
    for line in stdout.splitlines():
        path, row, col, rest = line.split(":", 3)
        out.add((os.path.normpath(path), int(row), int(col), rest.split()[0]))
    return out


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- what check reports --------------------------------------------------------------

@pytest.mark.parametrize("module, jobs", [(False, None), (True, "1")], ids=["script", "module-j1"])
def test_check_matches_flake8_on_all_fixtures(module: bool, jobs) -> None:
    args = ["check", "fixtures"] + (["--jobs", jobs] if jobs else [])
    proc = flask_ctx(*args, module=module)
    assert proc.returncode == 1 and proc.stderr == ""
    expected = found(flake8("fixtures").stdout)
    assert found(proc.stdout) == expected
    assert len(expected) > 50
    # one block per file, lines in order, the same order whatever the number of processes
    rows = [(ln.split(":")[0], int(ln.split(":")[1])) for ln in proc.stdout.splitlines()]
    paths = [p for i, (p, _) in enumerate(rows) if i == 0 or rows[i - 1][0] != p]
    assert len(paths) == len(set(paths)) and rows == sorted(rows, key=lambda r: (paths.index(r[0]), r[1]))
    assert proc.stdout == flask_ctx("check", "fixtures", "--jobs", "2").stdout


def test_exit_status_0_when_clean_1_with_findings(tmp_path: Path) -> None:
    clean = write(tmp_path / "clean.py", CLEAN)
    buggy = write(tmp_path / "buggy.py", WORKER + SPAWN + "\n")
    proc = flask_ctx("check", str(clean))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    proc = flask_ctx("check", str(buggy), str(clean))
    assert proc.returncode == 1
    assert [line.split(" ")[:2] for line in proc.stdout.splitlines()] == [
        [f"{buggy}:14:5:", "FCX100"], [f"{buggy}:14:5:", "FCX101"]]


def test_empty_inputs_are_not_errors(tmp_path: Path) -> None:
    for args in (["check"], ["check", str(tmp_path)], ["fix", str(tmp_path)],
                 ["fix", "--diff"], ["check", "--format", "json", str(tmp_path)]):
        proc = flask_ctx(*args, cwd=tmp_path)
        assert proc.returncode == 0, (args, proc.stderr)
        assert proc.stderr == ""
    assert flask_ctx("check", "--format", "json", str(tmp_path)).stdout.strip() == "[]"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    for args in ([], ["lint", "x.py"], ["check", "--format", "xml", "x.py"],
                 ["check", "--select", "FCX-100", "x.py"], ["check", "--jobs", "0", "x.py"],
                 ["check", "--config", str(tmp_path / "missing.toml"), "x.py"]):
        proc = flask_ctx(*args, cwd=tmp_path)
        assert proc.returncode == 2, args
        assert proc.stderr.strip(), args


def test_version_and_help() -> None:
    for module in (False, True):
        proc = flask_ctx("--version", module=module)
        assert proc.returncode == 0 and __version__ in proc.stdout
    proc = flask_ctx("check", "--help")
    assert proc.returncode == 0
    assert "exit status" in proc.stdout and "--extra-spawners" in proc.stdout


def test_select_and_ignore_prefixes_work_as_in_flake8(tmp_path: Path) -> None:
    buggy = write(tmp_path / "buggy.py", WORKER + SPAWN + "\n")
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
    for args, codes in cases:
        proc = flask_ctx("check", str(buggy), *args)
        assert {c for *_, c in found(proc.stdout)} == codes, args
        assert proc.returncode == (1 if codes else 0)
        reference = flake8(*args, str(buggy), select=() if "--select" in args else ("FCX",))
        assert found(reference.stdout) == found(proc.stdout), args


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


def test_a_flake8_noqa_line_silences_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "skip.py", "# flake8: noqa\n" + WORKER + SPAWN + "\n")
    assert flask_ctx("check", str(path)).returncode == 0
    assert found(flake8(str(path)).stdout) == set()


def test_plugin_options_and_pyproject_config(tmp_path: Path) -> None:
    source = WORKER.replace("import threading\n", "from myapp import tasks\n") + "    tasks.defer(work)\n"
    project = tmp_path / "project"
    path = write(project / "pkg" / "views.py", source)
    assert flask_ctx("check", str(path), cwd=project).returncode == 0
    assert found(flask_ctx("check", str(path), "--extra-spawners", "*.defer").stdout) == \
        found(flake8(str(path), "--fcx-extra-spawners=*.defer").stdout) != set()

    write(project / "pyproject.toml", '[project]\nname = "x"\n\n[tool.flask-ctx]\n'
                                      'extra-spawners = ["*.defer"]\nignore = "FCX101"\n')
    (project / ".git").mkdir()
    codes = lambda proc: {c for *_, c in found(proc.stdout)}  # noqa: E731
    # found from a subdirectory, searching upward
    assert codes(flask_ctx("check", "views.py", cwd=project / "pkg")) == {"FCX100"}
    # command-line flags replace the configured value
    assert codes(flask_ctx("check", "views.py", "--ignore", "FCX100", cwd=project / "pkg")) == {"FCX101"}
    assert codes(flask_ctx("check", "views.py", "--extra-spawners", "other.run",
                           cwd=project / "pkg")) == set()
    # --config points anywhere; the search stops at the repository root
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert codes(flask_ctx("check", str(path), "--config", str(project / "pyproject.toml"),
                           cwd=elsewhere)) == {"FCX100"}
    write(tmp_path / "pyproject.toml", '[tool.flask-ctx]\nselect = ["FCX2"]\n')
    nested = write(project / "sub" / "pyproject.toml", '[project]\nname = "sub"\n')
    assert codes(flask_ctx("check", str(path), cwd=nested.parent)) == {"FCX100"}


@pytest.mark.parametrize("content, message", [
    ('[tool.flask-ctx]\nselct = ["FCX1"]\n', "unknown key 'selct'"),
    ("[tool.flask-ctx\n", "invalid TOML"),
    ("[tool.flask-ctx]\nignore = 3\n", "list of strings"),
    ('[tool.flask-ctx]\nselect = ["fcx1"]\n', "not a code prefix"),
])
def test_bad_configuration_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    write(tmp_path / "pyproject.toml", content)
    write(tmp_path / "a.py", CLEAN)
    proc = flask_ctx("check", "a.py", cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# --- bad input -------------------------------------------------------------------------

def _bad_tree(root: Path) -> dict[str, bytes]:
    header = b"import threading\nfrom flask import request\nthreading.Thread()\n"
    files = {
        "syntax.py": header + b"def f(:\n    pass\n",
        "python2.py": header + b"print 'hello'\n",
        "junk.py": bytes(range(256)) * 8,
        "nul.py": b"x = 1\x00\n",
        "latin_no_cookie.py": header + b"s = '\xe9'\n",
        "deep.py": header + b"x = " + b"(" * 5000 + b")" * 5000 + b"\n",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    (root / "dangling.py").symlink_to(root / "nowhere.py")
    (root / "loop").symlink_to(root)  # a directory symlink loop
    return files


def test_bad_files_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    files = _bad_tree(tmp_path)
    write(tmp_path / "zz_buggy.py", WORKER + SPAWN + "\n")
    for jobs in ("1", "2"):
        proc = flask_ctx("check", "--jobs", jobs, ".", cwd=tmp_path)
        assert proc.returncode == 2
        errors = proc.stderr.splitlines()
        assert sorted(line.split(":")[0] for line in errors) == sorted(
            f"./{name}" for name in [*files, "dangling.py"])
        assert all(": error: " in line for line in errors)
        assert {c for *_, c in found(proc.stdout)} == {"FCX100", "FCX101"}  # still checked


def test_fix_never_writes_bad_files(tmp_path: Path) -> None:
    files = _bad_tree(tmp_path)
    for args in (["fix", "."], ["fix", "--diff", "."]):
        proc = flask_ctx(*args, cwd=tmp_path)
        assert proc.returncode == 2
        for name, data in files.items():
            assert (tmp_path / name).read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*files, "dangling.py", "loop"])


def test_a_large_file(tmp_path: Path) -> None:
    views = "".join(f'@app.route("/{i}")\ndef view{i}():\n{SPAWN}\n    return "ok"\n\n\n'
                    for i in range(1000))
    path = write(tmp_path / "big.py", WORKER.rsplit("@app.route", 1)[0] + views)
    proc = flask_ctx("check", "--select", "FCX100", str(path))
    assert proc.returncode == 1 and len(proc.stdout.splitlines()) == 1000


def test_missing_paths_are_errors_but_other_paths_are_checked(tmp_path: Path) -> None:
    buggy = write(tmp_path / "buggy.py", WORKER + SPAWN + "\n")
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
    source = (WORKER + SPAWN + "\n").replace("\n", "\r\n")
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
    for line in lines:
        assert re.fullmatch(rf"{re.escape(str(path))}:\d+:\d+: (FCX\d{{3}} .+|FCX\d{{3}} fixed \((safe|unsafe)\): .+)",
                            line)
    assert found(flask_ctx("check", str(path)).stdout) == left
    assert b"\r\n" in path.read_bytes() and b"\n" not in path.read_bytes().replace(b"\r\n", b"")


def test_fix_leaves_noqa_findings_alone(tmp_path: Path) -> None:
    source = WORKER + SPAWN + "  # noqa\n"
    path = write(tmp_path / "silenced.py", source)
    proc = flask_ctx("fix", str(path))
    assert (proc.returncode, proc.stdout) == (0, "")
    assert path.read_text() == source
