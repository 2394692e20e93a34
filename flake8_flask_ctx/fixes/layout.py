"""The layout pass: what the fixed text looks like once the strategies' edits are applied.

The strategies decide *what* changes (``EditPlan``); this module decides how the result is
laid out, so that the fixed text passes the usual linters (flake8's E and W codes, ruff's
``I`` and ``E``) wherever the text it started from did:

- **Imports** (``add_imports``, ``remove_imports``). A name from a module goes into the
  module's existing top-level ``from module import ...`` at the place isort's and ruff's
  default order puts it (``order-by-type``: CONSTANTS, then Classes, then the rest, each
  case-insensitively in natural order: ``member_key``), keeping a parenthesized,
  one-per-line form and its trailing comma; in a list that was not sorted it goes where it
  adds the fewest inversions. Otherwise a new statement goes into its section (future,
  standard library, third party, local; an unknown first-party module counts as third
  party), ``import x`` before ``from x import`` and alphabetically within it, with one
  blank line between sections, after a module docstring and ``from __future__`` imports.
  A statement longer than the line length is wrapped as ruff wraps it. Imports the fix left
  unused go (``remove_imports``), the statement's form and trailing comma kept.
- **Blank lines** (``Relayout``), as pycodestyle checks them (E301 to E306): where the fixer
  inserted statements, or removed one, the statements around get what PEP 8 wants (one
  blank line before a nested ``def``/``class``, two at the top level, at most one inside a
  function, none at the top of a block); a removed statement's blank lines merge with the
  next statement's instead of adding up. Blank lines elsewhere are never touched.
- **Line length** (``fit_statement``, ``fit_def``): a statement the fixer added or changed
  (or moved into a new ``with`` block) is split when the change made it too long: when its
  code, before any trailing comment, is longer than the limit, or the whole line is and
  was not before (a long comment of the user's alone never causes a split). It is split as
  black splits: the last bracket whose opening line fits, the elements one per line with a
  trailing comma (so black leaves it alone) and the closing bracket on its own line, then
  the same for each element that is still too long (a comprehension: its body alone, then
  a line per ``for``/``if``). In a statement split already, only the lines the fix made are
  split further. A call or ``def`` written one element per line gets what the fix adds
  written the same way (``repair_hanging``). The user's own lines are never reflowed. The
  limit is ``Options.max_line_length`` (see ``config.find_line_length``), which the fixer
  passes to ``edits.apply``. Wrapped imports take ruff's form (isort's with the black
  profile): one name per line, a trailing comma.
- **Comments** (``comments_of``, ``attach_comments``, ``keep_decorator_comments``,
  ``Carry``): when the fixer moves or removes a line, its comments stay with the code. A
  removed statement's comments move with it when the plan links it to the statement that
  replaces it (``EditPlan.moved_comments``; a removed statement and one inserted statement
  with the same code are linked without being told, which is what a hoist does); otherwise
  they stay where it was, as comment lines above what follows. A removed decorator's
  comments go to the next decorator, or to the ``def`` line. The one comment that goes is
  the same-line comment of an import found unused: it can only describe that import.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence, Union

import libcst as cst


Body = Union[cst.Module, cst.IndentedBlock]
ImportNode = Union[cst.Import, cst.ImportFrom]
Definition = (cst.FunctionDef, cst.ClassDef)


# --- comments --------------------------------------------------------------------------

def _blank() -> cst.EmptyLine:
    return cst.EmptyLine(indent=False, whitespace=cst.SimpleWhitespace(""))


def comment_line(comment: cst.Comment) -> cst.EmptyLine:
    return cst.EmptyLine(indent=True, whitespace=cst.SimpleWhitespace(""), comment=comment)


def blank_prefix(lines: Sequence[cst.EmptyLine]) -> int:
    """How many blank lines come before the first comment line (all of them if none)."""
    count = 0
    for line in lines:
        if line.comment is not None:
            break
        count += 1
    return count


@dataclass(frozen=True)
class Comments:
    """A statement's comments: the comment lines above it and the one at the end of its line."""

    leading: tuple[cst.EmptyLine, ...] = ()  # from the first comment line to the last one
    trailing: Optional[cst.Comment] = None

    def __bool__(self) -> bool:
        return bool(self.leading) or self.trailing is not None

    def as_lines(self) -> list[cst.EmptyLine]:
        """All of them as comment lines (the same-line comment last)."""
        return [*self.leading, *([comment_line(self.trailing)] if self.trailing is not None else [])]


def _comment_block(lines: Sequence[cst.EmptyLine]) -> tuple[cst.EmptyLine, ...]:
    marked = [i for i, line in enumerate(lines) if line.comment is not None]
    if not marked:
        return ()
    return tuple(line if line.comment is not None else _blank() for line in lines[marked[0]:marked[-1] + 1])


def comments_of(node: Union[cst.BaseStatement, cst.Decorator]) -> Comments:
    """The comments that belong to a statement (or a decorator): ``(leading lines, trailing)``."""
    trailing = None
    if isinstance(node, (cst.SimpleStatementLine, cst.Decorator)):
        trailing = node.trailing_whitespace.comment
    elif isinstance(node, cst.BaseCompoundStatement) and isinstance(getattr(node, "body", None), cst.IndentedBlock):
        trailing = node.body.header.comment
    return Comments(_comment_block(node.leading_lines), trailing)


def attach_comments(statement: cst.BaseStatement, comments: Comments) -> cst.BaseStatement:
    """``statement`` carrying ``comments`` (those of a statement it replaces): the comment
    lines go above it (below its blank lines), the same-line comment at the end of its line
    when it has none (else as one more comment line)."""
    if not comments:
        return statement
    lines = list(statement.leading_lines)
    prefix = blank_prefix(lines)
    above = list(comments.leading)
    changes: dict = {}
    if comments.trailing is not None:
        if isinstance(statement, cst.SimpleStatementLine) and statement.trailing_whitespace.comment is None:
            changes["trailing_whitespace"] = statement.trailing_whitespace.with_changes(
                whitespace=cst.SimpleWhitespace("  "), comment=comments.trailing)
        else:
            above.append(comment_line(comments.trailing))
    changes["leading_lines"] = [*lines[:prefix], *above, *lines[prefix:]]
    return statement.with_changes(**changes)


