"""One libcst traversal that records scopes, bindings, name loads and calls.

It uses no libcst metadata provider: scope and qualified-name providers cost 30-50x an
``ast.parse`` (design.md, Speed), while this visitor only appends to lists. What a
name means is decided afterwards by ``resolve.py``, over the collected facts.
"""

from __future__ import annotations

from typing import Iterable, Optional, Union

import libcst as cst

from .knowledge import PUSHES_APP, PUSHES_REQUEST, Need
from .model import (
    Binding,
    BindingKind,
    CallSite,
    ClassInfo,
    FunctionInfo,
    ModuleFacts,
    Ref,
    Scope,
    ScopeKind,
    WithItem,
)

_BOTH = frozenset({Need.REQUEST, Need.APP})
_APP = frozenset({Need.APP})
_NONE: frozenset[Need] = frozenset()

_Comprehension = Union[cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp]


def dotted_name(node: cst.CSTNode) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def _import_qualname(node: Union[cst.Attribute, cst.Name]) -> str:
    return dotted_name(node) or ""


def guard_of(test: cst.BaseExpression) -> tuple[frozenset[Need], bool]:
    """What an ``if`` test guarantees in its body: (contexts, negated).

    ``if has_request_context():`` covers both contexts in the body; ``if not ...:``
    covers the ``else`` and, when the body leaves the block, the rest of the block.
    """
    negated = False
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, negated = test.expression, True
    tests = [test]
    if not negated and isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        tests = [test.left, test.right]
    covered: set[Need] = set()
    for t in tests:
        if isinstance(t, cst.Call):
            name = dotted_name(t.func) or ""
            last = name.rsplit(".", 1)[-1]
            if last == "has_request_context":
                covered |= _BOTH
            elif last == "has_app_context":
                covered |= _APP
    return frozenset(covered), negated


def _leaves_block(body: cst.BaseSuite) -> bool:
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


