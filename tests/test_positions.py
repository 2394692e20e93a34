"""Our cheap positions agree with libcst's PositionProvider on every node of every fixture.

The way ModuleAnalysis asks (the source, the collector's parent links: only the statement
holding a node is generated, placed by the ``ast``), with complete parent links (every
node, so that every kind of node is placed through its statement), and the fallback (the
whole module generated) are each compared with PositionProvider.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from support.marks import FIXTURES
from flake8_flask_ctx.analysis import analyze
from flake8_flask_ctx.analysis import positions as positions_module
from flake8_flask_ctx.analysis.positions import Positions

FILES = sorted(FIXTURES.rglob("*.py"))


class _All(cst.CSTVisitor):
    """Every node, in order, with its parent."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[cst.CSTNode] = []
        self.parents: dict[int, Optional[cst.CSTNode]] = {}
        self._stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.parents[id(node)] = self._stack[-1] if self._stack else None
        self.nodes.append(node)
        self._stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._stack.pop()

    def parent_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self.parents.get(id(node))

    def in_module_edges(self, module: cst.Module, node: cst.CSTNode) -> bool:
        """Is ``node`` in the module's header or footer (comments outside every statement)?"""
        edges = {id(line) for line in (*module.header, *module.footer)}
        current: Optional[cst.CSTNode] = node
        while current is not None:
            if id(current) in edges:
                return True
            current = self.parent_of(current)
        return False


def _expected(module: cst.Module) -> dict[cst.CSTNode, tuple[int, int]]:
    ranges = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {node: (r.start.line, r.start.column) for node, r in ranges.items()}


def compare(source: str, *, falls_back: bool = False, tree: Optional[ast.AST] = None) -> Positions:
    """Compare every node's start with PositionProvider: through statements with complete
    parent links first (the module's header and footer last, as they need the fallback),
    then the way ModuleAnalysis asks, then the whole-module fallback. Returns the first."""
    analysis = analyze(source)
    module = analysis.module
    expected = _expected(module)
    nodes = _All()
    module.visit(nodes)

    ours = Positions(module, source, nodes.parent_of, tree)
    inner = [n for n in nodes.nodes if not nodes.in_module_edges(module, n)]
    for node in inner:
        assert ours.start(node) == expected[node], (type(node).__name__, expected[node])
    assert ours.fell_back is falls_back
    for node in nodes.nodes:
        assert ours.start(node) == expected[node], (type(node).__name__, expected[node])

    # ModuleAnalysis: the collector's links, the source, the prefilter's ast (parsed here)
    top = {id(statement) for statement in module.body}
    linked = [n for n in inner if analysis.facts.parents.of(n) is not None or id(n) in top]
    for node in linked:
        assert analysis.position(node) == expected[node], (type(node).__name__, expected[node])
    assert analysis._positions is None or analysis._positions.fell_back is (falls_back and tree is None)

    whole = Positions(module)  # no source: the whole module is generated
    for node in nodes.nodes:
        assert whole.start(node) == expected[node], (type(node).__name__, expected[node])
    assert whole.fell_back or not nodes.nodes[1:]
    return ours


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_starts_match_position_provider(path: Path) -> None:
    ours = compare(path.read_text(encoding="utf-8"))
    assert ours.statements_generated or not cst.parse_module(path.read_text(encoding="utf-8")).body


def test_crlf_and_tabs() -> None:
    source = "import threading\r\nif x:\r\n\tthreading.Thread(target=f)\r\n"
    compare(source)
    analysis = analyze(source)
    call = analysis.module.body[1].body.body[0].body[0].value
    assert analysis.position(call) == (3, 1)
    assert not analysis._positions.fell_back


DECORATED = '''\
import functools


@functools.lru_cache
# a comment between decorators
@functools.wraps(print)  # and one after one

# and one after the decorators, after a blank line
def decorated(a,
              b):
    return a


@dataclass
# between
@other(
    arg=1,
)
class Decorated:
    @property
    # inside
    @functools.cache
    def method(self):
        x = 1; y = 2
        return x

    @staticmethod
    async def coroutine():
        await thing()


@decorator
async def top_coroutine():
    async with lock:
        pass
'''


@pytest.mark.parametrize("source", [
    DECORATED,
    "a = 1; b = 2\nc = 3;\nd = 4; e = 5;  # comment\ndef f():\n    g = 1; h = 2\n    return g; h\n",
    "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n\n# header comment\n\nimport os\n\n\n# footer comment\n",
    "# only a header\n",
    "",
    "\n\n",
    "x = 1",  # no trailing newline
    "def f():\n    return 1",  # no trailing newline, inside a def
    "def f():\n    return 1\n# footer, no trailing newline",
    "def f():\n    return 1\n    # the block's footer\n\n",
    "x = 1\r\ny = 2\r\n\r\ndef f():\r\n\treturn x  # tab\r\n",
    "x = 1\ry = 2\rdef f():\r    return x\r",  # lone CR
    "x = 1\r\ny = 2\n\rz = 3\r",  # mixed newlines
    "class C:\n\tdef m(self):\n\t\tif x:\n\t\t\treturn 1\n\t\treturn 2\n",
    "class C:\n  def m(self):\n        return 1\n  def n(self):\n   return 2\n",  # uneven indents
    's = """\nline one\n    line two\n"""\nt = 1\ndef f():\n    """Doc\n    string."""\n    return t\n',
    'x = f("""\n""", 1); y = 2\nz = 3\n',
    "x = 1 + \\\n    2\ny = 3\n",  # a continuation line
    "if x: pass\nelse: y = 1\ndef f(): return 1\nclass C: pass\nwhile x: break\n",
    "for i in x:\n    pass\nelse:\n    pass\ntry:\n    a()\nexcept E as e:\n    b()\nfinally:\n    c()\n",
    "with a as b, c:\n    d()\nmatch x:\n    case [1, *rest]:\n        pass\n    case _:\n        pass\n",
    's = "é日本"; t = s\ndef f():\n    u = "ü"; return u\n',  # columns count characters
    "def outer():\n    def inner():\n        class Local:\n            def m(self):\n                return 1\n"
    "        return Local\n    return inner\n",
    "def f():\n    x = 1\n\n        # comment deeper than the block\n# comment at column 0\n    return x\n",
    "@a\n\n\n@b\n\ndef f(): pass\n",
], ids=lambda s: repr(s[:30]))
def test_cases(source: str) -> None:
    compare(source)


