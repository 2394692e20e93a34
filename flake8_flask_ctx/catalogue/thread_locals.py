"""Per-thread (per-context) state: a new thread starts with its own empty copy (FCX500)."""

from __future__ import annotations

# constructor -> (what it is, what a worker reading the spawner's value gets)
THREAD_LOCALS = {
    "threading.local": ("a threading.local()", "AttributeError"),
    "_threading_local.local": ("a threading.local()", "AttributeError"),
    "werkzeug.local.Local": ("a werkzeug Local", "AttributeError"),
    "werkzeug.local.LocalStack": ("a werkzeug LocalStack", "None"),
    "contextvars.ContextVar": ("a ContextVar", "LookupError, or its default"),
}
# Methods that store a value in one.
THREAD_LOCAL_WRITES = frozenset({"push", "set", "__setattr__"})