class Collector(cst.CSTVisitor):
    def __init__(self, pushes_context: "callable[[str], bool]" = lambda name: False) -> None:
        super().__init__()
        self._is_wrapper = pushes_context
        self.module_scope: Optional[Scope] = None
        self.scope: Scope  # set in visit_Module
        self.function: Optional[FunctionInfo] = None
        self.functions: list[FunctionInfo] = []
        self.classes: list[ClassInfo] = []
        self.module_refs: list[Ref] = []
        self.module_calls: list[CallSite] = []
        self._order = 0
        self._covered: list[frozenset[Need]] = [_NONE]
        self._block_cov: list[set[Need]] = [set()]
        self._loops: list[int] = [0]
        self._skip: set[int] = set()  # ids of Name nodes that are not loads
        self._pending: dict[int, tuple[Scope, Optional[FunctionInfo]]] = {}
        self._saved_cov: list[tuple[list[frozenset[Need]], list[set[Need]]]] = []
        self._saved_function: list[Optional[FunctionInfo]] = []
        self._with_cov: dict[int, frozenset[Need]] = {}
        self._if_guard: dict[int, tuple[frozenset[Need], bool]] = {}
        self._guard_after: dict[int, frozenset[Need]] = {}
        self._stores: set[int] = set()  # ids of Attribute/Name nodes that are written to
        self._call_use: dict[int, dict[str, object]] = {}  # how a call's result is used
        self.scopes: list[Scope] = []

    # --- helpers ------------------------------------------------------------------

    def _next(self) -> int:
        self._order += 1
        return self._order

    def _current_covered(self) -> frozenset[Need]:
        cov: set[Need] = set()
        for c in self._covered:
            cov |= c
        for c in self._block_cov:
            cov |= c
        return frozenset(cov)

    def _binding_scope(self, name: str) -> Scope:
        scope = self.scope
        if name in scope.globals and self.module_scope is not None:
            return self.module_scope
        return scope

    def _bind(self, name: str, binding: Binding) -> None:
        self._binding_scope(name).bind(name, binding)

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

    def _new_scope(self, kind: ScopeKind, node: cst.CSTNode, parent: Optional[Scope], **kw) -> Scope:
        scope = Scope(kind, node, parent, **kw)
        self.scopes.append(scope)
        return scope

    # --- module, functions, classes -------------------------------------------------

    def visit_Module(self, node: cst.Module) -> None:
        self.module_scope = self.scope = self._new_scope(ScopeKind.MODULE, node, None)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._skip.add(id(node.name))
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
        self._pending[id(node)] = (fn_scope, info)

    def _bind_params(self, params: cst.Parameters, info: FunctionInfo) -> None:
        all_params = [*params.posonly_params, *params.params, *params.kwonly_params]
        for extra in (params.star_arg, params.star_kwarg):
            if isinstance(extra, cst.Param):
                all_params.append(extra)
        for p in all_params:
            self._skip.add(id(p.name))
            info.params.append(p.name.value)
            info.scope.bind(p.name.value, Binding(BindingKind.PARAM, p))

    def _enter_body(self, node: cst.CSTNode) -> None:
        scope, info = self._pending[id(node)]
        self.scope = scope
        self.function = info if info is not None else self.function
        self._loops.append(0)
        # a body runs later, not inside the with-blocks or guards around its definition
        self._saved_cov.append((self._covered, self._block_cov))
        self._covered, self._block_cov = [_NONE], [set()]

    def _leave_body(self, node: cst.CSTNode, previous_function: Optional[FunctionInfo]) -> None:
        scope, _ = self._pending.pop(id(node))
        self._covered, self._block_cov = self._saved_cov.pop()
        self._loops.pop()
        self.scope = scope.parent  # type: ignore[assignment]
        self.function = previous_function

    def _enclosing_function(self, scope: Scope) -> Optional[FunctionInfo]:
        s: Optional[Scope] = scope
        while s is not None:
            if s.function is not None:
                return s.function
            if s.kind in (ScopeKind.MODULE, ScopeKind.CLASS):
                return None
            s = s.parent
        return None

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self._enter_body(node)

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        scope, _ = self._pending[id(node)]
        self._leave_body(node, self._enclosing_function(scope.parent))  # type: ignore[arg-type]

    def visit_Lambda(self, node: cst.Lambda) -> None:
        parent = self.scope
        scope = self._new_scope(ScopeKind.LAMBDA, node, parent)
        info = FunctionInfo(node, "<lambda>", scope, parent)
        scope.function = info
        self._bind_params(node.params, info)
        self.functions.append(info)
        self._pending[id(node)] = (scope, info)

    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        self._enter_body(node)

    def leave_Lambda_body(self, node: cst.Lambda) -> None:
        scope, _ = self._pending[id(node)]
        self._leave_body(node, self._enclosing_function(scope.parent))  # type: ignore[arg-type]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._skip.add(id(node.name))
        parent = self.scope
        info = ClassInfo(node, node.name.value, parent, bases=[a.value for a in node.bases])
        scope = self._new_scope(ScopeKind.CLASS, node, parent, cls=info)
        self._bind(node.name.value, Binding(BindingKind.CLASS, node, cls=info))
        self.classes.append(info)
        self._pending[id(node)] = (scope, None)

    def visit_ClassDef_body(self, node: cst.ClassDef) -> None:
        scope, _ = self._pending[id(node)]
        self.scope = scope
        self._saved_function.append(self.function)
        self.function = None  # class bodies run at definition time, like module code

    def leave_ClassDef_body(self, node: cst.ClassDef) -> None:
        scope, _ = self._pending.pop(id(node))
        self.scope = scope.parent  # type: ignore[assignment]
        self.function = self._saved_function.pop()

    # --- comprehensions -------------------------------------------------------------

    def _enter_comprehension(self, node: _Comprehension) -> None:
        self.scope = self._new_scope(ScopeKind.COMPREHENSION, node, self.scope)
        self._loops[-1] += 1

    def _leave_comprehension(self, node: _Comprehension) -> None:
        self.scope = self.scope.parent  # type: ignore[assignment]
        self._loops[-1] -= 1

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _enter_comprehension  # type: ignore
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave_comprehension  # type: ignore

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target, BindingKind.OTHER)

    # --- bindings -------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            full = _import_qualname(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, Binding(BindingKind.IMPORT, alias, qualname=full))
            else:
                top = full.split(".", 1)[0]
                self._bind(top, Binding(BindingKind.IMPORT, alias, qualname=top))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = _import_qualname(node.module) if node.module is not None else ""
        module = "." * len(node.relative) + module
        if isinstance(node.names, cst.ImportStar):
            return False
        for alias in node.names:
            name = _import_qualname(alias.name)
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            sep = "" if module.endswith(".") else "."
            self._bind(local, Binding(BindingKind.IMPORT, alias, qualname=f"{module}{sep}{name}"))
        return False

    def visit_Global(self, node: cst.Global) -> bool:
        self.scope.globals.update(n.name.value for n in node.names)
        return False

    def visit_Nonlocal(self, node: cst.Nonlocal) -> bool:
        self.scope.nonlocals.update(n.name.value for n in node.names)
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._bind_target(t.target, BindingKind.ASSIGN, node.value)
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._mark_call(node.value, assigned_to=node.targets[0].target.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind_target(node.target, BindingKind.ASSIGN, node.value)
        elif isinstance(node.target, cst.Name):
            self._skip.add(id(node.target))

    def visit_Del(self, node: cst.Del) -> None:
        targets = node.target.elements if isinstance(node.target, (cst.Tuple, cst.List)) else [node.target]
        for t in targets:
            target = t.value if isinstance(t, cst.BaseElement) else t
            if isinstance(target, cst.Subscript):
                self._stores.add(id(target.value))  # ``del session[k]`` writes the session
            elif isinstance(target, cst.Attribute):
                self._stores.add(id(target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target, BindingKind.OTHER)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if isinstance(node.target, cst.Name):
            self._skip.add(id(node.target))
            scope = self.scope
            while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
                scope = scope.parent
            scope.bind(node.target.value, Binding(BindingKind.ASSIGN, node, value=node.value))

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, BindingKind.OTHER)
        self._mark_call(node.iter, consumed=True)

    def visit_Await(self, node: cst.Await) -> None:
        self._mark_call(node.expression, awaited=True)

    def visit_Return(self, node: cst.Return) -> None:
        if self.function is not None:
            self.function.returns.append(node)

    def visit_For_body(self, node: cst.For) -> None:
        self._loops[-1] += 1

    def leave_For_body(self, node: cst.For) -> None:
        self._loops[-1] -= 1

    def visit_While_body(self, node: cst.While) -> None:
        self._loops[-1] += 1

    def leave_While_body(self, node: cst.While) -> None:
        self._loops[-1] -= 1

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self._bind_target(node.name.name, BindingKind.OTHER)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self._bind_target(node.name, BindingKind.OTHER)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self._bind_target(node.name, BindingKind.OTHER)

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self._bind_target(node.rest, BindingKind.OTHER)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))

    # --- context coverage -----------------------------------------------------------

    def visit_With(self, node: cst.With) -> None:
        covered: set[Need] = set()
        for item in node.items:
            if item.asname is not None:
                self._bind_target(item.asname.name, BindingKind.ASSIGN, item.item)
                if isinstance(item.asname.name, cst.Name):
                    self._mark_call(item.item, with_target=item.asname.name.value)
            if self.function is not None:
                self.function.with_items.append(WithItem(item.item, self.scope, self._next()))
            expr = item.item
            if isinstance(expr, cst.Call):
                name = dotted_name(expr.func) or ""
                method = name.rsplit(".", 1)[-1]
                if method in PUSHES_REQUEST or self._is_wrapper(name):
                    covered |= _BOTH
                elif method in PUSHES_APP:
                    covered |= _APP
        self._with_cov[id(node)] = frozenset(covered)

    def visit_With_body(self, node: cst.With) -> None:
        self._covered.append(self._with_cov.pop(id(node)))

    def leave_With_body(self, node: cst.With) -> None:
        self._covered.pop()

    def visit_If(self, node: cst.If) -> None:
        covered, negated = guard_of(node.test)
        if covered:
            self._if_guard[id(node)] = (covered, negated)
            if negated and _leaves_block(node.body):
                self._guard_after[id(node)] = covered

    def visit_If_body(self, node: cst.If) -> None:
        guard = self._if_guard.get(id(node))
        self._covered.append(guard[0] if guard and not guard[1] else _NONE)

    def leave_If_body(self, node: cst.If) -> None:
        self._covered.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        guard = self._if_guard.get(id(node))
        self._covered.append(guard[0] if guard and guard[1] else _NONE)

    def leave_If_orelse(self, node: cst.If) -> None:
        self._covered.pop()

    def leave_If(self, original_node: cst.If) -> None:
        self._if_guard.pop(id(original_node), None)
        after = self._guard_after.pop(id(original_node), None)
        if after:
            self._block_cov[-1] |= after

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._block_cov.append(set())

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self._block_cov.pop()

    # --- loads and calls ------------------------------------------------------------

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip.add(id(node.attr))
        if id(node) in self._skip:
            return
        attrs = []
        inner: cst.BaseExpression = node
        while isinstance(inner, cst.Attribute):
            self._skip.add(id(inner))
            self._skip.add(id(inner.attr))
            attrs.append(inner.attr.value)
            inner = inner.value
        if isinstance(inner, cst.Name) and id(inner) not in self._skip:
            self._skip.add(id(inner))
            self._add_ref(Ref(inner.value, tuple(reversed(attrs)), node, self.scope,
                              self._current_covered(), self._next(), store=id(node) in self._stores))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self._skip:
            return
        self._add_ref(Ref(node.value, (), node, self.scope, self._current_covered(), self._next(),
                          store=id(node) in self._stores))

    def visit_Call(self, node: cst.Call) -> None:
        for arg in node.args:
            self._mark_call(arg.value, consumed=True)
        use = self._call_use.pop(id(node), {})
        site = CallSite(node, self.scope, self._current_covered(), self._next(), self._loops[-1] > 0,
                        **use)  # type: ignore[arg-type]
        (self.function.calls if self.function else self.module_calls).append(site)

    def visit_Yield(self, node: cst.Yield) -> None:
        if self.function is not None:
            self.function.is_generator = True

    def facts(self, module: cst.Module) -> ModuleFacts:
        assert self.module_scope is not None
        return ModuleFacts(module, self.module_scope, self.functions, self.classes,
                           self.module_refs, self.module_calls, self.scopes)


def collect(module: cst.Module, pushes_context: "callable[[str], bool]" = lambda name: False) -> ModuleFacts:
    collector = Collector(pushes_context)
    module.visit(collector)
    return collector.facts(module)