def keep_decorator_comments(original: Union[cst.FunctionDef, cst.ClassDef],
                            updated: Union[cst.FunctionDef, cst.ClassDef],
                            removed: Callable[[cst.Decorator], bool]) -> Union[cst.FunctionDef, cst.ClassDef]:
    """``updated`` (``original`` less the decorators ``removed`` says went) with the comments
    of the removed decorators moved to the next decorator left, else to the ``def`` line."""
    if not any(removed(d) for d in original.decorators):
        return updated
    kept = iter(updated.decorators)
    pending: list[cst.EmptyLine] = []
    decorators = []
    for decorator in original.decorators:
        if removed(decorator):
            pending += comments_of(decorator).as_lines()
            continue
        new = next(kept, None)
        if new is None:  # the tree does not match the plan: leave it as it is
            return updated
        if pending:
            new = new.with_changes(leading_lines=[*pending, *new.leading_lines])
            pending = []
        decorators.append(new)
    decorators += list(kept)
    if decorators:
        return updated.with_changes(decorators=decorators,
                                    lines_after_decorators=[*pending, *updated.lines_after_decorators])
    # no decorator left: what stood between them and the def line now leads the def
    return updated.with_changes(decorators=[], lines_after_decorators=[],
                                leading_lines=[*updated.leading_lines, *pending, *updated.lines_after_decorators])


@dataclass
class Carry:
    """What removed statements leave for the statement after them: their blank lines (which
    merge with the next statement's rather than add up) and the comments kept in place."""

    blanks: int = 0
    lines: list[cst.EmptyLine] = field(default_factory=list)
    removed: bool = False

    def __bool__(self) -> bool:
        return self.removed

    def add(self, removed: cst.BaseStatement, keep: Optional[Comments]) -> None:
        """``keep``: the comments that stay in place (None: they moved, or go)."""
        self.removed = True
        prefix = blank_prefix(removed.leading_lines)
        if self.lines:
            self.lines += [_blank() for _ in range(prefix)]
        else:
            self.blanks = max(self.blanks, prefix)
        if keep:
            self.lines += keep.as_lines()

    def onto(self, statement: cst.BaseStatement) -> cst.BaseStatement:
        lines = list(statement.leading_lines)
        prefix = blank_prefix(lines)
        if self.lines:
            new = [*[_blank() for _ in range(self.blanks)], *self.lines, *lines]
        else:
            new = [*[_blank() for _ in range(max(self.blanks, prefix))], *lines[prefix:]]
        return statement.with_changes(leading_lines=new)

    def leftover(self) -> list[cst.EmptyLine]:
        """The comment lines for the end of a block nothing follows in."""
        return list(self.lines)


def plan_comment_moves(module: cst.Module, remove: Iterable[int], inserted: Sequence[cst.BaseStatement],
                       links: dict[int, int]) -> tuple[dict[int, tuple[Comments, cst.BaseStatement, str]], set[int]]:
    """Where the comments of removed statements go: ``({id(inserted): (comments, removed,
    removed's indentation)}, ids of removed statements whose comments moved)``.

    ``links`` (``EditPlan.moved_comments``) names the pairs; a removed statement with no link
    whose code is the code of exactly one inserted statement is linked to it.
    """
    wanted = set(remove)
    if not wanted:
        return {}, set()
    found = _find_with_indent(module, wanted)
    by_id = {id(s): s for s in inserted}
    pairs = {r: i for r, i in links.items() if r in found and i in by_id}
    codes: dict[int, Optional[str]] = {}

    def code(node: cst.BaseStatement) -> Optional[str]:
        if id(node) not in codes:
            codes[id(node)] = _bare_code(module, node)
        return codes[id(node)]

    for removed_id, (node, _) in found.items():
        if removed_id in pairs or code(node) is None:
            continue
        same = [s for s in inserted if id(s) not in pairs.values() and code(s) == code(node)]
        rivals = [r for r, (other, _) in found.items() if r not in pairs and code(other) == code(node)]
        if len(same) == 1 and len(rivals) == 1:
            pairs[removed_id] = id(same[0])
    moves: dict[int, tuple[Comments, cst.BaseStatement, str]] = {}
    for removed_id, inserted_id in pairs.items():
        node, indent = found[removed_id]
        moves[inserted_id] = (comments_of(node), node, indent)
    return moves, set(pairs)


def _bare_code(module: cst.Module, statement: cst.BaseStatement) -> Optional[str]:
    """The statement's code as ``ast`` sees it (no comments, no layout), None for a compound one."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    text = module.code_for_node(statement.with_changes(leading_lines=(), trailing_whitespace=cst.TrailingWhitespace()))
    try:
        return ast.dump(ast.parse(text.strip()))
    except SyntaxError:
        return None


class _Finder(cst.CSTVisitor):
    def __init__(self, module: cst.Module, wanted: set[int]) -> None:
        super().__init__()
        self.default = module.default_indent
        self.wanted = wanted
        self.indent = [""]
        self.found: dict[int, tuple[cst.CSTNode, str]] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.wanted:
            self.found[id(node)] = (node, self.indent[-1])
        if isinstance(node, cst.IndentedBlock):
            self.indent.append(self.indent[-1] + (node.indent if node.indent is not None else self.default))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, cst.IndentedBlock):
            self.indent.pop()


def _find_with_indent(module: cst.Module, wanted: set[int]) -> dict[int, tuple[cst.CSTNode, str]]:
    finder = _Finder(module, wanted)
    module.visit(finder)
    return finder.found


# --- what the application of a plan did, for the layout pass ---------------------------

@dataclass
class Trace:
    """Filled by ``edits._Apply``: which output statements stand for which original ones.

    A statement of the output that is not in ``kept`` is new (inserted by the plan, or part
    of a replacement). Nodes are held, not only their ids, so that no id is reused.
    """

    kept: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = field(default_factory=dict)  # id(out) -> (out, original)
    changed: set[int] = field(default_factory=set)  # output statements whose own text changed
    after_removal: dict[int, cst.CSTNode] = field(default_factory=dict)  # statements that follow a removed one
    moved_from: dict[int, tuple[cst.CSTNode, cst.CSTNode, str]] = field(default_factory=dict)

    def keep(self, original: cst.CSTNode, result: cst.CSTNode) -> None:
        self.kept[id(result)] = (result, original)
        if _own_text_changed(original, result):
            self.changed.add(id(result))

    def adopt(self, old: cst.CSTNode, new: cst.CSTNode) -> None:
        """``new`` replaces the output statement ``old`` (same original)."""
        if id(old) in self.kept:
            self.kept[id(new)] = (new, self.kept[id(old)][1])
            if id(old) in self.changed:
                self.changed.add(id(new))
        if id(old) in self.moved_from:
            self.moved_from[id(new)] = (new, *self.moved_from[id(old)][1:])

    def original(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        entry = self.kept.get(id(node))
        return entry[1] if entry is not None else None


def _own_text_changed(original: cst.CSTNode, result: cst.CSTNode) -> bool:
    """Did the statement's own line(s) change (a compound statement: its header)?"""
    if type(original) is not type(result):
        return True
    if isinstance(original, cst.SimpleStatementLine):
        return not original.deep_equals(result)
    if isinstance(original, cst.FunctionDef):
        return not (original.params.deep_equals(result.params) and original.name.deep_equals(result.name)
                    and _same(original.returns, result.returns))
    return False


