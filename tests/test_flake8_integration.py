"""The plugin through flake8's real command line (``python -m flake8`` in a subprocess).

Each test writes a small Flask module into a temporary directory and runs flake8 there,
so the configuration files flake8 discovers are exactly the ones the test wrote. Every
run asserts that flake8 printed no traceback: the plugin must never break a flake8 run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import libcst as cst
import pytest

from flake8_flask_ctx import __version__

# A worker reads ``request`` with no request context: FCX100, reported on the spawn call.
BUGGY = textwrap.dedent(
    """\
    import threading

    from flask import Flask, request

    app = Flask(__name__)


    def work():
        print(request.args)


    @app.route("/")
    def index():
        threading.Thread(target=work).start()
        return "ok"
    """
)
SPAWN_LINE = 14  # the ``threading.Thread(...)`` line
USE_LINE = 9  # the ``request.args`` line
assert BUGGY.splitlines()[SPAWN_LINE - 1].strip().startswith("threading.Thread(")
assert "request.args" in BUGGY.splitlines()[USE_LINE - 1]

# Same shape, but the worker uses ``current_app``: FCX101 on the spawn call (line 14).
BUGGY_APP = BUGGY.replace("from flask import Flask, request", "from flask import Flask, current_app") \
                 .replace("print(request.args)", "print(current_app.name)")

CLEAN = textwrap.dedent(
    """\
    import threading

    from flask import Flask, request

    app = Flask(__name__)


    def work(args):
        print(args)


    @app.route("/")
    def index():
        threading.Thread(target=work, args=(request.args.to_dict(),)).start()
        return "ok"
    """
)

# A custom spawner: only ``fcx-extra-spawners`` makes it one. The module contains no
# built-in spawn word (no Thread, Pool, spawn...), so the prefilter must learn the word
# from the option too.
CUSTOM_SPAWNER = textwrap.dedent(
    """\
    from flask import Flask, request

    from myapp.tasks import run_later

    app = Flask(__name__)


    def work():
        print(request.args)


    @app.route("/")
    def index():
        run_later(work)
        return "ok"
    """
)
CUSTOM_SPAWNER_LINE = 14
assert "run_later(work)" in CUSTOM_SPAWNER.splitlines()[CUSTOM_SPAWNER_LINE - 1]

# A decorator that gives the worker a request context, unknown to the plugin by default.
CUSTOM_WRAPPER = textwrap.dedent(
    """\
    import threading

    from flask import Flask, request

    from myapp.ctx import with_ctx

    app = Flask(__name__)


    @app.route("/")
    def index():
        @with_ctx
        def work():
            print(request.args)

        threading.Thread(target=work).start()
        return "ok"
    """
)
CUSTOM_WRAPPER_LINE = 16
assert CUSTOM_WRAPPER.splitlines()[CUSTOM_WRAPPER_LINE - 1].strip().startswith("threading.Thread(")

# An extension object that needs an app context, unknown to the plugin by default.
CUSTOM_APP_BOUND = textwrap.dedent(
    """\
    import threading

    from flask import Flask

    from myapp.extensions import cache

    app = Flask(__name__)


    def work():
        return cache.get("key")


    @app.route("/")
    def index():
        threading.Thread(target=work).start()
        return "ok"
    """
)
CUSTOM_APP_BOUND_LINE = 16
assert CUSTOM_APP_BOUND.splitlines()[CUSTOM_APP_BOUND_LINE - 1].strip().startswith("threading.Thread(")

FORMAT = "%(path)s|%(row)d|%(col)d|%(code)s|%(text)s"


def run_flake8(cwd: Path, *args: str, stdin: Optional[str] = None,
               isolated: bool = True) -> subprocess.CompletedProcess:
    """``python -m flake8 ARGS`` in ``cwd``; fails the test on a traceback or a usage error."""
    cmd = [sys.executable, "-m", "flake8"]
    if isolated:
        cmd.append("--isolated")  # ignore any config file, unless the test is about them
    cmd += list(args)
    proc = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr + proc.stdout
    assert proc.returncode in (0, 1), f"flake8 exit {proc.returncode}: {proc.stderr}"
    return proc


def findings(proc: subprocess.CompletedProcess) -> set[tuple[str, int, str]]:
    """``(path, line, code)`` of every reported finding (needs ``--format=FORMAT``)."""
    out = set()
    for line in proc.stdout.splitlines():
        path, row, _col, code, text = line.split("|", 4)
        if code.startswith("FCX"):  # flake8 splits the code off the message; some text must remain
            assert text.strip() and not text.startswith("FCX"), line
        out.add((Path(path).as_posix().removeprefix("./"), int(row), code))
    return out


def check(cwd: Path, *args: str, **kw) -> set[tuple[str, int, str]]:
    proc = run_flake8(cwd, f"--format={FORMAT}", *args, **kw)
    assert (proc.returncode == 1) == bool(proc.stdout.strip()), (proc.returncode, proc.stdout)
    return findings(proc)


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


# --- the plugin is installed and loaded ------------------------------------------------


def test_plugin_listed_in_flake8_version(tmp_path: Path) -> None:
    proc = run_flake8(tmp_path, "--version")
    # flake8 wraps long lines: join them before searching
    assert f"flake8-flask-ctx: {__version__}" in " ".join(proc.stdout.split())


def test_plugin_options_listed_in_flake8_help(tmp_path: Path) -> None:
    proc = run_flake8(tmp_path, "--help")
    for flag in ("--fcx-extra-spawners", "--fcx-context-wrappers", "--fcx-app-bound-names"):
        assert flag in proc.stdout


def test_buggy_module_reports_fcx100_on_the_spawn_line(tmp_path: Path) -> None:
    write(tmp_path, "app.py", BUGGY)
    write(tmp_path, "clean.py", CLEAN)
    assert check(tmp_path, "--select", "FCX", ".") == {("app.py", SPAWN_LINE, "FCX100")}


def test_plugin_enabled_by_default_without_select(tmp_path: Path) -> None:
    write(tmp_path, "app.py", BUGGY)
    assert ("app.py", SPAWN_LINE, "FCX100") in check(tmp_path, "app.py")


# --- noqa ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    [
        ("  # noqa", True),
        ("  # noqa: FCX100", True),
        ("  # noqa:FCX100", True),
        ("  # NOQA: FCX100", True),
        ("  # noqa: E501,FCX100", True),
        ("  # noqa: FCX", True),  # flake8 matches noqa codes as prefixes
        ("  # noqa: E501", False),
        ("  # noqa: FCX101", False),
        ("  # some comment", False),
    ],
)
def test_noqa_on_the_reported_line(tmp_path: Path, comment: str, suppressed: bool) -> None:
    lines = BUGGY.splitlines()
    lines[SPAWN_LINE - 1] += comment
    write(tmp_path, "app.py", "\n".join(lines) + "\n")
    expected = set() if suppressed else {("app.py", SPAWN_LINE, "FCX100")}
    assert check(tmp_path, "--select", "FCX", "app.py") == expected


def test_noqa_on_the_worker_line_does_not_hide_the_spawn_finding(tmp_path: Path) -> None:
    lines = BUGGY.splitlines()
    lines[USE_LINE - 1] += "  # noqa: FCX100"
    write(tmp_path, "app.py", "\n".join(lines) + "\n")
    assert check(tmp_path, "--select", "FCX", "app.py") == {("app.py", SPAWN_LINE, "FCX100")}


def test_disable_noqa_reports_anyway(tmp_path: Path) -> None:
    lines = BUGGY.splitlines()
    lines[SPAWN_LINE - 1] += "  # noqa"
    write(tmp_path, "app.py", "\n".join(lines) + "\n")
    assert check(tmp_path, "--select", "FCX", "--disable-noqa", "app.py") == {("app.py", SPAWN_LINE, "FCX100")}


# --- ignore / per-file-ignores -------------------------------------------------------


@pytest.mark.parametrize("select", [(), ("--select", "FCX")], ids=["default-select", "select-FCX"])
def test_extend_ignore(tmp_path: Path, select: tuple[str, ...]) -> None:
    write(tmp_path, "app.py", BUGGY)
    write(tmp_path, "app2.py", BUGGY_APP)
    base = {("app.py", SPAWN_LINE, "FCX100"), ("app2.py", SPAWN_LINE, "FCX101")}
    assert check(tmp_path, *select, "app.py", "app2.py") == base
    assert check(tmp_path, *select, "--extend-ignore=FCX100", "app.py", "app2.py") == {
        ("app2.py", SPAWN_LINE, "FCX101")}
    assert check(tmp_path, *select, "--extend-ignore=FCX1", "app.py", "app2.py") == set()
    assert check(tmp_path, *select, "--extend-ignore=FCX200", "app.py", "app2.py") == base


def test_per_file_ignores(tmp_path: Path) -> None:
    write(tmp_path, "app.py", BUGGY)
    write(tmp_path, "legacy/old.py", BUGGY)
    write(tmp_path, "legacy/other.py", BUGGY_APP)
    everything = {("app.py", SPAWN_LINE, "FCX100"), ("legacy/old.py", SPAWN_LINE, "FCX100"),
                  ("legacy/other.py", SPAWN_LINE, "FCX101")}
    assert check(tmp_path, "--select", "FCX", ".") == everything
    assert check(tmp_path, "--select", "FCX", "--per-file-ignores=legacy/*:FCX100", ".") == {
        ("app.py", SPAWN_LINE, "FCX100"), ("legacy/other.py", SPAWN_LINE, "FCX101")}
    assert check(tmp_path, "--select", "FCX", "--per-file-ignores=legacy/old.py:FCX", ".") == {
        ("app.py", SPAWN_LINE, "FCX100"), ("legacy/other.py", SPAWN_LINE, "FCX101")}


# --- parallel runs -----------------------------------------------------------------------


def test_jobs_2_gives_the_same_result_as_jobs_1(tmp_path: Path) -> None:
    sources = {f"pkg/mod{i}.py": src for i, src in enumerate(
        [BUGGY, BUGGY_APP, CLEAN, BUGGY, CUSTOM_WRAPPER, CUSTOM_APP_BOUND, BUGGY_APP, CLEAN])}
    for name, src in sources.items():
        write(tmp_path, name, src)
    args = ("--select", "FCX", "--fcx-app-bound-names=cache.get", "pkg")
    serial = run_flake8(tmp_path, f"--format={FORMAT}", "-j", "1", *args)
    parallel = run_flake8(tmp_path, f"--format={FORMAT}", "-j", "2", *args)
    assert findings(serial) == findings(parallel)
    assert sorted(serial.stdout.splitlines()) == sorted(parallel.stdout.splitlines())  # same messages too
    # options reach the worker processes: mod5 is only reported with --fcx-app-bound-names
    assert ("pkg/mod5.py", CUSTOM_APP_BOUND_LINE, "FCX101") in findings(parallel)
    assert len(findings(parallel)) == 6


# --- options from flake8's configuration files -------------------------------------------

CONFIG_FILES = ["setup.cfg", "tox.ini", ".flake8"]


@pytest.mark.parametrize("config_name", CONFIG_FILES)
def test_extra_spawners_from_config_file(tmp_path: Path, config_name: str) -> None:
    write(tmp_path, "views.py", CUSTOM_SPAWNER)
    expected = {("views.py", CUSTOM_SPAWNER_LINE, "FCX100")}
    # without the option, run_later is an ordinary call
    assert check(tmp_path, "--select", "FCX", "views.py", isolated=False) == set()
    write(tmp_path, config_name, "[flake8]\nfcx-extra-spawners = myapp.tasks.run_later\n")
    assert check(tmp_path, "--select", "FCX", "views.py", isolated=False) == expected
    # --isolated ignores the config file again
    assert check(tmp_path, "--select", "FCX", "views.py") == set()


@pytest.mark.parametrize("config_name", CONFIG_FILES)
def test_context_wrappers_from_config_file(tmp_path: Path, config_name: str) -> None:
    write(tmp_path, "views.py", CUSTOM_WRAPPER)
    # without the option, with_ctx is an unknown decorator: the worker has no context
    assert check(tmp_path, "--select", "FCX", "views.py", isolated=False) == {
        ("views.py", CUSTOM_WRAPPER_LINE, "FCX100")}
    write(tmp_path, config_name, "[flake8]\nfcx-context-wrappers = myapp.ctx.with_ctx\n")
    assert check(tmp_path, "--select", "FCX", "views.py", isolated=False) == set()


@pytest.mark.parametrize("config_name", CONFIG_FILES)
def test_app_bound_names_from_config_file(tmp_path: Path, config_name: str) -> None:
    write(tmp_path, "views.py", CUSTOM_APP_BOUND)
    assert check(tmp_path, "--select", "FCX", "views.py", isolated=False) == set()
    write(tmp_path, config_name, "[flake8]\nfcx-app-bound-names = db.session, cache.get\n")
    assert check(tmp_path, "--select", "FCX", "views.py", isolated=False) == {
        ("views.py", CUSTOM_APP_BOUND_LINE, "FCX101")}


def test_all_options_in_one_multiline_config(tmp_path: Path) -> None:
    """The README's config shape, with values on several lines as flake8 users write them."""
    write(tmp_path, "spawner.py", CUSTOM_SPAWNER)
    write(tmp_path, "wrapper.py", CUSTOM_WRAPPER)
    write(tmp_path, "appbound.py", CUSTOM_APP_BOUND)
    write(tmp_path, "app.py", BUGGY)
    write(tmp_path, "tox.ini", textwrap.dedent(
        """\
        [tox]
        envlist = py

        [flake8]
        extend-select = FCX
        select = FCX
        fcx-extra-spawners =
            myapp.tasks.run_later,
            *.defer
        fcx-context-wrappers =
            myapp.ctx.with_ctx
        fcx-app-bound-names =
            db.session,
            cache.get
        per-file-ignores =
            app.py: FCX100
        """))
    assert check(tmp_path, ".", isolated=False) == {
        ("spawner.py", CUSTOM_SPAWNER_LINE, "FCX100"),
        ("appbound.py", CUSTOM_APP_BOUND_LINE, "FCX101"),
    }


