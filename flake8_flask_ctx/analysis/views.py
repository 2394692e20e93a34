"""Which functions are views: they run in a request, and what they start may inherit it."""

from __future__ import annotations

import libcst as cst

from ..catalogue.flask_names import VIEW_DECORATORS
from ..options import match_dotted
from .model import FunctionInfo
from .tree import dotted_name


def is_view(fn: FunctionInfo) -> bool:
    """Is ``fn`` decorated as a view (``@app.route``, ``@bp.get``)?"""
    for decorator in fn.decorators:
        name = dotted_name(decorator.func if isinstance(decorator, cst.Call) else decorator) or ""
        if any(match_dotted(pattern, name) for pattern in VIEW_DECORATORS):
            return True
    return False
