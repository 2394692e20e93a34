"""Objects of Flask extensions that need an app context, matched on the code as written.

These are the defaults of the ``app-bound-names`` option: Flask-SQLAlchemy's ``db.session``
and ``db.engine`` and its models' ``Model.query``, Flask-Mail's ``mail.send``. Users extend
them for their own extension objects.

A query built on one of them is lazy: ``User.query.filter_by(...)`` and
``db.session.query(User)`` talk to the database only when iterated or finished (``.all()``),
and that needs the app context then, wherever the query object has been carried
(a closure run in a thread, a generator streamed after the view returned).
"""

from __future__ import annotations

DEFAULT_APP_BOUND_NAMES = ("db.session", "db.engine", "*.query", "mail.send", "mail.send_message")

# Query methods that return another lazy query (Flask-SQLAlchemy's Query / SQLAlchemy's);
# anything else (``all``, ``first``, ``count``, ``paginate``, ``execute``...) runs it at once.
LAZY_QUERY_METHODS = frozenset({
    "query", "filter", "filter_by", "order_by", "limit", "offset", "join", "outerjoin", "options",
    "with_entities", "group_by", "having", "distinct", "yield_per", "select_from", "params",
    "execution_options", "enable_eagerloads", "where",
})

# App-bound objects that are one per app context and not thread-safe: a thread that shares
# the view's app context (inherited contexts, FCX205) shares the very object.
CONTEXT_SCOPED_SESSIONS = ("db.session",)