def test_cli_flag_overrides_config_file(tmp_path: Path) -> None:
    write(tmp_path, "views.py", CUSTOM_SPAWNER)
    write(tmp_path, "setup.cfg", "[flake8]\nfcx-extra-spawners = myapp.tasks.run_later\n")
    assert check(tmp_path, "--select", "FCX", "--fcx-extra-spawners=other.thing", "views.py",
                 isolated=False) == set()


@pytest.mark.parametrize(
    ("call", "option", "reported"),
    [
        ("run_later(work)", "myapp.tasks.run_later", True),
        ("run_later(work)", "myapp.tasks.*", True),
        ("run_later(work)", "myapp.*.run_later", True),
        ("run_later(work)", "run_later", True),  # matched on the code as written
        ("run_later(work)", "other.run_later", False),
        ("run_later(5, work)", "myapp.tasks.run_later:1", True),  # worker at argument 1
        ("run_later(5, work)", "myapp.tasks.run_later", False),  # argument 0 is not a function
        ("tasks.defer(work)", "*.defer", True),
        ("a.tasks.defer(work)", "*.defer", False),  # README: '*' matches one dotted component
    ],
)
def test_extra_spawner_patterns(tmp_path: Path, call: str, option: str, reported: bool) -> None:
    source = CUSTOM_SPAWNER.replace("run_later(work)", call)
    write(tmp_path, "views.py", source)
    expected = {("views.py", CUSTOM_SPAWNER_LINE, "FCX100")} if reported else set()
    assert check(tmp_path, "--select", "FCX", f"--fcx-extra-spawners={option}", "views.py") == expected


