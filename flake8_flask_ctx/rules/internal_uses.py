"""Where a module uses Flask's internals: shared by FCX300 (removed ones) and FCX301 (private
ones that still exist).

A use is an import of an internal name, or an attribute path through one
(``flask._app_ctx_stack.top``). Code that runs only where the old name exists is not a use:
an import inside ``try: ... except ImportError:``, a branch for Flask versions without a newer
name (``if hasattr(flask.globals, "request_ctx"): ... else: ...``), or behind a version test.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..analysis import ModuleAnalysis
from ..analysis.model import BindingKind
from ..catalogue.flask_names import canonical
from ..catalogue.internals import INTERNALS


def _internal(qualname: Optional[str]) -> Optional[str]:
    return canonical(qualname) if qualname and canonical(qualname) in INTERNALS else None


def _internal_prefix(qualname: Optional[str]) -> Optional[str]:
    """The internal that ``qualname`` goes through: ``flask._app_ctx_stack`` for ``....top``."""
    parts = (qualname or "").split(".")
    for i in range(2, len(parts) + 1):
        name = _internal(".".join(parts[:i]))
        if name is not None:
            return name
    return None


def internal_uses(analysis: ModuleAnalysis) -> Iterator[tuple[cst.CSTNode, str]]:
    """(node, internal's qualified name) for each use outside a compatibility idiom."""
    resolver = analysis.resolver
    for scope in analysis.facts.scopes:
        for bindings in scope.bindings.values():
            for b in bindings:
                name = _internal(b.qualname) if b.kind is BindingKind.IMPORT else None
                if name is not None and not resolver.compatibility_only(b.guards):
                    yield b.node, name
    for ref in analysis.facts.all_refs():
        if not ref.attrs:
            continue
        base = resolver.qualname_of_name(ref.scope, ref.name)
        if base is None or _internal_prefix(base):
            continue  # the import itself is the use
        name = _internal_prefix(".".join((base, *ref.attrs)))
        if name is not None and not resolver.compatibility_only(ref.guards):
            yield ref.node, name
