"""Rounds of analyse -> plan -> apply, until nothing changes.

Each round reads the findings of the current text and lets each strategy plan edits for
them, in the order of rules.md ("Fix strategy"): hoist, copy per worker, app context,
streams. Some fixes unlock others (removing a module-level copy decorator in one round
turns its spawns into FCX100 sites that the next round hoists), hence the rounds. A
round whose result does not parse is discarded, so the text returned always parses.
"""

from __future__ import annotations

import ast
from typing import Callable

import libcst as cst

from ..analysis import ModuleAnalysis
from ..engine import check_source
from ..findings import Finding
from ..options import Options
from ..rules import run_rules
from .app_context import plan_app_context
from .context import FixContext
from .copy_wrap import plan_copy, remove_copy_outside_request
from .edits import apply, parents_of
from .hoist import Hoister
from .proxies import unwrap_proxy
from .streams import wrap_stream

MAX_ROUNDS = 8  # a hoist moves one call level per round
SITE_CODES = frozenset({"FCX100", "FCX101", "FCX201", "FCX202", "FCX203"})
STRATEGIES = frozenset({"hoist", "copy", "app-context", "stream", "proxy"})


def _plan_round(ctx: FixContext, strategies: frozenset[str], dirty: dict[str, tuple[str, int]]) -> None:
    hoister = Hoister(ctx)
    sites = []
    for f in ctx.findings:
        if f.code in SITE_CODES and f.detail[0] not in sites:
            sites.append(f.detail[0])
    if "hoist" in strategies:  # copied workers an earlier round changed: finish their hoist
        for site in ctx.analysis.spawn_sites:
            cause = None if site in sites else ctx.dirty_cause(site, dirty)
            if cause is not None:
                ctx.cause = cause
                hoister.plan(site)
    copy = (lambda site: plan_copy(ctx, site)) if "copy" in strategies else (lambda site: False)
    app = (lambda site: plan_app_context(ctx, site)) if "app-context" in strategies else (lambda site: False)
    for site in sites:
        first = ctx.site_findings(site)[0]
        ctx.cause = (first.code, first.line)
        codes = {f.code for f in ctx.site_findings(site)}
        if "hoist" in strategies and hoister.plan(site):
            continue
        if "FCX100" in codes:
            copy(site)
        elif "FCX101" in codes:  # app-only needs: the app context does not depend on the request
            app(site) or copy(site)
    for f in ctx.findings:
        if f.code == "FCX200" and strategies & {"hoist", "copy"}:
            remove_copy_outside_request(ctx, f)
        elif f.code == "FCX102" and "proxy" in strategies:
            unwrap_proxy(ctx, f)
        elif f.code == "FCX400" and "stream" in strategies:
            wrap_stream(ctx, f)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
        cst.parse_module(code)
    except (SyntaxError, ValueError, cst.ParserSyntaxError):
        return False
    return True


def fix_module_source(source: str, options: Options, keep: Callable[[Finding, str], bool],
                      strategies: frozenset[str] = STRATEGIES):
    from . import AppliedFix, FixResult

    current = source
    applied: list[AppliedFix] = []
    dirty: dict[str, tuple[str, int]] = {}
    analysed: tuple[str, list[Finding]] = ("", [])  # the last text analysed, and its findings
    for _ in range(MAX_ROUNDS):
        module = cst.parse_module(current)
        analysis = ModuleAnalysis(module, options, current)
        findings = [f for f in run_rules(analysis) if keep(f, current)]
        analysed = (current, findings)
        if not findings and not dirty:
            break
        ctx = FixContext(analysis, parents_of(module), findings)
        _plan_round(ctx, strategies, dirty)
        if ctx.plan.empty():
            break
        new = apply(module, ctx.plan, ctx.unused_imports).code
        if new == current or not _parses(new):
            break
        applied += [AppliedFix(code, line, text) for code, line, text in ctx.notes]
        current = new
        dirty = ctx.dirty
    if analysed[0] is current:  # nothing changed since: no second analysis of a clean file
        remaining = analysed[1]
    else:
        remaining = [f for f in check_source(current, options, parsed=True) if keep(f, current)]
    return FixResult(current, applied, remaining)
