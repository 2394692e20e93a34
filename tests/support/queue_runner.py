"""Run one scenario app of fixtures/queues (or fixtures/inherit) on the REAL libraries.

A standalone script, run by tests/test_queue_runtime.py as a subprocess (one fresh interpreter
per app: its workers, its patches and its module names stay its own)::

    python tests/support/queue_runner.py fixtures/queues/celery_plain.py [--eager]

It reads the app's ``SCENARIO = {...}`` literal (without importing the app, so an app whose
import is the outcome can be run), then:

1. installs the Python 3.14 thread-context inheritance simulation (docs/runtime-facts.md, "Python 3.14")
   when ``"inherit": True``, before anything makes a thread;
2. starts the components of ``"services"``, subprocesses first (they start while the app is
   imported): ``"redis"`` (a private redis-server; its URL is ``$REDIS_URL``), ``"celery":
   ATTR`` (a real ``celery -A module:ATTR worker``, solo pool), ``"rq"`` (a real forking
   ``rq worker``), then, after the import, in this process: ``"huey": ATTR`` (a real huey
   ``Consumer``), ``"dramatiq"`` (a real ``dramatiq.Worker`` on the app's broker),
   ``"scheduler": ATTR`` (the app's APScheduler ``BackgroundScheduler`` or Flask-APScheduler
   ``APScheduler``, started). A component that cannot start gives one line
   ``{"skip": "why"}`` and exit status 0;
3. runs each step of ``"steps"``, then waits for everything the step handed off, and prints one
   JSON line per step::

       {"marks": [...], "errors": ["RuntimeError: Working outside of ...", ...],
        "printed": "...", "returned": ["..."], "status": 200, "body": "...",
        "headers": {...}, "lingering": [...], "seconds": 0.12}

A step is one of: ``"request": [METHOD, URL]`` (with ``"data"`` and ``"files": {name:
[filename, content]}``, one test client for the whole app so cookies carry over), ``"import":
true`` (the import of the app is the step), ``"call": NAME`` (a function of the app, with
``"args"``, in ``"context": "app" | "request" | null``), ``"run_job": ID`` (the scheduler runs
that job now, in its own thread pool: ``modify_job(next_run_time=now)``), ``"server":
"gthread" | "sync"`` with a ``"request"`` (the app under a real gunicorn, the request sent on a
keep-alive connection that sends ``"then"`` at once).

Errors are captured where they surface: the view (``PROPAGATE_EXCEPTIONS``) or the enqueue
call in it; a streamed body; a thread (``threading.excepthook``); a ``concurrent.futures``
task; an asyncio task (cancelled or failed: nobody else sees it); a Celery result (or the
worker's log line for a message it could not decode), an RQ job's stored exception, a huey
task's error signal, a dramatiq message's exception (middleware), an APScheduler job error
event; the stderr of child processes (a multiprocessing child's traceback); the import. A
step's ``"expect"`` adds what a client would notice: ``{"body": TEXT, "printed": TEXT,
"headers": {NAME: TEXT}, "no_headers": [NAME]}``, each unmet one an error
``"ClientCheck: ..."``. ``printed`` is everything written to this process's stdout during the
step (child processes included, at the file-descriptor level) and a gunicorn server's output;
``returned`` the values the handed-off work returned. The runner decides nothing: the test
compares with the step's ``fails`` / ``works``.

``--eager``: the libraries' inline modes instead of workers (Celery ``task_always_eager``,
every RQ queue made with ``is_async=False``, huey ``immediate``), to show that they hide the
bugs.
"""

from __future__ import annotations

import ast
import contextvars
import datetime
import http.client
import importlib.util
import io
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import runtime_runner as capture  # noqa: E402 - thread, future and view capture, shared
import services  # noqa: E402

COMPONENTS = {"celery", "kombu", "redis", "rq", "huey", "dramatiq", "apscheduler", "flask_apscheduler",
              "flask_executor", "flask_login", "flask_sqlalchemy", "sqlalchemy", "gunicorn", "asgiref"}
WAIT = 10.0  # seconds a step's handed-off work may take (a SCENARIO's "timeout" overrides)
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|BrokenProcessPool)): (.*)$")


