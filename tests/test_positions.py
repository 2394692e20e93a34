"""Our cheap positions agree with libcst's PositionProvider on every node of every fixture."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from support.marks import FIXTURES
from flake8_flask_ctx.analysis.positions import Positions

FILES = sorted(FIXTURES.rglob("*.py"))


class _All(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        return True


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_starts_match_position_provider(path: Path) -> None:
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    collector = _All()
    module.visit(collector)
    ours = Positions(module)
    for node in collector.nodes:
        start = expected[node].start
        assert ours.start(node) == (start.line, start.column), (type(node).__name__, start)


def test_crlf_and_tabs() -> None:
    source = "import threading\r\nif x:\r\n\tthreading.Thread(target=f)\r\n"
    module = cst.parse_module(source)
    call = module.body[1].body.body[0].body[0].value
    assert Positions(module).start(call) == (3, 1)
