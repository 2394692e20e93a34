"""One traversal of the libcst tree that records scopes, bindings, name loads and calls.

It uses no libcst metadata provider (scope and qualified-name providers cost 30-50x an
``ast.parse``; README, Speed) and not even libcst's visitor: dispatching
``visit_<Node>``/``visit_<Node>_<field>`` hooks for every node and every whitespace
token costs ~7x an ``ast.parse`` on its own. This walker follows only the fields that
hold code (not whitespace, commas or parentheses) and handles the node types it cares
about explicitly, which also makes the scoping order plain to read: decorators and
defaults belong to the enclosing scope, bodies to the new one. What a name means is
decided afterwards by ``resolve.py``, over the collected facts.
"""

from __future__ import annotations

from typing import Iterable, Optional, Union

import libcst as cst

from .model import (
    NO_GUARDS,
    Binding,
    BindingKind,
    CallSite,
    ClassInfo,
    FunctionInfo,
    Guard,
    GuardKind,
    ModuleFacts,
    Ref,
    Scope,
    ScopeKind,
    WithItem,
)
from .tree import Parents, code_fields, dotted_name


def _import_qualname(node: Union[cst.Attribute, cst.Name]) -> str:
    return dotted_name(node) or ""


def leaves_block(body: cst.BaseSuite) -> bool:
    """Does the block end by leaving it (``return``, ``raise``, ``continue``, ``break``)?"""
    stmts: Iterable[cst.CSTNode]
    if isinstance(body, cst.IndentedBlock):
        stmts = body.body
    else:
        stmts = [body]
    last = list(stmts)[-1:] or []
    for stmt in last:
        small = stmt.body if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else []
        if any(isinstance(s, (cst.Return, cst.Raise, cst.Continue, cst.Break)) for s in small):
            return True
    return False


