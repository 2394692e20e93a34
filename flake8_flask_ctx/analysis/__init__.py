"""Facts about one module, computed once and shared by every rule and fix.

``analyze()`` parses with libcst, collects scopes/bindings/loads/calls/guards in one
traversal (``collector``), and resolves them afterwards (``resolve``): what each name is,
which contexts the guards around each load give. ``workers`` finds the spawn sites and
what each worker needs; ``lifetimes`` whether the spawner waits for it. Positions cost
code generation (of the statements that hold the nodes asked about, ``positions``), so
they are computed on ``position()`` calls only, i.e. only for modules with a finding.
"""

from __future__ import annotations

import ast
import re
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Optional

import libcst as cst

from ..catalogue.spawners import SERIALIZER_NAMES, Serializer, Spawner
from ..options import Options
from ..runtime import runtime_of
from .collector import collect
from .model import FunctionInfo, ModuleFacts
from .positions import Positions
from .resolve import Resolver
from .streams import Stream, Streams
from .views import is_view
from .workers import SpawnSite, WorkerAnalysis

if TYPE_CHECKING:
    from ..project.index import ProjectIndex


# ``config["SERVER_NAME"] = ...``, ``SERVER_NAME="..."``, ``{"SERVER_NAME": ...}``; not a mention
_SETS_SERVER_NAME = re.compile(r"""SERVER_NAME['"]?\s*(?:\]\s*=|=|:)""")


@lru_cache(maxsize=8)
def _setting_pattern(name: str) -> "re.Pattern[str]":
    return re.compile(rf"""\b{re.escape(name)}['"]?\s*(?:\]\s*=|=|:)\s*['"](\w+)['"]""")


def _setting_values(text: str, name: str) -> frozenset[str]:
    """The string values the module gives setting ``name``: ``name="v"``, ``x.name = "v"``,
    ``{"name": "v"}``, ``config["name"] = "v"`` (a text scan, as for SERVER_NAME)."""
    return frozenset(_setting_pattern(name).findall(text))


class ModuleAnalysis:
    """``name``/``package``: the module's dotted name (relative imports resolve against it);
    ``project``: the project index, through which workers are followed into other modules."""

    def __init__(self, module: cst.Module, options: Optional[Options] = None, source: str = "",
                 name: Optional[str] = None, package: bool = False,
                 project: Optional["ProjectIndex"] = None, path: Optional[str] = None,
                 tree: Optional[ast.AST] = None) -> None:
        self.module = module
        self.options = options or Options()
        self.project = project
        self.facts: ModuleFacts = collect(module)
        self.resolver = Resolver(self.facts, self.options, name, package)
        # url_for works in a bare app context only when SERVER_NAME is set (runtime facts, case 9)
        server_name = _SETS_SERVER_NAME.search(source or module.code) is not None
        self.runtime = runtime_of(self.options, path)
        self.workers = WorkerAnalysis(self.facts, self.resolver, self.options, server_name, project=project,
                                      runtime=self.runtime)
        # what the guards around each load and call give; ``if app_obj:`` tests need to know
        # what every caller passes, so the spawn sites (which need no guards) come first
        self.resolver.truthy_source = self.workers.truthy_params
        for ref in self.facts.all_refs():
            ref.covered = self.resolver.covered(ref.guards)
        for call, _ in self.facts.all_calls():
            call.covered = self.resolver.covered(call.guards)
        self._positions: Optional[Positions] = None
        self._source = source
        self._tree = tree  # CPython's ast of ``source``, when the caller has it (positions use it)
        self._settings: dict[str, frozenset[str]] = {}

    def serializer(self, spawner: Spawner) -> Optional[Serializer]:
        """How ``spawner`` sends arguments here: its default, unless the module sets its
        queue's serializer setting to one value (``Celery(task_serializer="pickle")``)."""
        if spawner.serializer_setting is None:
            return spawner.serializer
        setting = spawner.serializer_setting
        if setting not in self._settings:  # one scan of the text per setting
            self._settings[setting] = _setting_values(self._source or self.module.code, setting)
        values = self._settings[setting]
        chosen = SERIALIZER_NAMES.get(next(iter(values))) if len(values) == 1 else None
        return chosen or spawner.serializer

    @cached_property
    def spawn_sites(self) -> list[SpawnSite]:
        return self.workers.spawn_sites()

    @cached_property
    def streams(self) -> list[Stream]:
        return list(Streams(self).streams())

    def is_view(self, fn: FunctionInfo) -> bool:
        """Is ``fn`` decorated as a view (``@app.route``, ``@bp.get``)? It runs in a request."""
        return is_view(fn)

    @property
    def functions(self) -> list[FunctionInfo]:
        return self.facts.functions

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        """(line, column) of ``node``: 1-based line, 0-based column, as flake8 wants."""
        if self._positions is None:
            self._positions = Positions(self.module, self._source, self.facts.parents.of, self._tree)
        return self._positions.start(node)

    def line(self, node: cst.CSTNode) -> int:
        return self.position(node)[0]

    def scope_name(self, node: cst.CSTNode) -> str:
        """``View.get.worker``: the defs and classes around ``node``, outermost first."""
        names = []
        current = self.facts.parents.of(node)
        while current is not None:
            if isinstance(current, (cst.FunctionDef, cst.ClassDef)):
                names.append(current.name.value)
            current = self.facts.parents.of(current)
        return ".".join(reversed(names))


def analyze(source: str, options: Optional[Options] = None, module: Optional[str] = None,
            package: bool = False, project: Optional["ProjectIndex"] = None,
            path: Optional[str] = None, tree: Optional[ast.AST] = None) -> ModuleAnalysis:
    """Parse ``source`` and analyse it; raises libcst's ParserSyntaxError on bad input.
    ``path``: where the text comes from (the runtime setting may come from its project);
    ``tree``: CPython's ``ast`` of this very text, when the caller has it (flake8's)."""
    return ModuleAnalysis(cst.parse_module(source), options, source, module, package, project, path, tree)