def _same(a: Optional[cst.CSTNode], b: Optional[cst.CSTNode]) -> bool:
    if a is None or b is None:
        return a is b
    return a.deep_equals(b)


# --- blank lines -----------------------------------------------------------------------

def is_docstring(statement: Optional[cst.BaseStatement]) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def wanted_blank_lines(statement: cst.BaseStatement, previous: Optional[cst.BaseStatement],
                       top: bool) -> tuple[Optional[int], int]:
    """``(exact count or None, most allowed)`` of blank lines before ``statement``, as
    pycodestyle checks them (E301, E302, E303, E305, E306)."""
    definition = isinstance(statement, Definition)
    if top:
        if previous is None:
            return 0, 2
        if definition or isinstance(previous, Definition):
            return 2, 2
        return None, 2
    if previous is None:
        return 0, 1
    if definition and not is_docstring(previous):
        return 1, 1
    return None, 1


def with_blank_lines(lines: Sequence[cst.EmptyLine], exact: Optional[int], most: int) -> list[cst.EmptyLine]:
    """``lines`` with each run of blank lines at most ``most`` (``exact`` if given) long, and,
    when ``exact`` is given, the longest run that long (the first one made so)."""
    runs: list[int] = [0]
    comments: list[cst.EmptyLine] = []
    for line in lines:
        if line.comment is None:
            runs[-1] += 1
        else:
            comments.append(line)
            runs.append(0)
    limit = most if exact is None else min(most, exact) if exact else most
    runs = [min(r, limit) for r in runs]
    if exact is not None:
        if exact == 0:
            runs[0] = 0
        elif max(runs) < exact:
            runs[0] = exact
    out: list[cst.EmptyLine] = []
    for count, comment in zip(runs, [*comments, None]):
        out += [_blank() for _ in range(count)]
        if comment is not None:
            out.append(comment)
    return out


def _normalised(statement: cst.BaseStatement, previous: Optional[cst.BaseStatement], top: bool) -> cst.BaseStatement:
    exact, most = wanted_blank_lines(statement, previous, top)
    lines = with_blank_lines(statement.leading_lines, exact, most)
    if _same_lines(lines, statement.leading_lines):
        return statement
    return statement.with_changes(leading_lines=lines)


def _same_lines(a: Sequence[cst.EmptyLine], b: Sequence[cst.EmptyLine]) -> bool:
    return len(a) == len(b) and all(x.deep_equals(y) for x, y in zip(a, b))


def relayout_body(body: Sequence[cst.BaseStatement], new: Sequence[bool], marked: Sequence[bool],
                  top: bool) -> list[cst.BaseStatement]:
    """Blank lines for a body the fixer inserted into (``new``) or removed from (``marked``:
    the statements that follow a removal): each inserted group takes the blank lines that
    stood before the statement it was put in front of, then the inserted statements and the
    ones after them get what pycodestyle wants. A body that is new as a whole is left alone."""
    out = list(body)
    if not out or all(new) or not (any(new) or any(marked)):
        return out
    touch = [bool(m) for m in marked]
    i = 0
    while i < len(out):
        if not new[i]:
            i += 1
            continue
        start = i
        while i < len(out) and new[i]:
            touch[i] = True
            i += 1
        after = i if i < len(out) else None
        if after is not None:
            touch[after] = True
        first = out[start]
        if start == 0:
            prefix = blank_prefix(first.leading_lines)
            if prefix:
                out[start] = first.with_changes(leading_lines=list(first.leading_lines)[prefix:])
        elif after is not None and not blank_prefix(first.leading_lines):
            anchor = out[after]
            prefix = blank_prefix(anchor.leading_lines)
            out[start] = first.with_changes(leading_lines=[*[_blank() for _ in range(prefix)], *first.leading_lines])
            out[after] = anchor.with_changes(leading_lines=list(anchor.leading_lines)[prefix:])
    for j, statement in enumerate(out):
        if touch[j]:
            out[j] = _normalised(statement, out[j - 1] if j else None, top)
    return out


# --- line length -----------------------------------------------------------------------

Bracketed = Union[cst.Call, cst.Dict, cst.List, cst.Set, cst.ListComp, cst.SetComp, cst.DictComp]
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp)


def _render(module: cst.Module, node: cst.CSTNode) -> list[str]:
    return module.code_for_node(node).splitlines()


def _spine(expr: cst.BaseExpression) -> list[Bracketed]:
    """The brackets that close at the end of ``expr``, the last one first: for
    ``threading.Thread(...).start()`` the ``start()`` call, then the ``Thread(...)`` call."""
    out: list[Bracketed] = []
    node: cst.CSTNode = expr
    while True:
        if isinstance(node, cst.Call):
            out.append(node)
            node = node.func
        elif isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Lambda) and not node.lpar:
            node = node.body
        elif isinstance(node, (cst.Dict, cst.List, cst.Set, *_COMPREHENSIONS)):
            if not node.lpar:
                out.append(node)
            break
        else:
            break
    return out


def _elements(node: Bracketed) -> Sequence[cst.CSTNode]:
    return node.args if isinstance(node, cst.Call) else node.elements


def _can_explode(node: Bracketed) -> bool:
    elements = _elements(node)
    if not elements:
        return False
    if isinstance(node, cst.Call) and len(elements) == 1 and isinstance(elements[0].value, cst.GeneratorExp) \
            and not elements[0].value.lpar:
        return False  # ``f(x for x in y,)`` is a syntax error
    return True


def _newline(indent: str) -> cst.ParenthesizedWhitespace:
    return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=[], indent=True,
                                       last_line=cst.SimpleWhitespace(indent))


def _explode(node: Bracketed, elements: Sequence[cst.CSTNode], extra: str, unit: str) -> Bracketed:
    """The brackets' elements one per line, a trailing comma, the closing bracket alone."""
    inner, closing = _newline(extra + unit), _newline(extra)
    new = []
    for i, element in enumerate(elements):
        comma = cst.Comma(whitespace_before=cst.SimpleWhitespace(""),
                          whitespace_after=inner if i < len(elements) - 1 else closing)
        changes: dict = {"comma": comma}
        if isinstance(element, cst.Arg):
            changes["whitespace_after_arg"] = cst.SimpleWhitespace("")
        new.append(element.with_changes(**changes))
    if isinstance(node, cst.Call):
        return node.with_changes(args=new, whitespace_before_args=inner)
    if isinstance(node, cst.List):
        return node.with_changes(elements=new, lbracket=cst.LeftSquareBracket(whitespace_after=inner),
                                 rbracket=cst.RightSquareBracket(whitespace_before=cst.SimpleWhitespace("")))
    return node.with_changes(elements=new, lbrace=cst.LeftCurlyBrace(whitespace_after=inner),
                             rbrace=cst.RightCurlyBrace(whitespace_before=cst.SimpleWhitespace("")))