@pytest.mark.parametrize(
    ("use", "pattern", "reported"),
    [
        ("User.query.all()", "*.query", True),
        ("a.b.query.all()", "*.query", False),  # README: '*' matches one dotted component
        ("cache.get('k')", "cache.*", True),
        ("cache.get('k')", "cache", False),
    ],
)
def test_app_bound_name_patterns(tmp_path: Path, use: str, pattern: str, reported: bool) -> None:
    root = use.split(".", 1)[0]
    source = CUSTOM_APP_BOUND.replace("from myapp.extensions import cache",
                                      f"from myapp.extensions import {root}") \
                             .replace('cache.get("key")', use)
    write(tmp_path, "views.py", source)
    expected = {("views.py", CUSTOM_APP_BOUND_LINE, "FCX101")} if reported else set()
    assert check(tmp_path, "--select", "FCX", f"--fcx-app-bound-names={pattern}", "views.py") == expected


def test_default_app_bound_query_in_a_module_without_flask(tmp_path: Path) -> None:
    """``*.query`` is a default app-bound name: a tasks module that never says "flask" but
    runs ``User.query`` in a thread is the classic Flask-SQLAlchemy bug."""
    write(tmp_path, "tasks.py", textwrap.dedent(
        """\
        import threading

        from myapp.models import User


        def work():
            return User.query.all()


        def start():
            threading.Thread(target=work).start()
        """))
    assert check(tmp_path, "--select", "FCX", "tasks.py") == {("tasks.py", 11, "FCX101")}


