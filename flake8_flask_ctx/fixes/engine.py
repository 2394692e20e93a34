"""Rounds of analyse -> plan -> apply, until nothing changes.

Each round reads the findings of the current text. A finding's rule says which fixes it
offers (``Rule.fixes``). Fixes that work on a spawn site (hoist, app context, copy per
worker) are tried per site over the union of what that site's findings offer: first every
strategy for a *safe* fix, in ``SITE_ORDER``, then, only when unsafe fixes are allowed, the
same strategies for an unsafe one; the first that plans an edit wins. The other fixes work
on one finding each and are all safe. Some fixes unlock others (removing a module-level
copy decorator in one round turns its spawns into FCX100 sites that the next round hoists),
hence the rounds.

The result converges or is not used: the rounds stop when one plans nothing, and if they
have not stopped after ``MAX_ROUNDS``, the text is returned unchanged with
``converged=False`` (ruff's "failed to converge"). A round whose result does not parse is
discarded, so the text returned always parses.
"""

from __future__ import annotations

import ast
import difflib
from typing import Callable, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.workers import SpawnSite
from ..engine import check_source
from ..findings import Finding
from ..options import Options
from ..rules import RULES_BY_CODE, FixKind, run_rules
from .app_context import plan_app_context
from .applicability import SAFE, Applicability
from .context import Cause, FixContext
from .copy_wrap import plan_copy, remove_copy_outside_request
from .edits import apply
from .hoist import Hoister
from .proxies import unwrap_proxy
from .streams import wrap_stream

MAX_ROUNDS = 32  # a hoist moves one call level per round; deeper helper chains do not converge
ALL_FIXES = frozenset(FixKind)
SITE_ORDER = (FixKind.HOIST, FixKind.APP_CONTEXT, FixKind.COPY_PER_WORKER)
FINDING_FIXES: dict[FixKind, Callable[[FixContext, Finding], bool]] = {
    FixKind.MOVE_COPY_INTO_VIEW: remove_copy_outside_request,
    FixKind.UNWRAP_PROXY: unwrap_proxy,
    FixKind.STREAM_WITH_CONTEXT: wrap_stream,
}
SiteStrategy = Callable[[SpawnSite, bool], Optional[Applicability]]


def _offered(finding: Finding) -> tuple[FixKind, ...]:
    return RULES_BY_CODE[finding.code].fixes


class _Round:
    """One round's planning over one analysis."""

    def __init__(self, ctx: FixContext, allowed: frozenset[FixKind], unsafe: bool) -> None:
        self.ctx = ctx
        self.allowed = allowed
        self.unsafe = unsafe
        self.unsafe_fixable: list[Cause] = []  # sites left that an unsafe fix could rewrite
        hoister = Hoister(ctx)
        self.site_fixes: dict[FixKind, SiteStrategy] = {
            FixKind.HOIST: hoister.plan,
            FixKind.APP_CONTEXT: lambda site, allow: plan_app_context(ctx, site, allow),
            FixKind.COPY_PER_WORKER: lambda site, allow: plan_copy(ctx, site, allow),
        }

    def plan(self, dirty) -> None:
        ctx = self.ctx
        sites = []
        for f in ctx.findings:
            site = f.detail.site if f.detail is not None else None
            if site is not None and site not in sites and set(_offered(f)) & set(SITE_ORDER):
                sites.append(site)
        if FixKind.HOIST in self.allowed:  # copied workers an earlier round changed: finish their hoist
            ctx.kind = FixKind.HOIST
            for site in ctx.analysis.spawn_sites:
                cause = None if site in sites else ctx.dirty_cause(site, dirty)
                if cause is not None:
                    ctx.cause = cause
                    self.site_fixes[FixKind.HOIST](site, self.unsafe)
        for site in sites:
            self._plan_site(site)
        for f in ctx.findings:
            for kind in _offered(f):
                if kind in FINDING_FIXES and kind in self.allowed:
                    ctx.kind, ctx.applicability = kind, SAFE
                    FINDING_FIXES[kind](ctx, f)

    def _plan_site(self, site: SpawnSite) -> None:
        ctx = self.ctx
        findings = ctx.site_findings(site)
        ctx.cause = ctx.cause_of(findings[0])
        offered = {kind for f in findings for kind in _offered(f)}
        kinds = [k for k in SITE_ORDER if k in offered and k in self.allowed]
        unsafe_left = False
        for allow_unsafe in (False, True):
            if allow_unsafe and not self.unsafe:
                break
            for kind in kinds:
                ctx.kind = kind
                verdict = self.site_fixes[kind](site, allow_unsafe)
                if verdict is None:
                    continue
                if verdict.safe or allow_unsafe:
                    return
                unsafe_left = True
        if unsafe_left:
            self.unsafe_fixable += [ctx.cause_of(f) for f in findings]


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
        cst.parse_module(code)
    except (SyntaxError, ValueError, cst.ParserSyntaxError):
        return False
    return True


