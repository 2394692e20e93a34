"""Runtime proof, on the real libraries, of the worker kinds beyond threads (issue "Beyond threads").

Each scenario app of fixtures/queues (and fixtures/inherit, run under the Python 3.14 thread
context inheritance simulation) is run by tests/support/queue_runner.py in a subprocess of its
own, with real components: a redis-server started for it, a real Celery worker process, a real
forking RQ worker, a real huey Consumer, a real dramatiq Worker, a started APScheduler, real
multiprocessing children, a real gunicorn. No eager or inline mode and no mock: the last test
shows that the inline modes hide the bugs, which is why they are not used.

For every app: each step does what its SCENARIO says (``fails``: the text is in an error where
it surfaced; ``works``: the texts are printed, returned or answered, with no error), every
``# error:`` line is shown failing by a step, and every ``# ok:`` line working. A component
that cannot be started skips its app, with the reason (under ``CI=true`` it fails: ``.ci/run``
installs every component).

The runners are started together (three at a time) when the first test needs one, so the file
takes about as long as its slowest apps (the numbers are in docs/runtime-facts.md, cases 16-24).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from support.marks import FIXTURES, ROOT, expected_findings, ok_marks

RUNNER = ROOT / "tests" / "support" / "queue_runner.py"
KINDS = ("celery", "rq", "huey", "dramatiq", "apscheduler", "flask_apscheduler", "processes",
         "flask_executor", "async_tasks", "inherit", "import_time", "stream_session")
PARALLEL = 3  # runners at a time: they mostly wait on their workers (2 cores)
TIMEOUT = 120


def apps() -> list[Path]:
    """The scenario apps: fixtures/inherit/ also holds lint-only fixtures, with no SCENARIO."""
    found = [*(FIXTURES / "queues").glob("*.py"), *(FIXTURES / "inherit").glob("*.py")]
    return sorted(p for p in found if "\nSCENARIO = " in p.read_text(encoding="utf-8"))


def app_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def scenario(path: Path) -> dict:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "SCENARIO":
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path.name}: no SCENARIO literal")


class Runs:
    """Runner subprocesses, started in the background for every app the session will test."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(PARALLEL)
        self.futures: dict[tuple[Path, bool], Future] = {}
        self.lock = threading.Lock()

    def start(self, path: Path, eager: bool = False) -> Future:
        with self.lock:
            key = (path, eager)
            if key not in self.futures:
                self.futures[key] = self.pool.submit(self._run, path, eager)
            return self.futures[key]

    @staticmethod
    def _run(path: Path, eager: bool) -> dict:
        started = time.monotonic()
        command = [sys.executable, "-u", str(RUNNER), str(path)] + (["--eager"] if eager else [])
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)
        except subprocess.TimeoutExpired as exc:
            return {"returncode": None, "stdout": exc.stdout or "", "stderr": f"timeout after {TIMEOUT} s",
                    "seconds": TIMEOUT}
        return {"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
                "seconds": round(time.monotonic() - started, 2)}

    def get(self, path: Path, eager: bool = False) -> list[dict]:
        run = self.start(path, eager).result()
        assert run["returncode"] == 0, f"{run['stderr'][-4000:]}\n(runner took {run['seconds']} s)"
        steps = [json.loads(line) for line in run["stdout"].splitlines() if line.strip()]
        print(f"{app_id(path)}{' --eager' if eager else ''}: {run['seconds']} s")
        if steps and "skip" in steps[-1]:
            print(f"skipped: {steps[-1]['skip']}")
            if os.environ.get("CI"):  # .ci/run installs every component: a skip there is a failure
                pytest.fail(f"CI must run every component: {steps[-1]['skip']}")
            pytest.skip(steps[-1]["skip"])
        return steps


@pytest.fixture(scope="module")
def runs(request) -> Runs:
    runner = Runs()
    for item in request.session.items:  # start every selected app's runner now, in parallel
        callspec = getattr(item, "callspec", None)
        if callspec is not None and item.module is request.module and "app" in callspec.params:
            runner.start(callspec.params["app"], eager=item.originalname.startswith("test_eager"))
    yield runner
    runner.pool.shutdown(wait=True)


def marked_lines(path: Path) -> tuple[set[int], set[int]]:
    return {line for line, _ in expected_findings(path)}, {line for line, _ in ok_marks(path)}


@pytest.mark.parametrize("app", apps(), ids=app_id)
def test_each_positive_fails_in_its_worker_and_each_negative_works(app: Path, runs: Runs) -> None:
    expected_steps = scenario(app)["steps"]
    outcomes = runs.get(app)
    assert len(outcomes) == len(expected_steps), outcomes
    failing, working = set(), set()
    for expected, outcome in zip(expected_steps, outcomes):
        assert not outcome["lingering"], (expected, outcome)
        if "fails" in expected:
            assert any(expected["fails"] in e for e in outcome["errors"]), (expected, outcome)
            failing |= set(outcome["marks"])
        else:
            assert outcome["errors"] == [], (expected, outcome)
            answered = outcome["printed"] + (outcome["body"] or "") + "\n".join(outcome["returned"])
            missing = [text for text in expected["works"] if text not in answered]
            assert not missing, (expected, outcome)
            working |= set(outcome["marks"])
    errors, oks = marked_lines(app)
    assert errors <= failing, f"error marks no step shows failing: {sorted(errors - failing)}"
    assert oks <= working, f"ok marks no step shows working: {sorted(oks - working)}"
    assert not (failing & oks) and not (working & errors)


@pytest.mark.parametrize("app", apps(), ids=app_id)
def test_each_app_is_named_by_kind_documented_and_its_steps_name_marked_lines(app: Path) -> None:
    kind = next((k for k in sorted(KINDS, key=len, reverse=True) if app.stem.startswith(k + "_")), None)
    assert kind is not None, f"{app.name}: name it <kind>_<slug>.py, kind one of {KINDS}"
    assert (kind == "inherit") == (app.parent.name == "inherit"), "the 3.14 simulation apps live in fixtures/inherit"
    assert ast.get_docstring(ast.parse(app.read_text(encoding="utf-8"))), f"{app.name}: say what it shows"
    errors, oks = marked_lines(app)
    assert errors | oks, f"{app.name}: no marked line"
    for step in scenario(app)["steps"]:
        assert set(step["marks"]) <= errors | oks, f"{app.name}: step {step} names an unmarked line"
        assert ("fails" in step) != ("works" in step), step


def context_bugs(path: Path) -> list[dict]:
    """The steps that fail in a worker for want of a context."""
    return [s for s in scenario(path)["steps"] if "Working outside of" in s.get("fails", "") and "request" in s]


EAGER = [p for p in apps() if {"celery", "rq", "huey"} & set(scenario(p).get("services", {})) and context_bugs(p)]


@pytest.mark.parametrize("app", EAGER, ids=app_id)
def test_eager_modes_hide_the_context_bugs(app: Path, runs: Runs) -> None:
    """Celery ``task_always_eager``, RQ ``Queue(is_async=False)`` and huey ``immediate`` run the
    task inline, in the view's own context: what fails in a real worker passes."""
    outcomes = runs.get(app, eager=True)
    bugs = context_bugs(app)
    for expected, outcome in zip(scenario(app)["steps"], outcomes):
        if expected in bugs:
            assert outcome["errors"] == [] and outcome["status"] == 200, (expected, outcome)
            assert outcome["returned"], outcome  # the task ran, inline, and returned
