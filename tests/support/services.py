"""Real background-work services for the runtime proof (tests/test_queue_runtime.py).

Standard library only: the task-queue libraries are imported by the processes that use them,
never here, so the runner (tests/support/queue_runner.py) can tell a missing component from a
failing one. Every helper is a context manager:

* :func:`free_port` -- a TCP port that is free on 127.0.0.1 right now;
* :class:`RedisServer` -- a throw-away ``redis-server`` on a free port, no persistence;
* :class:`CeleryWorker` -- ``celery -A MODULE:ATTR worker`` (solo pool) as a subprocess;
* :class:`RQWorker` -- ``rq worker`` (the forking ``rq.Worker``) as a subprocess;
* :class:`GunicornServer` -- ``gunicorn MODULE:app`` (sync or gthread) on a free port;
* :class:`InProcessHueyConsumer` -- a real huey ``Consumer`` (scheduler and worker threads) in
  this process, the only way to consume a ``MemoryHuey``;
* :class:`InProcessDramatiqWorker` -- a real ``dramatiq.Worker`` (worker threads) in this process.

Each subprocess runs in a session of its own (one process group, work horses and pool children
included), its output is drained into memory by a thread (a full pipe never blocks it), it is
ready when its log says so (with a timeout), and ``stop()`` asks it to stop, then kills the whole
group. ``stop()`` is registered with :mod:`atexit` too, so a crash leaves nothing running.
A service that cannot start raises :class:`ServiceError` with the reason and the log's tail.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Mapping, Optional, Sequence

__all__ = ["ServiceError", "free_port", "RedisServer", "CeleryWorker", "RQWorker", "GunicornServer",
           "InProcessHueyConsumer", "InProcessDramatiqWorker"]


class ServiceError(RuntimeError):
    """A service did not start (or stop) in time; the message says why and ends with its log."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the kernel's choice; a race is possible, hence retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def executable(name: str) -> str:
    """A console script of the running interpreter's environment first (the workers must run
    the caller's versions), else from ``PATH``."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise ServiceError(f"{name!r} is not installed (not next to {sys.executable}, not on PATH)")
    return found


class _Subprocess:
    """One subprocess: drained output, readiness from its log, stop by process group."""

    ready_pattern = ""
    stop_signal = signal.SIGTERM

    def __init__(self, cmd: Sequence[str], *, cwd=None, env: Optional[Mapping[str, str]] = None,
                 start_timeout: float = 20.0, stop_timeout: float = 5.0) -> None:
        self.cmd = list(cmd)
        self.cwd = str(cwd) if cwd is not None else None
        self.env = dict(os.environ if env is None else env)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.proc: Optional[subprocess.Popen] = None
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self._reader: Optional[threading.Thread] = None

    # output
    @property
    def output(self) -> str:
        with self._cond:
            return "".join(self._lines)

    def mark(self) -> int:
        """A position in the output, for :meth:`since`."""
        with self._cond:
            return len(self._lines)

    def since(self, mark: int) -> str:
        with self._cond:
            return "".join(self._lines[mark:])

    def tail(self, n: int = 30) -> str:
        with self._cond:
            return "".join(self._lines[-n:])

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, ""):
            with self._cond:
                self._lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for_output(self, pattern: str, timeout: float) -> re.Match:
        """Block until ``pattern`` is in the output; raise if the process ends first or on timeout."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                match = regex.search("".join(self._lines))
                if match:
                    return match
                if self.proc is not None and self.proc.poll() is not None and not (
                        self._reader and self._reader.is_alive()):
                    raise ServiceError(f"{self.cmd[0]} exited with {self.proc.returncode} before "
                                       f"{pattern!r} appeared:\n{self.tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServiceError(f"no {pattern!r} from {' '.join(self.cmd)} in {timeout} s:\n{self.tail()}")
                self._cond.wait(min(left, 0.1))

    # lifecycle
    def launch(self):
        """Start the process without waiting for it to be ready (see :meth:`wait_ready`)."""
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     bufsize=1, start_new_session=True)
        atexit.register(self.stop)
        self._reader = threading.Thread(target=self._drain, name=f"drain-{Path(self.cmd[0]).name}",
                                        daemon=True)
        self._reader.start()
        return self

    def wait_ready(self):
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def start(self):
        return self.launch().wait_ready()

    def _wait_ready(self) -> None:
        if self.ready_pattern:
            self.wait_for_output(self.ready_pattern, self.start_timeout)

    def _graceful(self) -> None:
        try:
            os.killpg(self.proc.pid, self.stop_signal)
        except ProcessLookupError:
            pass

    def stop(self) -> Optional[int]:
        """Ask the process to stop, then kill what is left of its process group."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            self._graceful()
            try:
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                pass
        try:  # the group id is the leader's pid: this reaches our own tree only
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover - not after SIGKILL
            pass
        if self._reader is not None:
            self._reader.join(2)
        if proc.stdout:
            proc.stdout.close()
        atexit.unregister(self.stop)
        self.proc = None
        return proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class RedisServer(_Subprocess):
    """A private ``redis-server`` on 127.0.0.1 and a free port, persistence off, its files in a
    temporary directory. ``url`` is ``redis://127.0.0.1:PORT/0``."""

    def __init__(self, *, binary: str = "redis-server", retries: int = 3, **kw) -> None:
        self.binary = binary
        self.port: Optional[int] = None
        self.retries = retries
        self._tmp: Optional[tempfile.TemporaryDirectory] = None
        kw.setdefault("start_timeout", 10.0)
        super().__init__([binary], **kw)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _send(self, payload: bytes, timeout: float = 0.5) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(payload)
            try:
                return sock.recv(64)
            except (socket.timeout, ConnectionError):
                return b""

    def ping(self) -> bool:
        try:
            return self._send(b"PING\r\n").startswith(b"+PONG")
        except OSError:
            return False

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServiceError(f"redis-server exited with {self.proc.returncode}:\n{self.tail()}")
            if self.ping():
                return
            time.sleep(0.02)
        raise ServiceError(f"redis-server did not answer PING on port {self.port}:\n{self.tail()}")

    def start(self):
        binary = shutil.which(self.binary)
        if not binary:
            raise ServiceError("redis-server is not installed (Debian: apt-get install -y redis-server)")
        last: Optional[Exception] = None
        for _ in range(self.retries):
            self.port = free_port()
            self._tmp = tempfile.TemporaryDirectory(prefix="fcx-redis-")
            self.cmd = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", self._tmp.name, "--daemonize", "no",
                        "--loglevel", "warning"]
            self._lines = []
            try:
                return super().start()
            except ServiceError as exc:  # most likely the port was taken in between
                last = exc
        raise last  # type: ignore[misc]

    def _graceful(self) -> None:
        try:
            self._send(b"SHUTDOWN NOSAVE\r\n")
        except OSError:
            super()._graceful()

    def stop(self):
        code = super().stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return code


