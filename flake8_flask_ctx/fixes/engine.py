"""Rounds of analyse -> plan -> apply, until nothing changes.

Each round reads the findings of the current text. A finding's rule says which fixes it
offers (``Rule.fixes``). Fixes that work on a spawn site (hoist, app context, copy per
worker) are tried per site, in ``SITE_ORDER``, over the union of what that site's findings
offer; the first that plans an edit wins. The others work on one finding each. Some fixes
unlock others (removing a module-level copy decorator in one round turns its spawns into
FCX100 sites that the next round hoists), hence the rounds. A round whose result does not
parse is discarded, so the text returned always parses.
"""

from __future__ import annotations

import ast
from typing import Callable

import libcst as cst

from ..analysis import ModuleAnalysis
from ..engine import check_source
from ..findings import Finding
from ..options import Options
from ..rules import RULES_BY_CODE, FixKind, run_rules
from .app_context import plan_app_context
from .context import FixContext
from .copy_wrap import plan_copy, remove_copy_outside_request
from .edits import apply
from .hoist import Hoister
from .proxies import unwrap_proxy
from .streams import wrap_stream

MAX_ROUNDS = 8  # a hoist moves one call level per round
ALL_FIXES = frozenset(FixKind)
SITE_ORDER = (FixKind.HOIST, FixKind.APP_CONTEXT, FixKind.COPY_PER_WORKER)
FINDING_FIXES: dict[FixKind, Callable[[FixContext, Finding], bool]] = {
    FixKind.MOVE_COPY_INTO_VIEW: remove_copy_outside_request,
    FixKind.UNWRAP_PROXY: unwrap_proxy,
    FixKind.STREAM_WITH_CONTEXT: wrap_stream,
}


def _offered(finding: Finding) -> tuple[FixKind, ...]:
    return RULES_BY_CODE[finding.code].fixes


def _plan_round(ctx: FixContext, allowed: frozenset[FixKind], dirty) -> None:
    hoister = Hoister(ctx)
    site_fixes = {
        FixKind.HOIST: hoister.plan,
        FixKind.APP_CONTEXT: lambda site: plan_app_context(ctx, site),
        FixKind.COPY_PER_WORKER: lambda site: plan_copy(ctx, site),
    }
    sites = []
    for f in ctx.findings:
        site = f.detail.site if f.detail is not None else None
        if site is not None and site not in sites and set(_offered(f)) & set(SITE_ORDER):
            sites.append(site)
    if FixKind.HOIST in allowed:  # copied workers an earlier round changed: finish their hoist
        ctx.kind = FixKind.HOIST
        for site in ctx.analysis.spawn_sites:
            cause = None if site in sites else ctx.dirty_cause(site, dirty)
            if cause is not None:
                ctx.cause = cause
                hoister.plan(site)
    for site in sites:
        findings = ctx.site_findings(site)
        ctx.cause = (findings[0].code, findings[0].line)
        offered = {kind for f in findings for kind in _offered(f)}
        for kind in SITE_ORDER:
            if kind in offered and kind in allowed:
                ctx.kind = kind
                if site_fixes[kind](site):
                    break
    for f in ctx.findings:
        for kind in _offered(f):
            if kind in FINDING_FIXES and kind in allowed:
                ctx.kind = kind
                FINDING_FIXES[kind](ctx, f)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
        cst.parse_module(code)
    except (SyntaxError, ValueError, cst.ParserSyntaxError):
        return False
    return True


def fix_module_source(source: str, options: Options, keep: Callable[[Finding, str], bool],
                      allowed: frozenset[FixKind] = ALL_FIXES):
    from . import AppliedFix, FixResult

    current = source
    applied: list[AppliedFix] = []
    dirty: dict = {}
    analysed: tuple[str, list[Finding]] = ("", [])  # the last text analysed, and its findings
    for _ in range(MAX_ROUNDS):
        module = cst.parse_module(current)
        analysis = ModuleAnalysis(module, options, current)
        findings = [f for f in run_rules(analysis) if keep(f, current)]
        analysed = (current, findings)
        if not findings and not dirty:
            break
        ctx = FixContext(analysis, findings)
        _plan_round(ctx, allowed, dirty)
        if ctx.plan.empty():
            break
        new = apply(module, ctx.plan, ctx.unused_imports).code
        if new == current or not _parses(new):
            break
        applied += [AppliedFix(n.code, n.line, n.description, n.kind) for n in ctx.notes]
        current = new
        dirty = ctx.dirty
    if analysed[0] is current:  # nothing changed since: no second analysis of a clean file
        remaining = analysed[1]
    else:
        remaining = [f for f in check_source(current, options, parsed=True) if keep(f, current)]
    return FixResult(current, applied, remaining)
