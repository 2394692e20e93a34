"""FCX402: only a streamed generator reads the session, so the response lacks ``Vary: Cookie``.

Flask adds ``Vary: Cookie`` to a response whose session was accessed, so that caches keep
one copy per user. A read made while the body streams comes after the headers were built:
the header is missing, and a shared cache may serve one user's page to another (runtime
facts, "Streams and the session"). Not reported when the view itself touches the session,
nor in a module using Flask-Login, whose ``after_request`` hook reads the session on every
request (so the header is set anyway).
"""

from __future__ import annotations

from typing import Iterator

from ..analysis import ModuleAnalysis
from ..catalogue.flask_names import SESSION, SESSION_READING_EXTENSIONS, SESSION_WRITES
from ..findings import Finding
from .base import Level, Rule
from .details import StreamedSession


def _reads_session_itself(analysis: ModuleAnalysis, stream) -> bool:
    workers = analysis.workers
    return any((u := workers.context_use(r.ref)) is not None and u.qualname == SESSION
               for r in workers.reach(stream.view) if stream.generator not in r.path)


def _session_reading_extension(analysis: ModuleAnalysis) -> bool:
    imports = analysis.resolver.imported_modules()
    return any(m.split(".")[0] in SESSION_READING_EXTENSIONS for m in imports)


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    streams = [s for s in analysis.streams if s.wrapped]
    if not streams or _session_reading_extension(analysis):
        return
    workers = analysis.workers
    for stream in streams:
        if _reads_session_itself(analysis, stream):
            continue
        uses = [(r, u) for r in workers.reach(stream.generator)
                for u in [workers.context_use(r.ref)] if u is not None and u.qualname == SESSION]
        if not uses or any(r.ref.store or u.member in SESSION_WRITES for r, u in uses):
            continue  # a write is lost anyway (FCX401)
        r, use = uses[0]
        yield RULE.finding(analysis, r.ref.node, StreamedSession(stream, r), gen=stream.generator.name,
                           what=use.written)


RULE = Rule(
    "FCX402",
    "only a streamed generator reads the session",
    "generator {gen}() reads {what} while the response streams, after its headers were built: "
    "the response lacks Vary: Cookie, so a cache may serve it to other users; read the session "
    "in the view",
    check,
    level=Level.WARNING,
)
