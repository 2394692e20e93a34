"""Flask's context-bound names, the request's members, and what pushes or guards a context.

Names are fully qualified and public (``flask.request``); ``canonical()`` maps Flask's
internal module paths onto them. Facts cited here are measured in docs/runtime-facts.md.
"""

from __future__ import annotations

from typing import Optional

from .contexts import Need
from .reexports import flask_name

REQUEST = "flask.request"
SESSION = "flask.session"
G = "flask.g"
CURRENT_APP = "flask.current_app"
CURRENT_USER = "flask_login.current_user"

# What a use needs when it runs (runtime facts, cases 1, 2 and 2d).
REQUEST_BOUND = frozenset({
    REQUEST,
    SESSION,
    "flask.flash",
    "flask.get_flashed_messages",
    "flask.after_this_request",
    CURRENT_USER,
    "flask_login.login_user",
    "flask_login.logout_user",
    "flask_login.utils.current_user",
    # evaluating the decorator needs a request (case 4a)
    "flask.copy_current_request_context",
})
APP_BOUND = frozenset({
    G,
    CURRENT_APP,
    "flask.url_for",
    "flask.render_template",
    "flask.render_template_string",
    "flask.stream_template",
    "flask.stream_template_string",
    "flask.jsonify",
    "flask.make_response",
})
# Proxy *objects*, as opposed to helper functions: passing one to a worker is FCX102.
PROXY_OBJECTS = frozenset({REQUEST, SESSION, G, CURRENT_APP, CURRENT_USER})
# Proxies whose object outlives the request: ``current_app._get_current_object()`` stays valid
# in a worker, the request's and g's objects do not.
LONG_LIVED_PROXIES = frozenset({CURRENT_APP})
# Which proxy a request-bound proxy object's error names.
REQUEST_PROXY_OBJECTS = frozenset({REQUEST, SESSION, CURRENT_USER})

# url_for builds URLs from the request; without one it needs SERVER_NAME, so an app context
# alone is not enough (case 9).
NEEDS_REQUEST_FOR_URLS = frozenset({"flask.url_for"})

# Flask's submodules that define or re-export the names above.
_FLASK_SUBMODULES = ("flask.globals.", "flask.helpers.", "flask.templating.", "flask.json.", "flask.ctx.")

FLASK_APP = "flask.Flask"
COPY_REQUEST_CONTEXT = "flask.copy_current_request_context"
# Extensions whose hooks read the session on every request, so that its response always
# varies on the cookie (Flask-Login's after_request hook: runtime facts, "Streams").
SESSION_READING_EXTENSIONS = frozenset({"flask_login"})
# An async view's event loop ends with the request, cancelling the tasks still pending
# (runtime facts, "Async views"): these start one (``loop.create_task`` too).
TASK_STARTERS = ("asyncio.create_task", "asyncio.ensure_future")
LOOP_GETTERS = ("asyncio.get_running_loop", "asyncio.get_event_loop")
# ``contextvars.copy_context().run(f)`` runs ``f`` in a copy of the caller's contexts (case 14)
COPY_CONTEXT = "contextvars.copy_context"
STREAM_WITH_CONTEXT = "flask.stream_with_context"

# ``if has_request_context():`` guarantees both contexts in its body, has_app_context the app's.
GUARDS = {
    "flask.has_request_context": frozenset({Need.REQUEST, Need.APP}),
    "flask.has_app_context": frozenset({Need.APP}),
}

# What Flask raises without a context: code in ``try: ... except RuntimeError:`` has its fallback.
CONTEXT_ERRORS = frozenset({"RuntimeError"})
# What an old name raises on a Flask that removed it: ``try: from flask import _app_ctx_stack``.
IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "AttributeError", "Exception"})

# Methods of an app that push a context when entered: ``with app.app_context():``.
CONTEXT_PUSHERS = {
    "app_context": frozenset({Need.APP}),
    "test_request_context": frozenset({Need.REQUEST, Need.APP}),
    "request_context": frozenset({Need.REQUEST, Need.APP}),
}

# Decorators of functions that run outside any request (CLI commands, app-context hooks).
NO_REQUEST_DECORATORS = ("*.cli.command", "click.command", "click.group", "*.command",
                         "flask.cli.with_appcontext", "*.teardown_appcontext")
# Decorators that make a function a view (it runs in a request and its return is the response).
VIEW_DECORATORS = tuple(f"*.{m}" for m in ("route", "get", "post", "put", "patch", "delete"))
# Decorators of functions that run in the request before the view (they may set g).
BEFORE_REQUEST_DECORATORS = ("*.before_request", "*.before_app_request")
# Decorators (or methods, called with the function) of handlers that run when a context
# pops: every copy of the request context runs them once more (runtime facts, case 3).
TEARDOWN_DECORATORS = ("*.teardown_request", "*.teardown_appcontext", "*.teardown_app_request")

# Calls that turn their first argument into a streamed response body (FCX400).
RESPONSE_CLASSES = frozenset({"flask.Response", "flask.wrappers.Response", "werkzeug.Response",
                              "werkzeug.wrappers.Response", "werkzeug.wrappers.response.Response",
                              "flask.make_response"})
RESPONSE_CLASS_ATTRIBUTE = "response_class"  # ``app.response_class(gen())``

# --- the request's members ------------------------------------------------------------------

# Read from the request body, lazily: after the view returned, the server may have consumed
# or closed it (runtime facts, "A thread that outlives the request").
LAZY_BODY = frozenset({"form", "files", "json", "get_json", "data", "get_data", "values", "stream"})
# Objects that die with the request: a hoisted FileStorage or stream is closed in the worker.
PERISHABLE = frozenset({"files", "stream"})
# Request members sent to a task queue or another process (FCX104): uploads (FileStorage,
# which pickles but recurses forever when unpickled, and is no JSON), and MultiDicts of
# strings, which JSON turns into plain dicts holding the first value of each key.
UPLOAD_MEMBERS = frozenset({"files"})
MULTIDICT_MEMBERS = frozenset({"form", "args", "values"})
# Session methods that change it.
SESSION_WRITES = frozenset({"update", "pop", "setdefault", "clear", "popitem", "__setitem__"})
# Methods whose call only reads (the value can be computed in the view and passed on; which
# of them are safe to call early is in ``early_values``). Iterators are not values.
READ_METHODS = frozenset({"get", "getlist", "get_json", "get_data", "to_dict", "copy", "read"})
# Helpers whose result is a plain value.
VALUE_HELPERS = frozenset({"flask.url_for", "flask.render_template", "flask.render_template_string",
                           "flask.get_flashed_messages"})


def canonical(qualname: str) -> str:
    """Flask's internal module paths mapped onto the public name (``flask.globals.g`` -> ``flask.g``),
    and so are the extensions' re-exports (``flask_mail.current_app`` -> ``flask.current_app``)."""
    for prefix in _FLASK_SUBMODULES:
        if qualname.startswith(prefix):
            return "flask." + qualname[len(prefix):]
    return flask_name(qualname) or qualname


def need_of(qualname: str) -> Optional[Need]:
    name = canonical(qualname)
    if name in REQUEST_BOUND:
        return Need.REQUEST
    if name in APP_BOUND:
        return Need.APP
    return None


def satisfied(qualname: str, need: Need, covered: frozenset[Need], server_name: bool = False) -> bool:
    """Do the contexts pushed around a use (``covered``) give it what it needs?

    ``server_name``: the module configures SERVER_NAME, so url_for works in an app context.
    """
    if canonical(qualname) in NEEDS_REQUEST_FOR_URLS and not server_name:
        return Need.REQUEST in covered
    return need in covered
