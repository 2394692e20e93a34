"""FCX401: a streamed generator writes the session.

With ``stream_with_context`` the generator has its request, but it runs after the view
returned, when the response's headers, the session cookie among them, are already
built: the write raises nothing and is lost (runtime facts, "Streams and the session";
measured before and after the first ``yield``). Without ``stream_with_context`` it is
FCX400.
"""

from __future__ import annotations

from typing import Iterator

from ..analysis import ModuleAnalysis
from ..catalogue.flask_names import SESSION, SESSION_WRITES
from ..findings import Finding
from .base import Rule
from .details import StreamedSession


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for stream in analysis.streams:
        if not stream.wrapped:
            continue
        for r in analysis.workers.reach(stream.generator):
            use = analysis.workers.context_use(r.ref)
            if use is not None and use.qualname == SESSION and (r.ref.store or use.member in SESSION_WRITES):
                yield RULE.finding(analysis, r.ref.node, StreamedSession(stream, r), gen=stream.generator.name)
                break


RULE = Rule(
    "FCX401",
    "a streamed generator writes the session",
    "generator {gen}() writes the session while the response streams: the cookie was sent "
    "before it ran, so the change is lost; write the session in the view before returning",
    check,
)
