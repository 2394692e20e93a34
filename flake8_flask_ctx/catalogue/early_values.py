"""What reading a Flask value in the view, instead of later in the worker, can change.

A hoist moves a read from the worker to the spawn site. That keeps the program's behaviour
only when the read, evaluated there once, cannot raise, block, loop or consume anything,
and gives every later use the value the worker would have computed. These tables say, for
the values a worker typically reads, which reads have those properties; ``fixes/early.py``
applies them to an expression. Anything not listed is unknown, and a hoist of it is unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional

from .flask_names import CURRENT_APP, CURRENT_USER, G, REQUEST, SESSION


class Kind(Enum):
    """What sort of object a read gives, which decides what can be done to it early."""

    SCALAR = "scalar"  # an immutable value: str, int, bool, None, a parsed header object
    MULTIDICT = "multidict"  # request.args, request.form (an immutable MultiDict)
    HEADERS = "headers"  # request.headers
    FILES = "files"  # request.files: FileStorage objects die with the request
    MAPPING = "mapping"  # session, current_app.config: a dict-like object, the same one each time
    STREAM = "stream"  # request.stream: each read consumes it
    UNKNOWN = "unknown"  # request.json: any JSON value; a user object


@dataclass(frozen=True)
class Read:
    """One read: what it gives, and why evaluating it early could differ (None: it cannot)."""

    kind: Kind
    hazard: Optional[str] = None
    body: bool = False  # reads the request body: harmless once the view has read it itself


_BODY_HAZARD = "reading the body can raise (400, 413, 415), block on a slow client or consume the stream"

REQUEST_READS: dict[str, Read] = {
    **{name: Read(Kind.SCALAR) for name in (
        "method", "path", "full_path", "script_root", "url", "base_url", "url_root", "host_url", "host",
        "root_path", "scheme", "is_secure", "remote_addr", "remote_user", "endpoint", "blueprint",
        "content_type", "mimetype", "mimetype_params", "content_length", "content_encoding", "is_json",
        "referrer", "origin", "query_string", "user_agent", "url_rule", "access_route", "view_args",
        "accept_mimetypes", "accept_languages", "accept_charsets", "accept_encodings", "authorization",
        "date", "if_modified_since", "if_none_match", "cache_control", "range")},
    "args": Read(Kind.MULTIDICT),
    "cookies": Read(Kind.MULTIDICT),
    "headers": Read(Kind.HEADERS),
    "form": Read(Kind.MULTIDICT, _BODY_HAZARD, body=True),
    "values": Read(Kind.MULTIDICT, _BODY_HAZARD, body=True),
    "files": Read(Kind.FILES, _BODY_HAZARD, body=True),
    "json": Read(Kind.UNKNOWN, _BODY_HAZARD, body=True),
    "get_json": Read(Kind.UNKNOWN, _BODY_HAZARD, body=True),
    "data": Read(Kind.SCALAR, _BODY_HAZARD, body=True),
    "get_data": Read(Kind.SCALAR, _BODY_HAZARD, body=True),
    "stream": Read(Kind.STREAM, "each read of the stream consumes it", body=True),
}
CURRENT_APP_READS: dict[str, Read] = {
    **{name: Read(Kind.SCALAR) for name in (
        "name", "debug", "testing", "import_name", "root_path", "instance_path", "secret_key",
        "static_folder", "template_folder", "logger")},
    "config": Read(Kind.MAPPING),
}
CURRENT_USER_READS: dict[str, Read] = {
    name: Read(Kind.SCALAR) for name in ("is_authenticated", "is_anonymous", "is_active")
}

# Calls on a kind that cannot raise, block or consume. ``True``: the call makes a new mutable
# object each time (``getlist`` gives a new list), so one value shared by several uses differs.
TOTAL_CALLS: dict[Kind, dict[str, bool]] = {
    Kind.MULTIDICT: {"get": False, "getlist": True, "to_dict": True, "copy": True},
    Kind.HEADERS: {"get": False, "getlist": True},
    Kind.MAPPING: {"get": False},
}
# Calls on a proxy itself: ``session.get(k)``, ``g.get(k)``, ``current_user.get_id()``.
PROXY_CALLS: dict[str, dict[str, bool]] = {
    SESSION: {"get": False},
    G: {"get": False},
    CURRENT_USER: {"get_id": False},
}
# Calls that hand out a live iterator: a hoisted one is used up after the first loop.
ITERATOR_CALLS = frozenset({"items", "keys", "values", "lists", "listvalues", "iterlists", "iteritems"})

READS_BY_PROXY: dict[str, dict[str, Read]] = {
    REQUEST: REQUEST_READS,
    CURRENT_APP: CURRENT_APP_READS,
    CURRENT_USER: CURRENT_USER_READS,
}

# Helpers, and why calling one early can differ.
HELPER_HAZARDS = {
    "flask.url_for": "url_for raises BuildError for an endpoint or arguments it cannot build",
    "flask.render_template": "rendering can raise (a missing template, an error in it)",
    "flask.render_template_string": "rendering can raise (an error in the template)",
    "flask.get_flashed_messages": "it takes the flashed messages out of the session",
}
