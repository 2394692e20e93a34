"""The one way this package walks a libcst tree: over the fields that hold code.

libcst's own visitor dispatches ``visit_<Node>`` hooks for every node and every whitespace
token, which costs ~7x an ``ast.parse`` on its own (README, Speed). The fields that can
hold code are few, so the collector and the fixer walk those only, through ``code_fields``;
everything else (commas, parentheses, whitespace) is never visited.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

# Besides punctuation and whitespace: the names that are never loads (``x.attr``, ``f(kw=1)``,
# ``def name``, ``import name``, ``except E as name``); the collector binds those itself.
_SKIPPED_FIELDS = frozenset({
    "attr", "keyword", "name",
    "lpar", "rpar", "comma", "semicolon", "leading_lines", "lines_after_decorators", "header",
    "footer", "newline", "trailing_whitespace", "colon", "dot", "equal", "lbracket", "rbracket",
    "lbrace", "rbrace", "first_line", "asynchronous", "default_indent", "default_newline",
    "encoding", "has_trailing_newline", "indent", "operator", "star",
})
_FIELDS: dict[type, tuple[str, ...]] = {}


def code_fields(node_type: type) -> tuple[str, ...]:
    """The fields of a node type that can hold code (cached per type)."""
    fields = _FIELDS.get(node_type)
    if fields is None:
        fields = _FIELDS[node_type] = tuple(
            name for name in node_type.__dataclass_fields__
            if name not in _SKIPPED_FIELDS and not name.startswith("whitespace"))
    return fields


def code_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for name in code_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif type(value) in (list, tuple):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def iter_code(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and every node of code below it, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(code_children(current))


_OWN_SCOPE = (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.NamedExpr)


def loaded_names(expr: cst.CSTNode) -> Optional[list[str]]:
    """The names an expression loads; None if part of it has a scope of its own (a lambda,
    a comprehension) or binds a name (``:=``), so that its names cannot be judged from here."""
    names = []
    for node in iter_code(expr):
        if isinstance(node, _OWN_SCOPE):
            return None
        if isinstance(node, cst.Name):
            names.append(node.value)
    return names


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


class Parents:
    """Parent links of the nodes the collector walked (libcst nodes do not keep them)."""

    def __init__(self, links: dict[int, Optional[cst.CSTNode]]) -> None:
        self._links = links

    def of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self._links.get(id(node))

    def inside(self, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
        """Is ``node`` ``ancestor`` or somewhere below it?"""
        current: Optional[cst.CSTNode] = node
        while current is not None:
            if current is ancestor:
                return True
            current = self.of(current)
        return False

    def statement_of(self, node: cst.CSTNode) -> Optional[cst.BaseStatement]:
        """The statement directly inside a block (IndentedBlock or Module) containing ``node``."""
        current: Optional[cst.CSTNode] = node
        while current is not None:
            parent = self.of(current)
            if isinstance(parent, (cst.IndentedBlock, cst.Module)) and isinstance(current, cst.BaseStatement):
                return current
            current = parent
        return None
