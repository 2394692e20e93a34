"""The runtime setting: which Python the code runs on, and whether threads inherit contexts.

``target-python`` (X.Y, or X.Yt for a free-threaded build) and ``thread-inherit-context``
are options of both front ends and keys of ``[tool.flask-ctx]``; without them the target is
the lower bound of ``requires-python``. What they change is asserted on real findings.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_flask_ctx.engine import check_source
from flake8_flask_ctx.options import Options
from flake8_flask_ctx.runtime import Runtime, runtime_of

STALE_POOL = textwrap.dedent("""\
    from concurrent.futures import ThreadPoolExecutor

    from flask import Flask, request

    app = Flask(__name__)
    pool = ThreadPoolExecutor(2)


    def search():
        return request.args.get("q")


    @app.route("/")
    def view():
        return pool.submit(search).result()
    """)

PROCESS = textwrap.dedent("""\
    import multiprocessing

    from flask import Flask, request

    app = Flask(__name__)


    def export():
        print(request.args.get("format"))


    @app.route("/")
    def view():
        multiprocessing.Process(target=export).start()
        return "ok"
    """)


def codes(source: str, options: Options = Options(), path=None) -> list[str]:
    return [f.code for f in check_source(source, options, path=path)]


@pytest.mark.parametrize("value, runtime", [
    ("3.14", Runtime((3, 14), False)),
    ("3.14t", Runtime((3, 14), True)),
    ("3.11", Runtime((3, 11), False)),
])
def test_target_python_values(value: str, runtime: Runtime) -> None:
    assert runtime_of(Options.from_mapping({"target-python": value})) == runtime


@pytest.mark.parametrize("value", ["3", "three", "3.14.1", "3.14x", "3.14,3.13"])
def test_a_bad_target_python_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="target-python"):
        Options.from_mapping({"target-python": value})


def test_inheritance_changes_what_a_pool_reports() -> None:
    assert codes(STALE_POOL) == ["FCX100"]  # today: no request context in the pool's thread
    assert codes(STALE_POOL, Options(thread_inherit_context=True)) == ["FCX204"]  # 3.14t: a stale one
    assert codes(STALE_POOL, Options.from_mapping({"target-python": "3.14t"})) == ["FCX204"]
    assert codes(STALE_POOL, Options.from_mapping({"target-python": "3.14"})) == ["FCX100"]  # the GIL build


def test_requires_python_gives_the_default_target(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nrequires-python = ">=3.14"\n')
    app = tmp_path / "app.py"
    app.write_text(PROCESS)
    [finding] = check_source(PROCESS, Options(no_project=True), path=str(app))
    assert "forkserver" in finding.message  # 3.14's default on Linux: no forked copy
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nrequires-python = ">=3.9,<4"\n')
    from flake8_flask_ctx.runtime import _requires_python

    _requires_python.cache_clear()
    [finding] = check_source(PROCESS, Options(no_project=True), path=str(app))
    assert "under spawn or forkserver" in finding.message  # the default start method is unknown
    assert runtime_of(Options(), str(app)).version == (3, 9)


def _flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", "--select", "FCX", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_flake8_reads_the_setting_from_its_config_and_refuses_a_bad_one(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(STALE_POOL)
    (tmp_path / "setup.cfg").write_text("[flake8]\nfcx-thread-inherit-context = true\n")
    proc = _flake8("app.py", cwd=tmp_path)
    assert "FCX204" in proc.stdout and "FCX100" not in proc.stdout, proc.stdout + proc.stderr
    (tmp_path / "setup.cfg").write_text("[flake8]\nfcx-target-python = 3.14t\n")
    assert "FCX204" in _flake8("app.py", cwd=tmp_path).stdout
    bad = _flake8("--fcx-target-python=3.x", "app.py", cwd=tmp_path)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "target-python" in bad.stderr


def test_the_cli_takes_the_setting_from_flags_and_pyproject(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(STALE_POOL)
    command = [sys.executable, "-m", "flake8_flask_ctx", "check", "app.py"]
    run = lambda *extra: subprocess.run([*command, *extra], capture_output=True, text=True, cwd=tmp_path,  # noqa: E731
                                        timeout=120)
    assert "FCX204" in run("--thread-inherit-context").stdout
    assert "FCX204" in run("--target-python", "3.14t").stdout
    bad = run("--target-python", "fourteen")
    assert bad.returncode == 2 and "target-python" in bad.stderr and "Traceback" not in bad.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.flask-ctx]\ntarget-python = "3.14t"\n')
    assert "FCX204" in run().stdout