def _line_map(old: str, new: str, old_origin: list[int]) -> list[int]:
    """For each line of ``new`` (index 0 = line 1), the line of the original text it came
    from: unchanged lines keep their origin, changed ones take that of the lines they replace."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    origin = [0] * len(new_lines)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines).get_opcodes():
        for offset, j in enumerate(range(j1, j2)):
            i = min(i1 + offset, i2 - 1) if i2 > i1 else max(i1 - 1, 0)
            origin[j] = old_origin[i] if 0 <= i < len(old_origin) else (old_origin[-1] if old_origin else 1)
    return origin


def fix_module_source(source: str, options: Options, keep: Callable[[Finding, str], bool],
                      allowed: frozenset[FixKind] = ALL_FIXES, unsafe: bool = False, path: Optional[str] = None):
    from ..engine import project_of
    from . import AppliedFix, FixResult

    project = project_of(path, options)
    module_name = project.module_of(path) if project is not None and path else None
    package = bool(path) and path.endswith("__init__.py")  # type: ignore[union-attr]

    current = source
    origin = list(range(1, source.count("\n") + 2))
    applied: list[AppliedFix] = []
    unsafe_fixable: dict[Cause, None] = {}
    dirty: dict = {}
    analysed: tuple[str, list[Finding]] = ("", [])  # the last text analysed, and its findings
    first_findings: Optional[list[Finding]] = None
    for _ in range(MAX_ROUNDS):
        module = cst.parse_module(current)
        analysis = ModuleAnalysis(module, options, current, module_name, package, project, path)
        findings = [f for f in run_rules(analysis) if keep(f, current)]
        if first_findings is None:
            first_findings = findings
        analysed = (current, findings)
        if not findings and not dirty:
            break
        lines = origin
        ctx = FixContext(analysis, findings, original_line=lambda n: lines[n - 1] if 0 < n <= len(lines) else n)
        planner = _Round(ctx, allowed, unsafe)
        planner.plan(dirty)
        unsafe_fixable.update(dict.fromkeys(planner.unsafe_fixable))
        if ctx.plan.empty():
            break
        new = apply(module, ctx.plan, ctx.unused_imports, options.max_line_length).code
        if new == current or not _parses(new):
            break
        applied += [AppliedFix(n.cause[0], n.cause[1], n.description, n.kind, col=n.cause[2],
                               safe=n.applicability.safe, reason=n.applicability.reason) for n in ctx.notes]
        origin = _line_map(current, new, origin)
        current = new
        dirty = ctx.dirty
    else:  # still planning after MAX_ROUNDS: a fix that does not settle is not a fix
        return FixResult(source, [], first_findings or [], converged=False)
    if analysed[0] is current:  # nothing changed since: no second analysis of a clean file
        remaining = analysed[1]
    else:
        remaining = [f for f in check_source(current, options, parsed=True, path=path) if keep(f, current)]
    fixed = {(a.code, a.line, a.col) for a in applied}
    left = [cause for cause in unsafe_fixable if cause not in fixed]
    return FixResult(current, applied, remaining, left)
