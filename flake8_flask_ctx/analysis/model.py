"""The facts one traversal collects about a module: scopes, bindings, name loads and calls.

Nothing here is resolved yet: a ``Ref`` says "the name ``request`` was loaded here, with
these attributes", not "this is flask.request". Resolution needs every binding of the
module (Python scoping is decided by the whole function body, not by order), so it runs
after the traversal, in ``resolve.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Iterator, Optional, Union

import libcst as cst

from ..catalogue.contexts import Need

if TYPE_CHECKING:
    from .tree import Parents


class ScopeKind(Enum):
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"
    LAMBDA = "lambda"
    COMPREHENSION = "comprehension"


class BindingKind(Enum):
    IMPORT = "import"
    DEF = "def"
    CLASS = "class"
    ASSIGN = "assign"
    PARAM = "param"
    OTHER = "other"  # loop, with-as, except-as, walrus, match, del ...


@dataclass(eq=False)
class Binding:
    kind: BindingKind
    node: cst.CSTNode
    qualname: Optional[str] = None  # IMPORT: what the name stands for
    guards: tuple["Guard", ...] = ()  # IMPORT: what surrounds the import (try/except, if)
    order: int = 0  # where in the walk it was bound (parameters: 0, before everything)
    value: Optional[cst.BaseExpression] = None  # ASSIGN / with-as: the bound expression
    function: Optional["FunctionInfo"] = None  # DEF
    cls: Optional["ClassInfo"] = None  # CLASS


@dataclass(eq=False)
class Scope:
    kind: ScopeKind
    node: cst.CSTNode
    parent: Optional["Scope"]
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    function: Optional["FunctionInfo"] = None
    cls: Optional["ClassInfo"] = None

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


class GuardKind(Enum):
    WITH = "with"  # the body of ``with <expr>:``
    TEST = "test"  # code that runs only when ``<expr>`` is true (or false, see ``holds``)
    PUSH = "push"  # the rest of a block after ``ctx.push()`` / ``stack.enter_context(cm)``
    TRY = "try"  # the body of a ``try`` (``expr`` is the Try): its handlers decide
    ENSURED = "ensured"  # after ``if not has_app_context(): ctx.push()`` (``expr`` is the If)


@dataclass(frozen=True, eq=False)
class Guard:
    """Something around a point of code that may give it a context, decided by ``resolve.py``:
    ``with app.app_context():``, ``if has_request_context():``, the code after
    ``if not has_request_context(): return`` (the test is known to be false there)."""

    kind: GuardKind
    expr: cst.BaseExpression
    scope: Scope
    holds: bool = True  # TEST: the test is true here (False: it is known to be false)
    pushes: tuple["Guard", ...] = ()  # ENSURED: the pushes in the if's body


NO_GUARDS: tuple[Guard, ...] = ()
_NOTHING: frozenset[Need] = frozenset()


@dataclass(eq=False)
class Ref:
    """A load of ``name`` (optionally followed by ``.attr.attr``) at ``node``, the outermost expression."""

    name: str
    attrs: tuple[str, ...]
    node: cst.BaseExpression
    scope: Scope  # where the name is resolved
    guards: tuple[Guard, ...]  # what surrounds this point (with-blocks, tests)
    order: int
    store: bool = False  # ``g.x = ...`` / ``session[k] = ...``: written, not read
    in_loop: bool = False  # evaluated again on each turn of a loop of the same function
    truth_test: bool = False  # a bare name tested for truth (``if request:``), nothing more
    covered: frozenset[Need] = _NOTHING  # contexts the guards give: set by the analysis


@dataclass(eq=False)
class CallSite:
    node: cst.Call
    scope: Scope
    guards: tuple[Guard, ...]
    order: int
    in_loop: bool  # inside a for/while body or a comprehension of the same function
    assigned_to: Optional[str] = None  # ``t = Thread(...)``: the name that keeps the result
    awaited: bool = False  # ``await loop.run_in_executor(...)``
    consumed: bool = False  # the result is iterated or passed on: ``list(ex.map(...))``
    with_target: Optional[str] = None  # ``with Pool() as p:``: the name bound to the result
    covered: frozenset[Need] = _NOTHING  # contexts the guards give: set by the analysis


@dataclass(eq=False)
class WithItem:
    """One ``with <expr>:`` item, for rules about which context objects get entered."""

    expr: cst.BaseExpression
    scope: Scope
    order: int


@dataclass(eq=False)
class FunctionInfo:
    """A ``def`` or ``lambda`` with everything its body does when it runs."""

    node: Union[cst.FunctionDef, cst.Lambda]
    name: str
    scope: Scope  # its own scope
    parent: Scope  # where it is defined (and its decorators evaluated)
    cls: Optional["ClassInfo"] = None  # set for methods
    params: list[str] = field(default_factory=list)
    decorators: list[cst.BaseExpression] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    returns: list[cst.Return] = field(default_factory=list)
    with_items: list[WithItem] = field(default_factory=list)
    is_generator: bool = False
    in_loop: bool = False  # defined inside a loop body: one new object per iteration

    @property
    def display(self) -> str:
        return f"{self.cls.name}.{self.name}" if self.cls else self.name


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    name: str
    parent: Scope
    bases: list[cst.BaseExpression] = field(default_factory=list)
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    # ``self.<attr> = <value>`` anywhere in the class's methods
    self_attrs: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    # ``self.<attr> = <param>`` in ``__init__``: attr -> parameter name
    init_param_attrs: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class ModuleFacts:
    """Everything collected from one module, unresolved."""

    module: cst.Module
    scope: Scope
    functions: list[FunctionInfo]
    classes: list[ClassInfo]
    module_refs: list[Ref]  # top-level and class-body code
    module_calls: list[CallSite]
    scopes: list[Scope]  # every scope, module first
    parents: "Parents"  # parent links of every node the collector walked

    def all_refs(self) -> Iterator[Ref]:
        yield from self.module_refs
        for fn in self.functions:
            yield from fn.refs

    def all_calls(self) -> Iterator[tuple[CallSite, Optional[FunctionInfo]]]:
        """Every call, with the function whose body makes it (None: module level)."""
        for call in self.module_calls:
            yield call, None
        for fn in self.functions:
            for call in fn.calls:
                yield call, fn
