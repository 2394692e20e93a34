"""Everything that runs a function somewhere else, one record per spawning callable.

A record says all that the analysis, the lifetime check, the prefilter and the fixer need
to know, so that teaching the tool a new spawner is one entry in ``SPAWNERS``:

- how the spawner is recognised: a function called by its qualified name (``callables``),
  a method (``methods``) on an object built by one of ``receivers`` (or on any receiver),
  or instantiating a subclass of ``bases``;
- where the worker and its arguments are passed (``worker``, ``args``, ``kwargs``,
  ``extra_from``) and whether one call runs the worker for many tasks (``fan_out``);
- what waits for the work (``joins``), and how the fixer hands hoisted values to a
  module-level worker (``passing``);
- where the work runs (``kind``: a thread, a greenlet, another process, a task queue's
  worker, a scheduler's job), what messages call it (``label``), which contexts the
  spawner itself gives it (``carries``; a task queue's app context is decided by the
  project's own task class, see ``analysis/tasks.py``), and how its arguments cross over
  (``serializer``: JSON or pickle for queues and processes, None in this process);
- for task queues and schedulers, whether the spawner is a decorator that makes the
  function a task (``decorator``), and the task's methods that enqueue it (``enqueues``).

The prefilter's spawn words are derived from the records (``SpawnerTable.words``), so a new
entry can never be skipped by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, Flag, auto
from typing import Iterator, Optional


@dataclass(frozen=True)
class ArgSlot:
    """Where a call takes one of its arguments: a position, and the keywords that name it
    (none for positional-only parameters)."""

    position: Optional[int]
    keywords: tuple[str, ...] = ()


class Join(Flag):
    """What makes the spawning function wait for its worker."""

    NONE = 0
    HANDLE = auto()  # a wait on what the call returned: ``t.join()``, ``future.result()``
    BLOCKING = auto()  # the call itself returns when the work is done: ``Pool.map``
    CONSUMED = auto()  # iterating (or passing on) the result waits: ``list(executor.map(...))``
    RECEIVER = auto()  # leaving ``with <receiver>:`` or ``<receiver>.join()`` waits


class Passing(Enum):
    """How the fixer passes values it hoisted out of a module-level worker."""

    NONE = "none"  # no way to pass more: the finding is left
    KWARGS = "kwargs"  # into the ``kwargs`` slot's dict: ``Thread(kwargs={"q": q})``
    EXTRA_KEYWORDS = "keywords"  # extra keyword arguments: ``submit(fn, q=q)``
    EXTRA_POSITIONAL = "positional"  # extra positional arguments: ``run_in_executor(ex, fn, q)``
    PARTIAL = "partial"  # bound into the worker: ``map(functools.partial(fn, q=q), items)``


class Kind(Enum):
    """Where the worker runs: decides which contexts it can have and what the message says."""

    THREAD = "thread"  # a thread of this process (also a pool's or an executor's thread)
    PROCESS = "process"  # another process: arguments pickled; fork copies the caller's memory
    TASK = "task"  # a task queue's worker: never in a request; arguments serialized
    JOB = "job"  # a scheduler's job: in the scheduler's threads, later or repeatedly


class Carry(Enum):
    """Which contexts the spawner itself gives the worker."""

    NOTHING = "nothing"
    CALLER = "caller"  # runs in a copy of the caller's contextvars: ``asyncio.to_thread``
    COPY_PER_CALL = "copy-per-call"  # a request copy per task, app pushed: Flask-Executor's submit
    ONE_COPY = "one-copy"  # one request copy for every task: Flask-Executor's map (FCX201)


class Serializer(Enum):
    """How a queue or a process sends the worker's arguments (FCX104)."""

    JSON = "JSON"  # a proxy or a file fails at enqueue; a MultiDict keeps one value per key
    PICKLE = "pickle"  # a proxy fails at enqueue; a file pickles, then fails in the worker
    PICKLE_UNLESS_FORKED = "pickle, unless forked"  # ``Process``: a forked child gets a copy instead


