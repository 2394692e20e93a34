"""A text test that rules out most files before libcst ever sees them.

A finding needs a Flask name (or a configured app-bound object) together with something
that moves code to another thread, streams a generator, copies a context or touches
Flask's internals; or, for thread-local state (FCX500), a thread-local next to a spawn.
Substring tests cost microseconds; a libcst parse costs ~6-9x an ``ast.parse``
(README, Speed), so files that fail this test cost flake8 nothing measurable.

Every word comes from the catalogue: the last component of each spawner's qualified
name or constructor, of each internal, pusher and response class, and each view
decorator as written after its object (``.get``). A new
catalogue entry therefore brings its own word, and the test never hides a finding.

One rule needs no such word: a proxy used at import time (FCX103). For a Flask file that
passes no word test, the module-level code of its ``ast`` (which flake8 has already
parsed; the CLI parses it, at about a seventh of libcst's cost) is searched for the names
it imports from Flask.

A file that passes the text test goes through the same tests once more, on its code alone:
the words of its ``ast`` (names, attributes, imported modules, keywords of calls), without
strings, comments and docstrings, which the analysis never reads either. A word that only
appears in a docstring no longer costs a libcst parse. The context pushers
(``app_context``), which need no spawn only for FCX300's homemade copier, count there only
where a copier's shape is (a nested function entering a context held in a name), and a
thread-local's name (``local``) only as a whole name, not inside ``localhost``.
"""

from __future__ import annotations

import ast
import re
import warnings
from functools import cached_property, lru_cache
from typing import Callable, Iterator, Optional

from .catalogue import flask_names
from .catalogue.internals import INTERNALS
from .catalogue.spawners import TABLE, Kind, minimal_words
from .catalogue.thread_locals import THREAD_LOCALS
from .options import Options

FLASK_WORD = "flask"  # every Flask (and Flask extension) module name contains it


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@lru_cache(maxsize=4)
def _catalogue_words(version: int) -> tuple[tuple[str, ...], ...]:
    """(spawn, Flask-only, stream, thread-local, thread-spawn) words for the spawner table's ``version``."""
    flask_only = minimal_words([_last(flask_names.COPY_REQUEST_CONTEXT), *map(_last, INTERNALS),
                                *flask_names.CONTEXT_PUSHERS, *map(_last, flask_names.TASK_STARTERS),
                                *(f".{m}" for s in TABLE for m in s.enqueues if len(m) > 2)])
    stream = minimal_words([*map(_last, flask_names.RESPONSE_CLASSES), flask_names.RESPONSE_CLASS_ATTRIBUTE,
                            *(p.lstrip("*") for p in flask_names.VIEW_DECORATORS)])  # "*.get" -> ".get"
    thread_locals = minimal_words(map(_last, THREAD_LOCALS))
    return TABLE.words(), flask_only, stream, thread_locals, TABLE.words(frozenset({Kind.THREAD}))


@lru_cache(maxsize=4)
def _flask_only_without_pushers(version: int) -> tuple[str, ...]:
    """The Flask-only words for a module with no copier's shape: the pushers left out."""
    return minimal_words([_last(flask_names.COPY_REQUEST_CONTEXT), *map(_last, INTERNALS),
                          *map(_last, flask_names.TASK_STARTERS),
                          *(f".{m}" for s in TABLE for m in s.enqueues if len(m) > 2)])


def _longest_literal(pattern: str) -> str:
    """The longest wildcard-free piece of a dotted pattern: text any match must contain,
    in the call or in the import that named it ("" when the pattern is all wildcards)."""
    pieces = [piece for part in pattern.split(":")[0].split(".") for piece in part.split("*")]
    return max(pieces, key=len, default="")


def _written_chain(pattern: str) -> str:
    """A regex that finds code written as the pattern (``*.query`` finds ``User.query``).

    It may also find more (``pdb.session`` for ``db.session``): a prefilter must never
    miss, and the analysis decides. A leading ``*`` needs only the name's last character.
    """
    parts = [re.escape(part).replace(r"\*", r"\w*") for part in pattern.split(".")]
    parts = [r"\w" if i == 0 and part == r"\w*" else r"\w+" if part == r"\w*" else part
             for i, part in enumerate(parts)]
    return r"\s*\.\s*".join(parts) + r"\b"


@lru_cache(maxsize=32)
def _option_tests(options: Options) -> tuple[tuple[str, ...], bool, tuple[str, ...], "re.Pattern[str] | None"]:
    """Spawn words from --extra-spawners (True: a pattern matches any call); for the
    app-bound names, words one of which any match contains, and the exact regex (code as
    written). The regex costs ~1000x a substring test, so it runs last and rarely."""
    words = tuple(_longest_literal(p) for p in options.extra_spawners)
    bound_words = tuple(_longest_literal(p) for p in options.app_bound_names)
    chains = "|".join(_written_chain(p) for p in options.app_bound_names)
    return (tuple(w for w in words if w), "" in words, tuple(w for w in bound_words if w),
            re.compile(chains) if chains else None)


