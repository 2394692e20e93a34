"""FCX400: a generator that uses a context is streamed without ``stream_with_context``.

Flask sends a streamed body after the view has returned and its context is gone: a use
after the first ``yield`` cuts the body after a 200, a use before it turns into a 500
(runtime facts, case 10). Streaming happens through ``Response(gen())``,
``app.response_class(gen())``, a view returning ``gen()``, or a same-module helper that
passes its argument to ``Response``.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import BindingKind, FunctionInfo, Scope
from ..analysis.tree import dotted_name
from ..catalogue.contexts import RUNTIME_ERROR, Need
from ..catalogue.flask_names import (
    RESPONSE_CLASS_ATTRIBUTE,
    RESPONSE_CLASSES,
    STREAM_WITH_CONTEXT,
    VIEW_DECORATORS,
)
from ..findings import Finding
from ..options import match_dotted
from .base import FixKind, Rule
from .details import StreamedGenerator


class _Streams:
    def __init__(self, analysis: ModuleAnalysis) -> None:
        self.analysis = analysis
        self.resolver = analysis.resolver

    def is_response(self, func: cst.BaseExpression, scope: Scope) -> bool:
        if self.resolver.qualname(func, scope) in RESPONSE_CLASSES:
            return True
        return (dotted_name(func) or "").endswith("." + RESPONSE_CLASS_ATTRIBUTE)

    def is_wrapper(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        func = expr.func if isinstance(expr, cst.Call) else expr
        return self.resolver.qualname(func, scope) == STREAM_WITH_CONTEXT

    def generator(self, expr: Optional[cst.BaseExpression], scope: Scope, owner: FunctionInfo,
                  depth: int = 0) -> Optional[FunctionInfo]:
        """The unwrapped generator function whose result ``expr`` is, if any."""
        if expr is None or depth > 3:
            return None
        if isinstance(expr, cst.Name):
            bindings = self.resolver.lookup(scope, expr.value) or []
            if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
                return self.generator(bindings[0].value, scope, owner, depth + 1)
            return None
        if not isinstance(expr, cst.Call) or self.is_wrapper(expr, scope):
            return None
        fn = self.resolver.function_of(expr.func, scope, owner)
        if fn is None or not fn.is_generator or any(self.is_wrapper(d, fn.parent) for d in fn.decorators):
            return None
        return fn

    def streaming_param(self, fn: FunctionInfo) -> Optional[int]:
        """Index of the parameter a helper passes to ``Response(...)``, if it does."""
        for call in fn.calls:
            if self.is_response(call.node.func, call.scope) and call.node.args:
                first = call.node.args[0].value
                if isinstance(first, cst.Name) and first.value in fn.params:
                    return fn.params.index(first.value)
        return None

    def is_view(self, fn: FunctionInfo) -> bool:
        for d in fn.decorators:
            name = dotted_name(d.func if isinstance(d, cst.Call) else d) or ""
            if any(match_dotted(p, name) for p in VIEW_DECORATORS):
                return True
        return False

    def streamed(self) -> Iterator[tuple[cst.CSTNode, FunctionInfo]]:
        """(where it is streamed, the generator) pairs."""
        for fn in self.analysis.functions:
            for call in fn.calls:
                if self.is_response(call.node.func, call.scope) and call.node.args:
                    gen = self.generator(call.node.args[0].value, call.scope, fn)
                    if gen is not None:
                        yield call.node, gen
                    continue
                helper = self.resolver.function_of(call.node.func, call.scope, fn)
                index = self.streaming_param(helper) if helper is not None and helper is not fn else None
                if index is not None and index < len(call.node.args):
                    gen = self.generator(call.node.args[index].value, call.scope, fn)
                    if gen is not None:
                        yield call.node, gen
            if self.is_view(fn):
                for ret in fn.returns:
                    value = ret.value
                    if isinstance(value, cst.Tuple) and value.elements:  # ``return gen(), 200``
                        value = value.elements[0].value
                    gen = self.generator(value, fn.scope, fn)
                    if gen is not None:
                        yield ret, gen


def check(analysis: ModuleAnalysis) -> Iterator[Finding]:
    for node, gen in _Streams(analysis).streamed():
        needs = analysis.workers.needs(gen)
        if not needs:
            continue
        local = [c for c in needs.values() if c.use is not None]
        chain = min(local, key=lambda c: c.use.ref.order) if local else next(iter(needs.values()))
        yield RULE.finding(analysis, node, StreamedGenerator(gen, chain), gen=gen.name, what=chain.written,
                           at=chain.at(analysis))


RULE = Rule(
    "FCX400",
    "a generator that uses a context is streamed without stream_with_context",
    "generator {gen}() uses {what} ({at}) but is streamed without "
    "stream_with_context: the response starts with 200 and the body is cut when the "
    f"generator runs after the request ended ({RUNTIME_ERROR[Need.REQUEST]}; a use before the first yield "
    "gives a 500). Wrap it: stream_with_context({gen}()) or @stream_with_context, or "
    "read the values before building the generator",
    check,
    fixes=(FixKind.STREAM_WITH_CONTEXT,),
)
