"""Run one scenario app (fixtures/runtime/*.py) under ``app.test_client()`` and print what happened.

A standalone script: the tests run it as a subprocess with the Python of each Flask version's
venv, so it imports nothing but Flask and the standard library, and it must run on every
Python the project supports (>= 3.9)::

    python tests/support/runtime_runner.py PATH/TO/scenario.py [--rounds N] [--sync] [--deadline S]
    python tests/support/runtime_runner.py --batch [--sync] [--deadline S] PATH [PATH ...]

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

Options added for the differential tests (tests/support/differential.py); without them the
runner behaves, and prints, exactly as above:

- ``--sync``: before the app is imported, every way of starting a worker runs it at once, in
  the calling thread and so in the caller's context (what the author of the worker meant):
  ``threading.Thread.start`` (subclasses and ``Timer``, whose interval is skipped),
  ``_thread.start_new_thread``, ``ThreadPoolExecutor.submit`` (and so ``map``), the
  ``multiprocessing.pool.ThreadPool`` behind ``multiprocessing.dummy.Pool``, asyncio's
  ``run_in_executor``; ``copy_current_request_context`` returns the function itself when a
  request is active (it still raises outside one). A worker's exception is recorded as a
  ``thread`` error (``task`` for futures), never raised into the view; what a future or a
  pool's ``map`` hands back raises where it would have in a thread.
- ``--deadline S`` (or ``"deadline": S`` in the SCENARIO): a request whose view, body or
  workers are not done after S seconds is a hang: ``"Hang: ..."`` is recorded as a view
  error of that request, the report is printed as it stands, and the process exits (a
  spinning worker cannot be stopped).
- ``--batch``: many apps in one process, each imported under its own module name with its
  directory on ``sys.path`` (so it can import a module next to it), one round each by
  default, one JSON line per app on stdout (``{"path": ..., "import_error": ...,
  "rounds": [...]}``) whose rounds also carry ``"requests"``: per request its status, body,
  errors by kind, the ``RESULTS`` it added, ``seconds`` (the view and its body, wall time),
  ``view_sleep`` (seconds of ``time.sleep`` called in the request's own context, i.e. by the
  view, not by its workers, inline ones included), ``joins`` (how often the view waited for
  a worker: ``join``, ``result``, ``wait``, an executor's shutdown, a pool's ``map``,
  ``run_in_executor``), ``hang``, and the first tracebacks. (An async view's own exception
  is a view error only: asgiref's hand-over of it in a ``Future`` is not a task error.) On a hang the line of that
  app is printed and the process exits with status 3: the caller starts a new one for the
  apps after it.
- ``"modules": {"name": "source", ...}`` in a SCENARIO: modules written to a temporary
  directory on ``sys.path`` before the app is imported (a caller in another module, which
  the fixer does not see as part of the app).
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import contextlib
import contextvars
import shutil
import tempfile
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
_TRACES: list = []  # the first tracebacks of a request, batch mode only
THREAD_WAIT_SECONDS = 10.0
_IN_REQUEST = contextvars.ContextVar("fcx_in_request", default=False)
_IN_WORKER = contextvars.ContextVar("fcx_in_worker", default=False)  # --sync: inline worker
_SLEPT = [0.0]  # seconds of time.sleep in a request's own context (batch mode)
_JOINS = [0]  # calls that wait for a worker, in a request's own context (batch mode)
_STATE: dict = {"deadline": None, "on_hang": None, "batch": False}


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
    _trace(args.exc_value)
    name = args.thread.name if args.thread is not None else "?"
    print(f"[runner] exception in thread {name}:", file=sys.stderr)
    traceback.print_exception(args.exc_type, args.exc_value, args.exc_traceback, file=sys.stderr)


def _trace(exc: BaseException) -> None:
    """Keep the first tracebacks (batch mode: the differential report shows them)."""
    if _STATE["batch"]:
        with _LOCK:
            if len(_TRACES) < 3:
                text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                _TRACES.append(_ADDRESS.sub("0x…", text[-1500:]))


def _install_task_capture() -> None:
    """Record every ``concurrent.futures`` task, and every exception one ends with, read or not."""
    original_set_exception = concurrent.futures.Future.set_exception
    original_submit = concurrent.futures.ThreadPoolExecutor.submit

    def set_exception(self, exception):
        caller = sys._getframe(1).f_globals.get("__name__", "")
        # batch mode: asgiref hands an async view's own exception over in a Future, which
        # would count it a second time, as a task error
        if not (_STATE["batch"] and caller.startswith("asgiref")):
            with _LOCK:
                _TASK_ERRORS.append(describe(exception))
            _trace(exception)
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


def _scenario_literal(path: str) -> dict:
    """The module's ``SCENARIO = {...}`` literal, read before importing it ({} if none)."""
    try:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
    except (OSError, SyntaxError, ValueError):
        return {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "SCENARIO"):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {}
    return {}


