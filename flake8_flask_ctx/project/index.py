"""The project index: other modules' summaries, followed across modules on demand.

Nothing is analysed up front. A checked file asks about a qualified name it imports
(``services.messaging.MessageService.send``); the index finds the module (the longest prefix
that is one, following re-exports through ``__init__``), takes its summary from the cache or
computes it, and composes what the function needs across modules: its own uses plus those of
the project functions it calls, minus the contexts pushed around each call, with a bounded
depth and no cycle blow-up. Only ``spawner_names`` and ``has_context_task`` look at every
module, as text (``module_facts.py``, which keeps what they read by ``stat``): the names of
module-level functions and objects whose code holds a spawner's word, so that the prefilter
lets through a file that uses a spawning decorator or an executor made elsewhere.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator, Optional

from ..catalogue.contexts import Need
from ..catalogue.flask_names import satisfied
from ..options import Options
from .cache import SummaryCache
from .layout import iter_modules, module_name, source_roots
from .module_facts import ModuleFacts

if TYPE_CHECKING:  # imported where used: a warm check that reads no file needs neither
    from ..prefilter import ProjectHints

MAX_DEPTH = 12


@dataclass(frozen=True)
class ExternalUse:
    """A context use in another module: what, where, and how the function reaches it."""

    need: Need
    written: str
    qualname: str
    member: Optional[str]
    path: str  # relative to the project root, with "/"
    line: int
    col: int
    chain: tuple[tuple[str, str], ...]  # (function display, its file) from the first to the use's

    def describe(self) -> str:
        """``MessageService.send() -> _format()``, naming a file only where the chain leaves
        it for another (the use's own file is in the message's location):
        ``send() (services/messaging.py) -> render() -> _format()``."""
        parts = []
        for index, (name, path) in enumerate(self.chain):
            following = self.chain[index + 1][1] if index + 1 < len(self.chain) else self.path
            parts.append(name if following == path else f"{name} ({path})")
        return " -> ".join(parts)


@dataclass(eq=False)
class Reads:
    """What one analysis read of the project: the modules whose summaries it looked up (a
    lookup that found nothing included) and whether it asked ``has_context_task``. The
    module list and the prefilter's hints are read by every analysis in project mode."""

    modules: set[str] = field(default_factory=set)
    context_task: bool = False


@dataclass(frozen=True)
class ProjectFunction:
    qualname: str
    display: str  # ``MessageService.send``
    path: str  # relative to the project root
    summary: dict


