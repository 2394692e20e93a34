"""Project mode: what the modules of one project say about each other.

A file is checked on its own, but its workers run code from other modules: a target in
``services/messaging.py``, a decorator from ``utils.py`` that runs the function in a thread,
an executor made in ``extensions.py``. The project index answers such questions for the
checked file, from *summaries* of the other modules (``summary.py``): plain data about each
module's functions (which contexts each needs, transitively; which spawn, push or copy a
context), classes and module-level objects. A summary is computed once per module content
and kept in ``.flask_ctx_cache/`` at the project's root (``cache.py``), so an unchanged
project is not analysed again, by the CLI or by any flake8 process.

``layout.py`` finds the project (the nearest ``pyproject.toml``, ``setup.cfg`` or ``.git``
upward), its source roots (``src/`` layouts included) and the module each file is.
"""
