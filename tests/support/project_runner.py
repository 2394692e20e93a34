"""Run a fixture project's scenario (fixtures/projects/<name>/scenario.py) on real Flask.

A standalone script, run by tests/test_projects.py as a subprocess (a fresh interpreter
per project: its package is imported from the project's folder)::

    python tests/support/project_runner.py fixtures/projects/shop

The project's package must have ``create_app()``. For each step of ``STEPS`` it sends the
request through one test client, or calls the named function (``module:function``) inside
``app.test_request_context()`` when ``in_request`` (else with no context at all); then waits
for every thread and ``concurrent.futures`` task the step started. It captures, as the
scenario runner does (tests/support/runtime_runner.py, whose capture this reuses), errors
raised in threads, in tasks and in the view (a 500 under ``PROPAGATE_EXCEPTIONS``), and
everything the step printed. One JSON line per step on stdout::

    {"marks": [...], "errors": ["RuntimeError: Working outside of ...", ...],
     "printed": "...", "status": 200 | null, "body": "..." | null, "lingering": [...]}

The runner decides nothing: the test compares with ``fails`` / ``works``.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runtime_runner as capture  # noqa: E402 - the same capture as the scenario apps


def _package(root: str) -> str:
    names = [n for n in sorted(os.listdir(root)) if os.path.isfile(os.path.join(root, n, "__init__.py"))]
    if len(names) != 1:
        raise SystemExit(f"{root}: expected one package, found {names}")
    return names[0]


def _scenario(project: str) -> list[dict]:
    namespace: dict = {}
    with open(os.path.join(project, "scenario.py"), encoding="utf-8") as handle:
        exec(compile(handle.read(), "scenario.py", "exec"), namespace)  # noqa: S102 - our fixture
    return namespace["STEPS"]


def _run_step(app, step: dict) -> dict:
    with capture._LOCK:
        del capture._THREAD_ERRORS[:], capture._TASK_ERRORS[:], capture._FUTURES[:]
    before = set(threading.enumerate())
    errors: list[str] = []
    status = body = None
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            if "request" in step:
                method, url, data = step["request"]
                response = app.test_client().open(url, method=method, data=data)
                status = response.status_code
                body = response.get_data(as_text=True)  # a streamed body is produced here
            else:
                module_name, _, function_name = step["call"].partition(":")
                function = getattr(importlib.import_module(module_name), function_name)
                if step.get("in_request"):
                    with app.test_request_context("/", method="POST", data={"email": "ann@example.com"}):
                        function(*step.get("args", ()))
                else:
                    function(*step.get("args", ()))
        except Exception as exc:  # noqa: BLE001 - the view's (or the call's) failure is an outcome
            errors.append(capture.describe(exc))
        lingering = capture._wait_for_workers(before)
    with capture._LOCK:
        errors += capture._THREAD_ERRORS + capture._TASK_ERRORS
    return {"marks": step["marks"], "errors": errors, "printed": printed.getvalue(), "status": status,
            "body": body, "lingering": lingering}


def main() -> None:
    root = os.path.abspath(sys.argv[1])
    if os.path.isdir(os.path.join(root, "src")):  # a src/ layout
        root = os.path.join(root, "src")
    sys.path.insert(0, root)
    threading.excepthook = capture._excepthook
    capture._install_task_capture()
    package = importlib.import_module(_package(root))
    app = package.create_app()
    app.config["PROPAGATE_EXCEPTIONS"] = True
    for step in _scenario(os.path.abspath(sys.argv[1])):
        print(json.dumps(_run_step(app, step)), flush=True)


if __name__ == "__main__":
    main()