def install_inheritance() -> None:
    """Python 3.14 with ``-X thread_inherit_context=1`` (the default on 3.14t): a thread starts
    in a copy of the context of the caller of ``start()`` (docs/runtime-facts.md, "Python 3.14")."""
    original = threading.Thread.start
    if getattr(original, "_fcx_inherit", False):
        return

    def start(self):
        context = contextvars.copy_context()
        run = self.run
        self.run = lambda: context.run(run)
        original(self)

    start._fcx_inherit = True
    threading.Thread.start = start


def _scenario(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "SCENARIO"):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{path}: no SCENARIO literal")


class Out:
    """This process's fds 1 and 2 point at files read back per step; the JSON lines go to the
    original stdout, diagnostics to the original stderr."""

    def __init__(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.json = os.fdopen(os.dup(1), "w", buffering=1)
        self.diag = os.fdopen(os.dup(2), "w", buffering=1)
        self.files = {}
        for fd in (1, 2):
            handle = tempfile.TemporaryFile()
            os.dup2(handle.fileno(), fd)
            self.files[fd] = [handle, 0]
        sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0, closefd=False), line_buffering=True,
                                      write_through=True)
        sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", buffering=0, closefd=False), line_buffering=True,
                                      write_through=True)

    def new(self, fd: int) -> str:
        """What was written to fd since the last call (echoed to the diagnostics)."""
        (sys.stdout if fd == 1 else sys.stderr).flush()
        handle, position = self.files[fd]
        handle.seek(0, 2)
        end = handle.tell()
        handle.seek(position)
        text = handle.read(end - position).decode(errors="replace")
        self.files[fd][1] = end
        if text:
            self.diag.write(f"[fd {fd}] {text}" if text.endswith("\n") else f"[fd {fd}] {text}\n")
        return text

    def emit(self, record: dict) -> None:
        self.json.write(json.dumps(record) + "\n")


def exception_lines(text: str) -> list[str]:
    """The ``Type: message`` lines of the tracebacks in some output."""
    return [capture._ADDRESS.sub("0x…", f"{m.group(1).rsplit('.', 1)[-1]}: {m.group(2)}")
            for m in map(_EXCEPTION_LINE.match, text.splitlines()) if m]


