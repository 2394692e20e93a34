"""Strategy 4, streams: wrap the streamed generator in ``stream_with_context``."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..catalogue.flask_names import STREAM_WITH_CONTEXT
from ..findings import Finding
from ..rules.details import StreamedGenerator
from .context import FixContext

MODULE, WRAPPER = STREAM_WITH_CONTEXT.rsplit(".", 1)


def _generator_arg(ctx: FixContext, node: cst.CSTNode, gen) -> Optional[cst.BaseExpression]:
    if isinstance(node, cst.Return):
        value = node.value
        if isinstance(value, cst.Tuple) and value.elements:  # ``return gen(), 200``
            return value.elements[0].value
        return value
    if not isinstance(node, cst.Call):
        return None
    for arg in node.args:
        value = arg.value
        if isinstance(value, cst.Call):
            func = value.func
            if isinstance(func, cst.Name) and func.value == gen.name:
                return value
            if isinstance(func, cst.Attribute) and func.attr.value == gen.name:
                return value
        if isinstance(value, cst.Name):
            return value if arg is node.args[0] else None
    return None


def wrap_stream(ctx: FixContext, finding: Finding) -> bool:
    detail = finding.detail
    if not isinstance(detail, StreamedGenerator):
        return False
    gen = detail.generator
    expr = _generator_arg(ctx, finding.node, gen)
    if expr is None or not ctx.plan.claim(expr):
        return False
    ctx.plan.replace[id(expr)] = cst.Call(cst.Name(WRAPPER), [cst.Arg(expr)])
    ctx.plan.imports.add((MODULE, WRAPPER))
    ctx.note(finding, f"wrapped {gen.name}() in {WRAPPER}(...)")
    return True