class ProjectHints:
    """What the prefilter knows of the checked file's project (project mode only).

    ``spawners``: names of the project's own possible spawners (a decorator that runs its
    function in a thread, an executor made in another module), matched as whole words.
    ``packages``: the project's top-level module names. A file that spawns and imports from
    the project may start a worker whose Flask names are all in another module.

    Both are computed when a file first needs them (``spawners`` reads every module of the
    project): a file with nothing Flask-like never makes a process pay for them.
    """

    def __init__(self, spawners: Callable[[], frozenset[str]] = frozenset,
                 packages: Callable[[], frozenset[str]] = frozenset) -> None:
        self._spawners, self._packages = spawners, packages

    @cached_property
    def spawners(self) -> frozenset[str]:
        return self._spawners()

    @cached_property
    def packages(self) -> frozenset[str]:
        return self._packages()


_RELATIVE_IMPORT = re.compile(r"^\s*from\s+\.", re.M)


def may_have_findings(source: str, options: Options, project: "ProjectHints | None" = None,
                      tree: Optional[ast.AST] = None) -> bool:
    """``tree``: the module's ``ast``, when the caller has it (flake8); else it is parsed
    here, for the files that pass the text test only."""
    workers = _may_have_worker_findings(source, options, project)
    if not workers and not (FLASK_WORD in source and any(name in source for name in _IMPORT_TIME_NAMES)):
        return False
    if tree is None:
        tree = parse_ast(source)
        if tree is None:
            return True  # the analysis reports what it can
    if workers:  # the second stage refines the first: the same tests on the code's words
        code = code_words(tree)
        if _may_have_worker_findings(code, options, project, code=tree):
            return True
        return FLASK_WORD in code and _uses_flask_at_import(code, tree)
    return _uses_flask_at_import(source, tree)


_LAST_PARSE: list = [None, None]  # [source, tree]: the engine's parse guard reuses it


def parse_ast(source: str) -> Optional[ast.AST]:
    """``ast.parse`` without warnings; None when it fails. The last result is kept for the
    same text object, so that the engine does not parse a file twice."""
    if _LAST_PARSE[0] is source:
        return _LAST_PARSE[1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    _LAST_PARSE[:] = [source, tree]
    return tree


_DEFINITIONS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})
# ``match`` patterns (Python >= 3.10) bind names as strings; absent on 3.9
_MATCH_MAPPING, _MATCH_CLASS = getattr(ast, "MatchMapping", None), getattr(ast, "MatchClass", None)
_NAMED = frozenset(k for k in (ast.ExceptHandler, getattr(ast, "MatchAs", None), getattr(ast, "MatchStar", None)) if k)
# nodes that hold no word of their own (their children are walked)
_PLAIN_NODES = frozenset({ast.Constant, ast.Load, ast.Store, ast.Del, ast.Call, ast.Expr, ast.Assign,
                          ast.Subscript, ast.Tuple, ast.List, ast.Dict, ast.BinOp, ast.Compare,
                          ast.BoolOp, ast.UnaryOp, ast.If, ast.Return, ast.arguments, ast.JoinedStr,
                          ast.FormattedValue, ast.Add, ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In,
                          ast.NotIn, ast.And, ast.Or, ast.Not, ast.Mod, ast.Sub, ast.Mult})


def code_words(tree: ast.AST) -> str:
    """The code of ``tree`` as words the text tests can read: every name, dotted attribute
    chain (``db.session``) and ``.attribute``, imported module (``from .views import``
    lines, relative ones with their dots), keyword argument, and ``yield``; no string,
    comment or docstring."""
    out: list[str] = []
    add = out.append
    name, attribute, functions = ast.Name, ast.Attribute, _DEFINITIONS
    for node in ast.walk(tree):
        kind = type(node)  # the common kinds first, by type: this runs on every node
        if kind is name:
            add(node.id)
        elif kind is attribute:
            parts, value = [node.attr], node.value
            while type(value) is attribute:
                parts.append(value.attr)
                value = value.value
            if type(value) is name:
                parts.append(value.id)
            add(".".join(reversed(parts)))
            add("." + node.attr)
        elif kind in _PLAIN_NODES:
            continue
        elif kind in functions:
            add(node.name)
        elif kind is ast.arg:
            add(node.arg)
        elif kind is ast.keyword:
            add(node.arg or "")
        elif kind is ast.alias:
            add(node.name)
            add(node.asname or "")
        elif kind is ast.ImportFrom:
            add("\nfrom " + "." * node.level + (node.module or "") + " import\n")
        elif kind is ast.Yield or kind is ast.YieldFrom:
            add("yield")
        elif kind is ast.Global or kind is ast.Nonlocal:
            out.extend(node.names)
        elif kind in _NAMED:
            add(node.name or "")
        elif kind is _MATCH_MAPPING:
            add(node.rest or "")
        elif kind is _MATCH_CLASS:
            out.extend(node.kwd_attrs)
    return " ".join(out)


