"""Running the real command lines: ``flask-ctx`` (console script or ``python -m``), flake8,
and either of them on a pseudo-terminal (for what only a terminal gets: colour, the
closing summary, progress).

The session-wide runs over ``fixtures/`` (one flake8 run, one ``flask-ctx check`` per
format) live in ``tests/conftest.py`` and are shared by every module that compares them.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from .marks import FIXTURES, INHERIT, ROOT

PYTHON = sys.executable
# the installed console script of the environment running the tests (.venv in CI)
FLASK_CTX = str(Path(sys.executable).with_name("flask-ctx"))
if not Path(FLASK_CTX).exists():
    FLASK_CTX = str(ROOT / ".venv" / "bin" / "flask-ctx")
# ``flask-ctx check`` over fixtures/, from the root: fixtures/inherit/ needs the 3.14 setting
CLI_FIXTURE_ARGS = ("--extend-exclude", str(INHERIT.relative_to(ROOT)), str(FIXTURES.relative_to(ROOT)))

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
BUGGY = WORKER + SPAWN + "\n"  # FCX100 and FCX101 on line 14, column 5
BUGGY_LINE = 14
CLEAN = "from flask import Flask\n\napp = Flask(__name__)\n"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without what would change the output (colour, progress)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "FLASK_CTX_PROGRESS_DELAY")}
    env.update(extra)
    return env


def flask_ctx(*args: str, cwd: Path = ROOT, module: bool = False, stdin: Optional[str] = None,
              env: Optional[Mapping[str, str]] = None, timeout: int = 300) -> subprocess.CompletedProcess:
    command = [PYTHON, "-m", "flake8_flask_ctx"] if module else [FLASK_CTX]
    proc = subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          input=stdin, env=dict(env) if env is not None else clean_env())
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def flake8(*args: str, cwd: Path = ROOT, select=("FCX",), isolated: bool = True,
           stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    select_args = ["--select", ",".join(select)] if select else []
    proc = subprocess.run([PYTHON, "-m", "flake8", *(["--isolated"] if isolated else []), *select_args,
                           "--format=%(path)s:%(row)d:%(col)d: %(code)s", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300, input=stdin)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def found(stdout: str) -> set[tuple[str, int, int, str]]:
    """(path, line, col, code) of ``path:line:col: CODE ...`` lines."""
    out = set()
    for line in stdout.splitlines():
        path, row, col, rest = line.split(":", 3)
        out.add((os.path.normpath(path), int(row), int(col), rest.split()[0]))
    return out


def codes(proc: subprocess.CompletedProcess) -> set[str]:
    return {code for *_, code in found(proc.stdout)}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@dataclass
class TtyRun:
    returncode: int
    output: str  # stdout and stderr, as the terminal showed them (\r\n newlines)

    @property
    def text(self) -> str:
        return self.output.replace("\r\n", "\n")


def on_tty(*args: str, cwd: Path, env: Optional[Mapping[str, str]] = None, timeout: float = 120) -> TtyRun:
    """``flask-ctx ARGS`` with stdout and stderr on a pseudo-terminal, as in a shell."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([FLASK_CTX, *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=slave, env=dict(env) if env is not None else clean_env(TERM="xterm"),
                            close_fds=True)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                data = b""
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None and not ready:
            # drain what is left, then stop
            try:
                while True:
                    r, _, _ = select.select([master], [], [], 0.05)
                    if not r:
                        break
                    data = os.read(master, 65536)
                    if not data:
                        break
                    chunks.append(data)
            except OSError:
                pass
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"flask-ctx {' '.join(args)} did not finish in {timeout}s")
    proc.wait(timeout=30)
    os.close(master)
    output = b"".join(chunks).decode("utf-8", "replace")
    assert "Traceback" not in output, output
    return TtyRun(proc.returncode, output)
