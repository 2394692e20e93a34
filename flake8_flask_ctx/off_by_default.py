"""The codes reported only when selected, in a module that imports nothing.

flake8 is told about them when it registers the plugin's options (``extend_default_ignore``),
before any file is read: importing the rule registry there would import libcst into every
flake8 run, which the prefilter exists to avoid. ``Rule.default`` reads this set, so it is
the one place that says it.
"""

OFF_BY_DEFAULT: frozenset[str] = frozenset()
