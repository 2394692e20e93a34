"""Configuration through the real command lines: one source of truth for ``flask-ctx`` and
flake8, codes checked against the registry, file selection (``exclude``,
``per-file-ignores``) in flags and in ``[tool.flask-ctx]``."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.cli import BUGGY, BUGGY_LINE, CLEAN, WORKER, codes, flake8, flask_ctx, found, write

# only --extra-spawners / fcx-extra-spawners makes tasks.defer a spawner
DEFERRED = WORKER.replace("import threading\n", "from myapp import tasks\n") + "    tasks.defer(work)\n"
DEFERRED_LINE = BUGGY_LINE


def project(root: Path, **files: str) -> Path:
    """A repository (its root holds .git, so no configuration above it is read)."""
    (root / ".git").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        write(root / name.replace("__", "/"), text)
    return root


def fcx(proc) -> set[tuple[str, int, str]]:
    return {(path, line, code) for path, line, _, code in found(proc.stdout)}


# --- one source of truth ----------------------------------------------------------------------

@pytest.mark.parametrize("config_name", ["setup.cfg", "tox.ini", ".flake8"])
def test_the_cli_reads_the_plugins_flake8_options(tmp_path: Path, config_name: str) -> None:
    """Defect: a finding flake8 reported (thanks to [flake8] fcx-extra-spawners) was missed
    by flask-ctx check, which ignored setup.cfg."""
    root = project(tmp_path, **{"views.py": DEFERRED,
                                config_name: "[flake8]\nfcx-extra-spawners =\n    *.defer\n    other.run\n"})
    via_flake8 = fcx(flake8("views.py", cwd=root, isolated=False))
    via_cli = fcx(flask_ctx("check", "views.py", cwd=root))
    assert via_cli == via_flake8 == {("views.py", DEFERRED_LINE, "FCX100"), ("views.py", DEFERRED_LINE, "FCX101")}
    assert fcx(flask_ctx("check", "--isolated", "views.py", cwd=root)) == set()


def test_flake8_reads_tool_flask_ctx(tmp_path: Path) -> None:
    """Defect: flake8 ignored [tool.flask-ctx]."""
    root = project(tmp_path, **{"views.py": DEFERRED,
                                "pyproject.toml": '[tool.flask-ctx]\nextra-spawners = ["*.defer"]\n'})
    expected = {("views.py", DEFERRED_LINE, "FCX100"), ("views.py", DEFERRED_LINE, "FCX101")}
    assert fcx(flake8("views.py", cwd=root, isolated=False)) == expected
    assert fcx(flask_ctx("check", "views.py", cwd=root)) == expected
    # flake8 --isolated reads no configuration at all, ours included
    assert fcx(flake8("views.py", cwd=root, isolated=True)) == set()


def test_which_one_wins_is_the_same_in_both_front_ends(tmp_path: Path) -> None:
    """command line > [tool.flask-ctx] > [flake8] > default, in flake8 and in flask-ctx."""
    both = DEFERRED.replace("    tasks.defer(work)\n", "    tasks.defer(work)\n    tasks.later(work)\n")
    root = project(tmp_path, **{
        "views.py": both,
        "setup.cfg": "[flake8]\nfcx-extra-spawners = *.later\n",
        "pyproject.toml": '[tool.flask-ctx]\nextra-spawners = ["*.defer"]\n',
    })
    defer, later = DEFERRED_LINE, DEFERRED_LINE + 1
    lines = lambda proc: {line for _, line, code in fcx(proc) if code == "FCX100"}  # noqa: E731
    # [tool.flask-ctx] wins over [flake8]
    assert lines(flask_ctx("check", "views.py", cwd=root)) == {defer}
    assert lines(flake8("views.py", cwd=root, isolated=False)) == {defer}
    # a flag wins over both
    assert lines(flask_ctx("check", "--extra-spawners", "*.later", "views.py", cwd=root)) == {later}
    assert lines(flake8("--fcx-extra-spawners=*.later,*.defer", "views.py", cwd=root, isolated=False)) == {defer, later}
    assert lines(flake8("--fcx-extra-spawners=*.later", "views.py", cwd=root, isolated=False)) == {later}
    # without [tool.flask-ctx], [flake8] is what both read
    (root / "pyproject.toml").unlink()
    assert lines(flask_ctx("check", "views.py", cwd=root)) == {later}
    assert lines(flake8("views.py", cwd=root, isolated=False)) == {later}


def test_pyproject_config_is_found_upward_and_flags_replace_it(tmp_path: Path) -> None:
    root = project(tmp_path / "project", **{"pkg__views.py": DEFERRED, "pyproject.toml":
                   '[project]\nname = "x"\n\n[tool.flask-ctx]\nextra-spawners = ["*.defer"]\nignore = "FCX101"\n'})
    pkg = root / "pkg"
    assert codes(flask_ctx("check", "views.py", cwd=pkg)) == {"FCX100"}
    assert codes(flask_ctx("check", "views.py", "--ignore", "FCX100", cwd=pkg)) == {"FCX101"}
    assert codes(flask_ctx("check", "views.py", "--extra-spawners", "other.run", cwd=pkg)) == set()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert codes(flask_ctx("check", str(pkg / "views.py"), "--config", str(root / "pyproject.toml"),
                           cwd=elsewhere)) == {"FCX100"}
    # the search stops at the repository root, and a table-less pyproject.toml is passed over
    write(tmp_path / "pyproject.toml", '[tool.flask-ctx]\nselect = ["FCX2"]\n')
    nested = write(root / "sub" / "pyproject.toml", '[project]\nname = "sub"\n')
    assert codes(flask_ctx("check", str(pkg / "views.py"), cwd=nested.parent)) == {"FCX100"}


@pytest.mark.parametrize("content, message", [
    ('[tool.flask-ctx]\nselct = ["FCX1"]\n', "unknown key 'selct'"),
    ("[tool.flask-ctx\n", "invalid TOML"),
    ("[tool.flask-ctx]\nignore = 3\n", "list of strings"),
    ('[tool.flask-ctx]\nselect = ["fcx1"]\n', "codes are upper case"),
    ('[tool.flask-ctx]\nselect = ["XYZ"]\n', "not a flask-ctx code"),
    ('[tool.flask-ctx]\nselect = ["FCX999"]\n', "matches no flask-ctx rule"),
    ("[tool.flask-ctx]\nselect = []\n", "select is empty"),
    ('[tool.flask-ctx]\nper-file-ignores = {"tests/*" = ["FCX9"]}\n', "matches no flask-ctx rule"),
    ('[tool.flask-ctx]\nforce-exclude = "yes"\n', "true or false"),
])
def test_bad_configuration_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    root = project(tmp_path, **{"pyproject.toml": content, "a.py": CLEAN})
    proc = flask_ctx("check", "a.py", cwd=root)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_bad_tool_flask_ctx_table_stops_flake8_too(tmp_path: Path) -> None:
    root = project(tmp_path, **{"pyproject.toml": '[tool.flask-ctx]\nextra-spawner = ["*.defer"]\n', "a.py": CLEAN})
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "flake8", "a.py"], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 1 and "unknown key 'extra-spawner'" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_an_unknown_fcx_key_in_flake8_config_is_an_error(tmp_path: Path) -> None:
    root = project(tmp_path, **{"setup.cfg": "[flake8]\nfcx-extra-spawner = *.defer\n", "a.py": CLEAN})
    proc = flask_ctx("check", "a.py", cwd=root)
    assert proc.returncode == 2 and "unknown key 'fcx-extra-spawner'" in proc.stderr


# --- codes --------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--select", "FCX999"], "'FCX999' matches no flask-ctx rule"),
    (["--select", "E501"], "'E501' is not a flask-ctx code"),
    (["--select", "fcx100"], "codes are upper case, as in flake8 (did you mean FCX100?)"),
    (["--select", ""], "--select is empty"),
    (["--select", ","], "--select is empty"),
    (["--ignore", "FCX7"], "'FCX7' matches no flask-ctx rule"),
    (["--extend-select", "W"], "'W' is not a flask-ctx code"),
    (["--per-file-ignores", "a.py:FCX999"], "'FCX999' matches no flask-ctx rule"),
    (["--per-file-ignores", "a.py"], "PATTERN:CODES"),
])
def test_unknown_codes_are_errors_not_filters(tmp_path: Path, args: list[str], message: str) -> None:
    """Defect: --select FCX999, --select E501 and select = ["XYZ"] all checked nothing and
    exited 0; --select "" selected nothing while select = [] selected everything."""
    write(tmp_path / "a.py", BUGGY)
    proc = flask_ctx("check", *args, "a.py", cwd=tmp_path)
    assert proc.returncode == 2, (args, proc.stdout)
    assert proc.stderr.startswith("flask-ctx: error: ") and message in proc.stderr, proc.stderr
    assert proc.stdout == ""


def test_an_empty_ignore_ignores_nothing(tmp_path: Path) -> None:
    root = project(tmp_path, **{"a.py": BUGGY, "pyproject.toml": "[tool.flask-ctx]\nignore = []\n"})
    assert codes(flask_ctx("check", "a.py", cwd=root)) == {"FCX100", "FCX101"}
    assert codes(flask_ctx("check", "--ignore", "", "a.py", cwd=root)) == {"FCX100", "FCX101"}


# --- exclude -------------------------------------------------------------------------------------

def test_exclude_and_extend_exclude(tmp_path: Path) -> None:
    root = project(tmp_path, **{"app.py": BUGGY, "migrations__m1.py": BUGGY, "legacy__old.py": BUGGY,
                                "legacy__keep.py": BUGGY, ".hidden__h.py": BUGGY, "venv__v.py": BUGGY})
    paths = lambda proc: {path for path, *_ in found(proc.stdout)}  # noqa: E731
    assert paths(flask_ctx("check", cwd=root)) == {"app.py", "migrations/m1.py", "legacy/old.py", "legacy/keep.py"}
    assert paths(flask_ctx("check", "--extend-exclude", "migrations,legacy/old.py", cwd=root)) == {
        "app.py", "legacy/keep.py"}
    # --exclude replaces the defaults (hidden directories and venv come back)
    assert paths(flask_ctx("check", "--exclude", "migrations", cwd=root)) == {
        "app.py", "legacy/old.py", "legacy/keep.py", ".hidden/h.py", "venv/v.py"}
    # from [tool.flask-ctx], relative to its directory, whatever the working directory
    write(root / "pyproject.toml", '[tool.flask-ctx]\nextend-exclude = ["legacy/old.py", "m*"]\n')
    assert paths(flask_ctx("check", cwd=root)) == {"app.py", "legacy/keep.py"}
    assert paths(flask_ctx("check", ".", cwd=root / "legacy")) == {"keep.py"}


def test_named_files_are_excluded_only_with_force_exclude(tmp_path: Path) -> None:
    """As in ruff: a file named on the command line is checked, unless --force-exclude (which
    the pre-commit hooks pass, since pre-commit names every staged file)."""
    root = project(tmp_path, **{"app.py": BUGGY, "migrations__m1.py": BUGGY,
                                "pyproject.toml": '[tool.flask-ctx]\nextend-exclude = ["migrations"]\n'})
    named = ["app.py", "migrations/m1.py"]
    assert {p for p, *_ in found(flask_ctx("check", *named, cwd=root).stdout)} == set(named)
    assert {p for p, *_ in found(flask_ctx("check", "--force-exclude", *named, cwd=root).stdout)} == {"app.py"}
    write(root / "pyproject.toml", '[tool.flask-ctx]\nextend-exclude = ["migrations"]\nforce-exclude = true\n')
    assert {p for p, *_ in found(flask_ctx("check", *named, cwd=root).stdout)} == {"app.py"}
    proc = flask_ctx("check", "migrations/m1.py", cwd=root)
    assert proc.returncode == 0 and "no Python files to check" in proc.stderr


# --- per-file-ignores ----------------------------------------------------------------------------

def test_per_file_ignores_in_flags_and_config(tmp_path: Path) -> None:
    root = project(tmp_path, **{"app.py": BUGGY, "legacy__old.py": BUGGY, "legacy__deep__older.py": BUGGY,
                                "tests__test_app.py": BUGGY})
    everything = fcx(flask_ctx("check", cwd=root))
    assert len(everything) == 8
    # flake8's syntax, as flake8 reads it: the same findings
    for value in ("legacy/*:FCX100", "legacy/old.py:FCX tests/*:FCX101", "*/older.py:FCX1,FCX2"):
        ours = fcx(flask_ctx("check", "--per-file-ignores", value, cwd=root))
        theirs = fcx(flake8("--per-file-ignores", value, ".", cwd=root))
        assert ours == theirs != everything, value
    # [tool.flask-ctx], ruff's table form; a directory name covers what is below it
    write(root / "pyproject.toml", '[tool.flask-ctx.per-file-ignores]\n"legacy" = ["FCX1"]\n'
                                   '"test_*.py" = ["FCX101"]\n')
    assert fcx(flask_ctx("check", cwd=root)) == {
        ("app.py", BUGGY_LINE, "FCX100"), ("app.py", BUGGY_LINE, "FCX101"),
        ("tests/test_app.py", BUGGY_LINE, "FCX100")}
    # the flag replaces the table, --extend-per-file-ignores adds to it
    assert len(fcx(flask_ctx("check", "--per-file-ignores", "app.py:FCX101", cwd=root))) == 7
    assert fcx(flask_ctx("check", "--extend-per-file-ignores", "app.py:FCX101", cwd=root)) == {
        ("app.py", BUGGY_LINE, "FCX100"), ("tests/test_app.py", BUGGY_LINE, "FCX100")}
