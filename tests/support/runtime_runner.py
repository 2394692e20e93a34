"""Run one scenario app (fixtures/runtime/*.py) under ``app.test_client()`` and print what happened.

A standalone script: the tests run it as a subprocess with the Python of each Flask version's
venv, so it imports nothing but Flask and the standard library, and it must run on every
Python the project supports (>= 3.9)::

    python tests/support/runtime_runner.py PATH/TO/scenario.py [--rounds N]

It imports the scenario module from PATH (an import failure is the outcome, e.g. a
module-level ``@copy_current_request_context``), then, ``rounds`` times: empties the module's
``RESULTS``, sends ``SCENARIO["requests"]`` in order through one test client (so cookies set
by one request reach the next), waits after each request until every non-daemon thread it
left behind has finished, and takes a copy of ``RESULTS``. Errors are caught where they
surface:

- ``view``: the view raised (``PROPAGATE_EXCEPTIONS`` is on, so the test client re-raises;
  a ``Pool.map`` or ``executor.map`` whose task failed lands here);
- ``body``: reading a streamed body raised (the test client gives 200 first);
- ``thread``: an uncaught exception in a thread, through ``threading.excepthook``
  (plain threads, ``Thread`` subclasses, ``Timer``, a child thread whose pool failed);
- ``task``: a ``concurrent.futures`` task failed (also when nobody asked for its result).

It prints one JSON object on stdout (nothing else goes there: the scenario's own prints are
sent to stderr)::

    {"flask": "3.1.3", "werkzeug": "3.1.9", "python": "3.11.7",
     "import_error": null | "ExcType: first line",
     "warnings": ["DeprecationWarning: ...", ...],
     "rounds": [{"statuses": [200, ...], "bodies": ["...", ...],
                 "view_errors": [...], "body_errors": [...], "thread_errors": [...],
                 "task_errors": [...], "lingering_threads": [...], "results": [...]}, ...]}

Every error is ``"ExcType: first line of the message"`` with memory addresses blanked
(``0x…``), so outcomes compare across runs. The runner decides nothing: the test does.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import importlib.util
import json
import os
import re
import sys
import threading
import time
import traceback
import warnings
from importlib import metadata

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_LOCK = threading.Lock()
_THREAD_ERRORS: list = []
_TASK_ERRORS: list = []
_FUTURES: list = []
_WARNINGS: list = []
THREAD_WAIT_SECONDS = 10.0


def describe(exc: BaseException) -> str:
    """``ExcType: first line`` (the RQ/AP bodies differ by version; the first line does not)."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return _ADDRESS.sub("0x…", text)


def _excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    with _LOCK:
        _THREAD_ERRORS.append(describe(args.exc_value))
    name = args.thread.name if args.thread is not None else "?"
    print(f"[runner] exception in thread {name}:", file=sys.stderr)
    traceback.print_exception(args.exc_type, args.exc_value, args.exc_traceback, file=sys.stderr)


def _install_task_capture() -> None:
    """Record every ``concurrent.futures`` task, and every exception one ends with, read or not."""
    original_set_exception = concurrent.futures.Future.set_exception
    original_submit = concurrent.futures.ThreadPoolExecutor.submit

    def set_exception(self, exception):
        with _LOCK:
            _TASK_ERRORS.append(describe(exception))
        return original_set_exception(self, exception)

    def submit(self, *args, **kwargs):
        future = original_submit(self, *args, **kwargs)
        with _LOCK:
            _FUTURES.append(future)
        return future

    concurrent.futures.Future.set_exception = set_exception
    concurrent.futures.ThreadPoolExecutor.submit = submit


def _is_executor_worker(thread: threading.Thread) -> bool:
    """An executor's worker thread idles until its executor shuts down (asgiref never does)."""
    return getattr(thread, "_target", None) is getattr(concurrent.futures.thread, "_worker", 0)


def _showwarning(message, category, filename, lineno, file=None, line=None):
    with _LOCK:
        text = _ADDRESS.sub("0x…", f"{category.__name__}: {str(message).splitlines()[0]}")
        if text not in _WARNINGS:
            _WARNINGS.append(text)


