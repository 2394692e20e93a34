"""What a name means where it is used: Python's scoping rules over the collected bindings.

A name is Flask's ``request`` only when every binding it can have in that scope is an
import of ``flask.request`` (or an alias of it): a parameter, a local assignment, a
comprehension variable or a ``global`` rebinding make it something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from ..catalogue.contexts import Need
from ..catalogue.flask_names import CONTEXT_PUSHERS, GUARDS, PROXY_OBJECTS, canonical, need_of
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
from .tree import dotted_name

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
    def __init__(self, facts: ModuleFacts, options: Options) -> None:
        self.facts = facts
        self.options = options
        self._covered: dict[int, tuple[tuple[Guard, ...], frozenset[Need]]] = {}

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

    def qualname_of_name(self, scope: Scope, name: str, _depth: int = 0) -> Optional[str]:
        """The imported thing ``name`` stands for, if all its bindings agree."""
        bindings = self.lookup(scope, name)
        if not bindings or _depth > 3:
            return None
        names = set()
        for b in bindings:
            if b.kind is BindingKind.IMPORT and b.qualname:
                names.add(b.qualname)
            elif b.kind is BindingKind.ASSIGN and b.value is not None and len(bindings) == 1 \
                    and isinstance(b.value, (cst.Name, cst.Attribute)):
                target = self.qualname(b.value, scope, _depth + 1)  # an alias: ``req = flask.request``
                if target is None:
                    return None
                names.add(target)
            else:
                return None
        return names.pop() if len(names) == 1 else None

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
                else:
                    needs |= self._known_by_test(guard.expr, guard.scope, guard.holds)
            cached = self._covered[id(guards)] = (guards, frozenset(needs))
        return cached[1]

    def _pushed_by(self, expr: cst.BaseExpression, scope: Scope) -> frozenset[Need]:
        """``with app.app_context():``, ``with app.test_request_context():``, a user's wrapper."""
        if not isinstance(expr, cst.Call):
            return _NOTHING
        written = dotted_name(expr.func) or ""
        pushed = CONTEXT_PUSHERS.get(written.rsplit(".", 1)[-1])
        if pushed is not None:
            return pushed
        qual = self.qualname(expr.func, scope)
        if self.options.is_context_wrapper(*(n for n in (written, qual) if n)):
            return frozenset(Need)
        return _NOTHING

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
        return _NOTHING

    # --- context uses -----------------------------------------------------------------

    def context_use(self, ref: Ref) -> Optional[ContextUse]:
        """If ``ref`` uses a Flask proxy, helper or app-bound extension object, which one."""
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
                if self.options.is_app_bound(written):
                    return ContextUse(Need.APP, written, written, ref)
        return None

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
            return None
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = method_of
            if owner is not None and owner.cls is not None and owner.params \
                    and expr.value.value == owner.params[0]:
                return self.method(owner.cls, expr.attr.value)
            cls = self.class_of(expr.value, scope)
            if cls is not None:
                return self.method(cls, expr.attr.value)
        return None

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

