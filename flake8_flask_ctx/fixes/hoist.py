"""Strategy 1, hoist: read the values in the request and hand them to the worker.

Flask's maintainers' advice, and the first blog post's second rule. Each context use in the worker is
replaced by a name, and the largest expression around it that depends on no worker-local
name (``request.args.get("doc_id", "")``, else ``request.args``) is evaluated where the
worker is spawned:

- module-level target: a new parameter, passed at the spawn site (``kwargs=``, extra
  ``submit`` arguments, ``functools.partial`` for ``map``);
- closure or lambda made in the spawning function: a local assigned there before it;
- ``Thread`` subclass ``run()``: an attribute set in ``__init__`` (which runs in the view).

Values that die with the request (``request.files[...]``, ``request.stream`` not read
with ``.read()``) and writes (``g.x = ...``, ``session[k] = ...``) are not hoisted; a
target with any of those is left to the next strategy. Once a copied target touches no
context any more, its copy decorators (and a homemade copier nobody uses) are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from ..analysis.model import FunctionInfo, Scope, ScopeKind
from ..analysis.tree import loaded_names
from ..analysis.workers import Reached, SpawnSite, Target
from ..catalogue.flask_names import PERISHABLE, PROXY_OBJECTS, READ_METHODS, VALUE_HELPERS
from ..catalogue.spawners import PARTIAL, Passing
from .context import FixContext
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

    # --- which expression to move ------------------------------------------------------

    def _free(self, node: cst.CSTNode, r: Reached, fn: FunctionInfo) -> bool:
        """Does ``node`` read nothing that ``fn`` binds (it means the same in the spawner)?"""
        names = loaded_names(node)
        return names is not None and not any(self.analysis.resolver.bound_within(r.ref.scope, n, fn)
                                             for n in names)

    def _pure_call(self, call: cst.Call, scope: Scope) -> bool:
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in READ_METHODS:
            return True
        return self.analysis.resolver.qualname(call.func, scope) in VALUE_HELPERS

    def expression(self, r: Reached, fn: FunctionInfo) -> Optional[cst.BaseExpression]:
        """The largest worker-independent expression around the use, or None."""
        use = self.analysis.workers.context_use(r.ref)
        if use is None or r.ref.store:
            return None
        node: cst.BaseExpression = r.ref.node
        depth = len(use.written.rstrip("()").split(".")) - 1
        for _ in range(len(r.ref.attrs) - depth):
            node = node.value  # type: ignore[attr-defined]  # down to ``request.args``
        if use.qualname not in PROXY_OBJECTS:  # a helper: the call is the smallest value
            parent = self.parents.of(node)
            if not (isinstance(parent, cst.Call) and parent.func is node and self._pure_call(parent, r.ref.scope)):
                return None
            node = parent
        elif use.member is None:
            return None  # the proxy object itself
        else:
            parent = self.parents.of(node)
            if isinstance(parent, cst.Call) and parent.func is node:  # ``session.get(...)``
                if not self._pure_call(parent, r.ref.scope):
                    return None  # never hoist a bound method whose call has effects
                node = parent
        if not self._free(node, r, fn):
            return None
        best = node
        while True:
            parent = self.parents.of(best)
            if isinstance(parent, cst.Attribute) and parent.value is best:
                grand = self.parents.of(parent)
                if isinstance(grand, cst.Call) and grand.func is parent:
                    candidate: cst.BaseExpression = grand
                    if not self._pure_call(grand, r.ref.scope):
                        break
                else:
                    candidate = parent
            elif isinstance(parent, cst.Subscript) and parent.value is best:
                candidate = parent
            else:
                break
            if not self._free(candidate, r, fn):
                break
            best = candidate
        if use.member in PERISHABLE and not self._ends_with_read(best):
            return None
        return best

    @staticmethod
    def _ends_with_read(expr: cst.BaseExpression) -> bool:
        return (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)
                and expr.func.attr.value == "read")

    # --- planning ---------------------------------------------------------------------

    def uses(self, target: Target) -> list[Reached]:
        """The context uses the worker relies on (a copy's own context does not count)."""
        workers = self.analysis.workers
        return [r for r in workers.reach(target.function)
                if (use := workers.context_use(r.ref)) is not None and not workers.satisfied(use, r.covered)]

    def plan(self, site: SpawnSite) -> bool:
        """Plan the hoist for every target of ``site``; False (nothing planned) if one can't.

        Reads inside same-module helpers move one call level up per round (a new parameter
        of the helper, passed by its only caller); reads in the worker itself move to the
        spawn site once no helper is left in between.
        """
        all_uses = [(t, self.uses(t)) for t in site.targets]
        deep = [r for _, uses in all_uses for r in uses if len(r.path) > 1]
        if deep:
            return self._plan_helper_steps(site, deep)
        jobs = []
        for target, uses in all_uses:
            items = []
            for r in uses:
                expr = self.expression(r, target.function)
                if expr is None:
                    return False
                items.append(expr)
            jobs.append((target, items))
        if not any(items for _, items in jobs):
            return self._drop_unused_copies(site)
        if not self.ctx.spawner_has_context(site):
            return False
        edits = []
        for target, exprs in jobs:
            if not exprs:
                continue
            edit = self._placement(site, target, exprs)
            if edit is None:
                return False
            edits.append(edit)
        if not self.ctx.plan.claim(site.node, *(t.function.node for t in site.targets)):
            return False
        for edit in edits:
            edit()
        for target, exprs in jobs:
            self.ctx.edited(target.function)
            if target.copied:
                self.ctx.drop_copy(site, target)
        if site.owner is not None:
            self.ctx.edited(site.owner)
        return True

    def _drop_unused_copies(self, site: SpawnSite) -> bool:
        """A copied worker that uses no context needs no copy (and cannot race on one)."""
        copied = [t for t in site.targets if t.copied]
        if not copied or not self.ctx.plan.claim(site.node, *(t.function.node for t in copied)):
            return False
        for target in copied:
            self.ctx.drop_copy(site, target)
        self.ctx.note(site, "dropped a copy of the request context the worker never uses")
        return True

    # --- through helpers ----------------------------------------------------------------

    def _plan_helper_steps(self, site: SpawnSite, deep: list[Reached]) -> bool:
        by_helper: dict[int, tuple[FunctionInfo, FunctionInfo, list[cst.BaseExpression]]] = {}
        for r in deep:
            helper, caller = r.path[-1], r.path[-2]
            expr = self.expression(r, helper)
            if expr is None or helper.cls is not None or not isinstance(helper.node, cst.FunctionDef):
                return False
            entry = by_helper.setdefault(id(helper), (helper, caller, []))
            if entry[1] is not caller:
                return False
            entry[2].append(expr)
        edits = []
        for helper, caller, exprs in by_helper.values():
            edit = self._into_caller(site, helper, caller, exprs)
            if edit is None:
                return False
            edits.append(edit)
        if not self.ctx.plan.claim(*(h.node for h, _, _ in by_helper.values())):
            return False
        for edit in edits:
            edit()
        return True

    def _into_caller(self, site: SpawnSite, helper: FunctionInfo, caller: FunctionInfo,
                     exprs: list[cst.BaseExpression]):
        """The helper takes the values as parameters; its only caller evaluates them."""
        node = helper.node
        assert isinstance(node, cst.FunctionDef)
        calls = [c for c in caller.calls
                 if self.analysis.resolver.function_of(c.node.func, c.scope, caller) is helper]
        if len(calls) != 1 or self._references(helper) != 1 or node.params.star_kwarg is not None:
            return None  # a helper others call would change for them too: copy instead
        call = calls[0]
        for expr in exprs:
            names = loaded_names(expr) or []
            if any(self.analysis.resolver.bound_within(call.scope, n, caller) for n in names):
                return None  # a name the caller rebinds would evaluate differently there
        items = self._group(exprs, self._taken(helper.scope, caller.scope), helper, set(helper.params))
        names = list(dict.fromkeys(i.name for i in items))
        codes = {i.name: i.code for i in items}
        keyword_only = any(p.default is not None for p in node.params.params) or node.params.star_arg \
            not in (None, cst.MaybeSentinel.DEFAULT)

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
        anchor = self.parents.statement_of(fn.node if isinstance(fn.node, cst.FunctionDef) else site.node)
        if owner is None or anchor is None:
            return None
        items = self._group(exprs, self._taken(owner.scope, fn.scope), fn, self._visible_in(owner, besides=fn))

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
        return edit

    def _visible_in(self, owner: FunctionInfo, besides: FunctionInfo) -> set[str]:
        """Names a new local of ``owner`` could shadow or clash with (``besides`` excluded)."""
        names = set(owner.scope.bindings) | {r.name for r in owner.refs}
        for fn in self.analysis.functions:
            if fn is not besides and fn is not owner and self.ctx.inside(fn.node, owner.node):
                names |= {r.name for r in fn.refs}
        return names

    def _references(self, fn: FunctionInfo) -> int:
        count = 0
        refs = [*self.analysis.facts.module_refs, *(r for f in self.analysis.functions for r in f.refs)]
        for ref in refs:
            if ref.name == fn.name and not ref.attrs:
                bindings = self.analysis.resolver.lookup(ref.scope, ref.name) or []
                if any(b.function is fn for b in bindings):
                    count += 1
        return count

    def _as_parameters(self, site: SpawnSite, target: Target, exprs):
        fn = target.function
        node = fn.node
        assert isinstance(node, cst.FunctionDef)
        if self._references(fn) != 1 or node.params.star_kwarg is not None:
            return None  # called from elsewhere: a new parameter would break those callers
        owner_scope = site.owner.scope if site.owner else self.analysis.facts.scope
        items = self._group(exprs, self._taken(fn.scope, owner_scope), fn, set(fn.params))
        names = list(dict.fromkeys(i.name for i in items))
        values = {i.name: cst.parse_expression(i.code) for i in items}
        passing = self._pass_values(site, target, names, values)
        if passing is None:
            return None
        keyword_only = any(p.default is not None for p in node.params.params) or site.spawner.fan_out

        def edit() -> None:
            self._add_params(node, names, keyword_only)
            passing()
            self._replace_reads(items, cst.Name)
            self.ctx.note(site, f"hoisted {', '.join(names)} into parameters of {fn.name}(), passed at the spawn")
        return edit

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
        return edit


_EQ = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