def _version(dist: str):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _load(path: str):
    name = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) or "scenario"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Flask(__name__) looks its root path up here
    spec.loader.exec_module(module)
    return module


def _wait_for_workers(before: set) -> list:
    """Wait for the tasks and threads a request started; return the names of those still alive.

    Waited for: every ``ThreadPoolExecutor`` task, and every non-daemon thread started since
    ``before`` except executor workers (an executor that is never shut down, like asgiref's
    loop executor, keeps an idle worker for ever; its tasks are waited for instead). Daemon
    threads are not waited for: ``multiprocessing.dummy`` pools that are never closed keep
    theirs idle for ever, and what ran on them has finished when ``map`` returned.
    """
    deadline = time.monotonic() + THREAD_WAIT_SECONDS
    while True:
        with _LOCK:
            futures = [f for f in _FUTURES if not f.done()]
        alive = [t for t in threading.enumerate()
                 if t is not threading.main_thread() and not t.daemon and t not in before
                 and t.is_alive() and not _is_executor_worker(t)]
        remaining = deadline - time.monotonic()
        if (not alive and not futures) or remaining <= 0:
            return [t.name for t in alive] + [f"task {f!r}" for f in futures]
        if alive:
            alive[0].join(timeout=remaining)
        else:
            concurrent.futures.wait(futures, timeout=remaining)


def _snapshot(results):
    """A JSON-able copy of ``RESULTS`` (tuples become lists, as in the literal SCENARIO)."""
    return json.loads(json.dumps(results, default=repr))


def run_round(module, scenario: dict) -> dict:
    out: dict = {"statuses": [], "bodies": [], "view_errors": [], "body_errors": [],
                 "thread_errors": [], "task_errors": [], "lingering_threads": []}
    module.RESULTS.clear()
    with _LOCK:
        _THREAD_ERRORS.clear()
        _TASK_ERRORS.clear()
        _FUTURES.clear()
    client = module.app.test_client()
    for method, url, *rest in scenario["requests"]:
        kwargs = dict(rest[0]) if rest else {}
        before = set(threading.enumerate())  # objects: idents are reused
        status, body = None, None
        try:
            response = client.open(url, method=method, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the view's exception is the outcome
            out["view_errors"].append(describe(exc))
            print(f"[runner] {method} {url} raised:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
        else:
            status = response.status_code
            try:
                body = response.get_data(as_text=True)  # consumes a streamed body
            except Exception as exc:  # noqa: BLE001
                out["body_errors"].append(describe(exc))
                print(f"[runner] reading the body of {method} {url} raised:", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
            finally:
                with contextlib.suppress(Exception):
                    response.close()
        out["statuses"].append(status)
        out["bodies"].append(body[:500] if isinstance(body, str) else body)
        out["lingering_threads"] += _wait_for_workers(before)
    with _LOCK:
        out["thread_errors"] = list(_THREAD_ERRORS)
        out["task_errors"] = list(_TASK_ERRORS)
    out["results"] = _snapshot(module.RESULTS)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--rounds", type=int, default=None,
                        help="how many times to run the requests (default: SCENARIO's, else 3)")
    args = parser.parse_args(argv)

    threading.excepthook = _excepthook
    _install_task_capture()
    warnings.simplefilter("always")
    warnings.showwarning = _showwarning

    report: dict = {"flask": _version("flask"), "werkzeug": _version("werkzeug"),
                    "asgiref": _version("asgiref"), "python": sys.version.split()[0],
                    "import_error": None, "warnings": _WARNINGS, "rounds": []}
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # the scenario's prints must not corrupt the JSON
    try:
        try:
            module = _load(args.path)
        except Exception as exc:  # noqa: BLE001 - the import failure is the outcome
            report["import_error"] = describe(exc)
            traceback.print_exc(file=sys.stderr)
        else:
            module.app.config["PROPAGATE_EXCEPTIONS"] = True
            scenario = module.SCENARIO
            rounds = args.rounds or scenario.get("rounds", 3)
            for _ in range(rounds):
                report["rounds"].append(run_round(module, scenario))
    finally:
        sys.stdout = real_stdout
    json.dump(report, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    # A worker the scenario never stops (an idle executor thread) must not hang the exit.
    os._exit(code)
