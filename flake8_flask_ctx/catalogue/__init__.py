"""The domain knowledge, as data: what Flask's names need, what starts a worker, what is internal.

Everything the analysis, the rules, the prefilter and the fixer know about Flask, its
extensions and the libraries that run code elsewhere lives in this package, so that
teaching the tool a new spawner, helper or internal is an entry here and nothing else:

- ``contexts``: the two contexts a use can need, and the runtime error for each;
- ``flask_names``: Flask's proxies and helpers by the context they need, the request's
  members by how they behave, the decorators and calls that push or guard a context;
- ``internals``: private or removed context machinery, with the Flask versions involved;
- ``spawners``: every callable that runs a function somewhere else, as a record saying how
  the worker and its arguments are passed, how it is joined and how hoisted values reach it;
- ``thread_locals``: per-thread state that a new thread does not inherit.

The analysis reads these tables; nothing else in the package spells a Flask name.
"""
