"""FCX202: a worker in a copied (or freshly pushed) context relies on the view's ``g``.

``copy_current_request_context`` and ``app.app_context()`` give the worker a *new* app
context and so a new, empty ``g``: attributes the
view or a ``before_request`` handler set are missing (``AttributeError: <name>``), and
what the worker writes never reaches the view (runtime facts, cases 3 and 9).
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import FunctionInfo, Ref
from ..analysis.tree import dotted_name
from ..analysis.workers import SpawnSite
from ..catalogue.contexts import Need
from ..catalogue.flask_names import BEFORE_REQUEST_DECORATORS, G
from ..findings import Finding
from ..options import match_dotted
from .base import FixKind, Rule
from .details import WorkerUse


def _g_member(analysis: ModuleAnalysis, ref: Ref):
    use = analysis.workers.context_use(ref)
    return use.member if use is not None and use.qualname == G else None


def _g_attrs(analysis: ModuleAnalysis, refs: list[Ref], store: bool) -> dict[str, int]:
    """``g`` attributes written (or read) in ``refs``, with the order of the first one."""
    found: dict[str, int] = {}
    for ref in refs:
        member = _g_member(analysis, ref)
        if member is not None and ref.store == store:
            found.setdefault(member, ref.order)
    return found


def _before_request_handlers(analysis: ModuleAnalysis) -> list[FunctionInfo]:
    handlers = []
    for fn in analysis.functions:
        for d in fn.decorators:
            name = dotted_name(d.func if isinstance(d, cst.Call) else d) or ""
            if any(match_dotted(p, name) for p in BEFORE_REQUEST_DECORATORS):
                handlers.append(fn)
    return handlers


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    preset: set[str] = set()
    for handler in _before_request_handlers(analysis):
        preset |= set(_g_attrs(analysis, handler.refs, store=True))
    reported: set[int] = set()
    for site in analysis.spawn_sites:
        if site.owner is None:
            continue
        yield from _site_findings(analysis, site, preset, reported)


def _site_findings(analysis: ModuleAnalysis, site: SpawnSite, preset: set[str],
                   reported: set[int]) -> Iterator[Finding]:
    owner_refs = site.owner.refs  # type: ignore[union-attr]
    set_before = preset | {a for a, order in _g_attrs(analysis, owner_refs, True).items()
                           if order < site.call.order}
    read_after = {a for ref in owner_refs if ref.order > site.call.order and not ref.store
                  for a in [_g_member(analysis, ref)] if a}
    for target in site.targets:
        reached = analysis.workers.reach(target.function)
        own_writes = {_g_member(analysis, r.ref) for r in reached if r.ref.store}
        for r in reached:
            attr = _g_member(analysis, r.ref)
            fresh = target.copied or Need.APP in r.covered
            if attr is None or not fresh or id(r.ref) in reported:
                continue
            if r.ref.store and attr in read_after:
                action, result = "writes", "the view never sees the write"
            elif not r.ref.store and attr in set_before and attr not in own_writes:
                action, result = "reads", f"AttributeError: {attr}"
            else:
                continue
            reported.add(id(r.ref))
            yield RULE.finding(analysis, r.ref.node, WorkerUse(site, target, r), worker=f"worker {r.chain}",
                               action=action, attr=attr, result=result)


RULE = Rule(
    "FCX202",
    "a worker in a copied or pushed context relies on the view's g",
    "{worker} {action} g.{attr} in a copied context, which gets a fresh g ({result}); "
    "pass the value (or return it) instead",
    check,
    fixes=(FixKind.HOIST,),
)