def _has_copier_shape(tree: ast.AST) -> bool:
    """A function defined inside a function, entering ``with <name>:`` (FCX300's copier)."""
    pending = [(tree, 0)]
    while pending:  # one pass, counting the functions around each node
        node, depth = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            depth += 1
        elif depth >= 2 and isinstance(node, (ast.With, ast.AsyncWith)) \
                and any(isinstance(item.context_expr, ast.Name) for item in node.items):
            return True
        pending.extend((child, depth) for child in ast.iter_child_nodes(node))
    return False


def _may_have_worker_findings(source: str, options: Options, project: "ProjectHints | None",
                              code: Optional[ast.AST] = None) -> bool:
    """``code``: the module's tree, when ``source`` is its code words (the second stage):
    the context pushers count only in a copier's shape, and a thread-local's name only as
    a whole word (FCX500 resolves it by its name: ``threading.local``, ``Local``)."""
    spawner_words, any_call_spawns, bound_words, app_bound = _option_tests(options)
    spawn_words, flask_only_words, stream_words, thread_local_words, thread_words = _catalogue_words(TABLE.version)
    if code is not None and any(p in source for p in flask_names.CONTEXT_PUSHERS) and not _has_copier_shape(code):
        flask_only_words = _flask_only_without_pushers(TABLE.version)
    # every way to a finding needs one of these: a Flask name or app-bound object, an
    # import from the project, or a thread-local; tested first, so that a file with none
    # never reads the project's hints
    flask = FLASK_WORD in source or _mentions_app_bound(source, bound_words, app_bound)
    has_local = _mentions(source, _THREAD_LOCAL_NAMES) if code is not None \
        else any(w in source for w in thread_local_words)
    imports_project = project is not None and not flask and not has_local and (
        _RELATIVE_IMPORT.search(source) is not None or _mentions(source, project.packages))
    if not (flask or has_local or imports_project):
        return False
    spawns = any_call_spawns or any(w in source for w in spawn_words) or any(w in source for w in spawner_words) \
        or (project is not None and _mentions(source, project.spawners))
    flask_work = spawns or any(w in source for w in flask_only_words) or (
        "yield" in source and any(w in source for w in stream_words))
    if flask_work and flask:
        return True
    if spawns and project is not None and (imports_project or _RELATIVE_IMPORT.search(source)
                                           or _mentions(source, project.packages)):
        return True
    # thread-local state read in a worker (FCX500) is a matter of threads only
    return spawns and has_local and (
        any_call_spawns or any(w in source for w in thread_words) or any(w in source for w in spawner_words)
        or (project is not None and _mentions(source, project.spawners)))


_THREAD_LOCAL_NAMES = frozenset(_last(name) for name in THREAD_LOCALS)  # whole names: ``LocalStack`` too
_IMPORT_TIME_NAMES = frozenset(_last(n) for n in (*flask_names.REQUEST_BOUND, *flask_names.APP_BOUND))


def _uses_flask_at_import(code: str, tree: ast.AST) -> bool:
    """Does code that runs at import time name something it imported from a Flask module
    (``CFG = current_app.config[...]``, a class body, a default, a decorator's argument)?"""
    if not any(name in code for name in _IMPORT_TIME_NAMES):
        return False
    if not isinstance(tree, ast.Module):
        return False
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and FLASK_WORD in node.module:
            imported |= {a.asname or a.name for a in node.names if a.name in _IMPORT_TIME_NAMES}
        elif isinstance(node, ast.Import):
            imported |= {(a.asname or a.name).split(".")[0] for a in node.names if FLASK_WORD in a.name}
    return bool(imported) and any(isinstance(n, ast.Name) and n.id in imported for n in _import_time_nodes(tree.body))


def _import_time_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The nodes of ``body`` that run when it runs: not function bodies (but their
    decorators and defaults), class bodies included."""
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for part in (*statement.decorator_list, *statement.args.defaults, *statement.args.kw_defaults):
                if part is not None:
                    yield from ast.walk(part)
        elif isinstance(statement, ast.ClassDef):
            for part in (*statement.decorator_list, *statement.bases, *statement.keywords):
                yield from ast.walk(part)
            yield from _import_time_nodes(statement.body)
        else:
            for child in ast.iter_child_nodes(statement):
                if isinstance(child, ast.stmt):
                    yield from _import_time_nodes([child])
                else:
                    yield from ast.walk(child)


def _mentions(source: str, words: frozenset[str]) -> bool:
    pattern = _words_pattern(words)
    return pattern is not None and pattern.search(source) is not None


@lru_cache(maxsize=8)
def _words_pattern(words: frozenset[str]) -> "re.Pattern[str] | None":
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(words))) + r")\b")


def _mentions_app_bound(source: str, words: tuple[str, ...], pattern: "re.Pattern[str] | None") -> bool:
    if pattern is None or (words and not any(w in source for w in words)):
        return False
    return pattern.search(source) is not None