class ProjectIndex:
    def __init__(self, root: str, options: Options, cache: bool = True) -> None:
        self.root = root
        self.roots = source_roots(root)
        self.options = options
        shared = _SHARED_SUMMARIES[0]
        self.cache = SummaryCache(root if cache else shared, options_key(options)) if cache or shared else None
        self.facts = ModuleFacts(root, on_disk=cache)  # each module's hash and text hints
        self._modules: Optional[dict[str, str]] = None
        self._summaries: dict[str, Optional[dict]] = {}
        self._needs: dict[str, dict[Need, ExternalUse]] = {}
        self._spawner_names: Optional[frozenset[str]] = None
        self._hints: Optional[ProjectHints] = None
        self._context_task: Optional[bool] = None
        self.computed = 0  # summaries this process computed (not read from the cache)
        # What the analyses in progress read of the project (``recording``): the result cache
        # (``results.py``) keeps it with a file's findings and checks it before reusing them.
        self._recordings: list[Reads] = []
        self._needs_reads: dict[str, frozenset[str]] = {}  # modules read for ``_needs[q]``

    # --- modules ------------------------------------------------------------------------------

    def modules(self) -> dict[str, str]:
        if self._modules is None:
            self._modules = dict(iter_modules(self.roots))
        return self._modules

    def module_of(self, path: str) -> Optional[str]:
        return module_name(path, self.roots)

    def relative(self, path: str) -> str:
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    def in_project(self, qualname: str) -> bool:
        """Is ``qualname`` inside one of the project's modules?"""
        parts = qualname.split(".")
        modules = self.modules()
        return any(".".join(parts[:i]) in modules for i in range(1, len(parts) + 1))

    @contextmanager
    def recording(self) -> Iterator["Reads"]:
        """Note which modules' summaries (and which project-wide facts) are read until the
        block ends, memoized answers included."""
        reads = Reads()
        self._recordings.append(reads)
        try:
            yield reads
        finally:
            self._recordings[:] = [r for r in self._recordings if r is not reads]

    def _note(self, modules: Iterable[str]) -> None:
        for reads in self._recordings:
            reads.modules.update(modules)

    def summary(self, module: str) -> Optional[dict]:
        if self._recordings:
            self._note((module,))
        if module not in self._summaries:
            self._summaries[module] = self._load(module)
        return self._summaries[module]

    def _load(self, module: str) -> Optional[dict]:
        path = self.modules().get(module)
        if path is None:
            return None
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        # the module's name and path are part of its summary: copies of one file differ
        key = self.cache.key(f"{module}\0{self.relative(path)}".encode() + b"\0" + data) if self.cache is not None else ""
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None:
            return cached
        summary = self._summarize(module, path, data)
        if summary is not None and self.cache is not None:
            self.cache.put(key, summary)
        return summary

    def _summarize(self, module: str, path: str, data: bytes) -> Optional[dict]:
        from ..analysis import analyze
        from ..engine import parse_guard
        from ..sources import SourceError, decode_source
        from .summary import summarize

        try:
            text = decode_source(data, path).text
            parse_guard(text)
            analysis = analyze(text, self.options, module=module, package=path.endswith("__init__.py"))
            summary = summarize(analysis, module)
        except (SourceError, SyntaxError, RecursionError, MemoryError, ValueError, Exception):  # noqa: BLE001
            return {"module": module, "imports": {}, "objects": {}, "classes": {}, "functions": {}, "broken": True}
        summary["path"] = self.relative(path)
        self.computed += 1
        return summary

    def forget(self, path: str) -> None:
        self.facts.forget(path)
        module = self.module_of(path)
        self._summaries.pop(module, None)
        self._needs.clear()  # what a function needs may come through that module
        self._needs_reads.clear()
        self._spawner_names = self._hints = self._context_task = None

    # --- names -----------------------------------------------------------------------------

    def find(self, qualname: str, depth: int = 0) -> Optional[tuple[str, str, dict, str]]:
        """(kind, name in its module, summary, qualified name) for a function, class or
        object, following re-exports: kind is ``function``, ``class`` or ``object``."""
        if depth > 8:
            return None
        parts = qualname.split(".")
        modules = self.modules()
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if module not in modules:
                continue
            summary = self.summary(module)
            if summary is None:
                return None
            rest = ".".join(parts[cut:])
            for kind, section in (("function", "functions"), ("class", "classes"), ("object", "objects")):
                if rest in summary.get(section, {}):
                    return kind, rest, summary, qualname
            head, _, tail = rest.partition(".")
            target = summary.get("imports", {}).get(head)
            if target and target != qualname:
                return self.find(target + ("." + tail if tail else ""), depth + 1)
            return None
        return None

    def function(self, qualname: str) -> Optional[ProjectFunction]:
        found = self.find(qualname)
        if found is None or found[0] != "function":
            return None
        _, name, summary, qual = found
        return ProjectFunction(qual, name, summary.get("path", ""), summary["functions"][name])

    def class_bases(self, qualname: str, depth: int = 0) -> set[str]:
        """The qualified bases of a project class, through project bases."""
        found = self.find(qualname)
        if found is None or found[0] != "class" or depth > 8:
            return set()
        bases = set(found[2]["classes"][found[1]]["bases"])
        for base in list(bases):
            bases |= self.class_bases(base, depth + 1)
        return bases

    def object_constructor(self, qualname: str) -> Optional[str]:
        """The callee a project module-level object was made by (``ThreadPoolExecutor``)."""
        found = self.find(qualname)
        if found is None or found[0] != "object":
            return None
        return found[2]["objects"][found[1]]

    # --- what a function needs, across modules -------------------------------------------------

    def function_needs(self, qualname: str) -> dict[Need, ExternalUse]:
        return self._function_needs(qualname, ())[0]

    def _function_needs(self, qualname: str, stack: tuple[str, ...]) -> tuple[dict[Need, ExternalUse], bool]:
        """(needs, complete): complete is False when a cycle or the depth cut the walk short
        (then the result depends on where it started and is not memoized)."""
        if qualname in self._needs:
            if self._recordings:  # the summaries it was computed from are read again, in effect
                self._note(self._needs_reads.get(qualname, ()))
            return self._needs[qualname], True
        if qualname in stack or len(stack) > MAX_DEPTH:
            return {}, False
        with self.recording() as reads:
            result, complete = self._compute_needs(qualname, stack)
        if complete:
            self._needs[qualname] = result
            self._needs_reads[qualname] = frozenset(reads.modules)
        return result, complete

    def _compute_needs(self, qualname: str, stack: tuple[str, ...]) -> tuple[dict[Need, ExternalUse], bool]:
        function = self.function(qualname)
        if function is None:
            return {}, True
        here = (f"{function.display}()", function.path)
        pushed = self._pushed_by_decorators(function)
        result: dict[Need, ExternalUse] = {}
        for need, info in _needs_of(function.summary).items():
            if need in pushed:
                continue
            chain = tuple((step, function.path) for step in info["chain"])
            result[need] = ExternalUse(need, info["what"], info["qualname"], info.get("member"), function.path,
                                       info["line"], info["col"], chain or (here,))
        complete = True
        for call in function.summary.get("calls", ()):
            covered = frozenset(Need(n) for n in call["covered"]) | pushed
            found, whole = self._function_needs(call["target"], (*stack, qualname))
            complete = complete and whole
            for need, use in found.items():
                if need in result or satisfied(use.qualname, need, covered):
                    continue
                prefix = tuple((step, function.path) for step in call["chain"]) or (here,)
                result[need] = ExternalUse(use.need, use.written, use.qualname, use.member, use.path, use.line,
                                           use.col, prefix + use.chain)
        return result, complete

    def _pushed_by_decorators(self, function: ProjectFunction) -> frozenset[Need]:
        pushed: set[Need] = set()
        for decorator in function.summary.get("decorators", ()):
            maker = self.function(decorator)
            if maker is not None:
                pushed |= {Need(n) for n in maker.summary.get("pushes", ())}
        return frozenset(pushed)

    def pushes(self, qualname: str) -> frozenset[Need]:
        """What a project decorator pushes around the function it decorates."""
        maker = self.function(qualname)
        return frozenset(Need(n) for n in maker.summary.get("pushes", ())) if maker else frozenset()

    def spawns(self, qualname: str) -> Optional[str]:
        """The spawner a project decorator (or helper) runs its argument with, if any."""
        maker = self.function(qualname)
        return maker.summary.get("spawns") if maker else None

    def returns_copy(self, qualname: str) -> bool:
        maker = self.function(qualname)
        return bool(maker and maker.summary.get("returns_copy"))

    def has_context_task(self) -> bool:
        """Does a module of the project define a task class whose ``__call__`` pushes the app's
        context (Flask's ``FlaskTask``, the older ``ContextTask``)? Only modules whose text
        could hold one are summarized for the answer."""
        for reads in self._recordings:
            reads.context_task = True
        if self._context_task is None:
            self._context_task = False
            for module, path in self.modules().items():
                facts = self.facts.of(path)
                if facts is not None and facts.context_task:
                    summary = self.summary(module)
                    if summary is not None and summary.get("context_task"):
                        self._context_task = True
                        break
        return self._context_task

    # --- the prefilter's extra words --------------------------------------------------------

    def hints(self) -> ProjectHints:
        """What the prefilter needs to know of the project (text scans, no parse)."""
        from ..prefilter import ProjectHints

        if self._hints is None:  # computed when the prefilter first needs each of them
            self._hints = ProjectHints(self.spawner_names,
                                       lambda: frozenset(name.split(".")[0] for name in self.modules()))
        return self._hints

    def spawner_names(self) -> frozenset[str]:
        """Names of module-level functions, classes and objects whose own code holds a spawn
        word: the project's own spawners can only be among them (a text scan, no parse)."""
        if self._spawner_names is None:
            names: set[str] = set()
            for path in self.modules().values():
                facts = self.facts.of(path)
                names.update(facts.spawners if facts is not None else ())
            self._spawner_names = frozenset(names)
        return self._spawner_names