# the values of a queue's serializer setting (``serializer_setting``)
SERIALIZER_NAMES = {"json": Serializer.JSON, "pickle": Serializer.PICKLE}


@dataclass(frozen=True)
class Spawner:
    name: str  # shown in messages: ``threading.Thread``, ``Pool.imap``
    worker: ArgSlot
    callables: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    receivers: Optional[tuple[str, ...]] = None  # None: a method recognised on any receiver
    bases: tuple[str, ...] = ()
    args: Optional[ArgSlot] = None  # an ``args=`` tuple
    kwargs: Optional[ArgSlot] = None  # a ``kwargs=`` dict
    extra_from: Optional[int] = None  # positional arguments from here on go to the worker
    fan_out: bool = False
    joins: Join = Join.HANDLE
    passing: Passing = Passing.NONE
    kind: Kind = Kind.THREAD
    label: str = "worker"  # how messages name the worker: ``Celery task send()``
    carries: Carry = Carry.NOTHING
    serializer: Optional[Serializer] = None
    # the app setting that changes ``serializer`` (``Celery(task_serializer="pickle")``,
    # ``celery.conf.update(task_serializer=...)``, ``celery.conf.task_serializer = ...``)
    serializer_setting: Optional[str] = None
    decorator: bool = False  # used as ``@spawner`` or ``@spawner(...)``: the function is the worker
    enqueues: tuple[str, ...] = ()  # the task's methods that send it: ``delay``, ``apply_async``
    enqueue_by_call: bool = False  # calling the decorated function enqueues it (huey)
    inherits: bool = False  # starts a threading.Thread: on 3.14t it inherits the caller's context
    lazy_threads: bool = False  # the receiver makes its threads at its first calls (an executor)
    # the prefilter's words when the names' last components are too common (``job``, ``Queue``)
    prefilter_words: tuple[str, ...] = ()
    # a task queue's task base class: a subclass whose ``__call__`` runs the task inside
    # ``with app.app_context():`` gives every task an app context (Flask's Celery pattern)
    task_bases: tuple[str, ...] = ()

    def words(self) -> Iterator[str]:
        """Text that any use of this spawner must contain (its import or its call)."""
        if self.prefilter_words:
            yield from self.prefilter_words
            return
        for name in (*self.callables, *(self.receivers or ()), *self.bases):
            yield name.rsplit(".", 1)[-1]
        if self.receivers is None:
            yield from self.methods


_THREAD_BASES = ("threading.Thread", "threading.Timer")
_POOLS = ("multiprocessing.dummy.Pool", "multiprocessing.pool.ThreadPool", "multiprocessing.dummy.ThreadPool")
_EXECUTORS = ("concurrent.futures.ThreadPoolExecutor", "concurrent.futures.thread.ThreadPoolExecutor")
_START_NEW = ("_thread.start_new_thread", "_thread.start_new", "thread.start_new_thread")
_PROCESS_POOLS = ("multiprocessing.Pool", "multiprocessing.pool.Pool", "multiprocessing.context.Pool")
_PROCESS_EXECUTORS = ("concurrent.futures.ProcessPoolExecutor", "concurrent.futures.process.ProcessPoolExecutor")
_MP_CONTEXTS = ("multiprocessing.get_context",)  # ``ctx = get_context("spawn"); ctx.Process(...)``
# what a context factory's result offers: ``get_context("spawn").Pool`` is multiprocessing.context.Pool
CONTEXT_MEMBERS = {factory: "multiprocessing.context" for factory in _MP_CONTEXTS}
START_METHOD_FACTORIES = frozenset(_MP_CONTEXTS)  # their first argument: "fork", "spawn", "forkserver"
FORK = "fork"  # the start method whose child is a copy of the caller, request included
_FLASK_EXECUTOR = ("flask_executor.Executor", "flask_executor.executor.Executor")
_POOL_MAPS = ("map", "map_async", "imap", "imap_unordered", "starmap", "starmap_async")


