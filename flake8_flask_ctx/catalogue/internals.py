"""Flask's private or removed context machinery, and what each name does on which version.

Recipes from before Flask 2.2 reach into ``_app_ctx_stack``; newer ones into the private
ContextVars and proxies. Some of these names are gone from a released Flask (using them
fails: FCX300); the others still exist but are private, and are gone or deprecated in a
coming version (FCX301). The facts are in docs/runtime-facts.md ("How context handling
changed").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Internal:
    removed: bool  # True: fails on a released Flask (ImportError); False: private, still there
    status: str  # what using it does, in a few words (the docs pages give it version by version)


_STACK = Internal(True, "removed in Flask 3.0 (ImportError)")

# public-style qualified name -> what happens when it is used
INTERNALS: dict[str, Internal] = {
    "flask._app_ctx_stack": _STACK,
    "flask._request_ctx_stack": _STACK,
    "flask._cv_request": Internal(False, "a private ContextVar, gone in Flask 3.2"),
    "flask._cv_app": Internal(False, "a private ContextVar (Flask 2.2 and later)"),
    "flask.request_ctx": Internal(False, "a private proxy, deprecated in Flask 3.2"),
    "flask.app_ctx": Internal(False, "a private proxy (Flask 2.2 and later)"),
    "flask.RequestContext": Internal(False, "deprecated in Flask 3.2, to be removed in 4.0"),
}

# What a worker that enters one captured context object runs into (runtime facts, case 5).
SHARED_CONTEXT_RACE = "every worker pushes the same object, and workers that overlap fail"
