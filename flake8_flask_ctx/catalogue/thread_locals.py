"""Per-thread (per-context) state: a new thread starts with its own empty copy (FCX500)."""

from __future__ import annotations

from typing import NamedTuple


class ThreadLocal(NamedTuple):
    what: str  # how messages name it
    result: str  # what a worker reading the spawner's value gets
    in_context: bool  # held in the contextvars: a copied or inherited context carries it


THREAD_LOCALS = {
    "threading.local": ThreadLocal("a threading.local()", "AttributeError", False),
    "_threading_local.local": ThreadLocal("a threading.local()", "AttributeError", False),
    # Werkzeug's Local and LocalStack are ContextVars underneath (Werkzeug >= 2.0)
    "werkzeug.local.Local": ThreadLocal("a werkzeug Local", "AttributeError", True),
    "werkzeug.local.LocalStack": ThreadLocal("a werkzeug LocalStack", "None", True),
    "contextvars.ContextVar": ThreadLocal("a ContextVar", "LookupError, or its default", True),
}
# Methods that store a value in one.
THREAD_LOCAL_WRITES = frozenset({"push", "set", "__setattr__"})
