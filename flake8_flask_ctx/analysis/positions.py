"""Line and column of reported nodes, at a fraction of PositionProvider's cost.

libcst's PositionProvider builds a CodeRange for every node and splits every token on
newlines (~14x an ``ast.parse``; README, Speed). A finding needs the start of a few
nodes, so this runs the plain code generator with a state that only notes how many tokens
came before each node's syntactic start, and turns offsets into (line, column) for the
nodes asked about. The starts are the ones PositionProvider reports (a test compares them
node by node).

Nor does it generate the whole module: only the statement that holds an asked node, found
through the collector's parent links, is generated (once per statement). That is the
top-level statement, or, inside a ``def`` or ``class`` body, the statement of that body
(and so on down), generated with the indentation its blocks push. The statement's text is
placed in the source by the CPython ``ast`` of the same text: ``lineno`` is the line of the
statement's syntactic start, as libcst has it (a decorated ``def`` or ``class`` starts at
the keyword, below its decorators, in both), and a ``SimpleStatementLine`` of k small
statements is k ``ast`` statements. The placement checks itself: the statement kinds, the
counts of statements in the block and the ``ast`` column must agree, and the source at the
placement must be exactly the generated text. When anything does not hold (no source, no
``ast``, a node outside the parent links or in the module's header or footer), the whole
module is generated, as before this shortcut, so that a position is never wrong.

Lines and columns are counted in the source, PositionProvider counts them in libcst's
``module.code``: the same text, except where libcst's round trip loses bytes. A form feed
before a statement (LibCST#446) fails the checks of its own statement and changes no other
position; a last lone ``\r`` ends the text, after every start. A line that is only a
backslash continuation is dropped when it comes before a statement, and every line below
would move: a source with such a line is generated whole.

``_StartRecorder`` subclasses libcst's private ``CodegenState`` (pyproject keeps libcst
below 2 for that reason) and generates statements the way their blocks do (``Module`` and
``IndentedBlock._codegen_impl``); tests/test_positions.py, which compares every node of
every fixture with PositionProvider, tells if a libcst release changes either.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_right
from contextlib import contextmanager
from itertools import accumulate
from typing import Callable, Iterator, Optional, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState

from ..prefilter import parse_ast

_NEWLINE = re.compile(r"\r\n?|\n")
# a line that is only a backslash continuation: libcst 1.x drops it from its round trip where
# it comes before a statement (its ``module.code`` then has a line fewer than the source)
_BACKSLASH_LINE = re.compile(r"(?:\A|(?<=[\r\n]))[ \t\f]*\\(?:\r\n?|\n)")


def _has_backslash_line(source: str) -> bool:
    return ("\\\n" in source or "\\\r" in source) and _BACKSLASH_LINE.search(source) is not None


ParentOf = Callable[[cst.CSTNode], Optional[cst.CSTNode]]


class _StartRecorder(CodegenState):
    """Codegen that remembers the token index where each node starts."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.starts: dict[int, int] = {}

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.starts[id(node)] = len(self.tokens)  # whitespace-inclusive start, refined below

    @contextmanager
    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> Iterator[None]:
        self.starts[id(node)] = len(self.tokens)
        try:
            yield
        finally:
            if start_node is not None:
                self.starts[id(node)] = self.starts[id(start_node)]


class _Generated:
    """The code generated for one node (the module, or one statement), with the character
    offset of each node's start in it."""

    def __init__(self, module: cst.Module, node: cst.CSTNode, blocks: Sequence[cst.IndentedBlock] = ()) -> None:
        state = _StartRecorder(module)
        for block in blocks:  # the indentation the enclosing blocks push (IndentedBlock._codegen_impl)
            state.increase_indent(module.default_indent if block.indent is None else block.indent)
        node._codegen(state)
        self.tokens = state.tokens
        self.starts = state.starts
        self.offsets = [0, *accumulate(map(len, state.tokens))]  # char offset of token i
        self.text = "".join(state.tokens)

    def offset(self, node: cst.CSTNode) -> Optional[int]:
        index = self.starts.get(id(node))
        return None if index is None else self.offsets[index]


def _line_col(line_ends: list[int], offset: int) -> tuple[int, int]:
    line = bisect_right(line_ends, offset)
    return line + 1, offset - (line_ends[line - 1] if line else 0)


