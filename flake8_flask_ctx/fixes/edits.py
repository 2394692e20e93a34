"""An edit plan over the *original* nodes the analysis points at, applied in one pass.

Strategies never walk the tree themselves: they record "replace this node", "insert these
statements before that one", "add this parameter", and ``apply`` runs one transformer
that matches original nodes by identity. Keeping the plan as data is what lets several
strategies edit one module without stepping on each other, and what makes a plan easy to
drop whole when it would not parse.

``apply`` then lays the result out (``layout``): imports in isort's and ruff's order,
PEP 8's blank lines where statements were inserted or removed, lines the fix made too long
split as black splits them, and the comments of moved or removed code kept with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import libcst as cst

from ..options import DEFAULT_MAX_LINE_LENGTH

from . import layout

Replacement = Union[cst.CSTNode, Callable[[cst.CSTNode], cst.CSTNode], None]


@dataclass
class EditPlan:
    replace: dict[int, Replacement] = field(default_factory=dict)  # None removes (decorators)
    insert_before: dict[int, list[cst.BaseStatement]] = field(default_factory=dict)
    add_params: dict[int, list[cst.Param]] = field(default_factory=dict)
    add_decorators: dict[int, list[cst.Decorator]] = field(default_factory=dict)
    wrap_body: dict[int, cst.BaseExpression] = field(default_factory=dict)  # with <expr>:
    add_args: dict[int, list[cst.Arg]] = field(default_factory=dict)
    remove_statements: set[int] = field(default_factory=set)
    imports: set[tuple[str, str]] = field(default_factory=set)  # (module, name); name "" = import module
    touched: set[int] = field(default_factory=set)  # nodes some strategy already owns
    # id of a statement in ``remove_statements`` -> id of a statement in ``insert_before``
    # that replaces it (a hoisted value): the removed statement's comments (the lines above
    # it and the one at the end of its line) move to that statement. Without an entry they
    # move to the one inserted statement with the same code if there is exactly one, else
    # they stay where the removed statement was, as comment lines.
    moved_comments: dict[int, int] = field(default_factory=dict)

    def claim(self, *nodes: cst.CSTNode) -> bool:
        """Reserve nodes for one strategy; False if another one already edits them."""
        ids = {id(n) for n in nodes}
        if ids & self.touched:
            return False
        self.touched |= ids
        return True

    def empty(self) -> bool:
        return not (self.replace or self.insert_before or self.add_params or self.add_decorators
                    or self.wrap_body or self.add_args or self.remove_statements)


class _Apply(cst.CSTTransformer):
    def __init__(self, plan: EditPlan, module: Optional[cst.Module] = None) -> None:
        super().__init__()
        self.plan = plan
        self.trace = layout.Trace()  # what was done, for the layout pass
        inserted = [s for stmts in plan.insert_before.values() for s in stmts]
        self.moves, self.moved = (layout.plan_comment_moves(module, plan.remove_statements, inserted,
                                                            plan.moved_comments)
                                  if module is not None else ({}, set()))

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        key = id(original_node)
        plan = self.plan
        if key in plan.add_args and isinstance(updated_node, cst.Call):
            updated_node = _append_args(updated_node, plan.add_args[key])
        if isinstance(updated_node, (cst.FunctionDef, cst.ClassDef)):
            updated_node = layout.keep_decorator_comments(original_node, updated_node, self._removed)
        if isinstance(updated_node, cst.FunctionDef):
            updated_node = self._edit_function(key, updated_node)
        if key in plan.replace:
            replacement = plan.replace[key]
            if replacement is None:
                return cst.RemoveFromParent()
            updated_node = replacement(updated_node) if callable(replacement) else replacement
        if isinstance(updated_node, (cst.IndentedBlock, cst.Module)):
            updated_node = self._insert(original_node, updated_node)
        if isinstance(original_node, cst.BaseStatement) and isinstance(updated_node, cst.BaseStatement):
            self.trace.keep(original_node, updated_node)
        return updated_node

    def _removed(self, decorator: cst.Decorator) -> bool:
        return id(decorator) in self.plan.replace and self.plan.replace[id(decorator)] is None

    def _edit_function(self, key: int, node: cst.FunctionDef) -> cst.FunctionDef:
        plan = self.plan
        if key in plan.add_params:
            params = node.params
            node = node.with_changes(params=params.with_changes(params=[*params.params, *plan.add_params[key]]))
        if key in plan.add_decorators:
            node = node.with_changes(decorators=[*plan.add_decorators[key], *node.decorators])
        if key in plan.wrap_body and isinstance(node.body, cst.IndentedBlock):
            inner = cst.IndentedBlock(body=node.body.body)
            with_stmt = cst.With(items=[cst.WithItem(plan.wrap_body[key])], body=inner)
            docstring = []
            body = list(node.body.body)
            if body and _is_docstring(body[0]):
                docstring, body = [body[0]], body[1:]
                with_stmt = with_stmt.with_changes(body=cst.IndentedBlock(body=body))
            node = node.with_changes(body=node.body.with_changes(body=[*docstring, with_stmt]))
        return node

    def _insert(self, original: Union[cst.IndentedBlock, cst.Module],
                updated: Union[cst.IndentedBlock, cst.Module]) -> Union[cst.IndentedBlock, cst.Module]:
        plan = self.plan
        originals = list(original.body)
        if not any(id(s) in plan.insert_before or id(s) in plan.remove_statements for s in originals):
            return updated
        if len(originals) != len(updated.body):
            return updated  # a child was removed by a replacement: positions no longer line up
        body: list[cst.BaseStatement] = []
        carry = layout.Carry()  # the blank lines and kept comments of removed statements
        for orig, new in zip(originals, updated.body):
            for inserted in plan.insert_before.get(id(orig), []):
                body.append(self._place(inserted, carry, new=True))
                carry = layout.Carry()
            if id(orig) in plan.remove_statements:
                carry.add(new, None if id(orig) in self.moved else layout.comments_of(new))
                continue
            body.append(self._place(new, carry, new=False))
            carry = layout.Carry()
        footer = list(updated.footer)
        if carry.leftover():
            if body:
                footer = [*carry.leftover(), *footer]
            elif isinstance(updated, cst.IndentedBlock):
                body = [cst.SimpleStatementLine([cst.Pass()], leading_lines=carry.leftover())]
        if not body and isinstance(updated, cst.IndentedBlock):
            body = [cst.SimpleStatementLine([cst.Pass()])]
        return updated.with_changes(body=body, footer=footer)

    def _place(self, statement: cst.BaseStatement, carry: layout.Carry, new: bool) -> cst.BaseStatement:
        """``statement`` with the comments it takes over from removed ones, recorded for the
        layout pass."""
        placed = statement
        if new and id(statement) in self.moves:
            comments, removed, indent = self.moves[id(statement)]
            placed = layout.attach_comments(placed, comments)
            self.trace.moved_from[id(placed)] = (placed, removed, indent)
        if carry:
            before = placed
            placed = carry.onto(placed)
            self.trace.adopt(before, placed)
            self.trace.after_removal[id(placed)] = placed
        elif not new:
            return statement
        return placed


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value, cst.SimpleString))


def _append_args(call: cst.Call, extra: list[cst.Arg]) -> cst.Call:
    """Add positional args after the existing positional ones, keywords at the end."""
    args = list(call.args)
    split = next((i for i, a in enumerate(args) if a.keyword is not None or a.star == "**"), len(args))
    new_positional = [a for a in extra if a.keyword is None]
    new_keywords = [a for a in extra if a.keyword is not None]
    merged = [*args[:split], *new_positional, *args[split:], *new_keywords]
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    added = {id(a) for a in extra}
    result = []
    for i, arg in enumerate(merged):
        last = i == len(merged) - 1
        if not last and arg.comma is cst.MaybeSentinel.DEFAULT:
            arg = arg.with_changes(comma=comma)
        elif last and id(arg) in added:
            arg = arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)
        result.append(arg)
    return call.with_changes(args=result)


def apply(module: cst.Module, plan: EditPlan, unused_imports: set[tuple[str, str]] = frozenset(),
          max_line_length: int = DEFAULT_MAX_LINE_LENGTH) -> cst.Module:
    """The module with ``plan`` applied, then laid out (``layout``): each import added once,
    in isort's and ruff's order, unused ones removed, blank lines and the lines the fix
    made longer than ``max_line_length`` as flake8 and ruff want them, comments kept with
    their code."""
    limit = max_line_length
    applier = _Apply(plan, module)
    updated = module.visit(applier)
    updated = layout.relayout(updated, applier.trace, limit)
    if plan.imports:
        updated = layout.add_imports(updated, plan.imports, limit)
    if unused_imports:
        updated = layout.remove_imports(updated, unused_imports)
    return updated
