"""Line and column of reported nodes, at a fraction of PositionProvider's cost.

libcst's PositionProvider builds a CodeRange for every node and splits every token on
newlines (~14x an ``ast.parse``; README, Speed). A finding needs the start of a few
nodes, so this runs the plain code generator (~2x) with a state that only notes how many
tokens came before each node's syntactic start, and turns offsets into (line, column)
for the nodes asked about. The starts are the ones PositionProvider reports (a test
compares them node by node).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from contextlib import contextmanager
from itertools import accumulate
from typing import Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")


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


class Positions:
    def __init__(self, module: cst.Module) -> None:
        state = _StartRecorder(module)
        module._codegen(state)
        self._starts = state.starts
        self._offsets = [0, *accumulate(map(len, state.tokens))]  # char offset of token i
        text = "".join(state.tokens)
        self._line_ends = [m.end() for m in _NEWLINE.finditer(text)]

    def start(self, node: cst.CSTNode) -> tuple[int, int]:
        """(1-based line, 0-based column) where ``node`` starts."""
        offset = self._offsets[self._starts[id(node)]]
        line = bisect_right(self._line_ends, offset)
        column = offset - (self._line_ends[line - 1] if line else 0)
        return line + 1, column
