"""The contexts a use of a Flask name can need, and what Flask raises without them."""

from __future__ import annotations

from enum import Enum


class Need(Enum):
    """Which context a use needs. A request context always brings an app context with it."""

    REQUEST = "request"
    APP = "app"


# The first line of each error: it is the same on every Flask version from 2.0 to 3.2-dev,
# while the text after it changes (docs/runtime-facts.md, "Exact messages").
RUNTIME_ERROR = {
    Need.REQUEST: "RuntimeError: Working outside of request context.",
    Need.APP: "RuntimeError: Working outside of application context.",
}
# url_for in an app context without a request and without SERVER_NAME (Flask >= 2.2).
URL_ADAPTER_ERROR = ("RuntimeError: Unable to build URLs outside an active request without "
                     "'SERVER_NAME' configured.")
