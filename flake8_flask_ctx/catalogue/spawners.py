"""Everything that runs a function somewhere else, one record per spawning callable.

A record says all that the analysis, the lifetime check, the prefilter and the fixer need
to know, so that teaching the tool a new spawner is one entry in ``SPAWNERS``:

- how the spawner is recognised: a function called by its qualified name (``callables``),
  a method (``methods``) on an object built by one of ``receivers`` (or on any receiver),
  or instantiating a subclass of ``bases``;
- where the worker and its arguments are passed (``worker``, ``args``, ``kwargs``,
  ``extra_from``) and whether one call runs the worker for many tasks (``fan_out``);
- what waits for the work (``joins``), and how the fixer hands hoisted values to a
  module-level worker (``passing``).

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

    def words(self) -> Iterator[str]:
        """Text that any use of this spawner must contain (its import or its call)."""
        for name in (*self.callables, *(self.receivers or ()), *self.bases):
            yield name.rsplit(".", 1)[-1]
        if self.receivers is None:
            yield from self.methods


_THREAD_BASES = ("threading.Thread", "threading.Timer")
_POOLS = ("multiprocessing.dummy.Pool", "multiprocessing.pool.ThreadPool", "multiprocessing.dummy.ThreadPool")
_EXECUTORS = ("concurrent.futures.ThreadPoolExecutor", "concurrent.futures.thread.ThreadPoolExecutor")
_START_NEW = ("_thread.start_new_thread", "_thread.start_new", "thread.start_new_thread")


def _pool_map(method: str, blocking: bool) -> Spawner:
    return Spawner(f"Pool.{method}", ArgSlot(0, ("func",)), methods=(method,), receivers=_POOLS,
                   fan_out=True, passing=Passing.PARTIAL,
                   joins=(Join.BLOCKING if blocking else Join.HANDLE) | Join.CONSUMED | Join.RECEIVER)


SPAWNERS: tuple[Spawner, ...] = (
    Spawner("threading.Thread", ArgSlot(1, ("target",)), callables=("threading.Thread",),
            args=ArgSlot(3, ("args",)), kwargs=ArgSlot(4, ("kwargs",)), passing=Passing.KWARGS),
    Spawner("threading.Timer", ArgSlot(1, ("function",)), callables=("threading.Timer",),
            args=ArgSlot(2, ("args",)), kwargs=ArgSlot(3, ("kwargs",)), passing=Passing.KWARGS),
    # positional-only parameters: an existing kwargs dict can grow, none can be added
    Spawner("_thread.start_new_thread", ArgSlot(0, ("function",)), callables=_START_NEW,
            args=ArgSlot(1), kwargs=ArgSlot(2), passing=Passing.KWARGS),
    # a Thread subclass: instantiating it spawns its run() (and what run() calls)
    Spawner("Thread subclass", ArgSlot(None), bases=_THREAD_BASES),
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
    *(_pool_map(m, blocking=m in ("map", "starmap"))
      for m in ("map", "map_async", "imap", "imap_unordered", "starmap", "starmap_async")),
    Spawner("Pool.apply", ArgSlot(0, ("func",)), methods=("apply",), receivers=_POOLS,
            args=ArgSlot(1, ("args",)), kwargs=ArgSlot(2, ("kwds",)), passing=Passing.KWARGS,
            joins=Join.BLOCKING | Join.CONSUMED | Join.RECEIVER),
    Spawner("Pool.apply_async", ArgSlot(0, ("func",)), methods=("apply_async",), receivers=_POOLS,
            args=ArgSlot(1, ("args",)), kwargs=ArgSlot(2, ("kwds",)), passing=Passing.KWARGS,
            joins=Join.HANDLE | Join.CONSUMED | Join.RECEIVER),
    Spawner("ThreadPoolExecutor.submit", ArgSlot(0, ("fn",)), methods=("submit",), receivers=_EXECUTORS,
            extra_from=1, passing=Passing.EXTRA_KEYWORDS, joins=Join.HANDLE | Join.RECEIVER),
    Spawner("ThreadPoolExecutor.map", ArgSlot(0, ("fn",)), methods=("map",), receivers=_EXECUTORS,
            fan_out=True, passing=Passing.PARTIAL, joins=Join.CONSUMED | Join.RECEIVER),
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
        for spawner in self._spawners:
            for name in spawner.callables:
                self.by_callable[name] = spawner
            for method in spawner.methods:
                self.by_method.setdefault(method, []).append(spawner)
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

    def method(self, name: str, receiver: Optional[str]) -> Optional[Spawner]:
        """The spawner for ``<receiver>.<name>(...)``; ``receiver`` is the qualified name of
        the constructor that built the object, or None when it is unknown."""
        for spawner in self.by_method.get(name, ()):
            if spawner.receivers is None or (receiver is not None and receiver in spawner.receivers):
                return spawner
        return None

    def needs_receiver(self, name: str) -> bool:
        return any(s.receivers is not None for s in self.by_method.get(name, ()))

    def words(self) -> tuple[str, ...]:
        """The shortest set of words one of which any spawn must contain (prefilter)."""
        return minimal_words(w for s in self._spawners for w in s.words())


def minimal_words(words) -> tuple[str, ...]:
    """Drop every word that contains another one: testing the shorter one suffices."""
    unique = sorted(set(w for w in words if w), key=len)
    kept: list[str] = []
    for word in unique:
        if not any(k in word for k in kept):
            kept.append(word)
    return tuple(sorted(kept))


TABLE = SpawnerTable(SPAWNERS)