@pytest.mark.parametrize(
    ("pattern", "suppressed"),
    [
        ("myapp.ctx.with_ctx", True),
        ("with_ctx", True),  # as written
        ("myapp.ctx.*", True),
        ("*.ctx.with_ctx", True),
        ("*.with_ctx", False),  # README: '*' matches one dotted component
        ("other.with_ctx", False),
    ],
)
def test_context_wrapper_patterns(tmp_path: Path, pattern: str, suppressed: bool) -> None:
    write(tmp_path, "views.py", CUSTOM_WRAPPER)
    expected = set() if suppressed else {("views.py", CUSTOM_WRAPPER_LINE, "FCX100")}
    assert check(tmp_path, "--select", "FCX", f"--fcx-context-wrappers={pattern}", "views.py") == expected


# --- output formats and stdin ---------------------------------------------------------------


def test_format_pylint(tmp_path: Path) -> None:
    write(tmp_path, "app.py", BUGGY)
    proc = run_flake8(tmp_path, "--select", "FCX", "--format=pylint", "app.py")
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"app.py:{SPAWN_LINE}: [FCX100] worker work() reads request.args")


def test_default_format_has_line_and_column(tmp_path: Path) -> None:
    write(tmp_path, "app.py", BUGGY)
    proc = run_flake8(tmp_path, "--select", "FCX", "app.py")
    col = BUGGY.splitlines()[SPAWN_LINE - 1].index("threading") + 1  # flake8 prints 1-based columns
    assert proc.stdout.startswith(f"app.py:{SPAWN_LINE}:{col}: FCX100 ")