def _split_clauses(clause: cst.CompFor, inner: cst.ParenthesizedWhitespace) -> cst.CompFor:
    nested = clause.inner_for_in
    return clause.with_changes(
        whitespace_before=inner, ifs=[c.with_changes(whitespace_before=inner) for c in clause.ifs],
        inner_for_in=_split_clauses(nested, inner) if nested is not None else None)


def _element_value(element: cst.CSTNode) -> Optional[cst.BaseExpression]:
    return getattr(element, "value", None)


def _opening(node: Bracketed) -> cst.BaseParenthesizableWhitespace:
    if isinstance(node, cst.Call):
        return node.whitespace_before_args
    if isinstance(node, (cst.List, cst.ListComp)):
        return node.lbracket.whitespace_after
    return node.lbrace.whitespace_after


@dataclass(frozen=True)
class _Fit:
    module: cst.Module
    limit: int
    indent: str  # the statement's indentation
    unit: str  # one more level of indentation
    keep: frozenset[str] = frozenset()  # lines (stripped) of the statement before the fix: left as they are

    def explode(self, node: Bracketed, extra: str) -> Optional[Bracketed]:
        """``node`` split at ``extra`` (the continuation indentation of its opening line),
        with every element whose line is still too long split in turn. A bracket already
        one element per line keeps its layout; only its elements are fitted."""
        opening = _opening(node)
        if isinstance(node, _COMPREHENSIONS):
            return None if isinstance(opening, cst.ParenthesizedWhitespace) else self.explode_comprehension(node, extra)
        if isinstance(opening, cst.ParenthesizedWhitespace):
            inner = opening.last_line.value
            elements = [self.fit_element(e, inner) for e in _elements(node)]
            if all(a is b for a, b in zip(elements, _elements(node))):
                return None
            return node.with_changes(**{"args" if isinstance(node, cst.Call) else "elements": elements})
        if not _can_explode(node):
            return None
        elements = [self.fit_element(e, extra + self.unit) for e in _elements(node)]
        return _explode(node, elements, extra, self.unit)

    def explode_comprehension(self, node: Union[cst.ListComp, cst.SetComp, cst.DictComp],
                              extra: str) -> Bracketed:
        """As black: the comprehension on its own line inside the brackets, its element
        split in turn if that line is still too long."""
        inner, closing = _newline(extra + self.unit), _newline(extra)
        if isinstance(node, cst.ListComp):
            exploded = node.with_changes(lbracket=cst.LeftSquareBracket(whitespace_after=inner),
                                         rbracket=cst.RightSquareBracket(whitespace_before=closing))
        else:
            exploded = node.with_changes(lbrace=cst.LeftCurlyBrace(whitespace_after=inner),
                                         rbrace=cst.RightCurlyBrace(whitespace_before=closing))
        field_name = "value" if isinstance(node, cst.DictComp) else "elt"
        element = getattr(node, field_name)
        if len(self.indent) + len(_render(self.module, exploded)[1]) <= self.limit:
            return exploded
        exploded = exploded.with_changes(for_in=_split_clauses(exploded.for_in, inner))  # for, if: a line each
        if len(self.indent) + len(_render(self.module, exploded)[1]) <= self.limit:
            return exploded
        best = exploded
        for candidate in _spine(element):
            split = self.explode(candidate, extra + self.unit)
            if split is None:
                continue
            trial = exploded.with_changes(**{field_name: split if candidate is element
                                             else element.deep_replace(candidate, split)})
            if best is exploded:
                best = trial
            if len(self.indent) + len(_render(self.module, trial)[1]) <= self.limit:
                return trial
        return best

    def _fits(self, element: cst.CSTNode, extra: str) -> bool:
        lines = _render(self.module, element.with_changes(comma=cst.MaybeSentinel.DEFAULT))
        for i, line in enumerate(lines):
            width = len(self.indent) + (len(extra) if i == 0 else 0) + len(line) + (1 if i == len(lines) - 1 else 0)
            if width > self.limit and line.strip() not in self.keep:
                return False
        return True

    def fit_element(self, element: cst.CSTNode, extra: str) -> cst.CSTNode:
        value = _element_value(element)
        if value is None or self._fits(element, extra):
            return element
        best = None
        for candidate in _spine(value):
            exploded = self.explode(candidate, extra)
            if exploded is None:
                continue
            new_value = exploded if candidate is value else value.deep_replace(candidate, exploded)
            trial = element.with_changes(value=new_value)
            head = _render(self.module, trial.with_changes(comma=cst.MaybeSentinel.DEFAULT))[0]
            if best is None:
                best = trial
            if len(self.indent) + len(extra) + len(head) <= self.limit:
                return trial
        return best if best is not None else element


def _too_long(full: int, code: int, old: Optional[int], limit: int) -> bool:
    """The fixer made the line too long: its code is, or the whole line is and was not."""
    return full > limit and (code > limit or old is None or old <= limit)


def _statement_widths(module: cst.Module, statement: cst.SimpleStatementLine, indent: str) -> tuple[int, int, int]:
    """``(lines, longest line, longest line without the trailing comment)``."""
    bare = statement.with_changes(leading_lines=())
    lines = _render(module, bare)
    code = _render(module, bare.with_changes(trailing_whitespace=cst.TrailingWhitespace()))
    return len(lines), len(indent) + max(map(len, lines)), len(indent) + max(map(len, code))


def fit_statement(module: cst.Module, statement: cst.SimpleStatementLine, indent: str, unit: str, limit: int,
                  old: Optional[tuple[cst.SimpleStatementLine, str]] = None) -> cst.SimpleStatementLine:
    """``statement`` (at ``indent``) split over several lines when the fixer made it too long;
    ``old`` is what it was before, and where, when it replaced a line of the user's."""
    count, full, code = _statement_widths(module, statement, indent)
    if full <= limit or len(statement.body) != 1:
        return statement
    old_statement = old[0] if old is not None and isinstance(old[0], cst.SimpleStatementLine) else None
    if count != 1:
        # split already (by its author, or by an earlier round of fixes): only the lines the
        # fix made are split further, inside brackets already written one element per line
        keep = frozenset(line.strip() for line in _render(module, old_statement)) if old_statement else frozenset()
        fit = _Fit(module, limit, indent, unit, keep)
        for candidate in (c for expr in _split_points(statement.body[0]) for c in _spine(expr)):
            if isinstance(_opening(candidate), cst.ParenthesizedWhitespace):
                exploded = fit.explode(candidate, "")
                return statement if exploded is None else statement.deep_replace(candidate, exploded)
        return statement
    old_full = _statement_widths(module, old_statement, old[1])[1] if old_statement is not None else None
    if not _too_long(full, code, old_full, limit):
        return statement
    fit = _Fit(module, limit, indent, unit)
    best = None
    for candidate in (c for expr in _split_points(statement.body[0]) for c in _spine(expr)):
        exploded = fit.explode(candidate, "")
        if exploded is None:
            continue
        trial = statement.deep_replace(candidate, exploded)
        assert isinstance(trial, cst.SimpleStatementLine)
        if best is None:
            best = trial
        if len(indent) + len(_render(module, trial.with_changes(leading_lines=()))[0]) <= limit:
            return trial
    return best if best is not None else statement


