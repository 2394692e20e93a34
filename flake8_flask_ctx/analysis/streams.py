"""Where a view streams a generator: ``Response(gen())``, ``app.response_class(gen())``,
``return gen()`` from a view, or a same-module helper that hands its argument to
``Response``. Flask iterates the generator after the view has returned (runtime facts,
case 10): without ``stream_with_context`` it has no context at all (FCX400); with it, it
has the request, but the response's headers, and the session cookie among them, are
already sent (FCX401, FCX402).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional

import libcst as cst

from ..catalogue.flask_names import RESPONSE_CLASS_ATTRIBUTE, RESPONSE_CLASSES, STREAM_WITH_CONTEXT
from .model import BindingKind, FunctionInfo, Scope
from .tree import dotted_name

if TYPE_CHECKING:
    from . import ModuleAnalysis


@dataclass(frozen=True)
class Stream:
    node: cst.CSTNode  # the Response(...) call, or the view's return
    generator: FunctionInfo
    wrapped: bool  # under stream_with_context (the call or the decorator)
    view: FunctionInfo  # the function that builds the response


class Streams:
    def __init__(self, analysis: "ModuleAnalysis") -> None:
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
                  depth: int = 0, wrapped: bool = False) -> Optional[tuple[FunctionInfo, bool]]:
        """The generator function whose result ``expr`` is, and whether it is wrapped."""
        if expr is None or depth > 3:
            return None
        if isinstance(expr, cst.Name):
            bindings = self.resolver.lookup(scope, expr.value) or []
            if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
                return self.generator(bindings[0].value, scope, owner, depth + 1, wrapped)
            return None
        if not isinstance(expr, cst.Call):
            return None
        if self.is_wrapper(expr, scope):
            inner = expr.args[0].value if expr.args else None
            return self.generator(inner, scope, owner, depth + 1, wrapped=True)
        fn = self.resolver.function_of(expr.func, scope, owner)
        if fn is None or not fn.is_generator:
            return None
        return fn, wrapped or any(self.is_wrapper(d, fn.parent) for d in fn.decorators)

    def streaming_param(self, fn: FunctionInfo) -> Optional[int]:
        """Index of the parameter a helper passes to ``Response(...)``, if it does."""
        for call in fn.calls:
            if self.is_response(call.node.func, call.scope) and call.node.args:
                first = call.node.args[0].value
                if isinstance(first, cst.Name) and first.value in fn.params:
                    return fn.params.index(first.value)
        return None

    def streams(self) -> Iterator[Stream]:
        for fn in self.analysis.functions:
            for call in fn.calls:
                if self.is_response(call.node.func, call.scope) and call.node.args:
                    found = self.generator(call.node.args[0].value, call.scope, fn)
                    if found is not None:
                        yield Stream(call.node, found[0], found[1], fn)
                    continue
                helper = self.resolver.function_of(call.node.func, call.scope, fn)
                index = self.streaming_param(helper) if helper is not None and helper is not fn else None
                if index is not None and index < len(call.node.args):
                    found = self.generator(call.node.args[index].value, call.scope, fn)
                    if found is not None:
                        yield Stream(call.node, found[0], found[1], fn)
            if self.analysis.is_view(fn):
                for ret in fn.returns:
                    value = ret.value
                    if isinstance(value, cst.Tuple) and value.elements:  # ``return gen(), 200``
                        value = value.elements[0].value
                    found = self.generator(value, fn.scope, fn)
                    if found is not None:
                        yield Stream(ret, found[0], found[1], fn)