def _pool_map(method: str, receivers: tuple[str, ...] = _POOLS, **more) -> Spawner:
    blocking = Join.BLOCKING if method in ("map", "starmap") else Join.HANDLE
    return Spawner(f"Pool.{method}", ArgSlot(0, ("func",)), methods=(method,), receivers=receivers,
                   fan_out=True, joins=blocking | Join.CONSUMED | Join.RECEIVER, **{"passing": Passing.PARTIAL, **more})


def _pool_apply(method: str, receivers: tuple[str, ...] = _POOLS, **more) -> Spawner:
    blocking = Join.BLOCKING if method == "apply" else Join.HANDLE
    return Spawner(f"Pool.{method}", ArgSlot(0, ("func",)), methods=(method,), receivers=receivers,
                   args=ArgSlot(1, ("args",)), kwargs=ArgSlot(2, ("kwds",)),
                   joins=blocking | Join.CONSUMED | Join.RECEIVER, **{"passing": Passing.KWARGS, **more})


# Another process: its arguments are pickled; the fixer adds none (they would have to pickle).
_IN_PROCESS = {"kind": Kind.PROCESS, "label": "process worker", "serializer": Serializer.PICKLE,
               "passing": Passing.NONE}
_PROCESS = {**_IN_PROCESS, "serializer": Serializer.PICKLE_UNLESS_FORKED}  # a pool always pickles

# Task queues and schedulers. The worker never has a request; it has an app context only
# where the project's task class pushes one (analysis/tasks.py). A task's callers are
# anywhere in the code base, so the fixer changes no task's signature (passing NONE).
_CELERY_APPS = ("celery.Celery", "celery.app.base.Celery")
_HUEYS = tuple(f"huey.{name}" for name in ("Huey", "RedisHuey", "PriorityRedisHuey", "RedisExpireHuey",
                                            "MemoryHuey", "SqliteHuey", "FileHuey", "BlackHoleHuey"))
_SCHEDULERS = tuple(f"apscheduler.schedulers.{module}.{name}" for module, name in (
    ("background", "BackgroundScheduler"), ("blocking", "BlockingScheduler"), ("asyncio", "AsyncIOScheduler"),
    ("gevent", "GeventScheduler"), ("tornado", "TornadoScheduler"), ("twisted", "TwistedScheduler"),
    ("qt", "QtScheduler")))
_FLASK_APSCHEDULER = ("flask_apscheduler.APScheduler", "flask_apscheduler.scheduler.APScheduler")
_RQ_QUEUES = ("rq.Queue", "rq.queue.Queue")

_CELERY = {"kind": Kind.TASK, "label": "Celery task", "serializer": Serializer.JSON,
           "serializer_setting": "task_serializer", "decorator": True,
           "enqueues": ("delay", "apply_async", "s", "si", "signature"), "joins": Join.NONE,
           "task_bases": ("celery.Task", "celery.app.task.Task")}
_HUEY = {"kind": Kind.TASK, "label": "huey task", "serializer": Serializer.PICKLE, "decorator": True,
         "enqueues": ("schedule", "s"), "enqueue_by_call": True, "joins": Join.NONE}
_RQ = {"kind": Kind.TASK, "label": "RQ job", "serializer": Serializer.PICKLE, "joins": Join.NONE}
_JOB = {"kind": Kind.JOB, "label": "scheduled job", "joins": Join.NONE}