def _split_points(small: cst.BaseSmallStatement) -> list[cst.BaseExpression]:
    """The expressions of a statement whose brackets may be split, the last one first."""
    if isinstance(small, cst.Assert):
        exprs = [small.msg, small.test]
    elif isinstance(small, cst.Raise):
        exprs = [small.cause.item if small.cause is not None else None, small.exc]
    else:
        exprs = [getattr(small, "value", None)]
    return [e for e in exprs if isinstance(e, cst.BaseExpression)]


def _param_slots(params: cst.Parameters) -> list[tuple[str, int]]:
    slots: list[tuple[str, int]] = [("posonly_params", i) for i in range(len(params.posonly_params))]
    if isinstance(params.posonly_ind, cst.ParamSlash):
        slots.append(("posonly_ind", -1))
    slots += [("params", i) for i in range(len(params.params))]
    if isinstance(params.star_arg, (cst.Param, cst.ParamStar)):
        slots.append(("star_arg", -1))
    slots += [("kwonly_params", i) for i in range(len(params.kwonly_params))]
    if isinstance(params.star_kwarg, cst.Param):
        slots.append(("star_kwarg", -1))
    return slots


def _def_widths(module: cst.Module, fn: cst.FunctionDef, indent: str) -> tuple[int, int, int]:
    header = fn.with_changes(leading_lines=(), decorators=(), lines_after_decorators=(),
                             body=cst.IndentedBlock([cst.SimpleStatementLine([cst.Pass()])],
                                                    header=fn.body.header))
    full = _render(module, header)
    code = _render(module, header.with_changes(body=header.body.with_changes(header=cst.TrailingWhitespace())))
    return len(full) - 1, len(indent) + len(full[0]), len(indent) + len(code[0])


def fit_def(module: cst.Module, fn: cst.FunctionDef, indent: str, unit: str, limit: int,
            old: Optional[cst.FunctionDef] = None) -> cst.FunctionDef:
    """A ``def`` line the fixer made too long, its parameters one per line."""
    if not isinstance(fn.body, cst.IndentedBlock):
        return fn
    count, full, code = _def_widths(module, fn, indent)
    if count != 1 or full <= limit:
        return fn
    old_full = _def_widths(module, old, indent)[1] if isinstance(old, cst.FunctionDef) \
        and isinstance(old.body, cst.IndentedBlock) else None
    if not _too_long(full, code, old_full, limit):
        return fn
    params = fn.params
    slots = _param_slots(params)
    if not slots:
        return fn
    inner, closing = _newline(unit), _newline("")
    changes: dict = {}
    for n, (name, index) in enumerate(slots):
        comma = cst.Comma(whitespace_before=cst.SimpleWhitespace(""),
                          whitespace_after=inner if n < len(slots) - 1 else closing)
        if index < 0:
            node = getattr(params, name)
            extra = {"whitespace_after_param": cst.SimpleWhitespace("")} if isinstance(node, cst.Param) else {}
            changes[name] = node.with_changes(comma=comma, **extra)
        else:
            items = list(changes.get(name, getattr(params, name)))
            items[index] = items[index].with_changes(comma=comma, whitespace_after_param=cst.SimpleWhitespace(""))
            changes[name] = items
    return fn.with_changes(params=params.with_changes(**changes), whitespace_before_params=inner)


def _hanging(elements: Sequence[cst.CSTNode], opening: cst.BaseParenthesizableWhitespace) -> Optional[list]:
    """The elements of a bracket the user wrote one per line (a newline after the opening
    bracket) with the ones the fix added laid out the same way: on their own lines, and the
    closing bracket where the user had it. None when there is nothing to repair."""
    if not isinstance(opening, cst.ParenthesizedWhitespace) or len(elements) < 2:
        return None
    inner = opening.last_line.value

    def separator(comma) -> Optional[cst.ParenthesizedWhitespace]:
        after = comma.whitespace_after if isinstance(comma, cst.Comma) else None
        return after if isinstance(after, cst.ParenthesizedWhitespace) else None

    if all((sep := separator(e.comma)) is not None and sep.last_line.value == inner for e in elements[:-1]):
        return None
    closing = next((sep for e in elements if (sep := separator(e.comma)) is not None
                    and sep.last_line.value != inner), None)
    out = []
    for i, element in enumerate(elements):
        sep = separator(element.comma)
        if i < len(elements) - 1:
            if sep is not None and sep.last_line.value == inner:
                out.append(element)
                continue
            after = cst.ParenthesizedWhitespace(
                first_line=sep.first_line if sep is not None else cst.TrailingWhitespace(),
                empty_lines=sep.empty_lines if sep is not None else [], indent=opening.indent,
                last_line=cst.SimpleWhitespace(inner))
            out.append(element.with_changes(comma=cst.Comma(whitespace_before=cst.SimpleWhitespace(""),
                                                            whitespace_after=after)))
        elif closing is not None:
            last = closing.with_changes(first_line=sep.first_line if sep is not None else cst.TrailingWhitespace(),
                                        empty_lines=sep.empty_lines if sep is not None else [])
            out.append(element.with_changes(comma=cst.Comma(whitespace_before=cst.SimpleWhitespace(""),
                                                            whitespace_after=last)))
        else:
            out.append(element)
    return out


class _Hanging(cst.CSTTransformer):
    """Calls written one argument per line, with the arguments a fix added put in line."""

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        args = _hanging(updated_node.args, updated_node.whitespace_before_args)
        return updated_node if args is None else updated_node.with_changes(args=args)


def repair_hanging(statement: cst.BaseStatement) -> cst.BaseStatement:
    """``statement`` with its one-per-line calls (and, for a def, parameters) kept so."""
    if isinstance(statement, cst.FunctionDef):
        params = statement.params
        slots = _param_slots(params)
        items = [getattr(params, n) if i < 0 else getattr(params, n)[i] for n, i in slots]
        repaired = _hanging(items, statement.whitespace_before_params)
        if repaired is None:
            return statement
        changes: dict = {}
        for (name, index), item in zip(slots, repaired):
            if index < 0:
                changes[name] = item
            else:
                changes.setdefault(name, list(getattr(params, name)))[index] = item
        return statement.with_changes(params=params.with_changes(**changes))
    if "\n" not in cst.Module([]).code_for_node(statement.with_changes(leading_lines=())).rstrip("\r\n"):
        return statement  # one line: nothing written one per line
    return statement.visit(_Hanging())


# --- the pass after the plan is applied ------------------------------------------------