class Collector:
    def __init__(self) -> None:
        self.module_scope: Optional[Scope] = None
        self.scope: Scope  # set in collect()
        self.function: Optional[FunctionInfo] = None
        self.functions: list[FunctionInfo] = []
        self.classes: list[ClassInfo] = []
        self.module_refs: list[Ref] = []
        self.module_calls: list[CallSite] = []
        self.scopes: list[Scope] = []
        self._order = 0
        self._guards: list[Guard] = []  # with-blocks and if-tests around here
        self._block_guards: list[list[Guard]] = [[]]  # tests known after an early exit, per block
        self._last_block_guards: list[Guard] = []  # those of the block just left (an if's pushes)
        self._guard_snapshot: tuple[Guard, ...] = NO_GUARDS
        self.parents: dict[int, Optional[cst.CSTNode]] = {}
        self._parent: Optional[cst.CSTNode] = None
        self._loops: list[int] = [0]  # loop depth, per function
        self._skip: set[int] = set()  # ids of Name nodes that are not loads
        self._stores: set[int] = set()  # ids of Attribute/Name nodes that are written to
        self._tested: set[int] = set()  # ids of Name nodes only tested for truth
        self._call_use: dict[int, dict[str, object]] = {}  # how a call's result is used
        self._handlers = {
            cst.FunctionDef: self._function_def, cst.Lambda: self._lambda, cst.ClassDef: self._class_def,
            cst.ListComp: self._comprehension, cst.SetComp: self._comprehension,
            cst.DictComp: self._comprehension, cst.GeneratorExp: self._comprehension,
            cst.CompFor: self._comp_for, cst.Import: self._import, cst.ImportFrom: self._import_from,
            cst.Global: self._global, cst.Nonlocal: self._nonlocal, cst.Assign: self._assign,
            cst.AnnAssign: self._ann_assign, cst.AugAssign: self._aug_assign, cst.Del: self._del,
            cst.NamedExpr: self._named_expr, cst.For: self._for, cst.While: self._while,
            cst.ExceptHandler: self._except_handler, cst.MatchAs: self._match_as,
            cst.MatchStar: self._match_star, cst.MatchMapping: self._match_mapping, cst.Arg: self._arg,
            cst.With: self._with, cst.If: self._if, cst.IndentedBlock: self._indented_block,
            cst.Attribute: self._attribute, cst.Name: self._name, cst.Call: self._call,
            cst.Yield: self._yield, cst.Await: self._await, cst.Return: self._return,
            cst.Param: self._param, cst.Try: self._try, cst.TryStar: self._try, cst.Expr: self._expr,
        }

    # --- the walk -------------------------------------------------------------------

    def walk(self, node: Optional[cst.CSTNode]) -> None:
        if node is None:
            return
        self.parents[id(node)] = outer = self._parent
        self._parent = node
        handler = self._handlers.get(type(node))
        if handler is None or handler(node):
            self.walk_children(node)
        self._parent = outer

    def walk_children(self, node: cst.CSTNode) -> None:
        for name in code_fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                self.walk(value)
            elif type(value) in (list, tuple):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self.walk(item)

    def walk_all(self, nodes) -> None:
        for node in nodes:
            self.walk(node)

    # --- helpers ------------------------------------------------------------------

    def _next(self) -> int:
        self._order += 1
        return self._order

    def _guards_changed(self) -> None:
        self._guard_snapshot = (*self._guards, *(g for block in self._block_guards for g in block))

    def _new_scope(self, kind: ScopeKind, node: cst.CSTNode, parent: Optional[Scope], **kw) -> Scope:
        scope = Scope(kind, node, parent, **kw)
        self.scopes.append(scope)
        return scope

    def _bind(self, name: str, binding: Binding) -> None:
        binding.order = self._next()
        scope = self.scope
        if name in scope.globals and self.module_scope is not None:
            scope = self.module_scope
        scope.bind(name, binding)

    def _bind_target(self, target: cst.BaseExpression, kind: BindingKind,
                     value: Optional[cst.BaseExpression] = None) -> None:
        """Bind the names a store target introduces, and mark them as not loads."""
        if isinstance(target, cst.Name):
            self._skip.add(id(target))
            self._bind(target.value, Binding(kind, target, value=value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind_target(el.value, BindingKind.OTHER)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, BindingKind.OTHER)
        elif isinstance(target, cst.Attribute):
            self._stores.add(id(target))
            if value is not None:
                self._record_self_attr(target, value)
        elif isinstance(target, cst.Subscript):
            self._stores.add(id(target.value))

    def _record_self_attr(self, target: cst.Attribute, value: cst.BaseExpression) -> None:
        fn = self.function
        if fn is None or fn.cls is None or not fn.params:
            return
        if isinstance(target.value, cst.Name) and target.value.value == fn.params[0]:
            attr = target.attr.value
            fn.cls.self_attrs.setdefault(attr, []).append(value)
            if fn.name == "__init__" and isinstance(value, cst.Name) and value.value in fn.params[1:]:
                fn.cls.init_param_attrs[attr] = value.value

    def _add_ref(self, ref: Ref) -> None:
        (self.function.refs if self.function else self.module_refs).append(ref)

    def _mark_call(self, expr: Optional[cst.CSTNode], **use: object) -> None:
        if isinstance(expr, cst.Call):
            self._call_use.setdefault(id(expr), {}).update(use)

    def _run_body(self, scope: Scope, function: Optional[FunctionInfo], body: cst.CSTNode) -> None:
        """Walk a body that runs later, in its own scope, outside the definer's guards."""
        saved = (self.scope, self.function, self._guards, self._block_guards)
        self.scope, self.function = scope, function
        self._guards, self._block_guards = [], [[]]
        self._guards_changed()
        self._loops.append(0)
        self.walk(body)
        self._loops.pop()
        self.scope, self.function, self._guards, self._block_guards = saved
        self._guards_changed()

    # --- functions, classes, comprehensions -------------------------------------------

    def _bind_params(self, params: cst.Parameters, info: FunctionInfo) -> None:
        all_params = [*params.posonly_params, *params.params, *params.kwonly_params]
        for extra in (params.star_arg, params.star_kwarg):
            if isinstance(extra, cst.Param):
                all_params.append(extra)
        for p in all_params:
            info.params.append(p.name.value)
            info.scope.bind(p.name.value, Binding(BindingKind.PARAM, p))

    def _param(self, node: cst.Param) -> bool:
        self.walk(node.annotation)  # defaults and annotations run where the function is defined
        self.walk(node.default)
        return False

    def _function_def(self, node: cst.FunctionDef) -> bool:
        parent = self.scope
        fn_scope = self._new_scope(ScopeKind.FUNCTION, node, parent)
        cls = parent.cls if parent.kind is ScopeKind.CLASS else None
        info = FunctionInfo(node, node.name.value, fn_scope, parent, cls=cls,
                            decorators=[d.decorator for d in node.decorators],
                            in_loop=self._loops[-1] > 0)
        fn_scope.function = info
        self._bind_params(node.params, info)
        self._bind(node.name.value, Binding(BindingKind.DEF, node, function=info))
        if cls is not None:
            cls.methods.setdefault(node.name.value, info)
        self.functions.append(info)
        self.walk_all(node.decorators)
        self.walk(node.params)
        self.walk(node.returns)
        self._run_body(fn_scope, info, node.body)
        return False

    def _lambda(self, node: cst.Lambda) -> bool:
        parent = self.scope
        scope = self._new_scope(ScopeKind.LAMBDA, node, parent)
        info = FunctionInfo(node, "<lambda>", scope, parent)
        scope.function = info
        self._bind_params(node.params, info)
        self.functions.append(info)
        self.walk(node.params)
        self._run_body(scope, info, node.body)
        return False

    def _class_def(self, node: cst.ClassDef) -> bool:
        parent = self.scope
        info = ClassInfo(node, node.name.value, parent, bases=[a.value for a in node.bases])
        scope = self._new_scope(ScopeKind.CLASS, node, parent, cls=info)
        self._bind(node.name.value, Binding(BindingKind.CLASS, node, cls=info))
        self.classes.append(info)
        self.walk_all(node.decorators)
        self.walk_all(node.bases)
        self.walk_all(node.keywords)
        saved = self.scope
        # a class body runs where the class is defined: at import time at module level, and
        # each time the function runs inside one (its code belongs to that function)
        self.scope = scope
        self.walk(node.body)
        self.scope = saved
        return False

    def _comprehension(self, node: cst.CSTNode) -> bool:
        self.scope = self._new_scope(ScopeKind.COMPREHENSION, node, self.scope)
        self._loops[-1] += 1
        self.walk_children(node)
        self._loops[-1] -= 1
        self.scope = self.scope.parent  # type: ignore[assignment]
        return False

    def _comp_for(self, node: cst.CompFor) -> bool:
        self._bind_target(node.target, BindingKind.OTHER)
        return True

    # --- bindings -------------------------------------------------------------------

    def _import(self, node: cst.Import) -> bool:
        for alias in node.names:
            self.parents[id(alias)] = node
            full = _import_qualname(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, Binding(BindingKind.IMPORT, alias, qualname=full,
                                                            guards=self._guard_snapshot))
            else:
                top = full.split(".", 1)[0]
                self._bind(top, Binding(BindingKind.IMPORT, alias, qualname=top, guards=self._guard_snapshot))
        return False

    def _import_from(self, node: cst.ImportFrom) -> bool:
        module = _import_qualname(node.module) if node.module is not None else ""
        module = "." * len(node.relative) + module
        if isinstance(node.names, cst.ImportStar):
            return False
        for alias in node.names:
            self.parents[id(alias)] = node
            name = _import_qualname(alias.name)
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            sep = "" if module.endswith(".") else "."
            self._bind(local, Binding(BindingKind.IMPORT, alias, qualname=f"{module}{sep}{name}",
                                      guards=self._guard_snapshot))
        return False

    def _global(self, node: cst.Global) -> bool:
        self.scope.globals.update(n.name.value for n in node.names)
        return False

    def _nonlocal(self, node: cst.Nonlocal) -> bool:
        self.scope.nonlocals.update(n.name.value for n in node.names)
        return False

    def _assign(self, node: cst.Assign) -> bool:
        for t in node.targets:
            self._bind_target(t.target, BindingKind.ASSIGN, node.value)
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._mark_call(node.value, assigned_to=node.targets[0].target.value)
        return True

    def _ann_assign(self, node: cst.AnnAssign) -> bool:
        if node.value is not None:
            self._bind_target(node.target, BindingKind.ASSIGN, node.value)
        elif isinstance(node.target, cst.Name):
            self._skip.add(id(node.target))
        return True

    def _aug_assign(self, node: cst.AugAssign) -> bool:
        self._bind_target(node.target, BindingKind.OTHER)
        return True

    def _del(self, node: cst.Del) -> bool:
        targets = node.target.elements if isinstance(node.target, (cst.Tuple, cst.List)) else [node.target]
        for t in targets:
            target = t.value if isinstance(t, cst.BaseElement) else t
            if isinstance(target, cst.Subscript):
                self._stores.add(id(target.value))  # ``del session[k]`` writes the session
            elif isinstance(target, cst.Attribute):
                self._stores.add(id(target))
        return True

    def _named_expr(self, node: cst.NamedExpr) -> bool:
        if isinstance(node.target, cst.Name):
            self._skip.add(id(node.target))
            scope = self.scope
            while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
                scope = scope.parent
            scope.bind(node.target.value, Binding(BindingKind.ASSIGN, node, value=node.value, order=self._next()))
        return True

    def _for(self, node: cst.For) -> bool:
        self._bind_target(node.target, BindingKind.OTHER)
        self._mark_call(node.iter, consumed=True)
        self.walk(node.target)
        self.walk(node.iter)
        self._loops[-1] += 1
        self.walk(node.body)
        self._loops[-1] -= 1
        self.walk(node.orelse)
        return False

    def _while(self, node: cst.While) -> bool:
        self._loops[-1] += 1  # the test runs again before each turn
        self.walk(node.test)
        self.walk(node.body)
        self._loops[-1] -= 1
        self.walk(node.orelse)
        return False

    def _except_handler(self, node: cst.ExceptHandler) -> bool:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self._bind_target(node.name.name, BindingKind.OTHER)
        return True

    def _match_as(self, node: cst.MatchAs) -> bool:
        if node.name is not None:
            self._bind_target(node.name, BindingKind.OTHER)
        return True

    def _match_star(self, node: cst.MatchStar) -> bool:
        if node.name is not None:
            self._bind_target(node.name, BindingKind.OTHER)
        return True

    def _match_mapping(self, node: cst.MatchMapping) -> bool:
        if node.rest is not None:
            self._bind_target(node.rest, BindingKind.OTHER)
        return True

    def _arg(self, node: cst.Arg) -> bool:
        self.walk(node.value)  # not the keyword's name
        return False

    # --- context coverage -----------------------------------------------------------

    def _with(self, node: cst.With) -> bool:
        pushed = 0
        for item in node.items:
            if item.asname is not None:
                self._bind_target(item.asname.name, BindingKind.ASSIGN, item.item)
                if isinstance(item.asname.name, cst.Name):
                    self._mark_call(item.item, with_target=item.asname.name.value)
            if self.function is not None:
                self.function.with_items.append(WithItem(item.item, self.scope, self._next()))
            self.walk(item.item)  # evaluated before the block: not covered by it
            if item.asname is not None:
                self.walk(item.asname.name)
            self._guards.append(Guard(GuardKind.WITH, item.item, self.scope))
            pushed += 1
        self._guards_changed()
        self.walk(node.body)
        del self._guards[len(self._guards) - pushed:]
        self._guards_changed()
        return False

    def _truth_tested(self, test: cst.BaseExpression) -> None:
        """The names a test only tests for truth: ``if request:``, ``if not g or x:``."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            self._truth_tested(test.expression)
        elif isinstance(test, cst.BooleanOperation):
            self._truth_tested(test.left)
            self._truth_tested(test.right)
        elif isinstance(test, cst.Name):
            self._tested.add(id(test))

    def _if(self, node: cst.If) -> bool:
        self._truth_tested(node.test)
        self.walk(node.test)
        self._guards.append(Guard(GuardKind.TEST, node.test, self.scope))
        self._guards_changed()
        self.walk(node.body)
        self._guards[-1] = Guard(GuardKind.TEST, node.test, self.scope, holds=False)
        self._guards_changed()
        self.walk(node.orelse)
        self._guards.pop()
        if leaves_block(node.body):  # ``if not has_request_context(): return``: false from here on
            self._block_guards[-1].append(Guard(GuardKind.TEST, node.test, self.scope, holds=False))
        pushes = tuple(g for g in self._last_block_guards if g.kind is GuardKind.PUSH)
        if pushes and not node.orelse:  # ``if not has_app_context(): ctx.push()``: one way or the other
            self._block_guards[-1].append(Guard(GuardKind.ENSURED, node, self.scope, pushes=pushes))  # type: ignore[arg-type]
        self._guards_changed()
        return False

    def _try(self, node: Union[cst.Try, cst.TryStar]) -> bool:
        self._guards.append(Guard(GuardKind.TRY, node, self.scope))  # type: ignore[arg-type]
        self._guards_changed()
        self.walk(node.body)
        self._guards.pop()
        self._guards_changed()
        self.walk_all(node.handlers)
        self.walk(node.orelse)
        self.walk(node.finalbody)
        return False

    def _expr(self, node: cst.Expr) -> bool:
        """``ctx.push()`` or ``stack.enter_context(cm)`` as a statement: a push for the rest of the block."""
        self.walk_children(node)
        value = node.value
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) \
                and value.func.attr.value in ("push", "enter_context"):
            self._block_guards[-1].append(Guard(GuardKind.PUSH, value, self.scope))
            self._guards_changed()
        return False

    def _indented_block(self, node: cst.IndentedBlock) -> bool:
        self._block_guards.append([])
        self.walk_all(node.body)
        self._last_block_guards = self._block_guards.pop()
        self._guards_changed()
        return False

    # --- loads and calls ------------------------------------------------------------

    def _attribute(self, node: cst.Attribute) -> bool:
        attrs = []
        inner: cst.BaseExpression = node
        while isinstance(inner, cst.Attribute):
            attrs.append(inner.attr.value)
            self.parents[id(inner.value)] = inner  # the chain's inner nodes are not walked
            last, inner = inner, inner.value
        if isinstance(inner, cst.Name):
            if id(inner) not in self._skip:
                self._add_ref(Ref(inner.value, tuple(reversed(attrs)), node, self.scope,
                                  self._guard_snapshot, self._next(), store=id(node) in self._stores,
                                  in_loop=self._loops[-1] > 0))
        else:  # ``f().attr``: the call inside is code
            self._parent = last
            self.walk(inner)
            self._parent = node
        return False

    def _name(self, node: cst.Name) -> bool:
        if id(node) not in self._skip:
            self._add_ref(Ref(node.value, (), node, self.scope, self._guard_snapshot, self._next(),
                              store=id(node) in self._stores, in_loop=self._loops[-1] > 0,
                              truth_test=id(node) in self._tested))
        return False

    def _call(self, node: cst.Call) -> bool:
        for arg in node.args:
            self._mark_call(arg.value, consumed=True)
        use = self._call_use.pop(id(node), {})
        site = CallSite(node, self.scope, self._guard_snapshot, self._next(), self._loops[-1] > 0,
                        **use)  # type: ignore[arg-type]
        (self.function.calls if self.function else self.module_calls).append(site)
        return True

    def _yield(self, node: cst.Yield) -> bool:
        if self.function is not None:
            self.function.is_generator = True
        return True

    def _await(self, node: cst.Await) -> bool:
        self._mark_call(node.expression, awaited=True)
        return True

    def _return(self, node: cst.Return) -> bool:
        if self.function is not None:
            self.function.returns.append(node)
        return True

    def facts(self, module: cst.Module) -> ModuleFacts:
        assert self.module_scope is not None
        return ModuleFacts(module, self.module_scope, self.functions, self.classes,
                           self.module_refs, self.module_calls, self.scopes, Parents(self.parents))


def collect(module: cst.Module) -> ModuleFacts:
    collector = Collector()
    collector.module_scope = collector.scope = collector._new_scope(ScopeKind.MODULE, module, None)
    collector.walk_all(module.body)
    return collector.facts(module)