def _write_modules(modules: dict) -> None:
    """A SCENARIO's ``"modules"``: written to a temporary directory put on ``sys.path``."""
    directory = tempfile.mkdtemp(prefix="fcx-modules-")
    _STATE.setdefault("temp_dirs", []).append(directory)
    for name, source in modules.items():
        with open(os.path.join(directory, f"{name}.py"), "w", encoding="utf-8") as handle:
            handle.write(source)
    sys.path.insert(0, directory)


def _load(path: str):
    name = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) or "scenario"
    directory = os.path.dirname(os.path.abspath(path))
    if directory not in sys.path:
        sys.path.append(directory)  # a module next to the app (last: never shadows a library)
    modules = _scenario_literal(path).get("modules")
    if isinstance(modules, dict) and modules:
        _write_modules(modules)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Flask(__name__) looks its root path up here
    spec.loader.exec_module(module)
    return module


def _wait_for_workers(before: set, seconds: float = THREAD_WAIT_SECONDS) -> list:
    """Wait for the tasks and threads a request started; return the names of those still alive.

    Waited for: every ``ThreadPoolExecutor`` task, and every non-daemon thread started since
    ``before`` except executor workers (an executor that is never shut down, like asgiref's
    loop executor, keeps an idle worker for ever; its tasks are waited for instead). Daemon
    threads are not waited for: ``multiprocessing.dummy`` pools that are never closed keep
    theirs idle for ever, and what ran on them has finished when ``map`` returned.
    """
    deadline = time.monotonic() + seconds
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


# --- --sync: every worker runs at once, in the caller's thread and context ------------------

def _exempt(fn) -> bool:
    """Library machinery keeps its real threads: asgiref's event loop thread, an executor's
    own worker threads."""
    module = getattr(fn, "__module__", None) or ""
    return module.startswith(("asgiref", "concurrent.futures"))


def _record_worker_error(exc: BaseException) -> None:
    with _LOCK:
        _THREAD_ERRORS.append(describe(exc))
    _trace(exc)
    print("[runner] exception in a synchronous worker:", file=sys.stderr)
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


def _as_worker(fn, *args, **kwargs):
    """Call ``fn`` inline, marked as a worker (its sleeps are not the view's)."""
    token = _IN_WORKER.set(True)
    try:
        return fn(*args, **kwargs)
    finally:
        _IN_WORKER.reset(token)


def _run_inline(fn, args=(), kwargs=None) -> None:
    try:
        _as_worker(fn, *args, **(kwargs or {}))
    except SystemExit:
        pass
    except BaseException as exc:  # noqa: BLE001 - a worker's exception is an outcome
        _record_worker_error(exc)


class _SyncAsyncResult:
    """What ``ThreadPool.apply_async``/``map_async`` return, already computed."""

    def __init__(self, fn, callback=None, error_callback=None):
        self._value, self._error = None, None
        try:
            self._value = fn()
        except Exception as exc:  # noqa: BLE001 - raised by get(), as a pool does
            self._error = exc
            if error_callback is not None:
                error_callback(exc)
        else:
            if callback is not None:
                callback(self._value)

    def ready(self):
        return True

    def successful(self):
        return self._error is None

    def wait(self, timeout=None):
        return None

    def get(self, timeout=None):
        if self._error is not None:
            raise self._error
        return self._value