def test_stdin(tmp_path: Path) -> None:
    assert check(tmp_path, "--select", "FCX", "-", stdin=BUGGY) == {("stdin", SPAWN_LINE, "FCX100")}
    assert check(tmp_path, "--select", "FCX", "-", stdin=CLEAN) == set()


def test_stdin_display_name_and_per_file_ignores(tmp_path: Path) -> None:
    assert check(tmp_path, "--select", "FCX", "--stdin-display-name=web/views.py", "-", stdin=BUGGY) == {
        ("web/views.py", SPAWN_LINE, "FCX100")}
    assert check(tmp_path, "--select", "FCX", "--stdin-display-name=web/views.py",
                 "--per-file-ignores=web/*:FCX100", "-", stdin=BUGGY) == set()


def test_stdin_reads_options_from_config(tmp_path: Path) -> None:
    write(tmp_path, ".flake8", "[flake8]\nfcx-extra-spawners = myapp.tasks.run_later\n")
    assert check(tmp_path, "--select", "FCX", "-", stdin=CUSTOM_SPAWNER, isolated=False) == {
        ("stdin", CUSTOM_SPAWNER_LINE, "FCX100")}


# --- how the file is encoded ---------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda s: s.encode("utf-8"), id="utf-8"),
        pytest.param(lambda s: b"\xef\xbb\xbf" + s.encode("utf-8"), id="utf-8-bom"),
        pytest.param(lambda s: s.replace("\n", "\r\n").encode("utf-8"), id="crlf"),
        pytest.param(lambda s: s.replace("\n", "\r").encode("utf-8"), id="cr-only"),
        pytest.param(lambda s: ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + s).encode("latin-1"),
                     id="latin-1-cookie"),
        pytest.param(lambda s: s.rstrip("\n").encode("utf-8"), id="no-final-newline"),
    ],
)
def test_encodings_and_newlines(tmp_path: Path, encode) -> None:
    data = encode(BUGGY)
    (tmp_path / "app.py").write_bytes(data)
    offset = 2 if b"coding: latin-1" in data else 0
    assert ("app.py", SPAWN_LINE + offset, "FCX100") in check(tmp_path, "--select", "FCX,E9", "app.py")


# --- files the plugin cannot analyse ---------------------------------------------------------

# ``ast`` accepts a parenthesised annotated name (``(x): int``), libcst rejects it
# (found by the stdlib crawl: test/typinganndata/ann_module.py, test/test_grammar.py).
LIBCST_REJECTS = BUGGY.replace("app = Flask(__name__)\n", "app = Flask(__name__)\n(pars): bool = True\n")


