"""FCX400: a generator that uses a context is streamed without ``stream_with_context``.

Flask sends a streamed body after the view has returned and its context is gone: a use
after the first ``yield`` cuts the body after a 200, a use before it turns into a 500
(runtime facts, case 10). Where streams are found: ``analysis/streams.py``.
"""

from __future__ import annotations

from typing import Iterator

from ..analysis import ModuleAnalysis
from ..findings import Finding
from .base import FixKind, Rule
from .details import StreamedGenerator


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for stream in analysis.streams:
        if stream.wrapped:
            continue
        node, gen = stream.node, stream.generator
        needs = analysis.workers.needs(gen)
        if not needs:
            continue
        local = [c for c in needs.values() if c.use is not None]
        chain = min(local, key=lambda c: c.use.ref.order) if local else next(iter(needs.values()))
        yield RULE.finding(analysis, node, StreamedGenerator(gen, chain), gen=gen.name, what=chain.written,
                           at=chain.at(analysis))


RULE = Rule(
    "FCX400",
    "a generator that uses a context is streamed without stream_with_context",
    "generator {gen}() uses {what} ({at}) but is streamed without stream_with_context: "
    "it runs after the request ended, and the body is cut (RuntimeError); wrap it: "
    "stream_with_context({gen}())",
    check,
    fixes=(FixKind.STREAM_WITH_CONTEXT,),
)