class Relayout(cst.CSTTransformer):
    """Blank lines and line length where ``trace`` says the fixer changed something."""

    def __init__(self, module: cst.Module, trace: Trace, limit: int) -> None:
        super().__init__()
        self.module = module
        self.trace = trace
        self.limit = limit
        indent = module.default_indent
        self.unit = indent if indent and not indent.strip() else "    "
        self.indent = [""]
        self.old_indent = [""]  # what the indentation was before the fix (a new ``with`` adds one)
        self.compound: list[bool] = []  # is the compound statement being visited an original one

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseCompoundStatement):
            self.compound.append(id(node) in self.trace.kept)
        if isinstance(node, cst.IndentedBlock):
            step = node.indent if node.indent is not None else self.module.default_indent
            self.indent.append(self.indent[-1] + step)
            known = self.compound[-1] if self.compound else True
            self.old_indent.append(self.old_indent[-1] + (step if known else ""))
        return True

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[override]
        node = updated_node
        if isinstance(node, cst.SimpleStatementLine):
            node = self._fit_line(original_node, node)
        elif isinstance(node, (cst.IndentedBlock, cst.Module)):
            node = self._blank_lines(original_node, node)
        if isinstance(original_node, cst.IndentedBlock):
            self.indent.pop()
            self.old_indent.pop()
        if isinstance(original_node, cst.BaseCompoundStatement):
            self.compound.pop()
            if isinstance(node, cst.FunctionDef):
                node = self._fit_def(original_node, node)
        return node

    def _fit_line(self, original: cst.CSTNode, node: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        trace = self.trace
        indent, old_indent = self.indent[-1], self.old_indent[-1]
        old: Optional[tuple] = None
        if id(original) in trace.kept:
            if id(original) not in trace.changed and indent == old_indent:
                return node
            old = (trace.original(original), old_indent)
        elif id(original) in trace.moved_from:
            _, removed, removed_indent = trace.moved_from[id(original)]
            old = (removed, removed_indent)
        node = repair_hanging(node)  # type: ignore[assignment]
        return fit_statement(self.module, node, indent, self.unit, self.limit, old)

    def _fit_def(self, original: cst.CSTNode, node: cst.FunctionDef) -> cst.FunctionDef:
        if id(original) in self.trace.kept and id(original) not in self.trace.changed:
            return node
        node = repair_hanging(node)  # type: ignore[assignment]
        return fit_def(self.module, node, self.indent[-1], self.unit, self.limit, self.trace.original(original))

    def _blank_lines(self, original: cst.CSTNode, node: Body) -> Body:
        originals = list(original.body)  # type: ignore[attr-defined]
        if len(originals) != len(node.body):
            return node
        new = [id(s) not in self.trace.kept for s in originals]
        marked = [id(s) in self.trace.after_removal for s in originals]
        body = relayout_body(node.body, new, marked, isinstance(node, cst.Module))
        if all(a is b for a, b in zip(body, node.body)):
            return node
        return node.with_changes(body=body)


def relayout(module: cst.Module, trace: Trace, limit: int) -> cst.Module:
    return module.visit(Relayout(module, trace, limit))


# --- imports: the order ----------------------------------------------------------------

FUTURE, STDLIB, THIRD_PARTY, LOCAL = 0, 1, 2, 4  # ruff's sections (first party: 3, never guessed)
_NUMBER = re.compile(r"[0-9]+|[^0-9]")


def natural_key(text: str) -> tuple:
    """natord's order (ruff's): runs of digits compare as numbers, other characters as such."""
    return tuple((ord("0"), int(part)) if part.isdigit() else (ord(part), 0) for part in _NUMBER.findall(text))


def member_key(name: str, asname: Optional[str] = None) -> tuple:
    """The order of a name in ``from x import ...``: isort's and ruff's default
    (``order-by-type``, case-insensitive): constants (``ALL_CAPS``, more than one
    character), then classes (a capital first), then the rest; within each, by the
    lowercased name in natural order, then by the name itself, then by the ``as`` name."""
    if len(name) > 1 and name.isupper():
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return (name != "*", kind, natural_key(name.lower()), natural_key(name),
            (0,) if asname is None else (1, natural_key(asname)))


def _dotted(node: Optional[cst.BaseExpression]) -> str:
    if node is None:
        return ""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _alias_names(node: ImportNode) -> list[tuple[str, Optional[str]]]:
    if isinstance(node.names, cst.ImportStar):
        return [("*", None)]
    out = []
    for alias in node.names:
        asname = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) \
            else None
        out.append((_dotted(alias.name), asname))
    return out


def statement_key(node: ImportNode) -> tuple:
    """The order of import statements within a section (ruff's, with
    ``force-sort-within-sections = false``): ``import x`` lines, then ``from x import``
    lines, each by the module's lowercased name in natural order (relative imports: the
    furthest first), then by the first name imported."""
    if isinstance(node, cst.Import):
        name, asname = _alias_names(node)[0]
        return (0, 0, natural_key(name.lower()), natural_key(name), (), (0,) if asname is None else (1, asname))
    module = _dotted(node.module)
    first = min(member_key(n, a) for n, a in _alias_names(node))
    return (1, -len(node.relative), natural_key(module.lower()), natural_key(module), first, ())


def _stdlib_names() -> frozenset[str]:
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return frozenset(names)
    import pkgutil  # Python 3.9: what the standard library directory holds
    import sysconfig

    found = {m.name for m in pkgutil.iter_modules([sysconfig.get_paths()["stdlib"]])}
    return frozenset(found | set(sys.builtin_module_names) | {"__future__"})


STDLIB_NAMES = _stdlib_names()


def section_of(node: ImportNode) -> int:
    if isinstance(node, cst.ImportFrom) and node.relative:
        return LOCAL
    module = _dotted(node.module) if isinstance(node, cst.ImportFrom) else _alias_names(node)[0][0]
    top = module.split(".", 1)[0]
    if top == "__future__":
        return FUTURE
    return STDLIB if top in STDLIB_NAMES else THIRD_PARTY


def insertion_index(keys: Sequence, key) -> int:
    """Where ``key`` goes among ``keys``: its sorted place when they are sorted, else the
    place that adds the fewest inversions (the first such)."""
    best, best_cost = 0, None
    for position in range(len(keys) + 1):
        cost = sum(1 for k in keys[:position] if k > key) + sum(1 for k in keys[position:] if k < key)
        if best_cost is None or cost < best_cost:
            best, best_cost = position, cost
    return best


# --- imports: adding -------------------------------------------------------------------

def _import_of(statement: cst.BaseStatement) -> Optional[ImportNode]:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
            and isinstance(statement.body[0], (cst.Import, cst.ImportFrom)):
        return statement.body[0]
    return None


