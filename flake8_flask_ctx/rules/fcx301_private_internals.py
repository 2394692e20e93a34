"""FCX301: Flask's private context internals that still exist.

``flask.globals._cv_app``, ``_cv_request``, the ``app_ctx``/``request_ctx`` proxies and
``RequestContext`` work on the Flask versions released so far, so using them is not a bug
today; but they are private, and gone or deprecated in a coming version (runtime facts,
"How context handling changed"). Reported at the import or attribute, like FCX300, except in
a compatibility idiom.
"""

from __future__ import annotations

from typing import Iterator

from ..analysis import ModuleAnalysis
from ..catalogue.internals import INTERNALS
from ..findings import Finding
from .base import Level, Rule
from .details import InternalUse
from .internal_uses import internal_uses


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for node, name in internal_uses(analysis):
        internal = INTERNALS[name]
        if not internal.removed:
            yield RULE.finding(analysis, node, InternalUse(name), name=name.split(".", 1)[1], status=internal.status)


RULE = Rule(
    "FCX301",
    "private Flask context internals that still exist",
    "{name} is private to Flask ({status}); it works today: use the public API before upgrading",
    check,
    level=Level.WARNING,
)
