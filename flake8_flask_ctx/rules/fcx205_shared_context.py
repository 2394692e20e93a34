"""FCX205: with inherited thread contexts, a worker shares the view's ``g`` or database session.

Where threads inherit the starting code's context (Python 3.14t, ``thread-inherit-context``),
a thread started in the view runs in the view's own app context: ``g`` is the same object
(a write on either side is seen by the other, at any moment), and Flask-SQLAlchemy's
``db.session``, scoped to the app context, is the view's Session, used by two threads at
once, which SQLAlchemy does not support (runtime facts, "Python 3.14", measured with the
simulation). Reported only for that runtime.
"""

from __future__ import annotations

from typing import Iterator, Optional

from ..analysis import ModuleAnalysis
from ..analysis.workers import Reached, SpawnSite
from ..catalogue.contexts import Need
from ..catalogue.extensions import CONTEXT_SCOPED_SESSIONS
from ..catalogue.flask_names import G
from ..findings import Finding
from ..options import match_dotted
from .base import Level, Rule
from .details import WorkerUse


def _shared_use(analysis: ModuleAnalysis, site: SpawnSite) -> Optional[tuple[Reached, str, str]]:
    for target in site.targets:
        if target.copied:
            continue
        for r in analysis.workers.reach(target.function):
            use = analysis.workers.context_use(r.ref)
            if use is None or Need.APP in r.covered:
                continue  # under a context the worker pushed itself: its own g and Session
            if use.qualname == G and r.ref.store:
                return r, f"writes {use.written}", "the view's g, so the view sees the write whenever it lands"
            if any(match_dotted(p, use.written) for p in CONTEXT_SCOPED_SESSIONS):
                return r, f"uses {use.written}", "the view's Session, used by two threads at once (not thread-safe)"
    return None


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for site in analysis.spawn_sites:
        if not site.inherited:
            continue
        found = _shared_use(analysis, site)
        if found is not None:
            r, action, result = found
            yield RULE.finding(analysis, site.node, WorkerUse(site, site.targets[0], r),
                               worker=f"{site.spawner.label} {r.chain}", action=action, result=result,
                               at=f"line {analysis.line(r.ref.node)}")


RULE = Rule(
    "FCX205",
    "with inherited thread contexts, a worker shares the view's g or database session",
    "{worker} {action} ({at}) in the view's inherited context: it is {result}; pass values, "
    "or give the worker its own context (with app.app_context():)",
    check,
    level=Level.WARNING,
    inherited_contexts=True,
)
