"""A text test that rules out most files before libcst ever sees them.

A finding needs a Flask name (or a configured app-bound object) together with something
that moves code to another thread, streams a generator, copies a context or touches
Flask's internals; or, for thread-local state (FCX500), a thread-local next to a spawn.
Substring tests cost microseconds; a libcst parse costs ~6-9x an ``ast.parse``
(design.md, Speed), so files that fail this test cost flake8 nothing measurable. Each
word is chosen to be necessary for some rule, so the test never hides a finding.
"""

from __future__ import annotations

import re
from functools import lru_cache

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
)
STREAM_WORDS = ("Response", "response_class", "route", ".get(", ".post(")  # FCX400, with "yield"
THREAD_LOCAL_WORDS = ("local()", "Local(", "LocalStack", "ContextVar")  # FCX500


@lru_cache(maxsize=32)
def _words(options: Options) -> tuple[tuple[str, ...], "re.Pattern[str] | None"]:
    """Spawn words from the options, and a regex for the literal app-bound names."""
    spawners = tuple(p.split(":")[0].rsplit(".", 1)[-1] for p in options.extra_spawners)
    spawners = tuple(w for w in spawners if w and "*" not in w)
    literal = [p for p in options.app_bound_names if "*" not in p]
    pattern = re.compile(r"\b(?:%s)\b" % "|".join(re.escape(p) for p in literal)) if literal else None
    return spawners, pattern


def may_have_findings(source: str, options: Options) -> bool:
    spawner_words, app_bound = _words(options)
    spawns = any(w in source for w in SPAWN_WORDS) or any(w in source for w in spawner_words)
    flask = "flask" in source or (app_bound is not None and app_bound.search(source) is not None)
    if flask:
        if spawns or any(w in source for w in FLASK_ONLY_WORDS):
            return True
        if "yield" in source and any(w in source for w in STREAM_WORDS):
            return True
    return spawns and any(w in source for w in THREAD_LOCAL_WORDS)