def test_file_ast_accepts_but_libcst_rejects(tmp_path: Path) -> None:
    ast.parse(LIBCST_REJECTS)  # flake8 can parse it: no E999
    try:
        cst.parse_module(LIBCST_REJECTS)
    except cst.ParserSyntaxError:
        pass
    else:
        pytest.skip("this libcst version parses '(x): int'; find another construct it rejects")
    write(tmp_path, "weird.py", LIBCST_REJECTS)
    write(tmp_path, "app.py", BUGGY)
    # no traceback, no crash; the other file is still analysed in the same run
    result = check(tmp_path, "--select", "FCX,E9", ".")
    assert result == {("app.py", SPAWN_LINE, "FCX100")}
    assert check(tmp_path, "--select", "FCX,E9", "-j", "2", ".") == result
    # and nothing at all with flake8's default checks on top: weird.py is valid Python
    assert not {r for r in check(tmp_path, "weird.py") if r[2].startswith(("E9", "FCX"))}


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param("def index(:\n    pass\n", id="invalid-syntax"),
        pytest.param("print 'hello'\n", id="python2-print"),
        pytest.param("def f():\n\tif x:\n        pass\n", id="inconsistent-indent"),
        pytest.param("x = (\n", id="unclosed-paren"),
    ],
)
def test_syntax_error_reports_e999_only(tmp_path: Path, broken: str) -> None:
    # keeps every prefilter word, so the plugin would analyse the file if flake8 let it
    write(tmp_path, "bad.py", BUGGY + broken)
    write(tmp_path, "app.py", BUGGY)
    result = check(tmp_path, "bad.py", "app.py")
    bad = {r for r in result if r[0] == "bad.py"}
    assert len(bad) == 1 and next(iter(bad))[2] == "E999", result
    assert ("app.py", SPAWN_LINE, "FCX100") in result
    selected = check(tmp_path, "--select", "FCX,E999", "-j", "2", "bad.py", "app.py")
    assert selected == bad | {("app.py", SPAWN_LINE, "FCX100")}


def test_empty_and_comment_only_files(tmp_path: Path) -> None:
    write(tmp_path, "empty.py", "")
    write(tmp_path, "comment.py", "# flask Thread request\n")
    write(tmp_path, "blank.py", "\n\n\n")
    assert check(tmp_path, "--select", "FCX,E9", ".") == set()


# --- [tool.flask-ctx] in pyproject.toml: one configuration for both front ends ---------------


def test_options_from_pyproject_reach_the_jobs_2_workers(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, "pyproject.toml", '[tool.flask-ctx]\nextra-spawners = ["myapp.tasks.run_later"]\n'
                                      'app-bound-names = ["cache.get"]\n')
    for i in range(4):
        write(tmp_path, f"pkg/spawner{i}.py", CUSTOM_SPAWNER)
        write(tmp_path, f"pkg/bound{i}.py", CUSTOM_APP_BOUND)
    for jobs in ("1", "2"):
        found = check(tmp_path, "--select", "FCX", "-j", jobs, "pkg", isolated=False)
        assert {(p.split("/")[1][:5], line, code) for p, line, code in found} == {
            ("spawn", CUSTOM_SPAWNER_LINE, "FCX100"), ("bound", CUSTOM_APP_BOUND_LINE, "FCX101")}
        assert len(found) == 8
    # --isolated: no configuration file, ours included
    assert check(tmp_path, "--select", "FCX", "--isolated", "pkg", isolated=False) == set()


def test_a_flake8_run_over_files_without_flask_thread_code_never_imports_libcst(tmp_path: Path) -> None:
    """Registering the options, parsing them and checking a file the prefilter rules out
    (the cheap path) cost no libcst import (about a quarter of a second)."""
    (tmp_path / "plain.py").write_text("import os\n\nprint(os.getcwd())\n")
    probe = ("import sys\nfrom flake8.main.cli import main\n"
             "try:\n    main(['--isolated', '--select', 'FCX', 'plain.py'])\n"
             "except SystemExit:\n    pass\n"
             "print('libcst imported:', 'libcst' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip().endswith("libcst imported: False"), (proc.stdout, proc.stderr)
