"""The rule registry: each rule is a function from a ``ModuleAnalysis`` to findings."""

from __future__ import annotations

from typing import Callable, Iterable

from ..analysis import ModuleAnalysis
from ..findings import Finding
from . import (
    context_loss,
    copy_outside_request,
    fresh_g,
    internals,
    late_body_read,
    shared_copy,
    streams,
    thread_locals,
)

Rule = Callable[[ModuleAnalysis], Iterable[Finding]]

RULES: tuple[Rule, ...] = (
    context_loss.check,
    copy_outside_request.check,
    shared_copy.check,
    fresh_g.check,
    late_body_read.check,
    internals.check,
    streams.check,
    thread_locals.check,
)


def run_rules(analysis: ModuleAnalysis) -> list[Finding]:
    findings = [f for rule in RULES for f in rule(analysis)]
    return sorted(set(findings), key=Finding.sort_key)