class CeleryWorker(_Subprocess):
    """``celery -A MODULE:ATTR worker`` as a subprocess, ready when it logs ``ready.``

    ``-A module:attr`` (not ``-A module``: celery would take a Flask ``app`` attribute for its
    own). Gossip, mingle and heartbeat are off (they only slow the start); the node name is
    unique. The broker's URL reaches the worker through ``env`` (the worker imports the module).
    """

    ready_pattern = r"ready\."

    def __init__(self, app: str, *, pool: str = "solo", concurrency: int = 1, loglevel: str = "INFO",
                 **kw) -> None:
        cmd = [sys.executable, "-m", "celery", "-A", app, "worker", "--pool", pool,
               "--concurrency", str(concurrency), "--loglevel", loglevel, "--without-gossip",
               "--without-mingle", "--without-heartbeat", "-n", f"fcx-{uuid.uuid4().hex[:8]}@%h"]
        super().__init__(cmd, **kw)


class RQWorker(_Subprocess):
    """``rq worker`` as a subprocess: the default ``rq.Worker``, which forks a work horse per job.

    ``--path`` puts ``cwd`` on the work horse's ``sys.path`` so a job's module imports by name.
    With ``burst=True`` it exits once the queues are empty (:meth:`wait`)."""

    ready_pattern = r"Listening on|Worker .* started|\*\*\* Listening"

    def __init__(self, redis_url: str, queues: Sequence[str] = ("default",), *, burst: bool = False,
                 cwd=None, worker_class: Optional[str] = None, **kw) -> None:
        cmd = [executable("rq"), "worker", "--url", redis_url, "--name", f"fcx-{uuid.uuid4().hex[:8]}"]
        if cwd is not None:
            cmd += ["--path", str(cwd)]
        if worker_class:
            cmd += ["--worker-class", worker_class]
        if burst:
            cmd.append("--burst")
        cmd += list(queues)
        self.burst = burst
        super().__init__(cmd, cwd=cwd, **kw)

    def _wait_ready(self) -> None:
        if not self.burst:  # a burst worker may be done before it logs anything useful
            super()._wait_ready()

    def wait(self, timeout: float = 15.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ServiceError(f"rq worker still running after {timeout} s:\n{self.tail()}") from None


class GunicornServer(_Subprocess):
    """``gunicorn MODULE:APP`` on 127.0.0.1 and a free port; ready when a worker booted and the
    port accepts connections. ``python`` lets the caller run gunicorn through a wrapper
    (``[sys.executable, "-c", "...; from gunicorn.app.wsgiapp import run; run()"]``)."""

    ready_pattern = r"Booting worker with pid"

    def __init__(self, app: str, *, worker_class: str = "sync", threads: int = 1,
                 launcher: Optional[Sequence[str]] = None, **kw) -> None:
        self.port = free_port()
        launcher = list(launcher) if launcher else [executable("gunicorn")]
        cmd = launcher + [app, "-b", f"127.0.0.1:{self.port}", "-w", "1", "-k", worker_class,
                          "--threads", str(threads), "--graceful-timeout", "2", "--log-level", "info"]
        help_text = subprocess.run([executable("gunicorn"), "--help"], capture_output=True, text=True).stdout
        if "--no-control-socket" in help_text:  # gunicorn >= 24 would make ~/.gunicorn/gunicorn.ctl
            cmd.append("--no-control-socket")
        super().__init__(cmd, **kw)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self) -> None:
        super()._wait_ready()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise ServiceError(f"gunicorn is not accepting on port {self.port}:\n{self.tail()}")


