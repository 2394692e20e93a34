"""What the names this tool cares about mean, as fully qualified names.

Kept apart from the analysis so that adding a Flask helper, an extension re-export or a
spawner is a one-line change here, not a change to the traversal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional


class Need(Enum):
    """Which context a read needs: a request context implies an app context."""

    REQUEST = "request"
    APP = "app"


# Flask's context-bound names, by the context they need (flask-runtime.md §4 case 1, 2, 2d).
REQUEST_BOUND = frozenset(
    {
        "flask.request",
        "flask.session",
        "flask.flash",
        "flask.get_flashed_messages",
        "flask.after_this_request",
        "flask_login.current_user",
        "flask_login.login_user",
        "flask_login.logout_user",
        "flask_login.utils.current_user",
        # evaluating the decorator needs a request: DEC2 (flask-runtime.md §3 case 4a)
        "flask.copy_current_request_context",
    }
)
APP_BOUND = frozenset(
    {
        "flask.g",
        "flask.current_app",
        "flask.url_for",
        "flask.render_template",
        "flask.render_template_string",
        "flask.stream_template",
        "flask.stream_template_string",
        "flask.jsonify",
        "flask.make_response",
    }
)
# Proxy *objects* (not helper functions): passing one of these to a worker is FCX102.
PROXY_OBJECTS = frozenset(
    {
        "flask.request",
        "flask.session",
        "flask.g",
        "flask.current_app",
        "flask_login.current_user",
    }
)

# Flask's submodules that define or re-export the names above: ``flask.globals.request``
# is ``flask.request``.
_FLASK_SUBMODULES = ("flask.globals.", "flask.helpers.", "flask.templating.", "flask.json.", "flask.ctx.")

# Builds URLs from the request; without one it needs SERVER_NAME, so an app context alone
# is not enough (flask-runtime.md §3 case 9: SN2).
NEEDS_REQUEST_FOR_URLS = frozenset({"flask.url_for"})

COPY_REQUEST_CONTEXT = "flask.copy_current_request_context"
HAS_REQUEST_CONTEXT = "flask.has_request_context"
HAS_APP_CONTEXT = "flask.has_app_context"
FLASK_APP = "flask.Flask"

# Methods that push a context when used as ``with app.<method>(...):``.
PUSHES_APP = frozenset({"app_context"})
PUSHES_REQUEST = frozenset({"test_request_context", "request_context"})

# Decorators of functions that run outside any request (CLI commands, app-context hooks).
NO_REQUEST_DECORATORS = ("*.cli.command", "click.command", "click.group", "*.command",
                         "flask.cli.with_appcontext", "*.teardown_appcontext")


def canonical(qualname: str) -> str:
    """Map Flask's internal module paths onto the public name (``flask.globals.g`` -> ``flask.g``)."""
    for prefix in _FLASK_SUBMODULES:
        if qualname.startswith(prefix):
            return "flask." + qualname[len(prefix):]
    return qualname


def satisfied(qualname: str, need: Need, covered: frozenset[Need], server_name: bool = False) -> bool:
    """Do the contexts pushed around a use (``covered``) give it what it needs?

    ``server_name``: the module configures SERVER_NAME, so url_for works in an app context.
    """
    if canonical(qualname) in NEEDS_REQUEST_FOR_URLS and not server_name:
        return Need.REQUEST in covered
    return need in covered


def need_of(qualname: str) -> Optional[Need]:
    name = canonical(qualname)
    if name in REQUEST_BOUND:
        return Need.REQUEST
    if name in APP_BOUND:
        return Need.APP
    return None


# --- spawners -------------------------------------------------------------------------

@dataclass(frozen=True)
class SpawnerSpec:
    """How one spawning callable receives its worker and the worker's arguments.

    ``target_pos``/``target_kw`` locate the callable; ``args_pos``/``args_kw`` an
    ``args=`` tuple, ``kwargs_pos``/``kwargs_kw`` a ``kwargs=`` dict; ``extra_from`` the first
    positional argument that is forwarded to the worker (``submit(fn, *args)``).
    ``fan_out`` marks calls that run the callable for many tasks (``map`` variants).
    """

    name: str
    target_pos: int = 0
    target_kw: tuple[str, ...] = ("target", "func", "fn", "function")
    args_pos: Optional[int] = None
    args_kw: Optional[str] = None
    kwargs_pos: Optional[int] = None
    kwargs_kw: Optional[str] = None
    extra_from: Optional[int] = None
    fan_out: bool = False


