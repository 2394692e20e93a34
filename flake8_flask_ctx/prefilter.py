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


def _longest_literal(pattern: str) -> str:
    """The longest wildcard-free piece of a dotted pattern: text any match must contain,
    in the call or in the import that named it ("" when the pattern is all wildcards)."""
    pieces = [piece for part in pattern.split(":")[0].split(".") for piece in part.split("*")]
    return max(pieces, key=len, default="")


def _written_chain(pattern: str) -> str:
    """A regex that finds code written as the pattern (``*.query`` finds ``User.query``).

    It may also find more (``pdb.session`` for ``db.session``): a prefilter must never
    miss, and the analysis decides. A leading ``*`` needs only the name's last character.
    """
    parts = [re.escape(part).replace(r"\*", r"\w*") for part in pattern.split(".")]
    parts = [r"\w" if i == 0 and part == r"\w*" else r"\w+" if part == r"\w*" else part
             for i, part in enumerate(parts)]
    return r"\s*\.\s*".join(parts) + r"\b"


@lru_cache(maxsize=32)
def _option_tests(options: Options) -> tuple[tuple[str, ...], bool, tuple[str, ...], "re.Pattern[str] | None"]:
    """Spawn words from --extra-spawners (True: a pattern matches any call); for the
    app-bound names, words one of which any match contains, and the exact regex (code as
    written). The regex costs ~1000x a substring test, so it runs last and rarely."""
    words = tuple(_longest_literal(p) for p in options.extra_spawners)
    bound_words = tuple(_longest_literal(p) for p in options.app_bound_names)
    chains = "|".join(_written_chain(p) for p in options.app_bound_names)
    return (tuple(w for w in words if w), "" in words, tuple(w for w in bound_words if w),
            re.compile(chains) if chains else None)


def may_have_findings(source: str, options: Options) -> bool:
    spawner_words, any_call_spawns, bound_words, app_bound = _option_tests(options)
    spawns = any_call_spawns or any(w in source for w in SPAWN_WORDS) or any(w in source for w in spawner_words)
    flask_work = spawns or any(w in source for w in FLASK_ONLY_WORDS) or (
        "yield" in source and any(w in source for w in STREAM_WORDS))
    if flask_work and ("flask" in source or _mentions_app_bound(source, bound_words, app_bound)):
        return True
    return spawns and any(w in source for w in THREAD_LOCAL_WORDS)


def _mentions_app_bound(source: str, words: tuple[str, ...], pattern: "re.Pattern[str] | None") -> bool:
    if pattern is None or (words and not any(w in source for w in words)):
        return False
    return pattern.search(source) is not None