def forget_module(path: str) -> None:
    """The file at ``path`` was rewritten: what this process knows of it (and of what
    depends on it) is computed again when next needed."""
    for (root, _, _), index in _INDEXES.items():
        if os.path.abspath(path).startswith(root + os.sep):
            index.forget(path)


def options_key(options: Options) -> str:
    """What in the options changes a summary (the extension names and spawners it knows)."""
    return repr((options.extra_spawners, options.context_wrappers, options.app_bound_names))


_INDEXES: dict[tuple[str, Options, bool], ProjectIndex] = {}
_SHARED_SUMMARIES: list[Optional[str]] = [None]


def share_summaries(folder: str) -> None:
    """``no-cache`` with workers: keep the summaries in ``folder`` (a private temporary one,
    outside the project), where the workers of one run share them instead of each
    computing every summary it needs; the project's own cache is still neither read nor
    written."""
    if _SHARED_SUMMARIES[0] != folder:
        _SHARED_SUMMARIES[0] = folder
        for key in [key for key in _INDEXES if not key[2]]:
            del _INDEXES[key]  # made without the folder


def index_for(path: str, options: Options, cache: bool = True) -> Optional[ProjectIndex]:
    """The project ``path`` belongs to (one index per root and options in this process), or
    None for a file outside any project."""
    from .layout import find_root

    root = find_root(os.path.dirname(os.path.abspath(path)))
    if root is None:
        return None
    key = (root, options, cache)
    if key not in _INDEXES:
        _INDEXES[key] = ProjectIndex(root, options, cache)
    return _INDEXES[key]


def project_of(path: Optional[str], options: Options) -> Optional[ProjectIndex]:
    """The project index for the file at ``path`` (None: no path, outside any project, or
    project mode turned off)."""
    if not path or options.no_project:
        return None
    project = index_for(path, options, cache=not options.no_cache)
    # a file under the root that is none of its modules (a hidden or build directory, a
    # name that cannot be imported) is checked on its own
    return project if project is not None and project.module_of(path) is not None else None


def _needs_of(summary: dict) -> dict[Need, dict]:
    return {Need(key): value for key, value in summary.get("needs", {}).items()}
