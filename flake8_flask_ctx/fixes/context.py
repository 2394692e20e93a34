"""What every fix strategy shares for one round: the analysis, the findings, the plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import FunctionInfo
from ..analysis.tree import Parents
from ..analysis.workers import SpawnSite, Target
from ..catalogue.flask_names import COPY_REQUEST_CONTEXT
from ..catalogue.spawners import Kind
from ..findings import Finding
from ..rules import FixKind
from .applicability import SAFE, Applicability
from .edits import EditPlan

COPY_IMPORT = tuple(COPY_REQUEST_CONTEXT.rsplit(".", 1))  # ("flask", "copy_current_request_context")
COPY = COPY_IMPORT[1]

# A function's identity across rounds (each round re-parses, so nodes change): its dotted
# path and how many functions with the same path come before it. The fixer adds no
# function other than a missing ``__init__``, so the index survives a round.
FunctionKey = tuple[str, int]
# The finding a change was made for, as (code, line, col) in the text the fixer was given:
# lines move from round to round, so each round maps its findings back.
Cause = tuple[str, int, int]


@dataclass(frozen=True)
class Note:
    cause: Cause
    kind: FixKind
    applicability: Applicability
    description: str


@dataclass
class FixContext:
    analysis: ModuleAnalysis
    findings: list[Finding]
    plan: EditPlan = field(default_factory=EditPlan)
    notes: list[Note] = field(default_factory=list)
    unused_imports: set[tuple[str, str]] = field(default_factory=set)
    # functions a hoist changed, with the finding that started it: they survive the round's
    # re-parse, so the next round can finish what this one started
    dirty: dict[FunctionKey, Cause] = field(default_factory=dict)
    cause: Optional[Cause] = None  # the finding being fixed, for edits a later round makes
    kind: FixKind = FixKind.HOIST  # the strategy planning now
    applicability: Applicability = SAFE  # of the edits being planned now

    original_line: Callable[[int], int] = lambda line: line  # this round's line -> the given text's

    def __post_init__(self) -> None:
        self._keys: Optional[dict[int, FunctionKey]] = None
        self._by_site: Optional[dict[int, list[Finding]]] = None
        self._references: Optional[dict[int, int]] = None
        self._spawns: Optional[dict[int, list[tuple[SpawnSite, Target]]]] = None
        self._plain_workers: Optional[set[int]] = None
        self._memo: dict[str, object] = {}

    def cause_of(self, finding: Finding) -> Cause:
        return (finding.code, self.original_line(finding.line), finding.col)

    @property
    def parents(self) -> Parents:
        return self.analysis.facts.parents

    # --- bookkeeping --------------------------------------------------------------------

    def site_findings(self, site: SpawnSite) -> list[Finding]:
        if self._by_site is None:
            self._by_site = {}
            for f in self.findings:
                if f.detail is not None and f.detail.site is not None:
                    self._by_site.setdefault(id(f.detail.site), []).append(f)
        return self._by_site.get(id(site), [])

    def memo(self, key: str, compute: Callable[[], object]):
        """A fact about the whole module, computed once per round."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def references(self, fn: FunctionInfo) -> int:
        """How many loads of its name resolve to ``fn`` in this module."""
        if self._references is None:
            self._references = {}
            names = {f.name for f in self.analysis.functions}
            resolver = self.analysis.resolver
            for ref in self.analysis.facts.all_refs():
                if ref.attrs or ref.name not in names:
                    continue
                for key in {id(b.function) for b in resolver.lookup(ref.scope, ref.name) or () if b.function}:
                    self._references[key] = self._references.get(key, 0) + 1
        return self._references.get(id(fn), 0)

    def spawns_of(self, fn: FunctionInfo) -> list[tuple[SpawnSite, Target]]:
        """The spawn sites that run ``fn``, with its target there."""
        if self._spawns is None:
            self._spawns = {}
            for site in self.analysis.spawn_sites:
                for target in site.targets:
                    self._spawns.setdefault(id(target.function), []).append((site, target))
        return self._spawns.get(id(fn), [])

    def note(self, site_or_finding, description: str) -> None:
        findings = ([site_or_finding] if isinstance(site_or_finding, Finding)
                    else self.site_findings(site_or_finding))
        for f in findings:
            self.notes.append(Note(self.cause_of(f), self.kind, self.applicability, description))
        if not findings and self.cause is not None:
            self.notes.append(Note(self.cause, self.kind, self.applicability, description))

    def key(self, fn: FunctionInfo) -> FunctionKey:
        if self._keys is None:
            self._keys = {}
            counts: dict[str, int] = {}
            for other in self.analysis.functions:
                path = _dotted_path(other)
                self._keys[id(other)] = (path, counts.get(path, 0))
                counts[path] = counts.get(path, 0) + 1
        return self._keys[id(fn)]

    def edited(self, fn: FunctionInfo) -> None:
        self.dirty[self.key(fn)] = self.cause

    def dirty_cause(self, site: SpawnSite, dirty: dict[FunctionKey, Cause]) -> Optional[Cause]:
        """The finding behind an earlier round's change to code a copied worker of ``site`` runs."""
        for target in site.targets:
            if not target.copied:
                continue
            functions = [target.function]
            functions += [fn for r in self.analysis.workers.reach(target.function) for fn in r.path]
            for fn in functions:
                if self.key(fn) in dirty:
                    return dirty[self.key(fn)]
        return None

    def spawner_has_context(self, site: SpawnSite) -> bool:
        """The spawning code runs in a request (it is a function that no plain worker runs),
        and the worker is a thread of this process: a copy or a hoisted value cannot be
        handed to a task queue or another process (it is serialized), nor to a scheduled
        job (it runs later, after the request)."""
        if site.owner is None or site.spawner.kind is not Kind.THREAD:
            return False
        if self._plain_workers is None:
            self._plain_workers = {id(t.function) for other in self.analysis.spawn_sites
                                   for t in other.targets if not t.copied}
        return id(site.owner) not in self._plain_workers

    def inside(self, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
        return self.parents.inside(node, ancestor)

    # --- dropping copies that are no longer needed ---------------------------------------

    def homemade_copier(self, decorator: cst.BaseExpression, scope) -> Optional[FunctionInfo]:
        """A same-module decorator that copies a context (an FCX300 finding lies inside it)."""
        fn = self.analysis.resolver.function_of(decorator, scope)
        if fn is None or not isinstance(fn.node, cst.FunctionDef):
            return None
        for f in self.findings:
            if f.code == "FCX300" and f.node is not None and self.inside(f.node, fn.node):
                return fn
        return None

    def drop_copy(self, site: SpawnSite, target: Target) -> None:
        """Remove the copy around a worker that no longer needs a context."""
        workers = self.analysis.workers
        if target.copy_node is not None and isinstance(target.copy_node, cst.Call) \
                and self.inside(target.copy_node, site.node):
            self.plan.replace[id(target.copy_node)] = target.copy_node.args[0].value
            self.unused_imports.add(COPY_IMPORT)
            return
        fn = target.function
        if not isinstance(fn.node, cst.FunctionDef):
            return
        for decorator in fn.node.decorators:
            expr = decorator.decorator
            if workers.copy_wrapper_name(expr, fn.parent):
                self.plan.replace[id(decorator)] = None
                self.unused_imports.add(COPY_IMPORT)
                continue
            copier = self.homemade_copier(expr, fn.parent)
            if copier is not None:
                self.plan.replace[id(decorator)] = None  # the function itself stays: others may import it


def _dotted_path(fn: FunctionInfo) -> str:
    parts = [fn.name]
    scope = fn.parent
    while scope is not None:
        if scope.function is not None:
            parts.append(scope.function.name)
        elif scope.cls is not None:
            parts.append(scope.cls.name)
        scope = scope.parent
    return ".".join(reversed(parts))