SPAWNERS: tuple[Spawner, ...] = (
    Spawner("threading.Thread", ArgSlot(1, ("target",)), callables=("threading.Thread",),
            args=ArgSlot(3, ("args",)), kwargs=ArgSlot(4, ("kwargs",)), passing=Passing.KWARGS, inherits=True),
    Spawner("threading.Timer", ArgSlot(1, ("function",)), callables=("threading.Timer",),
            args=ArgSlot(2, ("args",)), kwargs=ArgSlot(3, ("kwargs",)), passing=Passing.KWARGS, inherits=True),
    # positional-only parameters: an existing kwargs dict can grow, none can be added
    Spawner("_thread.start_new_thread", ArgSlot(0, ("function",)), callables=_START_NEW,
            args=ArgSlot(1), kwargs=ArgSlot(2), passing=Passing.KWARGS),
    # a Thread subclass: instantiating it spawns its run() (and what run() calls)
    Spawner("Thread subclass", ArgSlot(None), bases=_THREAD_BASES, inherits=True),
    Spawner("gevent.spawn", ArgSlot(0, ("run",)), callables=("gevent.spawn",), extra_from=1,
            passing=Passing.EXTRA_KEYWORDS),
    Spawner("gevent.spawn_later", ArgSlot(1, ("run",)), callables=("gevent.spawn_later",), extra_from=2,
            passing=Passing.EXTRA_KEYWORDS),
    Spawner("gevent.spawn_raw", ArgSlot(0, ("function",)), callables=("gevent.spawn_raw",), extra_from=1,
            passing=Passing.EXTRA_KEYWORDS),
    Spawner("gevent.Greenlet.spawn", ArgSlot(0, ("run",)), callables=("gevent.Greenlet.spawn",),
            extra_from=1, passing=Passing.EXTRA_KEYWORDS),
    Spawner("eventlet.spawn", ArgSlot(0, ("func",)), callables=("eventlet.spawn", "eventlet.spawn_n"),
            extra_from=1, passing=Passing.EXTRA_KEYWORDS),
    Spawner("eventlet.spawn_after", ArgSlot(1, ("func",)), callables=("eventlet.spawn_after",), extra_from=2,
            passing=Passing.EXTRA_KEYWORDS),
    Spawner("socketio.start_background_task", ArgSlot(0, ("target",)), methods=("start_background_task",),
            extra_from=1, passing=Passing.EXTRA_KEYWORDS),
    Spawner("loop.run_in_executor", ArgSlot(1, ("func",)), methods=("run_in_executor",), extra_from=2,
            passing=Passing.EXTRA_POSITIONAL),
    *(_pool_map(m) for m in _POOL_MAPS),
    _pool_apply("apply"),
    _pool_apply("apply_async"),
    Spawner("ThreadPoolExecutor.submit", ArgSlot(0, ("fn",)), methods=("submit",), receivers=_EXECUTORS,
            extra_from=1, passing=Passing.EXTRA_KEYWORDS, joins=Join.HANDLE | Join.RECEIVER, lazy_threads=True),
    Spawner("ThreadPoolExecutor.map", ArgSlot(0, ("fn",)), methods=("map",), receivers=_EXECUTORS,
            fan_out=True, passing=Passing.PARTIAL, joins=Join.CONSUMED | Join.RECEIVER, lazy_threads=True),
    # runs the function in a copy of the caller's contextvars: the view's g is shared
    Spawner("asyncio.to_thread", ArgSlot(0, ("func",)), callables=("asyncio.to_thread",), extra_from=1,
            carries=Carry.CALLER, passing=Passing.EXTRA_KEYWORDS),
    # Flask-Executor wraps each submitted function in its own request copy and pushes the
    # app's context; map wraps it once for all the items (runtime facts, Flask-Executor)
    Spawner("flask_executor.Executor.submit", ArgSlot(0, ("fn",)), methods=("submit", "submit_stored"),
            receivers=_FLASK_EXECUTOR, extra_from=1, carries=Carry.COPY_PER_CALL,
            passing=Passing.EXTRA_KEYWORDS),
    Spawner("flask_executor.Executor.map", ArgSlot(0, ("fn",)), methods=("map",), receivers=_FLASK_EXECUTOR,
            fan_out=True, carries=Carry.ONE_COPY, joins=Join.CONSUMED),
    # other processes: no context, unless forked from inside the request (a frozen copy)
    Spawner("multiprocessing.Process", ArgSlot(1, ("target",)),
            callables=("multiprocessing.Process", "multiprocessing.context.Process"),
            args=ArgSlot(3, ("args",)), kwargs=ArgSlot(4, ("kwargs",)), **_PROCESS),
    Spawner("multiprocessing context Process", ArgSlot(1, ("target",)), methods=("Process",),
            receivers=_MP_CONTEXTS, args=ArgSlot(3, ("args",)), kwargs=ArgSlot(4, ("kwargs",)), **_PROCESS),
    Spawner("Process subclass", ArgSlot(None), bases=("multiprocessing.Process",), **_PROCESS),
    *(_pool_map(m, _PROCESS_POOLS, **_IN_PROCESS) for m in _POOL_MAPS),
    _pool_apply("apply", _PROCESS_POOLS, **_IN_PROCESS),
    _pool_apply("apply_async", _PROCESS_POOLS, **_IN_PROCESS),
    Spawner("ProcessPoolExecutor.submit", ArgSlot(0, ("fn",)), methods=("submit",), receivers=_PROCESS_EXECUTORS,
            extra_from=1, joins=Join.HANDLE | Join.RECEIVER, **_IN_PROCESS),
    Spawner("ProcessPoolExecutor.map", ArgSlot(0, ("fn",)), methods=("map",), receivers=_PROCESS_EXECUTORS,
            fan_out=True, joins=Join.CONSUMED | Join.RECEIVER, **_IN_PROCESS),
    # task queues
    Spawner("celery.shared_task", ArgSlot(None), callables=("celery.shared_task", "celery.app.shared_task"),
            **_CELERY),
    Spawner("Celery.task", ArgSlot(None), methods=("task",), receivers=_CELERY_APPS, **_CELERY),
    # ``job`` and ``Queue`` are everywhere; the import of ``rq`` and the call's ``enqueue`` are not
    Spawner("rq.job", ArgSlot(None), callables=("rq.decorators.job", "rq.job"), decorator=True,
            enqueues=("delay",), prefilter_words=("rq",), **_RQ),
    Spawner("Queue.enqueue", ArgSlot(0, ("f",)), methods=("enqueue",), receivers=_RQ_QUEUES, extra_from=1,
            prefilter_words=("enqueue",), **_RQ),
    Spawner("Queue.enqueue_call", ArgSlot(0, ("func",)), methods=("enqueue_call",), receivers=_RQ_QUEUES,
            args=ArgSlot(1, ("args",)), kwargs=ArgSlot(2, ("kwargs",)), prefilter_words=("enqueue",), **_RQ),
    Spawner("Queue.enqueue_at", ArgSlot(1, ("f",)), methods=("enqueue_at", "enqueue_in"), receivers=_RQ_QUEUES,
            extra_from=2, prefilter_words=("enqueue",), **_RQ),
    Spawner("huey task", ArgSlot(None), methods=("task", "periodic_task", "db_task", "db_periodic_task"),
            receivers=_HUEYS, **_HUEY),
    Spawner("dramatiq.actor", ArgSlot(None), callables=("dramatiq.actor", "dramatiq.actor.actor"),
            kind=Kind.TASK, label="dramatiq actor", serializer=Serializer.JSON, decorator=True,
            enqueues=("send", "send_with_options", "message", "message_with_options"), joins=Join.NONE,
            prefilter_words=("dramatiq",)),  # ``actor`` is in ``factor``
    # schedulers: jobs run in the scheduler's thread pool, in this process (nothing serialized)
    Spawner("APScheduler.add_job", ArgSlot(0, ("func",)), methods=("add_job",), receivers=_SCHEDULERS,
            args=ArgSlot(None, ("args",)), kwargs=ArgSlot(None, ("kwargs",)), prefilter_words=("add_job",), **_JOB),
    Spawner("APScheduler.scheduled_job", ArgSlot(None), methods=("scheduled_job",), receivers=_SCHEDULERS,
            decorator=True, prefilter_words=("scheduled_job",), **_JOB),
    # Flask-APScheduler pushes no context of its own (runtime facts, Flask-APScheduler)
    Spawner("flask_apscheduler.APScheduler.add_job", ArgSlot(1, ("func",)), methods=("add_job",),
            receivers=_FLASK_APSCHEDULER, args=ArgSlot(None, ("args",)), kwargs=ArgSlot(None, ("kwargs",)),
            prefilter_words=("add_job",), **_JOB),
    Spawner("flask_apscheduler.APScheduler.task", ArgSlot(None), methods=("task", "scheduled_job"),
            receivers=_FLASK_APSCHEDULER, decorator=True, **_JOB),
)

