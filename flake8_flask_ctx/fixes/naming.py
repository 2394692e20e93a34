"""Names for hoisted values: after what they hold, never clashing with what is there.

``request.args.get("doc_id", "")`` becomes ``doc_id``; ``g.user`` becomes ``user``;
``current_app.config["MAIL_SENDER"]`` becomes ``mail_sender``; ``url_for("index")``
becomes ``index_url``. A taken name gets a ``_value`` suffix, then a number.
"""

from __future__ import annotations

import ast
import keyword
import re
from typing import Iterable, Optional

import libcst as cst

from ..catalogue.flask_names import PROXY_OBJECTS

_HELPER_SUFFIX = {"url_for": "url", "render_template": "html", "render_template_string": "html",
                  "jsonify": "response", "get_flashed_messages": "messages"}
_GENERIC = {"get", "getlist", "get_json", "get_data", "to_dict", "copy", "read", "json", "data", "form",
            "args", "values"}


def _identifier(text: str) -> Optional[str]:
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", text).strip("_").lower()
    if not name:
        return None
    if name[0].isdigit():
        name = f"value_{name}"
    return None if keyword.iskeyword(name) else name


def _string_value(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, str) else None
    return None


def describe(expr: cst.BaseExpression) -> str:
    """A name for the value ``expr`` computes."""
    if isinstance(expr, cst.Call):
        func = expr.func
        method = func.attr.value if isinstance(func, cst.Attribute) else (
            func.value if isinstance(func, cst.Name) else "")
        first = _string_value(expr.args[0].value) if expr.args else None
        if method in _HELPER_SUFFIX:
            base = _identifier(first.rsplit(".", 1)[0]) if first else None
            return f"{base}_{_HELPER_SUFFIX[method]}" if base else _HELPER_SUFFIX[method]
        if method in ("get", "getlist") and first:
            return _identifier(first) or "value"
        if isinstance(func, cst.Attribute):
            inner = describe(func.value)
            if method in ("get_json", "json"):
                return "payload"
            if method in ("get_data", "read"):
                return f"{inner}_data" if inner not in ("request", "data") else "body"
            return inner
        return "value"
    if isinstance(expr, cst.Subscript) and expr.slice:
        element = expr.slice[0].slice
        if isinstance(element, cst.Index):
            key = _string_value(element.value)
            if key:
                return _identifier(key) or "value"
        return describe(expr.value)
    if isinstance(expr, cst.Attribute):
        attr = expr.attr.value
        if attr == "json":
            return "payload"
        if attr in ("form", "args", "values", "files", "headers", "cookies"):
            return f"{attr}"
        if attr in _GENERIC:
            return describe(expr.value) + f"_{attr}"
        if attr == "name" and isinstance(expr.value, cst.Name) and expr.value.value == "current_app":
            return "app_name"
        return _identifier(attr) or "value"
    if isinstance(expr, cst.Name):
        return _identifier(expr.value) or "value"
    return "value"


def unique(base: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    if base not in taken and base not in _BUILTINS:
        return base
    candidate = f"{base}_value"
    n = 2
    while candidate in taken or candidate in _BUILTINS:
        candidate = f"{base}_{n}"
        n += 1
    return candidate


# Never a hoisted value's name: builtins, the proxies' own names, ``self``.
_BUILTINS = frozenset(dir(__import__("builtins"))) | {q.rsplit(".", 1)[1] for q in PROXY_OBJECTS} | {"self"}