class InProcessHueyConsumer:
    """A real huey consumer (its scheduler and worker threads) in this process.

    ``Consumer.start()`` installs signal handlers, so enter this from the main thread; the
    previous handlers are restored on exit."""

    def __init__(self, huey, *, workers: int = 2, periodic: bool = True, **consumer_kw) -> None:
        self.huey = huey
        self.kw = dict(workers=workers, periodic=periodic, worker_type="thread", **consumer_kw)
        self.consumer = None
        self._saved: dict = {}

    def start(self):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self._saved[sig] = signal.getsignal(sig)
        self.consumer = self.huey.create_consumer(**self.kw)
        self.consumer.start()
        atexit.register(self.stop)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self.consumer is None:
            return
        self.consumer.shutdown_timeout = timeout
        self.consumer.stop(graceful=True)
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
        self.consumer = None
        atexit.unregister(self.stop)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class InProcessDramatiqWorker:
    """A real ``dramatiq.Worker`` (consumer and worker threads) on ``broker``, in this process.
    A ``StubBroker`` can only be consumed this way."""

    def __init__(self, broker, *, threads: int = 2) -> None:
        self.broker = broker
        self.threads = threads
        self.worker = None

    def start(self):
        import dramatiq  # only when asked for

        self.worker = dramatiq.Worker(self.broker, worker_threads=self.threads, worker_timeout=50)
        self.worker.start()
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop(timeout=5000)
            self.worker = None
            atexit.unregister(self.stop)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
