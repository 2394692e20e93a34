"""A substring test that rules out most files before libcst ever sees them.

A finding needs a Flask name (or a configured app-bound object) together with something
that moves code to another thread, streams, copies a context or touches Flask's
internals; or, for thread-local state (FCX500), a thread-local next to a spawn. Plain
``in`` tests cost microseconds; a libcst parse costs ~9x an ``ast.parse`` (design.md,
Speed), so files that fail this test cost flake8 nothing measurable.
"""

from __future__ import annotations

from .options import Options

SPAWN_WORDS = (
    "Thread",  # threading.Thread / Timer subclasses, ThreadPool, ThreadPoolExecutor
    "Timer",
    "start_new",  # _thread.start_new_thread
    "Pool",  # multiprocessing.dummy.Pool
    "run_in_executor",
    "spawn",  # gevent / eventlet
    "start_background_task",
)
FLASK_ONLY_WORDS = (
    "copy_current_request_context",  # FCX200
    "_ctx_stack", "_cv_", "request_ctx", "RequestContext",  # FCX300
    "app_context", "request_context",  # FCX300 homemade copiers
    "yield",  # FCX400 streamed generators
)
THREAD_LOCAL_WORDS = ("local", "Local", "ContextVar")  # FCX500


def may_have_findings(source: str, options: Options) -> bool:
    spawns = any(w in source for w in SPAWN_WORDS) or any(w in source for w in options.prefilter_words())
    flask = "flask" in source or any(
        p.split(".", 1)[0] in source for p in options.app_bound_names if not p.startswith("*")
    )
    if flask and (spawns or any(w in source for w in FLASK_ONLY_WORDS)):
        return True
    return spawns and any(w in source for w in THREAD_LOCAL_WORDS)
