"""Objects of Flask extensions that need an app context, matched on the code as written.

These are the defaults of the ``app-bound-names`` option: Flask-SQLAlchemy's ``db.session``
and ``db.engine`` and its models' ``Model.query``, Flask-Mail's ``mail.send``. Users extend
them for their own extension objects.
"""

from __future__ import annotations

DEFAULT_APP_BOUND_NAMES = ("db.session", "db.engine", "*.query", "mail.send", "mail.send_message")