class _Whole:
    """Today's way, and the fallback: the whole module generated."""

    def __init__(self, module: cst.Module) -> None:
        generated = _Generated(module, module)
        self._generated = generated
        self._line_ends = [m.end() for m in _NEWLINE.finditer(generated.text)]

    def start(self, node: cst.CSTNode) -> tuple[int, int]:
        offset = self._generated.offset(node)
        if offset is None:
            raise KeyError(f"{type(node).__name__} is not a node of this module")
        return _line_col(self._line_ends, offset)


class _Block:
    """A libcst block (``Module`` or ``IndentedBlock``) and its ``ast`` counterpart: which
    ``ast`` statement each libcst statement starts with. ``None`` entries: the counts differ."""

    def __init__(self, body: Sequence[cst.BaseStatement], ast_body: list[ast.stmt]) -> None:
        self.index = {id(stmt): i for i, stmt in enumerate(body)}
        firsts: Optional[list[ast.stmt]] = []
        n = 0
        for stmt in body:
            if n >= len(ast_body):
                firsts = None
                break
            firsts.append(ast_body[n])  # type: ignore[union-attr]
            n += len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
        self.firsts = firsts if firsts is not None and n == len(ast_body) else None

    def ast_of(self, stmt: cst.CSTNode) -> Optional[ast.stmt]:
        i = self.index.get(id(stmt))
        return None if i is None or self.firsts is None else self.firsts[i]


# the libcst statements that are entered, with the ast nodes they must correspond to
_ENTERED = {cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef), cst.ClassDef: (ast.ClassDef,)}
_SAME_KIND: dict[type, tuple[type, ...]] = {
    **_ENTERED, cst.If: (ast.If,), cst.For: (ast.For, ast.AsyncFor), cst.While: (ast.While,),
    cst.With: (ast.With, ast.AsyncWith), cst.Try: (ast.Try,),
}
if hasattr(ast, "TryStar"):  # Python >= 3.11
    _SAME_KIND[cst.TryStar] = (ast.TryStar,)


