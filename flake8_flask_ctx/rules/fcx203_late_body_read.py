"""FCX203: a worker that outlives the view reads the request body lazily or writes the session.

A copied context (or, on Python 3.14t, the view's context inherited by the thread) keeps
the ``request`` object, not the connection. After the view returns,
the server may have consumed or closed the body stream and already sent the cookie
(runtime facts, "A thread that outlives the request"): lazy body reads fail or come back
empty depending on the server, session writes are lost. The test client hides all of it.
"""

from __future__ import annotations

from typing import Iterator, Optional

from ..analysis import ModuleAnalysis
from ..analysis.lifetimes import is_joined
from ..analysis.workers import Reached
from ..catalogue.flask_names import LAZY_BODY, REQUEST, SESSION, SESSION_WRITES
from ..findings import Finding
from .base import FixKind, Level, Rule
from .details import WorkerUse

BODY_RESULT = "the server may have consumed the body: an error or silently empty data"
SESSION_RESULT = "the cookie is already sent, so the change is lost"


def _late_action(analysis: ModuleAnalysis, r: Reached) -> Optional[tuple[str, str, str]]:
    use = analysis.workers.context_use(r.ref)
    if use is None:
        return None
    if use.qualname == REQUEST and use.member in LAZY_BODY:
        call = "()" if use.member.startswith("get_") else ""
        return (f"reads request.{use.member}{call}", BODY_RESULT,
                "read the body in the view and pass the result")
    if use.qualname == SESSION and (r.ref.store or use.member in SESSION_WRITES):
        return "writes session", SESSION_RESULT, "update the session in the view before returning"
    return None


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    reported: set[int] = set()
    for site in analysis.spawn_sites:
        # a copied context, or the view's own one inherited by the thread (3.14t): both
        # outlive the view when nothing waits for the worker
        late = [t for t in site.targets if t.copied or site.inherited]
        if not late or is_joined(site, analysis.workers):
            continue
        for target in late:
            for r in analysis.workers.reach(target.function):
                late = _late_action(analysis, r)
                if late is None or id(r.ref) in reported:
                    continue
                reported.add(id(r.ref))
                action, result, fix = late
                yield RULE.finding(analysis, r.ref.node, WorkerUse(site, target, r), worker=f"worker {r.chain}",
                                   action=action, result=result, fix=fix)


RULE = Rule(
    "FCX203",
    "an unjoined worker reads the request body lazily or writes the session",
    "{worker} {action} after the view may have returned (the thread is not joined): "
    "{result}; {fix}",
    check,
    fixes=(FixKind.HOIST,),
    level=Level.WARNING,
)