class _SyncThreadPool:
    """``multiprocessing.pool.ThreadPool`` without threads: every task runs in the caller."""

    def __init__(self, processes=None, initializer=None, initargs=(), *args, **kwargs):
        if initializer is not None:
            initializer(*initargs)

    def map(self, func, iterable, chunksize=None):
        _count_join()
        return [_as_worker(func, item) for item in iterable]

    def starmap(self, func, iterable, chunksize=None):
        _count_join()
        return [_as_worker(func, *item) for item in iterable]

    def imap(self, func, iterable, chunksize=1):
        return iter(self.map(func, iterable))

    imap_unordered = imap

    def apply(self, func, args=(), kwds=None):
        _count_join()
        return _as_worker(func, *args, **(kwds or {}))

    def apply_async(self, func, args=(), kwds=None, callback=None, error_callback=None):
        return _SyncAsyncResult(lambda: _as_worker(func, *args, **(kwds or {})), callback,
                                error_callback)

    def map_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        return _SyncAsyncResult(lambda: self.map(func, iterable), callback, error_callback)

    def starmap_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        return _SyncAsyncResult(lambda: self.starmap(func, iterable), callback, error_callback)

    def close(self):
        pass

    def join(self):
        pass

    def terminate(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _install_sync() -> None:
    """Patch every spawner the catalogue knows to run its worker at once (see ``--sync``)."""
    import _thread
    import asyncio.base_events
    import multiprocessing.pool

    original_start = threading.Thread.start
    original_join = threading.Thread.join
    original_is_alive = threading.Thread.is_alive

    def start(self):
        target = getattr(self, "_target", None)
        if target is not None and _exempt(target):
            return original_start(self)
        if getattr(self, "_fcx_sync", False):
            raise RuntimeError("threads can only be started once")
        self._fcx_sync = True
        if isinstance(self, threading.Timer) and type(self).run is threading.Timer.run:
            if not self.finished.is_set():  # the interval is skipped, cancel() still works
                _run_inline(self.function, self.args, self.kwargs)
            self.finished.set()
        else:
            _run_inline(self.run)

    def join(self, timeout=None):
        if getattr(self, "_fcx_sync", False):
            _count_join()
            return None
        return original_join(self, timeout)

    def is_alive(self):
        if getattr(self, "_fcx_sync", False):
            return False
        return original_is_alive(self)

    threading.Thread.start = start
    threading.Thread.join = join
    threading.Thread.is_alive = is_alive

    def start_new_thread(function, args, kwargs=None):
        _run_inline(function, args, kwargs)
        return threading.get_ident()

    _thread.start_new_thread = start_new_thread
    if hasattr(_thread, "start_new"):
        _thread.start_new = start_new_thread

    capture_submit = concurrent.futures.ThreadPoolExecutor.submit  # _install_task_capture's

    def submit(self, fn, /, *args, **kwargs):
        if _exempt(fn):
            return capture_submit(self, fn, *args, **kwargs)
        future = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        try:
            result = _as_worker(fn, *args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - recorded by the task capture
            future.set_exception(exc)
        else:
            future.set_result(result)
        with _LOCK:
            _FUTURES.append(future)
        return future

    concurrent.futures.ThreadPoolExecutor.submit = submit
    multiprocessing.pool.ThreadPool = _SyncThreadPool

    def run_in_executor(self, executor, func, *args):
        _count_join()  # awaited by the view, as a rule
        future = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(_as_worker(func, *args))
        except BaseException as exc:  # noqa: BLE001 - recorded by the task capture
            future.set_exception(exc)
        return asyncio.wrap_future(future, loop=self)

    asyncio.base_events.BaseEventLoop.run_in_executor = run_in_executor

    import flask
    import flask.ctx

    original_copy = flask.ctx.copy_current_request_context

    def copy_current_request_context(f):
        if not flask.has_request_context():
            return original_copy(f)  # the version's own error
        return f

    flask.ctx.copy_current_request_context = copy_current_request_context
    flask.copy_current_request_context = copy_current_request_context


# --- timing and hangs -------------------------------------------------------------------------

_real_sleep = time.sleep


def _counting_sleep(seconds):
    if _IN_REQUEST.get() and not _IN_WORKER.get():
        with _LOCK:
            _SLEPT[0] += max(0.0, float(seconds))
    _real_sleep(seconds)


def _count_join() -> None:
    if _IN_REQUEST.get() and not _IN_WORKER.get():
        with _LOCK:
            _JOINS[0] += 1


def _install_join_counting() -> None:
    """Count the view's calls that wait for a worker (batch mode): a view that waits for its
    worker is not slowed down by a slow call moved out of the worker."""
    import asyncio.base_events
    import multiprocessing.pool

    def counted(owner, name):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            _count_join()
            return original(*args, **kwargs)

        wrapper.__name__ = name
        setattr(owner, name, wrapper)

    counted(threading.Thread, "join")
    counted(concurrent.futures.Future, "result")
    counted(concurrent.futures.Future, "exception")
    counted(concurrent.futures.ThreadPoolExecutor, "shutdown")
    counted(multiprocessing.pool.ApplyResult, "wait")
    counted(asyncio.base_events.BaseEventLoop, "run_in_executor")
    original_wait = concurrent.futures.wait

    def wait(*args, **kwargs):
        _count_join()
        return original_wait(*args, **kwargs)

    concurrent.futures.wait = wait


def _watchdog() -> None:
    """Call ``_STATE["on_hang"]`` once the current request is past its deadline."""
    while True:
        _real_sleep(0.05)
        at = _STATE.get("deadline_at")
        if at is not None and time.monotonic() > at and _STATE.get("on_hang"):
            _STATE["on_hang"]("the view did not return")


def _start_watchdog() -> None:
    if not _STATE.get("watchdog"):
        _STATE["watchdog"] = True
        threading.Thread(target=_watchdog, name="fcx-watchdog", daemon=True).start()


def run_round(module, scenario: dict, detail: bool = False) -> dict:
    out: dict = {"statuses": [], "bodies": [], "view_errors": [], "body_errors": [],
                 "thread_errors": [], "task_errors": [], "lingering_threads": []}
    if detail:
        out["requests"] = []
    module.RESULTS.clear()
    with _LOCK:
        _THREAD_ERRORS.clear()
        _TASK_ERRORS.clear()
        _FUTURES.clear()
        _TRACES.clear()
    _STATE["round"] = out
    deadline = _STATE["deadline"]
    client = module.app.test_client()
    for method, url, *rest in scenario["requests"]:
        kwargs = dict(rest[0]) if rest else {}
        before = set(threading.enumerate())  # objects: idents are reused
        with _LOCK:
            marks = (len(_THREAD_ERRORS), len(_TASK_ERRORS), len(module.RESULTS))
            _SLEPT[0] = 0.0
            _JOINS[0] = 0
            _TRACES.clear()
        record = {"request": [method, url], "status": None, "body": None,
                  "errors": {"view": [], "body": [], "thread": [], "task": []},
                  "results": [], "seconds": None, "view_sleep": 0.0, "joins": 0,
                  "hang": False, "traces": []}
        if detail:
            out["requests"].append(record)
        _STATE["request"] = (record, marks, module)
        out["statuses"].append(None)  # filled in below: a hang leaves None
        out["bodies"].append(None)
        status, body = None, None
        started = time.monotonic()
        if deadline:
            _STATE["deadline_at"] = started + deadline
        token = _IN_REQUEST.set(True)
        try:
            response = client.open(url, method=method, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the view's exception is the outcome
            out["view_errors"].append(describe(exc))
            record["errors"]["view"].append(describe(exc))
            _trace(exc)
            print(f"[runner] {method} {url} raised:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
        else:
            status = response.status_code
            try:
                body = response.get_data(as_text=True)  # consumes a streamed body
            except Exception as exc:  # noqa: BLE001
                out["body_errors"].append(describe(exc))
                record["errors"]["body"].append(describe(exc))
                _trace(exc)
                print(f"[runner] reading the body of {method} {url} raised:", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
            finally:
                with contextlib.suppress(Exception):
                    response.close()
        finally:
            _IN_REQUEST.reset(token)
        record["seconds"] = round(time.monotonic() - started, 4)
        with _LOCK:
            record["view_sleep"] = round(_SLEPT[0], 4)
            record["joins"] = _JOINS[0]
        out["statuses"][-1] = status
        out["bodies"][-1] = body[:500] if isinstance(body, str) else body
        record["status"], record["body"] = status, out["bodies"][-1]
        if deadline:
            lingering = _wait_for_workers(before, max(0.0, _STATE["deadline_at"] - time.monotonic()))
            if lingering:
                _STATE["on_hang"](f"workers still running ({', '.join(lingering)})")
        else:
            out["lingering_threads"] += _wait_for_workers(before)
        _STATE["deadline_at"] = None
        _finish_record(record, marks, module)
    with _LOCK:
        out["thread_errors"] = list(_THREAD_ERRORS)
        out["task_errors"] = list(_TASK_ERRORS)
    out["results"] = _snapshot(module.RESULTS)
    return out


def _finish_record(record: dict, marks: tuple, module) -> None:
    with _LOCK:
        record["errors"]["thread"] = list(_THREAD_ERRORS[marks[0]:])
        record["errors"]["task"] = list(_TASK_ERRORS[marks[1]:])
        record["traces"] = list(_TRACES)
    try:
        record["results"] = _snapshot(list(module.RESULTS[marks[2]:]))
    except Exception:  # noqa: BLE001 - a worker still appending
        record["results"] = ["<unreadable>"]


def _app_report(path: str, scenario_rounds, detail: bool) -> dict:
    """Import one app and run its requests; the report of one app (see the docstring)."""
    report: dict = {"path": path} if detail else {}
    report.update({"import_error": None, "warnings": _WARNINGS, "rounds": []})
    _STATE["report"] = report
    _STATE["round"] = None
    _STATE["request"] = None
    deadline = _STATE["deadline"]
    if deadline:
        _STATE["deadline_at"] = time.monotonic() + deadline
    try:
        module = _load(path)
    except Exception as exc:  # noqa: BLE001 - the import failure is the outcome
        report["import_error"] = describe(exc)
        traceback.print_exc(file=sys.stderr)
        if detail:
            report["import_trace"] = _ADDRESS.sub("0x…", traceback.format_exc()[-1500:])
        return report
    finally:
        _STATE["deadline_at"] = None
    module.app.config["PROPAGATE_EXCEPTIONS"] = True
    scenario = module.SCENARIO
    if deadline is None and scenario.get("deadline"):
        _STATE["deadline"] = float(scenario["deadline"])
    rounds = scenario_rounds or (1 if detail else scenario.get("rounds", 3))
    for _ in range(rounds):
        report["rounds"].append(run_round(module, scenario, detail))
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", metavar="path")
    parser.add_argument("--rounds", type=int, default=None,
                        help="how many times to run the requests (default: SCENARIO's, else 3;"
                             " 1 with --batch)")
    parser.add_argument("--sync", action="store_true",
                        help="run every worker at once in the calling thread (see the docstring)")
    parser.add_argument("--deadline", type=float, default=None,
                        help="seconds a request and its workers may take before it is a hang"
                             " (default: SCENARIO's 'deadline', else none; 2 with --batch)")
    parser.add_argument("--batch", action="store_true",
                        help="many apps, one JSON line each (see the docstring)")
    args = parser.parse_args(argv)
    if len(args.paths) > 1 and not args.batch:
        parser.error("several paths need --batch")

    threading.excepthook = _excepthook
    _install_task_capture()
    warnings.simplefilter("always")
    warnings.showwarning = _showwarning
    _STATE["batch"] = args.batch
    _STATE["deadline"] = args.deadline if args.deadline is not None else (
        2.0 if args.batch else None)
    _start_watchdog()  # before --sync patches Thread.start
    if args.batch:
        time.sleep = _counting_sleep
        _install_join_counting()
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # the scenario's prints must not corrupt the JSON
    versions = {"flask": _version("flask"), "werkzeug": _version("werkzeug"),
                "asgiref": _version("asgiref"), "python": sys.version.split()[0]}

    def emit(report: dict) -> None:
        line = json.dumps(report if args.batch else {**versions, **report}, ensure_ascii=False,
                          default=repr)
        real_stdout.write(line + "\n")
        real_stdout.flush()

    def on_hang(reason: str) -> None:
        """Record the hang on the request in progress, print what there is, and exit."""
        _STATE["on_hang"] = None  # once
        _STATE["deadline_at"] = None
        report, out, current = _STATE.get("report"), _STATE.get("round"), _STATE.get("request")
        error = f"Hang: {reason} after {_STATE['deadline']:g}s"
        if report is not None:
            if out is None:  # the import hung
                report["import_error"] = error
            else:
                out["view_errors"].append(error)
                if current is not None:
                    record, marks, module = current
                    record["hang"] = True
                    record["errors"]["view"].append(error)
                    _finish_record(record, marks, module)
                    with contextlib.suppress(Exception):
                        out["results"] = _snapshot(list(module.RESULTS))
                with _LOCK:
                    out["thread_errors"] = list(_THREAD_ERRORS)
                    out["task_errors"] = list(_TASK_ERRORS)
                out.setdefault("results", [])
                if out not in report["rounds"]:
                    report["rounds"].append(out)
            emit(report)
        _cleanup()
        sys.stderr.flush()
        os._exit(3 if args.batch else 0)

    try:
        for path in args.paths:
            _STATE["on_hang"] = on_hang
            if args.batch:
                _WARNINGS.clear()
                _STATE["deadline"] = args.deadline if args.deadline is not None else 2.0
                print(f"[runner] === {path}", file=sys.stderr)
            if args.sync and not _STATE.get("synced"):
                _install_sync()
                _STATE["synced"] = True
            emit(_app_report(path, args.rounds, args.batch))
    finally:
        sys.stdout = real_stdout
        _cleanup()
    return 0


def _cleanup() -> None:
    for directory in _STATE.get("temp_dirs", []):
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    # A worker the scenario never stops (an idle executor thread) must not hang the exit.
    os._exit(code)