_THREAD = SpawnerSpec("threading.Thread", 1, ("target",), 3, "args", 4, "kwargs")
_TIMER = SpawnerSpec("threading.Timer", 1, ("function",), 2, "args", 3, "kwargs")
_START_NEW = SpawnerSpec("_thread.start_new_thread", 0, ("function",), 1, "args", 2, "kwargs")

# Called as plain functions, resolved by qualified name.
FUNCTION_SPAWNERS: dict[str, SpawnerSpec] = {
    "threading.Thread": _THREAD,
    "threading.Timer": _TIMER,
    "_thread.start_new_thread": _START_NEW,
    "_thread.start_new": _START_NEW,
    "thread.start_new_thread": _START_NEW,
    "gevent.spawn": SpawnerSpec("gevent.spawn", 0, ("run",), extra_from=1),
    "gevent.spawn_later": SpawnerSpec("gevent.spawn_later", 1, ("run",), extra_from=2),
    "gevent.spawn_raw": SpawnerSpec("gevent.spawn_raw", 0, ("function",), extra_from=1),
    "gevent.Greenlet.spawn": SpawnerSpec("gevent.Greenlet.spawn", 0, ("run",), extra_from=1),
    "eventlet.spawn": SpawnerSpec("eventlet.spawn", 0, ("func",), extra_from=1),
    "eventlet.spawn_n": SpawnerSpec("eventlet.spawn_n", 0, ("func",), extra_from=1),
    "eventlet.spawn_after": SpawnerSpec("eventlet.spawn_after", 1, ("func",), extra_from=2),
}

# Methods recognised on any receiver: their names say what they do.
ANY_RECEIVER_METHODS: dict[str, SpawnerSpec] = {
    "start_background_task": SpawnerSpec("socketio.start_background_task", 0, ("target",), extra_from=1),
    "run_in_executor": SpawnerSpec("loop.run_in_executor", 1, ("func",), extra_from=2),
}

# Methods of a thread pool (multiprocessing.dummy.Pool / multiprocessing.pool.ThreadPool).
POOL_METHODS: dict[str, SpawnerSpec] = {
    **{m: SpawnerSpec(f"Pool.{m}", 0, ("func",), fan_out=True)
       for m in ("map", "map_async", "imap", "imap_unordered", "starmap", "starmap_async")},
    "apply": SpawnerSpec("Pool.apply", 0, ("func",), 1, "args", 2, "kwds"),
    "apply_async": SpawnerSpec("Pool.apply_async", 0, ("func",), 1, "args", 2, "kwds"),
}
EXECUTOR_METHODS: dict[str, SpawnerSpec] = {
    "submit": SpawnerSpec("ThreadPoolExecutor.submit", 0, ("fn",), extra_from=1),
    "map": SpawnerSpec("ThreadPoolExecutor.map", 0, ("fn",), fan_out=True),
}
POOL_CONSTRUCTORS = frozenset(
    {"multiprocessing.dummy.Pool", "multiprocessing.pool.ThreadPool", "multiprocessing.dummy.ThreadPool"}
)
EXECUTOR_CONSTRUCTORS = frozenset(
    {"concurrent.futures.ThreadPoolExecutor", "concurrent.futures.thread.ThreadPoolExecutor"}
)
THREAD_BASES = frozenset({"threading.Thread", "threading.Timer"})


def custom_spawner(pattern: str) -> SpawnerSpec:
    """A user spawner: ``dotted.name`` takes the worker first, ``dotted.name:N`` at position N."""
    name, _, pos = pattern.partition(":")
    position = int(pos) if pos.isdigit() else 0
    return SpawnerSpec(name, position, extra_from=position + 1)