# Binds arguments now and calls the function later (where the worker runs).
PARTIAL = "functools.partial"
# Methods whose call waits for a spawned worker, and module functions that wait for several.
WAIT_METHODS = frozenset({"join", "result", "get", "wait", "exception"})
WAIT_FUNCTIONS = frozenset({"wait", "as_completed", "joinall", "killall"})


def custom_spawner(pattern: str) -> Spawner:
    """A user's spawner (``--extra-spawners``): ``dotted.name`` takes the worker first,
    ``dotted.name:N`` at position N, and passes later positional arguments on."""
    name, _, pos = pattern.partition(":")
    position = int(pos) if pos.isdigit() else 0
    return Spawner(name, ArgSlot(position), callables=(name,), extra_from=position + 1,
                   passing=Passing.EXTRA_KEYWORDS)


class SpawnerTable:
    """The spawner records, indexed for the analysis. ``add()`` teaches it a new one."""

    def __init__(self, spawners: tuple[Spawner, ...]) -> None:
        self._spawners = list(spawners)
        self.version = 0
        self._index()

    def _index(self) -> None:
        self.by_callable: dict[str, Spawner] = {}
        self.by_method: dict[str, list[Spawner]] = {}
        self.subclass_bases: dict[str, Spawner] = {}
        self.decorators_by_callable: dict[str, Spawner] = {}
        self.decorators_by_method: dict[str, list[Spawner]] = {}
        for spawner in self._spawners:
            by_callable = self.decorators_by_callable if spawner.decorator else self.by_callable
            by_method = self.decorators_by_method if spawner.decorator else self.by_method
            for name in spawner.callables:
                by_callable[name] = spawner
            for method in spawner.methods:
                by_method.setdefault(method, []).append(spawner)
            for base in spawner.bases:
                self.subclass_bases[base] = spawner

    def __iter__(self) -> Iterator[Spawner]:
        return iter(self._spawners)

    def add(self, spawner: Spawner) -> None:
        self._spawners.append(spawner)
        self.version += 1
        self._index()

    def remove(self, spawner: Spawner) -> None:
        self._spawners.remove(spawner)
        self.version += 1
        self._index()

    def method(self, name: str, receiver: Optional[str], decorator: bool = False) -> Optional[Spawner]:
        """The spawner for ``<receiver>.<name>(...)`` (or the decorator ``@<receiver>.<name>``);
        ``receiver`` is the qualified name of the constructor that built the object, or None
        when it is unknown."""
        for spawner in (self.decorators_by_method if decorator else self.by_method).get(name, ()):
            if spawner.receivers is None or (receiver is not None and receiver in spawner.receivers):
                return spawner
        return None

    def needs_receiver(self, name: str, decorator: bool = False) -> bool:
        methods = self.decorators_by_method if decorator else self.by_method
        return any(s.receivers is not None for s in methods.get(name, ()))

    def words(self, kinds: Optional[frozenset[Kind]] = None) -> tuple[str, ...]:
        """The shortest set of words one of which any spawn (of ``kinds``) must contain."""
        return minimal_words(w for s in self._spawners if kinds is None or s.kind in kinds for w in s.words())


def minimal_words(words) -> tuple[str, ...]:
    """Drop every word that contains another one: testing the shorter one suffices."""
    unique = sorted(set(w for w in words if w), key=len)
    kept: list[str] = []
    for word in unique:
        if not any(k in word for k in kept):
            kept.append(word)
    return tuple(sorted(kept))


TABLE = SpawnerTable(SPAWNERS)
