"""What a name means where it is used: Python's scoping rules over the collected bindings.

A name is Flask's ``request`` only when every binding it can have in that scope is an
import of ``flask.request`` (or an alias of it): a parameter, a local assignment, a
comprehension variable or a ``global`` rebinding make it something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import libcst as cst

from ..catalogue.contexts import Need
from ..catalogue.extensions import LAZY_QUERY_METHODS
from ..catalogue.flask_names import (
    CONTEXT_ERRORS,
    CONTEXT_PUSHERS,
    GUARDS,
    IMPORT_ERRORS,
    PROXY_OBJECTS,
    REQUEST_PROXY_OBJECTS,
    canonical,
    need_of,
)
from ..options import Options
from .model import (
    Binding,
    BindingKind,
    ClassInfo,
    FunctionInfo,
    Guard,
    GuardKind,
    ModuleFacts,
    Ref,
    Scope,
    ScopeKind,
)
from .tree import dotted_name, iter_code

_NOTHING: frozenset[Need] = frozenset()


@dataclass(frozen=True)
class ContextUse:
    """A use of something that needs a context: ``request.args`` at ``ref``."""

    need: Need
    written: str  # the code as written, up to the proxy and one attribute: ``request.args``
    qualname: str  # what it is: ``flask.request``
    ref: Ref
    member: Optional[str] = None  # the attribute used on it: ``args`` in ``request.args.get``


class Resolver:
    def __init__(self, facts: ModuleFacts, options: Options, module: Optional[str] = None,
                 package: bool = False) -> None:
        self.facts = facts
        self.options = options
        self.module = module  # the module's dotted name, when known: relative imports resolve
        self.package = package  # the module is a package's ``__init__``
        self._covered: dict[int, tuple[tuple[Guard, ...], frozenset[Need]]] = {}
        # (id(function), parameter) pairs every caller passes a true value for, computed on
        # first use by ``truthy_source`` (the worker analysis, which knows the spawn sites)
        self.truthy_source: Callable[[], set[tuple[int, str]]] = set
        self._truthy: Optional[set[tuple[int, str]]] = None

    # --- scoping --------------------------------------------------------------------

    def defining_scope(self, scope: Scope, name: str) -> Optional[Scope]:
        """Where ``name``, loaded in ``scope``, is bound (None: a builtin or unknown).

        Python's rules: class bodies are skipped by nested functions, ``global`` goes to
        the module, ``nonlocal`` to an enclosing function.
        """
        s: Optional[Scope] = scope
        first = True
        while s is not None:
            if s.kind is ScopeKind.CLASS and not first:
                s = s.parent
                continue
            if name in s.globals:
                return self.facts.scope if name in self.facts.scope.bindings else None
            if name in s.bindings and name not in s.nonlocals:
                return s
            first = False
            s = s.parent
        return None

    def bound_within(self, scope: Scope, name: str, fn: FunctionInfo) -> bool:
        """Is ``name``, loaded in ``scope``, bound in ``fn`` or a scope nested in it?
        (A hoist must not move an expression that reads such a name out of ``fn``.)"""
        s = self.defining_scope(scope, name)
        while s is not None:
            if s is fn.scope:
                return True
            s = s.parent
        return False

    def lookup(self, scope: Scope, name: str) -> Optional[list[Binding]]:
        """The bindings ``name`` can have when loaded in ``scope`` (None: builtin or unknown)."""
        defining = self.defining_scope(scope, name)
        return defining.bindings[name] if defining is not None else None

    def _binding_scope_is_module(self, scope: Scope, name: str) -> bool:
        defining = self.defining_scope(scope, name)
        return defining is not None and defining.kind is ScopeKind.MODULE

    def imported_modules(self) -> set[str]:
        """What the module's top-level imports name (``flask_login.LoginManager``, ``flask``)."""
        return {self.absolute(b.qualname) for bindings in self.facts.scope.bindings.values() for b in bindings
                if b.kind is BindingKind.IMPORT and b.qualname}

    def qualname_of_name(self, scope: Scope, name: str, _depth: int = 0) -> Optional[str]:
        """The imported thing ``name`` stands for, if all its bindings agree."""
        bindings = self.lookup(scope, name)
        if not bindings or _depth > 3:
            return None
        names = set()
        for b in bindings:
            if b.kind is BindingKind.IMPORT and b.qualname:
                names.add(canonical(self.absolute(b.qualname)))
            elif b.kind is BindingKind.ASSIGN and b.value is not None and len(bindings) == 1 \
                    and isinstance(b.value, (cst.Name, cst.Attribute)):
                target = self.qualname(b.value, scope, _depth + 1)  # an alias: ``req = flask.request``
                if target is None:
                    return None
                names.add(target)
            else:
                return None
        return names.pop() if len(names) == 1 else None

    def absolute(self, qualname: str) -> str:
        """``.messaging.send`` in ``app.services.views`` is ``app.services.messaging.send``."""
        if not qualname.startswith(".") or self.module is None:
            return qualname
        level = len(qualname) - len(qualname.lstrip("."))
        parts = self.module.split(".")
        keep = len(parts) - level + (1 if self.package else 0)
        if keep < 0:
            return qualname
        rest = qualname[level:]
        return ".".join([*parts[:keep], *([rest] if rest else [])])

    def qualname(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> Optional[str]:
        """``threading.Thread`` for ``Thread`` after ``from threading import Thread``, etc."""
        dotted = dotted_name(expr)
        if dotted is None:
            return None
        root, _, rest = dotted.partition(".")
        base = self.qualname_of_name(scope, root, _depth)
        if base is None:
            return None
        return canonical(f"{base}.{rest}" if rest else base)

    # --- contexts pushed or guaranteed around a point -------------------------------------

    def covered(self, guards: tuple[Guard, ...]) -> frozenset[Need]:
        """The contexts that ``guards`` give the code inside them (memoized per snapshot)."""
        if not guards:
            return _NOTHING
        cached = self._covered.get(id(guards))
        if cached is None:
            needs: set[Need] = set()
            for guard in guards:
                if guard.kind is GuardKind.WITH:
                    needs |= self._pushed_by(guard.expr, guard.scope)
                elif guard.kind is GuardKind.PUSH:
                    needs |= self._pushed_by_call(guard.expr, guard.scope)  # type: ignore[arg-type]
                elif guard.kind is GuardKind.TRY:
                    needs |= self._caught(guard.expr, guard.scope)  # type: ignore[arg-type]
                elif guard.kind is GuardKind.ENSURED:
                    needs |= self._ensured(guard)
                else:
                    needs |= self._known_by_test(guard.expr, guard.scope, guard.holds)
            cached = self._covered[id(guards)] = (guards, frozenset(needs))
        return cached[1]

    def _ensured(self, guard: Guard) -> frozenset[Need]:
        """After ``if not has_app_context(): ctx = app.app_context(); ctx.push()``: the context
        was there already (the test was false) or the body pushed it."""
        pushed: set[Need] = set()
        for push in guard.pushes:
            pushed |= self._pushed_by_call(push.expr, push.scope)  # type: ignore[arg-type]
        test = guard.expr.test  # type: ignore[attr-defined]
        return self._known_by_test(test, guard.scope, False) & pushed

    def _pushed_by(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> frozenset[Need]:
        """``with app.app_context():``, ``with app.test_request_context():``, a user's wrapper,
        or a name bound to one of those: ``ctx = app.app_context(); with ctx:``."""
        if isinstance(expr, cst.Name) and depth < 3:
            bindings = self.lookup(scope, expr.value) or []
            # ``ctx = None`` first is no other context: ``None.push()`` would fail before any use
            bindings = [b for b in bindings if not _is_none(b.value)]
            values = [b.value for b in bindings if b.kind is BindingKind.ASSIGN and b.value is not None]
            if values and len(values) == len(bindings):
                pushed = [self._pushed_by(v, scope, depth + 1) for v in values]
                return frozenset.intersection(*pushed)  # every binding pushes it
            return _NOTHING
        if not isinstance(expr, cst.Call):
            return _NOTHING
        written = dotted_name(expr.func) or ""
        pushed = CONTEXT_PUSHERS.get(_called_name(expr.func))  # ``create_app().app_context()`` too
        if pushed is not None:
            return pushed
        qual = self.qualname(expr.func, scope)
        if self.options.is_context_wrapper(*(n for n in (written, qual) if n)):
            return frozenset(Need)
        return _NOTHING

    def _pushed_by_call(self, call: cst.Call, scope: Scope) -> frozenset[Need]:
        """``ctx.push()`` (``ctx`` a context object) or ``stack.enter_context(cm)``."""
        method = call.func.attr.value  # type: ignore[attr-defined]
        if method == "push":
            return self._pushed_by(call.func.value, scope)  # type: ignore[attr-defined]
        if call.args:
            return self._pushed_by(call.args[0].value, scope)
        return _NOTHING

    def _caught(self, node: cst.BaseStatement, scope: Scope) -> frozenset[Need]:
        """A ``try`` whose handlers catch RuntimeError: the code expects to run without a
        context (``except RuntimeError:`` is what Flask raises) and has its fallback."""
        if self.catches(node, scope, CONTEXT_ERRORS):
            return frozenset(Need)
        return _NOTHING

    def catches(self, node, scope: Scope, errors: frozenset[str]) -> bool:
        """Does the ``try`` statement ``node`` have a handler for one of ``errors`` (builtins)?"""
        for handler in getattr(node, "handlers", ()):
            kinds = handler.type
            items = [e.value for e in kinds.elements] if isinstance(kinds, cst.Tuple) else [kinds]
            for item in items:
                name = dotted_name(item) if item is not None else None
                if name in errors and self.lookup(scope, name) is None:  # the builtin, not a local
                    return True
        return False

    def _known_by_test(self, test: cst.BaseExpression, scope: Scope, holds: bool) -> frozenset[Need]:
        """What a test being true (``holds``) or false guarantees: ``has_request_context()``."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return self._known_by_test(test.expression, scope, not holds)
        if isinstance(test, cst.BooleanOperation):
            left = self._known_by_test(test.left, scope, holds)
            right = self._known_by_test(test.right, scope, holds)
            both_hold = isinstance(test.operator, cst.And) == holds  # ``a and b`` true, ``a or b`` false
            return left | right if both_hold else left & right
        if isinstance(test, cst.Call) and holds:
            qual = self.qualname(test.func, scope)
            return GUARDS.get(qual or "", _NOTHING)
        if isinstance(test, (cst.Name, cst.Attribute)):
            qual = self.qualname(test, scope)
            if holds and qual in PROXY_OBJECTS:  # ``if request:``: a proxy is falsy outside its context
                return frozenset(Need) if qual in REQUEST_PROXY_OBJECTS else frozenset({Need.APP})
            if not holds and isinstance(test, cst.Name) and self.truthy_param(scope, test.value):
                return frozenset(Need)  # ``if app_obj: ... else:``: no caller takes the else
        return _NOTHING

    def truthy_param(self, scope: Scope, name: str) -> bool:
        """Is ``name`` a parameter that every caller of its function passes a true value for?
        (Known once the spawn sites are known: ``WorkerAnalysis.truthy_params``.)"""
        defining = self.defining_scope(scope, name)
        if defining is None or defining.function is None or name not in defining.function.params:
            return False
        if self._truthy is None:
            self._truthy = self.truthy_source()
        return (id(defining.function), name) in self._truthy

    def compatibility_only(self, guards: tuple[Guard, ...]) -> bool:
        """Code that runs only where an old Flask name exists: the import inside
        ``try: ... except ImportError:``, or a branch for Flask versions without a newer name
        (``if hasattr(flask.globals, "request_ctx"): ... else:``), or behind a version test."""
        for guard in guards:
            if guard.kind is GuardKind.TRY and self.catches(guard.expr, guard.scope, IMPORT_ERRORS):
                return True
            if guard.kind is GuardKind.TEST and self._version_test(guard.expr, guard.scope, guard.holds):
                return True
        return False

    def _version_test(self, test: cst.BaseExpression, scope: Scope, holds: bool) -> bool:
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return self._version_test(test.expression, scope, not holds)
        if isinstance(test, cst.Call) and dotted_name(test.func) == "hasattr" and len(test.args) == 2:
            return not holds and (self.qualname(test.args[0].value, scope) or "").startswith("flask")
        return any(isinstance(n, cst.Attribute) and n.attr.value == "__version__" or
                   isinstance(n, cst.Name) and n.value in ("__version__", "version")
                   for n in iter_code(test))

    # --- context uses -----------------------------------------------------------------

    def context_use(self, ref: Ref) -> Optional[ContextUse]:
        """If ``ref`` uses a Flask proxy, helper or app-bound extension object, which one.
        A proxy only tested for truth is not a use: it is false outside its context."""
        if ref.truth_test:
            return None
        base = self.qualname_of_name(ref.scope, ref.name)
        if base is not None:
            for i in range(len(ref.attrs) + 1):
                qual = canonical(".".join((base, *ref.attrs[:i])))
                need = need_of(qual)
                if need is not None:
                    if qual in PROXY_OBJECTS:  # ``request.args``: the proxy and what is read
                        shown = ".".join((ref.name, *ref.attrs[: i + 1]))
                    else:  # a helper such as ``url_for()``
                        shown = ".".join((ref.name, *ref.attrs[:i])) + "()"
                    member = ref.attrs[i] if i < len(ref.attrs) else None
                    return ContextUse(need, shown, qual, ref, member)
        if ref.attrs and self._binding_scope_is_module(ref.scope, ref.name):
            for i in range(1, len(ref.attrs) + 1):
                written = ".".join((ref.name, *ref.attrs[:i]))
                if self.is_app_bound(written, ref.scope):
                    return ContextUse(Need.APP, written, written, ref)
        return self._lazy_query_use(ref)

    def _lazy_query_use(self, ref: Ref) -> Optional[ContextUse]:
        """A closure variable holding a lazy query the enclosing function built: ``users =
        User.query.filter_by(...)`` in the view, ``for u in users:`` in its worker or streamed
        generator, where the query runs (and needs the app context)."""
        defining = self.defining_scope(ref.scope, ref.name)
        if defining is None or defining is ref.scope or defining.kind is not ScopeKind.FUNCTION:
            return None
        bindings = defining.bindings.get(ref.name, [])
        if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN or bindings[0].value is None:
            return None
        root = self.lazy_query_root(bindings[0].value, defining)
        if root is None:
            return None
        return ContextUse(Need.APP, f"{ref.name} (a lazy query on {root})", root, ref)

    def lazy_query_root(self, expr: cst.BaseExpression, scope: Scope) -> Optional[str]:
        """``User.query`` for ``User.query.filter_by(a=1).order_by(x)``: the app-bound object a
        still-lazy query is built on (None: not a query, or one already run by ``.all()``)."""
        while isinstance(expr, cst.Call):
            func = expr.func
            if not isinstance(func, cst.Attribute) or func.attr.value not in LAZY_QUERY_METHODS:
                return None
            expr = func.value  # ``db.session.query(User)`` is built on ``db.session``
        written = dotted_name(expr)
        if written is None or not self._binding_scope_is_module(scope, written.split(".")[0]):
            return None
        return written if self.is_app_bound(written, scope) else None

    def is_app_bound(self, written: str, scope: Scope) -> bool:
        """Is ``written`` (a module-level name's chain) an app-bound object? A pattern that
        names its object (``db.session``) is taken at its word; one that starts with ``*``
        (``*.query``) stands for a model, so its object must be a class, defined or
        imported here: ``_Result = namedtuple(...)`` has a ``query`` field of its own."""
        if self.options.is_app_bound_by_name(written):
            return True
        if not self.options.is_app_bound(written):
            return False
        bindings = self.lookup(scope, written.split(".")[0]) or []
        return any(b.kind in (BindingKind.CLASS, BindingKind.IMPORT) for b in bindings)

    def is_proxy_object(self, expr: cst.BaseExpression, scope: Scope) -> Optional[str]:
        """The proxy's name when ``expr`` is exactly a proxy object (``request``, ``current_app``)."""
        qual = self.qualname(expr, scope)
        if qual is not None and canonical(qual) in PROXY_OBJECTS:
            return dotted_name(expr)
        return None

    # --- functions and classes ----------------------------------------------------------

    def function_of(self, expr: cst.BaseExpression, scope: Scope,
                    method_of: Optional[FunctionInfo] = None) -> Optional[FunctionInfo]:
        """The same-module function a callee expression names: ``helper``, ``self.helper``."""
        if isinstance(expr, cst.Name):
            bindings = self.lookup(scope, expr.value)
            if bindings and len(bindings) == 1 and bindings[0].kind is BindingKind.DEF:
                return bindings[0].function
            return self._redefined(bindings, scope, expr.value)
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = method_of
            if owner is not None and owner.cls is not None and owner.params \
                    and expr.value.value == owner.params[0]:
                return self.method(owner.cls, expr.attr.value)
            cls = self.class_of(expr.value, scope)
            if cls is not None:
                return self.method(cls, expr.attr.value)
        return None

    def _redefined(self, bindings: Optional[list[Binding]], scope: Scope, name: str) -> Optional[FunctionInfo]:
        """A function defined twice at module level, named inside a function: that code runs
        after the import finished, so the last definition is the one it gets. Only for
        unconditional top-level ``def`` statements (an ``if``/``try`` could pick either)."""
        if not bindings or any(b.kind is not BindingKind.DEF for b in bindings):
            return None
        defining = self.defining_scope(scope, name)
        if defining is not self.facts.scope or scope is defining:
            return None
        top_level = {id(statement) for statement in getattr(self.facts.scope.node, "body", ())}
        if any(id(b.node) not in top_level for b in bindings):
            return None
        return max(bindings, key=lambda b: b.order).function

    def class_of(self, expr: cst.BaseExpression, scope: Scope) -> Optional[ClassInfo]:
        if isinstance(expr, cst.Name):
            bindings = self.lookup(scope, expr.value)
            if bindings and len(bindings) == 1 and bindings[0].kind is BindingKind.CLASS:
                return bindings[0].cls
        return None

    def method(self, cls: ClassInfo, name: str, _seen: Optional[set[int]] = None) -> Optional[FunctionInfo]:
        """``name`` looked up on ``cls`` and its same-module bases."""
        seen = _seen or set()
        if id(cls) in seen:
            return None
        seen.add(id(cls))
        if name in cls.methods:
            return cls.methods[name]
        for base in cls.bases:
            base_cls = self.class_of(base, cls.parent)
            if base_cls is not None:
                found = self.method(base_cls, name, seen)
                if found is not None:
                    return found
        return None

    def class_bases(self, cls: ClassInfo, _seen: Optional[set[int]] = None) -> set[str]:
        """Qualified names of the imported classes ``cls`` derives from, through same-module bases."""
        seen = _seen or set()
        if id(cls) in seen:
            return set()
        seen.add(id(cls))
        result: set[str] = set()
        for base in cls.bases:
            base_cls = self.class_of(base, cls.parent)
            if base_cls is not None:
                result |= self.class_bases(base_cls, seen)
            else:
                qual = self.qualname(base, cls.parent)
                if qual:
                    result.add(qual)
        return result

    def enclosing_function(self, scope: Scope) -> Optional[FunctionInfo]:
        s: Optional[Scope] = scope
        while s is not None:
            if s.function is not None:
                return s.function
            s = s.parent
        return None


def _is_none(value: Optional[cst.CSTNode]) -> bool:
    return isinstance(value, cst.Name) and value.value == "None"


def _called_name(func: cst.BaseExpression) -> str:
    """The last name of what is called: ``app_context`` for ``make_app().app_context``."""
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""