def test_form_feed_falls_back() -> None:
    """CPython's column of a statement after a form feed is not libcst's: the check sees it."""
    compare("x = 1\n\x0cdef f():\n    return 1\n", falls_back=True)


@pytest.mark.parametrize("source", [
    "\\\nx = 1\n", "# c\n\\\nx = 1\n", "\n\\\r\nx = 1\r\n", "x = 1\r\\\ry = 2\r",
    "def f():\n    pass\n\\\nx = 1\n",  # libcst moves x into f: the counts differ too
    "x = 1\n\\\n\ny = 2\n",  # kept by libcst, but not looked at more closely
])
def test_backslash_lines_fall_back(source: str) -> None:
    """libcst drops a line that is only a backslash continuation before a statement: its
    lines (PositionProvider's, and so far ours) are then not the source's."""
    compare(source, falls_back=True)


def test_the_analysis_uses_the_tree_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """flake8's tree reaches the positions: the text is not parsed again."""
    source = "import os\n\n\ndef f():\n    return os.sep\n"
    tree = ast.parse(source)
    monkeypatch.setattr(positions_module, "parse_ast", lambda text: pytest.fail("parsed again"))
    analysis = analyze(source, tree=tree)
    node = analysis.module.body[1].body.body[0].body[0].value
    assert analysis.position(node) == (5, 11)
    assert not analysis._positions.fell_back and analysis._positions.statements_generated == 1


def test_a_finding_in_a_method_generates_that_method_only() -> None:
    methods = "".join(f"    def m{i}(self):\n        return {i}\n\n" for i in range(50))
    source = f"import threading\n\n\nclass Big:\n{methods}"
    analysis = analyze(source)
    klass = analysis.module.body[1]
    ret = klass.body.body[30].body.body[0].body[0]
    assert analysis.position(ret) == (4 + 3 * 30 + 2, 8)
    positions = analysis._positions
    assert positions.statements_generated == 1 and not positions.fell_back
    assert analysis.position(klass) == (4, 0)  # the class itself: its statement is generated
    assert positions.statements_generated == 2 and not positions.fell_back


def _nodes(source: str) -> tuple[cst.Module, _All]:
    module = cst.parse_module(source)
    nodes = _All()
    module.visit(nodes)
    return module, nodes


def test_a_tree_of_other_text_falls_back() -> None:
    source = "import os\n\n\ndef f():\n    x = 1; y = 2\n    return x\n"
    # lines shifted by one: the text is not where the ast puts it
    compare(source, tree=ast.parse("\n" + source), falls_back=True)
    # a statement more, and one fewer: the counts differ
    compare(source, tree=ast.parse(source + "z = 1\n"), falls_back=True)
    compare(source, tree=ast.parse("import os\n"), falls_back=True)
    # the same lines, other kinds of statement
    compare(source, tree=ast.parse("import os\n\n\nclass f:\n    x = 1; y = 2\n    return x\n"),
                 falls_back=True)
    # the same statements, another column
    compare("def f():\n    y = 1\n", tree=ast.parse("def f():\n     y = 1\n"), falls_back=True)
    compare(source, tree=ast.parse("x = (1)"), falls_back=True)


def test_no_source_no_links_no_ast_fall_back() -> None:
    source = "def f():\n    return 1\n"
    module, nodes = _nodes(source)
    expected = _expected(module)
    node = module.body[0].body.body[0].body[0]
    for positions in (Positions(module), Positions(module, "", nodes.parent_of),
                      Positions(module, source), Positions(module, source, lambda n: None)):
        assert positions.start(node) == expected[node] == (2, 4)
        assert positions.fell_back and positions.statements_generated == 0


def test_ast_that_does_not_parse_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # libcst's parser rejects what CPython's does; should one accept more, parse_ast is None
    monkeypatch.setattr(positions_module, "parse_ast", lambda source: None)
    source = "def f():\n    return 1\n"
    module, nodes = _nodes(source)
    positions = Positions(module, source, nodes.parent_of)
    node = module.body[0].body.body[0].body[0]
    assert positions.start(node) == _expected(module)[node] == (2, 4)
    assert positions.fell_back


def test_links_to_the_wrong_statement_fall_back() -> None:
    source = "x = 1\ny = 2\n"
    module, nodes = _nodes(source)
    first, second = module.body
    name = second.body[0].targets[0].target
    positions = Positions(module, source, lambda n: first if n is name else None)
    assert positions.start(name) == (2, 0)
    assert positions.fell_back


def test_the_module_is_at_the_start() -> None:
    source = "# header\n\nx = 1\n"
    module, nodes = _nodes(source)
    positions = Positions(module, source, nodes.parent_of)
    assert positions.start(module) == _expected(module)[module] == (1, 0)
    assert not positions.fell_back
