"""Flask's private or removed context machinery, and what each name does on which version.

Recipes from before Flask 2.2 reach into ``_app_ctx_stack``; newer ones into the private
ContextVars. The facts are in docs/runtime-facts.md ("How context handling changed").
"""

from __future__ import annotations

_STACK = ("removed in Flask 3.0: ImportError on >= 3.0, DeprecationWarning on 2.2-2.3; "
          "entering .top from several threads races (AssertionError / ValueError)")

# public-style qualified name -> what happens when it is used
INTERNALS = {
    "flask._app_ctx_stack": _STACK,
    "flask._request_ctx_stack": _STACK,
    "flask._cv_request": "a private ContextVar: ImportError before 2.2 and again on 3.2, where it is gone",
    "flask._cv_app": ("a private ContextVar (ImportError before 2.2); a captured app context entered "
                      "by several threads fails with ValueError: <Token ...> was created in a different Context"),
    "flask.request_ctx": "private before 3.2, deprecated in 3.2 and removed in 4.0",
    "flask.RequestContext": "deprecated in Flask 3.2 (merged into AppContext), removed in 4.0",
}

# What a worker that enters one captured context object runs into (runtime facts, case 5).
SHARED_CONTEXT_RACE = ("every worker that runs it pushes the same object: ValueError: <Token ...> "
                       "was created in a different Context (2.2-3.1), AssertionError: Popped wrong "
                       "app context (<=2.1), RuntimeError: Cannot pop this context (3.2)")
