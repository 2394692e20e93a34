"""Strategy 1, hoist: read the values in the request and hand them to the worker.

Flask's maintainers' advice, and the first blog post's second rule. Each context use in the
worker is replaced by a name, and an expression around it (``early.py`` chooses which one,
and judges whether evaluating it early keeps behaviour) is evaluated where the worker is
spawned:

- module-level target: a new parameter, passed at the spawn site (``kwargs=``, extra
  ``submit`` arguments, ``functools.partial`` for ``map``); keyword-only where a positional
  one could clash (``*args``, defaults, ``map``);
- closure or lambda made in the spawning function: a local assigned just before the spawn
  (not above the ``def``: code in between may change what it reads);
- ``Thread`` subclass ``run()``: an attribute set in ``__init__`` (which runs in the view).

A hoist is *safe* when every moved read is, and when nothing outside the fix sees a changed
signature: a new parameter of a public function, or an ``__init__`` that a module-level or
foreign instantiation would now run without a request, makes it *unsafe*. Writes
(``g.x = ...``, ``session[k] = ...``) are never hoisted; a target with any of those is left
to the next strategy. Once a copied target touches no context any more, its copy decorators
(and a homemade copier nobody uses) are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from ..analysis.model import ClassInfo, FunctionInfo, Scope, ScopeKind
from ..analysis.tree import loaded_names
from ..analysis.workers import Reached, SpawnSite, Target
from ..catalogue.spawners import PARTIAL, Passing
from .applicability import SAFE, Applicability, combine, unsafe
from .context import FixContext
from .early import EarlyReads
from .naming import describe, unique


@dataclass
class Hoisted:
    expr: cst.BaseExpression  # the original expression in the worker
    name: str
    code: str  # its source text, to share one name between identical reads
    absorbs: Optional[cst.BaseStatement] = None  # ``doc_id = <expr>`` made redundant by the hoist


class Hoister:
    def __init__(self, ctx: FixContext) -> None:
        self.ctx = ctx
        self.analysis = ctx.analysis
        self.parents = ctx.parents

    # --- planning ---------------------------------------------------------------------

    def uses(self, target: Target) -> list[Reached]:
        """The context uses the worker relies on (a copy's own context does not count)."""
        workers = self.analysis.workers
        return [r for r in workers.reach(target.function)
                if (use := workers.context_use(r.ref)) is not None and not workers.satisfied(use, r.covered)]

    def plan(self, site: SpawnSite, allow_unsafe: bool = False) -> Optional[Applicability]:
        """Plan the hoist for every target of ``site``: None when one cannot be hoisted,
        else how safe it is. An unsafe hoist is planned only when ``allow_unsafe``.

        Reads inside same-module helpers move one call level up per round (a new parameter
        of the helper, passed by its only caller); reads in the worker itself move to the
        spawn site once no helper is left in between.
        """
        all_uses = [(t, self.uses(t)) for t in site.targets]
        deep = [r for _, uses in all_uses for r in uses if len(r.path) > 1]
        if deep:
            return self._plan_helper_steps(site, deep, allow_unsafe)
        early = EarlyReads(self.analysis, site)
        jobs = []
        verdicts = []
        for target, uses in all_uses:
            items = []
            for r in uses:
                choice = early.choose(r, target.function)
                if choice is None:
                    return None
                items.append(choice.expr)
                verdicts.append(choice.applicability)
            jobs.append((target, items))
        if not any(items for _, items in jobs):
            return self._drop_unused_copies(site)
        if not self.ctx.spawner_has_context(site):
            return None
        edits = []
        for target, exprs in jobs:
            if not exprs:
                continue
            placed = self._placement(site, target, exprs)
            if placed is None:
                return None
            edits.append(placed[0])
            verdicts.append(placed[1])
        verdict = combine(verdicts)
        if not (verdict.safe or allow_unsafe):
            return verdict
        if not self.ctx.plan.claim(site.node, *(t.function.node for t in site.targets)):
            return None
        self.ctx.applicability = verdict
        for edit in edits:
            edit()
        for target, exprs in jobs:
            self.ctx.edited(target.function)
            if target.copied:
                self.ctx.drop_copy(site, target)
        if site.owner is not None:
            self.ctx.edited(site.owner)
        return verdict

    def _drop_unused_copies(self, site: SpawnSite) -> Optional[Applicability]:
        """A copied worker that uses no context needs no copy (and cannot race on one)."""
        copied = [t for t in site.targets if t.copied]
        if not copied or not self.ctx.plan.claim(site.node, *(t.function.node for t in copied)):
            return None
        self.ctx.applicability = SAFE
        for target in copied:
            self.ctx.drop_copy(site, target)
        self.ctx.note(site, "dropped a copy of the request context the worker never uses")
        return SAFE

    # --- through helpers ----------------------------------------------------------------

    def _plan_helper_steps(self, site: SpawnSite, deep: list[Reached], allow_unsafe: bool) -> Optional[Applicability]:
        early = EarlyReads(self.analysis, site)
        by_helper: dict[int, tuple[FunctionInfo, FunctionInfo, list[cst.BaseExpression]]] = {}
        verdicts = []
        for r in deep:
            helper, caller = r.path[-1], r.path[-2]
            choice = early.choose(r, helper)
            if choice is None or helper.cls is not None or not isinstance(helper.node, cst.FunctionDef):
                return None
            entry = by_helper.setdefault(id(helper), (helper, caller, []))
            if entry[1] is not caller:
                return None
            entry[2].append(choice.expr)
            verdicts.append(choice.applicability)
        edits = []
        for helper, caller, exprs in by_helper.values():
            edit = self._into_caller(site, helper, caller, exprs)
            if edit is None:
                return None
            edits.append(edit)
            verdicts.append(_signature_change(helper.name, "function"))
        verdict = combine(verdicts)
        if not (verdict.safe or allow_unsafe):
            return verdict
        if not self.ctx.plan.claim(*(h.node for h, _, _ in by_helper.values())):
            return None
        self.ctx.applicability = verdict
        for edit in edits:
            edit()
        return verdict

    def _into_caller(self, site: SpawnSite, helper: FunctionInfo, caller: FunctionInfo,
                     exprs: list[cst.BaseExpression]):
        """The helper takes the values as parameters; its only caller evaluates them."""
        node = helper.node
        assert isinstance(node, cst.FunctionDef)
        calls = [c for c in caller.calls
                 if self.analysis.resolver.function_of(c.node.func, c.scope, caller) is helper]
        if len(calls) != 1 or self.ctx.references(helper) != 1 or node.params.star_kwarg is not None:
            return None  # a helper others call would change for them too: copy instead
        call = calls[0]
        for expr in exprs:
            names = loaded_names(expr) or []
            if any(self.analysis.resolver.bound_within(call.scope, n, caller) for n in names):
                return None  # a name the caller rebinds would evaluate differently there
        items = self._group(exprs, self._taken(helper.scope, caller.scope), helper, set(helper.params))
        names = list(dict.fromkeys(i.name for i in items))
        codes = {i.name: i.code for i in items}
        keyword_only = _needs_keyword_only(node)

        def edit() -> None:
            self._add_params(node, names, keyword_only)
            self.ctx.plan.add_args.setdefault(id(call.node), []).extend(
                cst.Arg(cst.parse_expression(codes[n]), keyword=cst.Name(n), equal=_EQ) for n in names)
            self._replace_reads(items, cst.Name)
            self.ctx.edited(helper)
            self.ctx.edited(caller)
            self.ctx.note(site, f"moved {', '.join(names)} out of {helper.name}() into an argument "
                                f"passed by {caller.name}()")
        return edit

    def _absorbable(self, expr: cst.BaseExpression, fn: FunctionInfo,
                    outer_taken: set[str]) -> Optional[tuple[str, cst.BaseStatement]]:
        """``doc_id = <expr>`` in the worker: the hoisted value can simply be named ``doc_id``."""
        assign = self.parents.of(expr)
        if not (isinstance(assign, cst.Assign) and assign.value is expr and len(assign.targets) == 1
                and isinstance(assign.targets[0].target, cst.Name)):
            return None
        name = assign.targets[0].target.value
        statement = self.parents.of(assign)
        if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
                and self.parents.of(statement) is not None
                and self.parents.of(self.parents.of(statement)) is fn.node):  # directly in the body
            return None
        if len(fn.scope.bindings.get(name, [])) != 1 or name in fn.params or name in outer_taken:
            return None
        return name, statement

    def _group(self, exprs: list[cst.BaseExpression], taken: set[str], fn: FunctionInfo,
               outer_taken: set[str]) -> list[Hoisted]:
        out: list[Hoisted] = []
        by_code: dict[str, str] = {}
        for expr in exprs:
            code = self.analysis.module.code_for_node(expr)
            absorbed = self._absorbable(expr, fn, outer_taken | set(by_code.values()))
            if absorbed is not None and code not in by_code:
                by_code[code] = absorbed[0]
                out.append(Hoisted(expr, absorbed[0], code, absorbs=absorbed[1]))
                continue
            if code not in by_code:
                by_code[code] = unique(describe(expr), taken | set(by_code.values()))
            out.append(Hoisted(expr, by_code[code], code))
        return out

    def _placement(self, site: SpawnSite, target: Target, exprs: list[cst.BaseExpression]):
        """(edit, applicability) for moving ``exprs`` out of ``target``, or None."""
        fn = target.function
        if site.thread_class is not None and fn is site.targets[0].function:
            return self._into_init(site, fn, exprs)
        if fn.parent.kind is ScopeKind.MODULE and isinstance(fn.node, cst.FunctionDef):
            return self._as_parameters(site, target, exprs)
        defined_in = self.analysis.resolver.enclosing_function(fn.parent)
        if defined_in is not None and defined_in is site.owner:
            return self._as_locals(site, target, exprs)
        return None

    # --- placements -------------------------------------------------------------------

    def _taken(self, *scopes: Scope) -> set[str]:
        names: set[str] = set(self.analysis.facts.scope.bindings)
        for scope in scopes:
            names |= set(scope.bindings)
        for fn in self.analysis.functions:
            if any(fn.scope is s or fn.parent is s for s in scopes):
                names |= {r.name for r in fn.refs} | set(fn.scope.bindings)
        return names

    def _replace_reads(self, items: list[Hoisted], make) -> None:
        for item in items:
            if item.absorbs is not None:
                self.ctx.plan.remove_statements.add(id(item.absorbs))
            else:
                self.ctx.plan.replace[id(item.expr)] = make(item.name)

    def _as_locals(self, site: SpawnSite, target: Target, exprs):
        owner = site.owner
        fn = target.function
        anchor = self.parents.statement_of(site.node)  # just before the spawn: nothing in between
        if owner is None or anchor is None:
            return None
        items = self._group(exprs, self._taken(owner.scope, fn.scope), fn, self._visible_in(owner, besides=fn))
        verdict = SAFE
        if isinstance(fn.node, cst.FunctionDef) and self.ctx.references(fn) != 1:
            verdict = unsafe(f"{fn.name}() is also used before the worker starts, where the hoisted "
                             "value is not set yet")

        def edit() -> None:
            seen = set()
            stmts = []
            for item in items:
                if item.name in seen:
                    continue
                seen.add(item.name)
                value = cst.parse_expression(item.code)
                stmts.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(item.name))], value)]))
            self.ctx.plan.insert_before.setdefault(id(anchor), []).extend(stmts)
            self._replace_reads(items, cst.Name)
            self.ctx.note(site, f"hoisted {', '.join(sorted(seen))} into {owner.name}() before the worker starts")
        return edit, verdict

    def _visible_in(self, owner: FunctionInfo, besides: FunctionInfo) -> set[str]:
        """Names a new local of ``owner`` could shadow or clash with (``besides`` excluded)."""
        names = set(owner.scope.bindings) | {r.name for r in owner.refs}
        for fn in self.analysis.functions:
            if fn is not besides and fn is not owner and self.ctx.inside(fn.node, owner.node):
                names |= {r.name for r in fn.refs}
        return names

    def _as_parameters(self, site: SpawnSite, target: Target, exprs):
        fn = target.function
        node = fn.node
        assert isinstance(node, cst.FunctionDef)
        if self.ctx.references(fn) != 1 or node.params.star_kwarg is not None:
            return None  # called from elsewhere: a new parameter would break those callers
        owner_scope = site.owner.scope if site.owner else self.analysis.facts.scope
        items = self._group(exprs, self._taken(fn.scope, owner_scope), fn, set(fn.params))
        names = list(dict.fromkeys(i.name for i in items))
        values = {i.name: cst.parse_expression(i.code) for i in items}
        keyword_only = _needs_keyword_only(node) or site.spawner.fan_out
        if keyword_only and site.spawner.passing is Passing.EXTRA_POSITIONAL:
            return None  # positional arguments cannot reach keyword-only parameters
        passing = self._pass_values(site, target, names, values)
        if passing is None:
            return None

        def edit() -> None:
            self._add_params(node, names, keyword_only)
            passing()
            self._replace_reads(items, cst.Name)
            self.ctx.note(site, f"hoisted {', '.join(names)} into parameters of {fn.name}(), passed at the spawn")
        return edit, _signature_change(fn.name, "function")

    def _add_params(self, node: cst.FunctionDef, names: list[str], keyword_only: bool) -> None:
        """New parameters at the end, keyword-only where positional ones could clash."""
        params = [cst.Param(cst.Name(n)) for n in names]
        if keyword_only:
            self._add_keyword_only(node, params)
        else:
            self.ctx.plan.add_params[id(node)] = params

    def _add_keyword_only(self, node: cst.FunctionDef, params: list[cst.Param]) -> None:
        def change(updated: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(updated, cst.FunctionDef)
            p = updated.params
            star = p.star_arg if not isinstance(p.star_arg, cst.MaybeSentinel) else cst.ParamStar()
            return updated.with_changes(params=p.with_changes(star_arg=star, kwonly_params=[*p.kwonly_params, *params]))
        self.ctx.plan.replace[id(node)] = change

    def _pass_values(self, site: SpawnSite, target: Target, names: list[str], values):
        """An edit that hands the values to the worker at the spawn call, as the spawner's
        record says (``Spawner.passing``), or None."""
        spawner = site.spawner
        call = site.node
        plan = self.ctx.plan

        def keywords() -> list[cst.Arg]:
            return [cst.Arg(values[n], keyword=cst.Name(n), equal=_EQ) for n in names]

        if spawner.passing is Passing.PARTIAL:
            expr = target.expr
            if isinstance(expr, cst.Call) and self.analysis.resolver.qualname(expr.func, site.call.scope) == PARTIAL:
                return lambda: plan.add_args.setdefault(id(expr), []).extend(keywords())
            module, function = PARTIAL.rsplit(".", 1)
            partial = cst.Call(cst.Attribute(cst.Name(module), cst.Name(function)),
                               [cst.Arg(expr, comma=_COMMA), *keywords()])

            def wrap_partial() -> None:
                plan.replace[id(expr)] = partial
                plan.imports.add((module, ""))
            return wrap_partial
        if spawner.passing is Passing.KWARGS and spawner.kwargs is not None:
            slot = spawner.kwargs
            existing = next((a for a in call.args if a.keyword is not None and a.keyword.value in slot.keywords),
                            None)
            entries = [cst.DictElement(cst.SimpleString(f'"{n}"'), values[n]) for n in names]
            if existing is None:
                if not slot.keywords:
                    return None  # a positional-only slot: no dict can be added by keyword
                return lambda: plan.add_args.setdefault(id(call), []).append(
                    cst.Arg(cst.Dict(entries), keyword=cst.Name(slot.keywords[0]), equal=_EQ))
            if isinstance(existing.value, cst.Dict):
                merged = cst.Dict([*existing.value.elements, *entries])
                return lambda: plan.replace.__setitem__(id(existing.value), merged)
            return None
        if spawner.passing is Passing.EXTRA_POSITIONAL:
            return lambda: plan.add_args.setdefault(id(call), []).extend(cst.Arg(values[n]) for n in names)
        if spawner.passing is Passing.EXTRA_KEYWORDS:
            return lambda: plan.add_args.setdefault(id(call), []).extend(keywords())
        return None

    def _into_init(self, site: SpawnSite, run: FunctionInfo, exprs):
        """Values a ``Thread`` subclass's ``run()`` reads are set in ``__init__``, which the view runs."""
        cls = site.thread_class
        assert cls is not None
        init = cls.methods.get("__init__")
        if not run.params or not isinstance(run.node, cst.FunctionDef):
            return None
        if init is not None and (not isinstance(init.node, cst.FunctionDef) or not init.params
                                 or not isinstance(init.node.body, cst.IndentedBlock)):
            return None
        taken = set(cls.self_attrs) | set(cls.methods)
        items = [Hoisted(i.expr, i.name, i.code) for i in self._group(exprs, taken, run, taken)]
        me = init.params[0] if init is not None else run.params[0]
        run_self = run.params[0]
        anchor = self.parents.statement_of(run.node)

        def assignments() -> list[cst.BaseStatement]:
            seen: dict[str, str] = {}
            for item in items:
                seen.setdefault(item.name, item.code)
            return [cst.SimpleStatementLine([cst.Assign(
                [cst.AssignTarget(cst.Attribute(cst.Name(me), cst.Name(name)))], cst.parse_expression(code))])
                for name, code in seen.items()]

        def edit() -> None:
            stmts = assignments()
            if init is not None:
                body = init.node.body
                self.ctx.plan.replace[id(body)] = lambda updated: updated.with_changes(body=[*updated.body, *stmts])
            else:
                new_init = cst.parse_statement(
                    f"def __init__({me}, *args, **kwargs):\n    super().__init__(*args, **kwargs)\n")
                assert isinstance(new_init, cst.FunctionDef) and isinstance(new_init.body, cst.IndentedBlock)
                new_init = new_init.with_changes(body=new_init.body.with_changes(body=[*new_init.body.body, *stmts]))
                self.ctx.plan.insert_before.setdefault(id(anchor), []).append(new_init)
                if not run.node.leading_lines:  # keep a blank line between the two methods
                    self.ctx.plan.replace[id(run.node)] = lambda updated: updated.with_changes(
                        leading_lines=[cst.EmptyLine()])
            self._replace_reads(items, lambda n: cst.Attribute(cst.Name(run_self), cst.Name(n)))
            names = ", ".join(sorted({i.name for i in items}))
            self.ctx.note(site, f"hoisted {names} into {cls.name}.__init__ (which runs in the view)")
        if init is None and anchor is None:
            return None
        verdict = self._instantiated_only_in_views(cls)
        return (edit, verdict) if verdict is not None else None

    def _instantiated_only_in_views(self, cls: ClassInfo) -> Optional[Applicability]:
        """``__init__`` now reads the request: every instantiation must run in a request.
        None when this module itself instantiates the class elsewhere (at import time, in a
        function no request runs): the hoist would break it for certain."""
        spawns = {id(s.node): s for s in self.analysis.spawn_sites if s.thread_class is cls}
        for ref in self.analysis.facts.all_refs():
            if ref.name != cls.name or ref.attrs:
                continue
            if not any(b.cls is cls for b in self.analysis.resolver.lookup(ref.scope, ref.name) or []):
                continue
            call = self.parents.of(ref.node)
            spawn = spawns.get(id(call)) if isinstance(call, cst.Call) else None
            if spawn is None or not self.ctx.spawner_has_context(spawn):
                return None
        return _signature_change(cls.name, "class")


_EQ = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _needs_keyword_only(node: cst.FunctionDef) -> bool:
    """New parameters go after ``*args`` or defaults as keyword-only ones."""
    params = node.params
    return any(p.default is not None for p in params.params) or isinstance(params.star_arg, (cst.Param, cst.ParamStar))


def _signature_change(name: str, what: str) -> Applicability:
    """A module-level function or class gets new parameters: callers this module cannot see
    (other modules, tests) would break, unless its name says it is private."""
    if name.startswith("_"):
        return SAFE
    return unsafe(f"the public {what} {name}() gets new parameters: callers in other modules or "
                  "tests would raise TypeError")