class Handles:
    """What a step handed off (results, jobs, messages), filled by the library hooks."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[tuple] = []
        self.errors: list[str] = []  # asyncio tasks
        self.huey_done: dict = {}  # task id -> error text, or None
        self.dramatiq_done: dict = {}
        self.aps_events: list[tuple] = []
        self.seq = 0

    def add(self, *item) -> None:
        with self.lock:
            self.items.append(item)

    def take(self) -> list[tuple]:
        with self.lock:
            items, self.items = self.items, []
            return items


HANDLES = Handles()


# --- library hooks: record what is handed off, and how it ends -----------------------------

def _hook_asyncio() -> None:
    import asyncio

    def observed(original):
        def wrapper(*args, **kwargs):
            task = original(*args, **kwargs)

            def done(t):
                name = getattr(t.get_coro(), "__qualname__", "?")
                if t.cancelled():
                    with HANDLES.lock:
                        HANDLES.errors.append(f"CancelledError: the task {name}() was cancelled")
                elif t.exception() is not None:
                    with HANDLES.lock:
                        HANDLES.errors.append(capture.describe(t.exception()))

            task.add_done_callback(done)
            return task
        return wrapper

    asyncio.create_task = observed(asyncio.create_task)
    asyncio.ensure_future = observed(asyncio.ensure_future)


def _hook_libraries(scenario: dict, module) -> None:
    if "celery" in sys.modules:
        from celery.app.task import Task

        apply_async = Task.apply_async

        def recorded_apply_async(self, *args, **kwargs):
            result = apply_async(self, *args, **kwargs)
            HANDLES.add("celery", result)
            return result

        Task.apply_async = recorded_apply_async
    if "rq" in sys.modules:
        from rq import Queue

        enqueue_job = Queue.enqueue_job

        def recorded_enqueue_job(self, job, *args, **kwargs):
            job = enqueue_job(self, job, *args, **kwargs)
            HANDLES.add("rq", job)
            return job

        Queue.enqueue_job = recorded_enqueue_job
    if "huey" in sys.modules:
        from huey import signals
        from huey.api import Huey

        enqueue = Huey.enqueue

        def recorded_enqueue(self, task):
            result = enqueue(self, task)
            if result is not None:
                HANDLES.add("huey", result)
            return result

        Huey.enqueue = recorded_enqueue
        name = scenario.get("services", {}).get("huey")
        if name:
            def on_signal(signal, task, exc=None):
                with HANDLES.lock:
                    HANDLES.huey_done[task.id] = capture.describe(exc) if exc is not None else None

            getattr(module, name).signal(signals.SIGNAL_ERROR, signals.SIGNAL_COMPLETE)(on_signal)
    if "dramatiq" in sys.modules:
        import dramatiq

        class Recorder(dramatiq.Middleware):
            def after_enqueue(self, broker, message, delay):
                HANDLES.add("dramatiq", message.message_id)

            def after_process_message(self, broker, message, *, result=None, exception=None):
                with HANDLES.lock:
                    HANDLES.dramatiq_done[message.message_id] = (result, exception)

            def after_skip_message(self, broker, message):
                with HANDLES.lock:
                    HANDLES.dramatiq_done[message.message_id] = (None, RuntimeError("message skipped"))

        dramatiq.get_broker().add_middleware(Recorder())
    if "apscheduler" in sys.modules:
        from apscheduler.schedulers.base import BaseScheduler

        add_job = BaseScheduler.add_job

        def recorded_add_job(self, *args, **kwargs):
            job = add_job(self, *args, **kwargs)
            with HANDLES.lock:
                HANDLES.items.append(("aps", job.id, HANDLES.seq))
            return job

        BaseScheduler.add_job = recorded_add_job


def _aps_listener(event) -> None:
    with HANDLES.lock:
        HANDLES.seq += 1
        HANDLES.aps_events.append((HANDLES.seq, event.job_id, getattr(event, "exception", None),
                                   getattr(event, "retval", None), event.code))


# --- waiting for what a step handed off -----------------------------------------------------

def _settle(item: tuple, deadline: float, workers: dict) -> tuple[list, list]:
    """(errors, returned) of one handle, waiting for it until ``deadline``."""
    kind = item[0]
    if kind == "celery":
        result = item[1]
        worker = workers.get("celery")
        try:
            while time.monotonic() < deadline:
                if result.ready():
                    if result.failed():
                        return [capture.describe(result.result)], []
                    return [], [str(result.result)]
                if worker is not None:
                    lines = [line for line in worker.since(0).splitlines()
                             if result.id in line and "CRITICAL" in line]
                    if lines:  # a message the worker cannot decode: dropped, it never has a result
                        return [f"worker log: {line.strip()}" for line in lines], []
                time.sleep(0.02)
            return [f"TimeoutError: Celery task {result.id} had no result in time"], []
        finally:
            if getattr(result, "backend", None) is not None:  # an EagerResult has none
                result.backend.remove_pending_result(result)
    if kind == "rq":
        job = item[1]
        while time.monotonic() < deadline:
            status = job.get_status(refresh=True)
            status = getattr(status, "value", status)
            if status == "finished":
                return [], [str(job.return_value())]
            if status in ("failed", "stopped", "canceled"):
                text = (job.latest_result().exc_string if job.latest_result() else "") or f"job {status}"
                return [f"rq job {status}: " + "; ".join(exception_lines(text) or [text.strip()[-300:]])], []
            time.sleep(0.02)
        return [f"TimeoutError: RQ job {job.id} did not finish in time"], []
    if kind == "huey":
        result = item[1]
        if getattr(result.huey, "immediate", False):  # --eager: done, and no consumer to signal
            from huey.exceptions import TaskException

            try:
                return [], [str(result.get(preserve=True))]
            except TaskException as exc:
                return [capture.describe(exc)], []
        while time.monotonic() < deadline:  # the consumer's COMPLETE or ERROR signal
            with HANDLES.lock:
                if result.id in HANDLES.huey_done:
                    error = HANDLES.huey_done[result.id]
                    break
            time.sleep(0.02)
        else:
            return [f"TimeoutError: huey task {result.id} did not run in time"], []
        if error is not None:
            return [error], []
        value = result.get(preserve=True)  # None for a periodic task: it stores no result
        return [], [] if value is None else [str(value)]
    if kind == "dramatiq":
        message_id = item[1]
        while time.monotonic() < deadline:
            with HANDLES.lock:
                done = HANDLES.dramatiq_done.get(message_id)
            if done is not None:
                result, exception = done
                return ([capture.describe(exception)], []) if exception is not None else ([], [str(result)])
            time.sleep(0.02)
        return [f"TimeoutError: dramatiq message {message_id} was not processed in time"], []
    if kind == "aps":
        _, job_id, after = item
        while time.monotonic() < deadline:
            with HANDLES.lock:
                events = [e for e in HANDLES.aps_events if e[1] == job_id and e[0] > after]
            if events:
                _, _, exception, retval, _ = events[0]
                return ([capture.describe(exception)], []) if exception is not None else ([], [str(retval)])
            time.sleep(0.02)
        return [f"TimeoutError: APScheduler job {job_id} did not run in time"], []
    raise AssertionError(item)


def _wait_children(before: set, deadline: float) -> list[str]:
    """Wait for the multiprocessing children a step started (not pool workers)."""
    import multiprocessing

    lingering = []
    for child in multiprocessing.active_children():
        target = getattr(child, "_target", None)
        if child in before or child.daemon or getattr(target, "__name__", "") == "_process_worker":
            continue
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            lingering.append(f"process {child.name}")
    return lingering


# --- the steps ------------------------------------------------------------------------------

def _load(path: str):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Flask(__name__), pickling by reference, workers: the same name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _request_args(step: dict) -> tuple[str, str, dict]:
    method, url = step["request"]
    data = {k: v for k, v in (step.get("data") or {}).items()}
    for name, (filename, content) in (step.get("files") or {}).items():
        data[name] = (io.BytesIO(content.encode()), filename)
    return method, url, data


def _server_step(step: dict, state: dict) -> tuple[int, str, dict, str]:
    """The request under a real gunicorn (started once), on a keep-alive connection."""
    server = state.get("server")
    if server is None:
        path = state["path"]
        inherit = "queue_runner.install_inheritance(); " if state["scenario"].get("inherit") else ""
        launcher = [sys.executable, "-c",
                    f"import sys; sys.path.insert(0, {HERE!r}); import queue_runner; {inherit}"
                    "sys.argv[0] = 'gunicorn'; from gunicorn.app.wsgiapp import run; run()"]
        server = services.GunicornServer(f"{os.path.splitext(os.path.basename(path))[0]}:app",
                                         worker_class=step["server"], threads=4, launcher=launcher,
                                         cwd=os.path.dirname(path), env=dict(os.environ, PYTHONUNBUFFERED="1"))
        server.start()
        state["server"] = server
    mark = server.mark()
    method, url = step["request"]
    body = urllib.parse.urlencode(step.get("data") or {}, doseq=True)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request(method, url, body=body,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    text = response.read().decode()
    headers = dict(response.getheaders())
    if step.get("then"):  # the keep-alive client's next request, at once
        connection.request("GET", step["then"])
        connection.getresponse().read()
    time.sleep(step.get("settle", 0.5))
    connection.close()
    return response.status, text, headers, server.since(mark)


def run_step(step: dict, state: dict, out: Out) -> dict:
    import multiprocessing

    with capture._LOCK:
        del capture._THREAD_ERRORS[:], capture._TASK_ERRORS[:], capture._FUTURES[:]
    with HANDLES.lock:
        del HANDLES.errors[:]
    threads_before = set(threading.enumerate())
    children_before = set(multiprocessing.active_children())
    out.new(1), out.new(2)
    errors: list[str] = []
    returned: list[str] = []
    status = body = headers = None
    server_output = ""
    started = time.monotonic()
    try:
        if "server" in step:
            status, body, headers, server_output = _server_step(step, state)
        elif step.get("import"):
            try:
                state["module"] = _load(state["path"])
            except Exception as exc:  # noqa: BLE001 - the import's failure is the outcome
                errors.append(capture.describe(exc))
        elif "request" in step:
            method, url, data = _request_args(step)
            app = state["module"].app
            client = state.setdefault("client", app.test_client())
            try:
                response = client.open(url, method=method, data=data)
            except Exception as exc:  # noqa: BLE001 - the view's failure (PROPAGATE_EXCEPTIONS)
                errors.append(capture.describe(exc))
            else:
                status = response.status_code
                headers = {k: ", ".join(response.headers.getlist(k)) for k in response.headers.keys()}
                try:
                    body = response.get_data(as_text=True)  # a streamed body runs here
                except Exception as exc:  # noqa: BLE001
                    errors.append(capture.describe(exc))
        elif "call" in step:
            module = state["module"]
            function = getattr(module, step["call"])
            context = step.get("context")
            try:
                if context == "app":
                    with module.app.app_context():
                        value = function(*step.get("args", ()))
                elif context == "request":
                    with module.app.test_request_context("/?q=hello"):
                        value = function(*step.get("args", ()))
                else:
                    value = function(*step.get("args", ()))
                if isinstance(value, (str, int, float)):
                    returned.append(str(value))
            except Exception as exc:  # noqa: BLE001
                errors.append(capture.describe(exc))
        elif "run_job" in step:
            scheduler = state["scheduler"]
            with HANDLES.lock:
                HANDLES.items.append(("aps", step["run_job"], HANDLES.seq))
            scheduler.modify_job(step["run_job"], next_run_time=datetime.datetime.now())
        else:
            raise SystemExit(f"a step with nothing to do: {step}")
    except services.ServiceError as exc:
        return {"skip": f"step {step.get('marks')}: {exc}".splitlines()[0]}
    deadline = time.monotonic() + state["scenario"].get("timeout", WAIT)
    for item in HANDLES.take():
        more_errors, values = _settle(item, deadline, state["workers"])
        errors += more_errors
        returned += values
    lingering = capture._wait_for_workers(threads_before, max(0.5, deadline - time.monotonic()))
    lingering += _wait_children(children_before, deadline)
    for item in HANDLES.take():  # handed off by the workers themselves
        more_errors, values = _settle(item, deadline, state["workers"])
        errors += more_errors
        returned += values
    with capture._LOCK:
        errors += capture._THREAD_ERRORS + capture._TASK_ERRORS
    with HANDLES.lock:
        errors += HANDLES.errors
    printed = out.new(1) + server_output
    stderr = out.new(2)
    errors += [f"stderr: {line}" for line in exception_lines(stderr)]
    if server_output:
        errors += [f"server: {line}" for line in exception_lines(server_output)]
    errors += _client_checks(step.get("expect") or {}, body, headers, printed)
    return {"marks": step.get("marks", []), "errors": errors, "printed": printed, "returned": returned,
            "status": status, "body": body, "headers": headers, "lingering": lingering,
            "seconds": round(time.monotonic() - started, 3)}


def _client_checks(expect: dict, body, headers, printed: str) -> list[str]:
    """What a client (or the person reading the log) would notice."""
    failed = []
    if "body" in expect and expect["body"] not in (body or ""):
        failed.append(f"ClientCheck: the body lacks {expect['body']!r} (it is {body!r})")
    if "printed" in expect and expect["printed"] not in printed:
        failed.append(f"ClientCheck: the output lacks {expect['printed']!r} (it is {printed.strip()!r})")
    headers = headers or {}
    for name, text in (expect.get("headers") or {}).items():
        if text not in headers.get(name, ""):
            failed.append(f"ClientCheck: no {name}: {text} header (headers: {sorted(headers)})")
    for name in expect.get("no_headers") or ():
        if name in headers:
            failed.append(f"ClientCheck: a {name} header: {headers[name]!r}")
    return failed


# --- components -----------------------------------------------------------------------------

def _start_subprocess_services(scenario: dict, path: str, eager: bool) -> dict:
    wanted = scenario.get("services", {})
    workers: dict = {}
    directory = os.path.dirname(path)
    name = os.path.splitext(os.path.basename(path))[0]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([directory, os.environ.get("PYTHONPATH", "")]))
    if wanted.get("redis") and not (eager and not wanted.get("rq")):
        redis = services.RedisServer().start()
        workers["redis"] = redis
        os.environ["REDIS_URL"] = env["REDIS_URL"] = redis.url
    if eager:
        return workers
    if wanted.get("celery"):
        workers["celery"] = services.CeleryWorker(f"{name}:{wanted['celery']}", cwd=directory, env=env,
                                                  start_timeout=30).launch()
    if wanted.get("rq"):
        workers["rq"] = services.RQWorker(os.environ["REDIS_URL"], cwd=directory, env=env).launch()
    return workers


def _start_in_process_services(scenario: dict, module, state: dict, eager: bool) -> None:
    wanted = scenario.get("services", {})
    workers = state["workers"]
    if eager:
        if wanted.get("celery"):
            getattr(module, wanted["celery"]).conf.task_always_eager = True
        if wanted.get("huey"):
            getattr(module, wanted["huey"]).immediate = True
        return
    for kind in ("celery", "rq"):
        if kind in workers:
            workers[kind].wait_ready()
    if wanted.get("huey"):
        workers["huey"] = services.InProcessHueyConsumer(getattr(module, wanted["huey"]), workers=2).start()
    if wanted.get("dramatiq"):
        import dramatiq

        workers["dramatiq"] = services.InProcessDramatiqWorker(dramatiq.get_broker(), threads=2).start()
    if wanted.get("scheduler"):
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

        scheduler = getattr(module, wanted["scheduler"])
        inner = getattr(scheduler, "scheduler", scheduler)  # Flask-APScheduler wraps one
        inner.add_listener(_aps_listener, EVENT_JOB_ERROR | EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
        scheduler.start()
        state["scheduler"] = inner
        workers["scheduler"] = inner


def _rq_inline() -> None:
    """Every RQ queue the app makes (its own, ``@job``'s) is ``Queue(..., is_async=False)``."""
    from rq import Queue

    init = Queue.__init__

    def inline_init(self, *args, **kwargs):
        kwargs["is_async"] = False
        init(self, *args, **kwargs)

    Queue.__init__ = inline_init


def _stop(workers: dict) -> None:
    for name in ("scheduler", "dramatiq", "huey", "celery", "rq", "server", "redis"):
        worker = workers.get(name)
        if worker is None:
            continue
        try:
            worker.shutdown(wait=False) if name == "scheduler" else worker.stop()
        except Exception:  # noqa: BLE001 - stopping is best effort; atexit tries again
            traceback.print_exc()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    eager = "--eager" in argv
    path = os.path.abspath([a for a in argv if not a.startswith("--")][0])
    scenario = _scenario(path)
    if scenario.get("inherit"):
        install_inheritance()
    out = Out()
    logging.basicConfig(level=logging.WARNING, stream=out.diag,
                        format="[log] %(name)s %(levelname)s %(message)s")
    for name, value in (scenario.get("env") or {}).items():
        os.environ[name] = value
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    threading.excepthook = capture._excepthook
    capture._install_task_capture()
    _hook_asyncio()
    state = {"path": path, "scenario": scenario, "workers": {}}
    try:
        try:
            state["workers"] = _start_subprocess_services(scenario, path, eager)
            if eager and scenario.get("services", {}).get("rq"):
                _rq_inline()
            if not any(step.get("import") for step in scenario["steps"]):
                state["module"] = _load(path)
                state["module"].app.config["PROPAGATE_EXCEPTIONS"] = True
                _hook_libraries(scenario, state["module"])
                _start_in_process_services(scenario, state["module"], state, eager)
        except services.ServiceError as exc:
            out.emit({"skip": f"{type(exc).__name__}: {exc}".splitlines()[0]})
            out.diag.write(f"[runner] skip: {exc}\n")
            return 0
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in COMPONENTS:  # the fixture's own mistake
                out.diag.write(f"[runner] importing the app:\n{traceback.format_exc()}")
                return 1
            out.emit({"skip": f"{exc} (pip install -e '.[test]')"})
            out.diag.write(f"[runner] skip: {exc}\n")
            return 0
        except Exception:  # noqa: BLE001
            out.diag.write(f"[runner] setting up:\n{traceback.format_exc()}")
            return 1
        for step in scenario["steps"]:
            try:
                record = run_step(step, state, out)
            except Exception:  # noqa: BLE001 - the runner's own failure: fds 1 and 2 are files now
                out.diag.write(f"[runner] step {step}:\n{traceback.format_exc()}")
                return 1
            out.emit(record)
            if "skip" in record:
                break
        for name in ("celery", "rq"):
            if name in state["workers"]:
                out.diag.write(f"[{name} worker log]\n{state['workers'][name].output[-6000:]}\n")
    finally:
        _stop({**state["workers"], "server": state.get("server")})
        out.new(1), out.new(2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
