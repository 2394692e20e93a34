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
    status: str  # what using it does, version by version


_STACK = Internal(True, "removed in Flask 3.0: ImportError on >= 3.0, DeprecationWarning on 2.2-2.3; "
                        "entering .top from several threads races (AssertionError / ValueError)")

# public-style qualified name -> what happens when it is used
INTERNALS: dict[str, Internal] = {
    "flask._app_ctx_stack": _STACK,
    "flask._request_ctx_stack": _STACK,
    "flask._cv_request": Internal(False, "a private ContextVar: present on Flask 2.2 to 3.1 (ImportError "
                                         "before 2.2), gone in Flask 3.2"),
    "flask._cv_app": Internal(False, "a private ContextVar: present from Flask 2.2 (ImportError before); "
                                     "a context captured from it and entered by several threads fails with "
                                     "ValueError: <Token ...> was created in a different Context"),
    "flask.request_ctx": Internal(False, "a private proxy: present from Flask 2.2, deprecated in 3.2 and "
                                         "to be removed in 4.0"),
    "flask.app_ctx": Internal(False, "a private proxy: present from Flask 2.2, not part of Flask's API"),
    "flask.RequestContext": Internal(False, "deprecated in Flask 3.2 (merged into AppContext), to be "
                                            "removed in 4.0"),
}

# What a worker that enters one captured context object runs into (runtime facts, case 5).
SHARED_CONTEXT_RACE = ("every worker that runs it pushes the same object: ValueError: <Token ...> "
                       "was created in a different Context (2.2-3.1), AssertionError: Popped wrong "
                       "app context (<=2.1), RuntimeError: Cannot pop this context (3.2)")