def _top_imports(module: cst.Module) -> list[tuple[int, ImportNode]]:
    out = []
    for i, statement in enumerate(module.body):
        if isinstance(statement, cst.SimpleStatementLine):
            out += [(i, s) for s in statement.body if isinstance(s, (cst.Import, cst.ImportFrom))]
    return out


def _has(module: cst.Module, wanted: str, name: str) -> bool:
    for _, node in _top_imports(module):
        if name == "":
            if isinstance(node, cst.Import) and (wanted, None) in _alias_names(node):
                return True
        elif isinstance(node, cst.ImportFrom) and not node.relative and _dotted(node.module) == wanted:
            names = _alias_names(node)
            if ("*", None) in names or (name, None) in names:
                return True
    return False


def _can_take(node: Optional[ImportNode], module: str) -> bool:
    """Can a name from ``module`` join this statement? Not one that renames (isort and ruff
    keep ``from x import a as b`` apart, ``combine-as-imports = false``)."""
    return (isinstance(node, cst.ImportFrom) and not node.relative and _dotted(node.module) == module
            and not isinstance(node.names, cst.ImportStar) and all(a is None for _, a in _alias_names(node)))


def _single_line_width(module: cst.Module, statement: cst.SimpleStatementLine) -> int:
    return max(map(len, _render(module, statement.with_changes(leading_lines=()))))


def _sep(aliases: Sequence[cst.ImportAlias], node: cst.ImportFrom) -> cst.Comma:
    """The separator between two names, in the statement's style (comments left out)."""
    source = aliases[0].comma if len(aliases) > 1 else None
    if isinstance(source, cst.Comma):
        after = source.whitespace_after
        if isinstance(after, cst.ParenthesizedWhitespace):
            after = after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        return source.with_changes(whitespace_after=after)
    lpar = node.lpar
    if lpar is not None and isinstance(lpar.whitespace_after, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=lpar.whitespace_after.with_changes(
            first_line=cst.TrailingWhitespace(), empty_lines=[]))
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _add_alias(node: cst.ImportFrom, name: str) -> cst.ImportFrom:
    assert not isinstance(node.names, cst.ImportStar)
    aliases = list(node.names)
    keys = [member_key(n, a) for n, a in _alias_names(node)]
    position = insertion_index(keys, member_key(name))
    sep = _sep(aliases, node)
    alias = cst.ImportAlias(cst.Name(name))
    if position < len(aliases):
        aliases.insert(position, alias.with_changes(comma=sep))
    else:
        last = aliases[-1]
        aliases[-1] = last.with_changes(comma=sep)
        aliases.append(alias.with_changes(comma=last.comma))
    return node.with_changes(names=aliases)


def wrap_import(module: cst.Module, statement: cst.SimpleStatementLine, limit: int,
                unit: str) -> cst.SimpleStatementLine:
    """A single-line ``from x import a, b`` longer than ``limit`` (its comment included, as
    ruff counts it), as ruff writes it: one name per line, a trailing comma, and the
    statement's comment after the opening parenthesis."""
    node = _import_of(statement)
    if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar) or node.lpar is not None:
        return statement
    if _single_line_width(module, statement) <= limit:
        return statement
    aliases = list(node.names)
    new = [a.with_changes(comma=cst.Comma(whitespace_before=cst.SimpleWhitespace(""),
                                          whitespace_after=_newline(unit if i < len(aliases) - 1 else "")))
           for i, a in enumerate(aliases)]
    comment = statement.trailing_whitespace.comment
    first = cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  " if comment else ""), comment=comment)
    lpar = cst.LeftParen(whitespace_after=cst.ParenthesizedWhitespace(
        first_line=first, empty_lines=[], indent=True, last_line=cst.SimpleWhitespace(unit)))
    wrapped = node.with_changes(names=new, lpar=lpar, rpar=cst.RightParen(),
                                whitespace_after_import=cst.SimpleWhitespace(" "))
    return statement.with_changes(body=[wrapped], trailing_whitespace=cst.TrailingWhitespace())


def _lines_after_imports(statement: cst.BaseStatement) -> int:
    """ruff's ``lines-after-imports = -1``: two blank lines before a def or class, else one."""
    return 2 if isinstance(statement, Definition) else 1


def _set_prefix(statement: cst.BaseStatement, count: int) -> cst.BaseStatement:
    lines = list(statement.leading_lines)
    return statement.with_changes(leading_lines=[*[_blank() for _ in range(count)], *lines[blank_prefix(lines):]])


def _first_block(body: Sequence[cst.BaseStatement]) -> tuple[int, int]:
    start = next((i for i, s in enumerate(body) if _import_of(s) is not None), None)
    if start is None:
        return -1, -1
    end = start
    while end < len(body) and _import_of(body[end]) is not None:
        end += 1
    return start, end


def _insert_statement(body: list[cst.BaseStatement], new: cst.SimpleStatementLine) -> list[cst.BaseStatement]:
    node = _import_of(new)
    assert node is not None
    section, key = section_of(node), statement_key(node)
    start, end = _first_block(body)
    if start < 0:  # no import yet: after the docstring, before the rest
        at = 1 if body and is_docstring(body[0]) else 0
        if at >= len(body):
            return [*body, new.with_changes(leading_lines=[_blank()] if at else [])]
        following = body[at]
        prefix = min(blank_prefix(following.leading_lines), 1) if at else 0
        return [*body[:at], new.with_changes(leading_lines=[_blank() for _ in range(prefix)]),
                _set_prefix(following, _lines_after_imports(following)), *body[at + 1:]]
    block = [(i, _import_of(body[i])) for i in range(start, end)]
    same = [(i, statement_key(n)) for i, n in block if section_of(n) == section]
    if same:
        position = insertion_index([k for _, k in same], key)
        if position > 0:
            at = same[position - 1][0] + 1
            return [*body[:at], new, *body[at:]]
        before = same[0][0]
        return _insert_before(body, before, new, separate=False)
    later = [i for i, n in block if section_of(n) > section]
    if later:
        return _insert_before(body, later[0], new, separate=True)
    return [*body[:end], new.with_changes(leading_lines=[_blank()]), *body[end:]]


def _insert_before(body: list[cst.BaseStatement], at: int, new: cst.SimpleStatementLine,
                   separate: bool) -> list[cst.BaseStatement]:
    """``new`` before ``body[at]``, taking its blank lines; ``body[at]`` then follows
    directly, or after one blank line when it starts another section or has comments
    above it (ruff wants a blank line above a comment that does not start the block)."""
    following = body[at]
    lines = list(following.leading_lines)
    prefix = blank_prefix(lines)
    rest = lines[prefix:]
    gap = 1 if separate or rest else 0
    return [*body[:at], new.with_changes(leading_lines=lines[:prefix]),
            following.with_changes(leading_lines=[*[_blank() for _ in range(gap)], *rest]), *body[at + 1:]]


