"""A substring test that rules out most files before libcst ever sees them.

Every finding needs a Flask name (or a configured app-bound object) *and* something that
moves code to another thread or copies a context. Plain ``in`` tests on the source cost
microseconds; a libcst parse costs ~9x an ``ast.parse`` (design.md, Speed), so files
that fail this test cost flake8 nothing measurable.
"""

from __future__ import annotations

from .options import Options

CONTEXT_WORDS = ("flask",)
SPAWN_WORDS = (
    "Thread",  # threading.Thread / Timer subclasses, ThreadPool, ThreadPoolExecutor
    "Timer",
    "start_new",  # _thread.start_new_thread
    "Pool",  # multiprocessing.dummy.Pool
    "run_in_executor",
    "spawn",  # gevent / eventlet
    "start_background_task",
    "copy_current_request_context",
)


def may_have_findings(source: str, options: Options) -> bool:
    words = options.prefilter_words()
    has_context = any(w in source for w in CONTEXT_WORDS) or any(
        p.split(".", 1)[0] in source for p in options.app_bound_names if not p.startswith("*")
    )
    if not has_context:
        return False
    return any(w in source for w in SPAWN_WORDS) or any(w in source for w in words)
