"""What a rule is: one code, its message, its check over a module's analysis, and its fixes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Callable, Iterable, Optional

from ..findings import Detail, Finding
from ..off_by_default import OFF_BY_DEFAULT

if TYPE_CHECKING:
    import libcst as cst

    from ..analysis import ModuleAnalysis


class FixKind(Enum):
    """The rewrites a rule can offer. ``fixes/`` implements each one; a rule lists those that
    apply to its findings, in the order the fixer tries them."""

    HOIST = "hoist"  # read the values in the view and pass them to the worker
    APP_CONTEXT = "app-context"  # the worker pushes the app's context itself
    COPY_PER_WORKER = "copy"  # copy_current_request_context, one copy per worker or task
    MOVE_COPY_INTO_VIEW = "move-copy"  # drop a copy made at import time; its spawns get one
    UNWRAP_PROXY = "proxy"  # pass the object behind a proxy
    STREAM_WITH_CONTEXT = "stream"  # wrap a streamed generator


class Level(Enum):
    """How sure the failure is: an error fails every time the code runs, a warning depends
    on timing, the server or the Flask version."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    template: str  # the message after the code, with ``{field}`` blanks
    check: Callable[["ModuleAnalysis"], Iterable[Finding]]
    fixes: tuple[FixKind, ...] = ()
    level: Level = Level.ERROR
    # found only where threads inherit the starting code's context (``thread-inherit-context``,
    # Python 3.14t): fixtures in fixtures/inherit/, examples checked with that setting
    inherited_contexts: bool = False

    @property
    def default(self) -> bool:
        """Reported unless deselected (``off_by_default.OFF_BY_DEFAULT`` lists the others)."""
        return self.code not in OFF_BY_DEFAULT

    def message(self, **fields: object) -> str:
        """The full message text: starts with the code, as flake8 expects."""
        return f"{self.code} {self.template.format(**fields)}"

    def finding(self, analysis: "ModuleAnalysis", node: cst.CSTNode, detail: Optional[Detail] = None,
                **fields: object) -> Finding:
        line, col = analysis.position(node)
        steps = detail.steps(analysis) if detail is not None else ()
        return Finding(self.code, line, col, self.message(**fields), node, detail, steps,
                       analysis.scope_name(node))