def add_imports(module: cst.Module, imports: Iterable[tuple[str, str]], limit: int) -> cst.Module:
    """``module`` importing each ``(module, name)`` (name ``""``: ``import module``) it does
    not import yet, at the top level, in isort's and ruff's order (see the module doc)."""
    unit = module.default_indent if module.default_indent and not module.default_indent.strip() else "    "
    wanted = sorted({(m, n) for m, n in imports if not _has(module, m, n)},
                    key=lambda item: (item[0], member_key(item[1])))
    if not wanted:
        return module
    body = list(module.body)
    grouped: dict[str, list[str]] = {}
    for mod, name in wanted:
        if name == "":
            body = _insert_statement(body, cst.parse_statement(f"import {mod}\n"))  # type: ignore[arg-type]
            continue
        target = next((i for i, s in enumerate(body) if _can_take(_import_of(s), mod)), None)
        if target is None:
            grouped.setdefault(mod, []).append(name)
            continue
        statement = body[target]
        node = _import_of(statement)
        widened = statement.with_changes(body=[_add_alias(node, name)])
        body[target] = wrap_import(module, widened, limit, unit)
    for mod, names in grouped.items():
        names = sorted(names, key=member_key)
        new = cst.parse_statement(f"from {mod} import {', '.join(names)}\n")
        assert isinstance(new, cst.SimpleStatementLine)
        body = _insert_statement(body, wrap_import(module, new, limit, unit))
    return module.with_changes(body=body, has_trailing_newline=True)


# --- imports: removing -----------------------------------------------------------------

ALL = None  # every name of the statement goes


class _Uses(cst.CSTVisitor):
    """Every name the module could use, outside import statements: names, attribute names,
    and strings that are identifiers (``__all__``, string annotations). An over-count only
    keeps an import."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        text = node.value.lstrip("rRbBuUfF")[1:-1].strip("\"'")
        if text.isidentifier():
            self.names.add(text)


def _unused_aliases(module: cst.Module, unused: set[tuple[str, str]]) -> dict[int, Optional[set[int]]]:
    """Which names of which import statement (by document order) nothing uses."""
    uses = _Uses()
    module.visit(uses)
    removals: dict[int, Optional[set[int]]] = {}

    class Find(cst.CSTVisitor):
        index = 0

        def on_visit(self, node: cst.CSTNode) -> bool:
            if not isinstance(node, (cst.Import, cst.ImportFrom)):
                return True
            drop = set()
            if not isinstance(node.names, cst.ImportStar):
                source = "" if isinstance(node, cst.Import) else "." * len(node.relative) + _dotted(node.module)
                for i, (name, asname) in enumerate(_alias_names(node)):
                    key = (name, "") if isinstance(node, cst.Import) else (source, name)
                    bound = asname or name.split(".", 1)[0]
                    if key in unused and bound not in uses.names:
                        drop.add(i)
            if drop:
                removals[Find.index] = ALL if len(drop) == len(_alias_names(node)) else drop
            Find.index += 1
            return False

    module.visit(Find())
    return removals


def drop_aliases(node: cst.ImportFrom, drop: set[int]) -> cst.ImportFrom:
    """``node`` without the names at ``drop`` (not all of them), its layout kept: a removed
    last name's trailing comma and closing line go to the name now last."""
    names = list(node.names)  # type: ignore[arg-type]
    kept = [names[i] for i in range(len(names)) if i not in drop]
    last = len(names) - 1
    if last in drop:
        closing = names[last].comma
        own = kept[-1].comma
        if isinstance(closing, cst.Comma) and isinstance(own, cst.Comma):
            after = closing.whitespace_after
            if isinstance(own.whitespace_after, cst.ParenthesizedWhitespace) \
                    and isinstance(after, cst.ParenthesizedWhitespace):
                after = own.whitespace_after.with_changes(
                    empty_lines=[*own.whitespace_after.empty_lines, *after.empty_lines],
                    indent=after.indent, last_line=after.last_line)
            comma = own.with_changes(whitespace_after=after)
        else:
            comma = closing
        kept[-1] = kept[-1].with_changes(comma=comma)
    return node.with_changes(names=kept)


class _Remove(cst.CSTTransformer):
    def __init__(self, removals: dict[int, Optional[set[int]]]) -> None:
        super().__init__()
        self.removals = removals
        self.count = 0
        self.index: dict[int, int] = {}
        self.dead: set[int] = set()  # small statements to drop
        self.dead_lines: set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            self.index[id(node)] = self.count
            self.count += 1
        return True

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        if isinstance(original_node, (cst.Import, cst.ImportFrom)):
            index = self.index[id(original_node)]
            if index in self.removals:
                drop = self.removals[index]
                if drop is ALL or isinstance(updated_node, cst.Import):
                    self.dead.add(id(updated_node))
                else:
                    return drop_aliases(updated_node, drop)
            return updated_node
        if isinstance(updated_node, cst.SimpleStatementLine):
            alive = [s for s in updated_node.body if id(s) not in self.dead]
            if not alive:
                self.dead_lines.add(id(updated_node))
            elif len(alive) < len(updated_node.body):
                alive[-1] = alive[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
                return updated_node.with_changes(body=alive)
            return updated_node
        if isinstance(updated_node, (cst.Module, cst.IndentedBlock)):
            return self._body(updated_node)
        return updated_node

    def _body(self, node: Body) -> Body:
        if not any(id(s) in self.dead_lines for s in node.body):
            return node
        body: list[cst.BaseStatement] = []
        carry = Carry()
        for statement in node.body:
            if id(statement) in self.dead_lines:
                carry.add(statement, Comments(_comment_block(statement.leading_lines)))
                continue
            if carry:
                statement = carry.onto(statement)
                carry = Carry()
            if not body and statement is not node.body[0]:  # first now: no blank line above it
                statement = _set_prefix(statement, 0)
            body.append(statement)
        changes: dict = {"body": body}
        if carry.leftover():
            changes["footer"] = [*carry.leftover(), *node.footer]
        if not body and isinstance(node, cst.IndentedBlock):
            changes["body"] = [cst.SimpleStatementLine([cst.Pass()])]
        elif not body and not carry.leftover():
            changes["has_trailing_newline"] = False  # nothing left: an empty file, not a blank line
        return node.with_changes(**changes)


def remove_imports(module: cst.Module, unused: Iterable[tuple[str, str]]) -> cst.Module:
    """``module`` without the ``(module, name)`` imports (name ``""``: ``import module``)
    that nothing in it uses any more. The statements keep their layout: a parenthesized
    one-per-line import keeps its trailing comma and closing line, and the comment lines
    above a removed statement stay. (Unlike libcst's ``RemoveImportsVisitor``, which has no
    such care and runs a scope analysis: twenty times slower on a large module.)"""
    wanted = set(unused)
    if not wanted:
        return module
    removals = _unused_aliases(module, wanted)
    return module.visit(_Remove(removals)) if removals else module