class Positions:
    """Starts of nodes of ``module``. ``source``: the text it was parsed from; ``parent_of``:
    parent links (the collector's) through which a node's statement is found; ``tree``: the
    CPython ``ast`` of that very text, parsed here when not given. Without ``source`` or
    ``parent_of`` the whole module is generated."""

    def __init__(self, module: cst.Module, source: str = "", parent_of: Optional[ParentOf] = None,
                 tree: Optional[ast.AST] = None) -> None:
        self._module = module
        self._source = source
        self._parent_of = parent_of
        self._tree = tree
        self._ast_body: "list[ast.stmt] | None | bool" = False  # False: not looked at yet
        self._whole: Optional[_Whole] = None
        self._blocks: dict[int, _Block] = {}  # id(body sequence's owner) -> block
        self._statements: dict[int, Optional[tuple[_Generated, int]]] = {}  # id(statement) -> (code, offset)
        self._line_ends: Optional[list[int]] = None  # of the source
        self.statements_generated = 0
        self.fell_back = False  # the whole module had to be generated (tests read it)

    def start(self, node: cst.CSTNode) -> tuple[int, int]:
        """(1-based line, 0-based column) where ``node`` starts."""
        if self._whole is None:
            if node is self._module:
                return 1, 0
            found = self._in_statement(node)
            if found is not None:
                return found
            self._whole = _Whole(self._module)
            self.fell_back = True
        return self._whole.start(node)

    # --- one statement ------------------------------------------------------------------

    def _in_statement(self, node: cst.CSTNode) -> Optional[tuple[int, int]]:
        if not self._source or self._parent_of is None:
            return None
        path = self._path(node)
        if path is None:
            return None
        statement, blocks, ast_statement = path
        key = id(statement)
        if key not in self._statements:
            self._statements[key] = self._place(statement, blocks, ast_statement)
        placed = self._statements[key]
        if placed is None:
            return None
        generated, base = placed
        offset = generated.offset(node)
        if offset is None:  # the parent links put the node in a statement that does not hold it
            return None
        assert self._line_ends is not None
        return _line_col(self._line_ends, base + offset)

    def _tree_body(self) -> Optional[list[ast.stmt]]:
        """The ``ast`` statements of the module; None when statements cannot be placed."""
        if self._ast_body is False:
            self._ast_body = None
            if not _has_backslash_line(self._source):  # else libcst's lines may not be the source's
                if self._tree is None:
                    self._tree = parse_ast(self._source)  # the prefilter's parse of this very text, if kept
                if isinstance(self._tree, ast.Module):
                    self._ast_body = self._tree.body
        return self._ast_body  # type: ignore[return-value]

    def _block(self, owner: cst.CSTNode, body: Sequence[cst.BaseStatement], ast_body: list[ast.stmt]) -> _Block:
        block = self._blocks.get(id(owner))
        if block is None:
            block = self._blocks[id(owner)] = _Block(body, ast_body)
        return block

    def _path(self, node: cst.CSTNode) -> Optional[tuple[cst.CSTNode, list[cst.IndentedBlock], ast.stmt]]:
        """The statement whose code is generated for ``node``, the blocks around it (outermost
        first), and its first ``ast`` statement."""
        chain = [node]
        parent = self._parent_of(node)  # type: ignore[misc]
        while parent is not None:
            chain.append(parent)
            parent = self._parent_of(parent)  # type: ignore[misc]
        if chain[-1] is self._module:
            chain.pop()  # the collector's links stop at the top-level statements, others' may not
        if not chain:
            return None
        ast_body = self._tree_body()
        if ast_body is None:
            return None
        k = len(chain) - 1
        statement = chain[k]
        ast_statement = self._block(self._module, self._module.body, ast_body).ast_of(statement)
        if ast_statement is None:
            return None
        blocks: list[cst.IndentedBlock] = []
        # into a def or class body: chain[k - 1] is its block, chain[k - 2] a statement of it
        while k >= 2 and type(statement) in _ENTERED and chain[k - 1] is statement.body:  # type: ignore[attr-defined]
            if not isinstance(ast_statement, _ENTERED[type(statement)]):
                return None
            block: cst.IndentedBlock = statement.body  # type: ignore[attr-defined]
            if not isinstance(block, cst.IndentedBlock):
                break
            inner = self._block(block, block.body, ast_statement.body).ast_of(chain[k - 2])  # type: ignore[attr-defined]
            if inner is None:  # counts differ, or the link skipped a level: generate the outer one
                break
            blocks.append(block)
            k -= 2
            statement, ast_statement = chain[k], inner
        return statement, blocks, ast_statement

    def _place(self, statement: cst.CSTNode, blocks: list[cst.IndentedBlock],
               ast_statement: ast.stmt) -> Optional[tuple[_Generated, int]]:
        """Generate ``statement`` and find where its text starts in the source; None when
        the ``ast`` and the text do not confirm it."""
        if isinstance(statement, cst.SimpleStatementLine):
            kinds_agree = True  # small statements vary too much to pair; the text check decides
        else:
            expected = _SAME_KIND.get(type(statement))
            kinds_agree = expected is None or isinstance(ast_statement, expected)
        if not kinds_agree:
            return None
        source = self._source
        if self._line_ends is None:
            self._line_ends = [m.end() for m in _NEWLINE.finditer(source)]
        line_ends = self._line_ends
        generated = _Generated(self._module, statement, blocks)
        self.statements_generated += 1
        text = generated.text
        start = generated.offset(statement)
        assert start is not None
        # the line of the syntactic start, in the generated text and in the source
        text_line = 0
        for match in _NEWLINE.finditer(text, 0, start):
            text_line = match.end()
        lineno = ast_statement.lineno
        if not 1 <= lineno <= len(line_ends) + 1 or start - text_line != ast_statement.col_offset:
            return None
        base = (line_ends[lineno - 2] if lineno > 1 else 0) - text_line
        if base < 0 or (base > 0 and source[base - 1] not in "\r\n") or (source[base - 1:base + 1] == "\r\n"):
            return None  # not at the start of a line
        if not source.startswith(text, base):
            # the module drops the final newline of a file without one (Module._codegen_impl)
            last = generated.tokens[-1] if generated.tokens else ""
            if (self._module.has_trailing_newline or not last or _NEWLINE.fullmatch(last) is None
                    or base + len(text) - len(last) != len(source)
                    or not source.startswith(text[:len(text) - len(last)], base)):
                return None
        return generated, base
