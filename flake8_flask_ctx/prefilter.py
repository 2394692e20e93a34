"""A text test that rules out most files before libcst ever sees them.

A finding needs a Flask name (or a configured app-bound object) together with something
that moves code to another thread, streams a generator, copies a context or touches
Flask's internals; or, for thread-local state (FCX500), a thread-local next to a spawn.
Substring tests cost microseconds; a libcst parse costs ~6-9x an ``ast.parse``
(README, Speed), so files that fail this test cost flake8 nothing measurable.

Every word comes from the catalogue: the last component of each spawner's qualified
name or constructor, of each internal, pusher and response class, and each view
decorator as written after its object (``.get``). A new
catalogue entry therefore brings its own word, and the test never hides a finding. A
name is never split in the text; what may be is an attribute or a dotted name, so the
tests that read one (``.delay``, ``db.session``, ``from .views import``) allow what may
stand around its dot: spaces, a line continuation, a comment, ``(db).session``.

A task's send (``job.delay``, ``actor.send``) needs no spawn word only when the task comes
from another module, which only the project index can tell: it counts in project mode, in
a module that imports from the project.

One rule needs no such word: a context used at import time (FCX103). For a file that names
Flask's context-bound names or an app-bound object (``db.session``) and passes no word
test, the code of its ``ast`` that runs at import time (which flake8 has already parsed;
the CLI parses it, at about a seventh of libcst's cost) is searched for the names it
imports from Flask and for app-bound objects, and so are the module's functions that code
calls, by name, and those they call.

A file that passes the text test goes through the same tests once more, on its code alone
(``code_text``): its text without the comments and string literals (docstrings included),
which the analysis never reads either, cut out by one regex; the replacement fields of its
f-strings (and t-strings), which hold code, put back; line continuations and the spaces
after each dot taken out. A word that only appears in a docstring no longer costs a libcst
parse. That text holds every word of the code (names, attributes, imported modules,
keywords of calls, ``yield``) that the ``ast`` holds (``code_words``), and a few more
(keywords, a string inside a field): it never says less. It costs about a tenth of a walk
of the ``ast``, which stays the fallback wherever the regex may not split the strings as
Python does: a quote left outside what it took for strings, an f-string whose fields it
cannot follow (from 3.12 a field may hold its f-string's own quote, a comment, a
backslash). The context pushers (``app_context``), which need no spawn only for FCX300's
homemade copier, count there only where a copier's shape is (a nested function entering a
context held in a name); a view decorator's word (``.get``, which a streamed generator
needs when no response class is named) only in a decorator, not in ``mapping.get(key)``;
and a thread-local's name (``local``) only as a whole name, not inside ``localhost``.
Shapes and decorators are read off the statements of the ``ast``, an eighth of its nodes.

The tests run cheapest first (``_may_have_worker_findings``): a substring test scans text
at about 1.5 GB/s, a regex that starts with a literal about as fast; an alternation of such
regexes, or one that starts with ``\b``, several times slower; a walk of the ``ast`` about
a hundred times slower.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Words:
    """The catalogue's words, by the way to a finding each one opens."""

    spawn: tuple[str, ...]  # a spawner's call, import or decorator
    thread_spawn: tuple[str, ...]  # the same, for threads only (FCX500)
    flask_only: tuple[str, ...]  # work that needs no spawn: a copy, an internal, a task starter
    pushers: tuple[str, ...]  # ``app_context``: a homemade copier (FCX300)
    enqueues: tuple[str, ...]  # ``.delay``, ``.send``: a task sent from here
    responses: tuple[str, ...]  # a response class: a streamed generator
    views: tuple[str, ...]  # a view decorator as written after its object (``.get``)
    thread_locals: tuple[str, ...]


@lru_cache(maxsize=4)
def _catalogue_words(version: int) -> _Words:
    """The words for the spawner table's ``version``."""
    return _Words(
        spawn=TABLE.words(), thread_spawn=TABLE.words(frozenset({Kind.THREAD})),
        flask_only=minimal_words([_last(flask_names.COPY_REQUEST_CONTEXT), *map(_last, INTERNALS),
                                  *map(_last, flask_names.TASK_STARTERS)]),
        pushers=minimal_words(flask_names.CONTEXT_PUSHERS),
        enqueues=minimal_words(f".{m}" for s in TABLE for m in s.enqueues if len(m) > 2),
        responses=minimal_words([*map(_last, flask_names.RESPONSE_CLASSES), flask_names.RESPONSE_CLASS_ATTRIBUTE]),
        views=minimal_words(p.lstrip("*") for p in flask_names.VIEW_DECORATORS),  # "*.get" -> ".get"
        thread_locals=minimal_words(map(_last, THREAD_LOCALS)),
    )


_VIEW_METHODS = frozenset(_last(p) for p in flask_names.VIEW_DECORATORS)


# what may stand between a dot and its attribute: spaces, a line continuation, a comment
_GAP = r"(?:[\s\\]|#[^\r\n]*[\r\n])"


@lru_cache(maxsize=4)
def _spaced_attributes(version: int) -> tuple["re.Pattern[str]", "re.Pattern[str]"]:
    """The words of a task's send and of a view decorator (``.delay``, ``.route``), in the
    raw text written with a gap after the dot (``app. route``, ``task.\\<newline>delay``)."""
    words = _catalogue_words(version)

    def spaced(attributes: tuple[str, ...]) -> "re.Pattern[str]":
        names = [re.escape(w[1:]) for w in attributes if w.startswith(".")]
        return re.compile(rf"\.{_GAP}+(?:{'|'.join(names)})" if names else "(?!)")
    return spaced(words.enqueues), spaced(words.views)


def _longest_literal(pattern: str) -> str:
    """The longest wildcard-free piece of a dotted pattern: text any match must contain,
    in the call or in the import that named it ("" when the pattern is all wildcards)."""
    pieces = [piece for part in pattern.split(":")[0].split(".") for piece in part.split("*")]
    return max(pieces, key=len, default="")


def _written_chain(pattern: str) -> str:
    """A regex that finds code written as the pattern (``db.session``, ``*.query``).

    It may also find more (``pdb.session`` for ``db.session``): a prefilter must never
    miss, and the analysis decides. Around the dot may stand spaces, a line continuation
    or a comment, and before it the parenthesis that closes ``(db).session``. A leading
    ``*`` needs nothing before the dot (``User.query``, ``(User).query``)."""
    parts = [r"\w+" if part == "*" else re.escape(part).replace(r"\*", r"\w*") for part in pattern.split(".")]
    if len(parts) == 1:
        return parts[0] + r"\b"
    if pattern.startswith("*."):
        return rf"\.{_GAP}*" + _CHAIN_DOT.join(parts[1:]) + r"\b"
    return _CHAIN_DOT.join(parts) + r"\b"


_CHAIN_DOT = rf"(?:{_GAP}|\))*\.{_GAP}*"


@lru_cache(maxsize=32)
def _option_tests(options: Options) -> tuple[tuple[str, ...], bool, tuple[tuple[str, "re.Pattern[str]"], ...]]:
    """Spawn words from --extra-spawners (True: a pattern matches any call); for each
    app-bound name, a word any match contains and the exact regex (code as written). Each
    regex is compiled alone: one that starts with a literal (``db``, the dot of ``*.query``)
    then scans a file about as fast as a substring test, an alternation of them ~10x slower."""
    words = tuple(_longest_literal(p) for p in options.extra_spawners)
    bound = tuple((_longest_literal(p), re.compile(_written_chain(p))) for p in options.app_bound_names)
    return tuple(w for w in words if w), "" in words, bound


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
        self.asked: set[str] = set()  # which of the two a test read

    @cached_property
    def spawners(self) -> frozenset[str]:
        self.asked.add("spawners")
        return self._spawners()

    @cached_property
    def packages(self) -> frozenset[str]:
        self.asked.add("packages")
        return self._packages()

    def watched(self) -> "ProjectHints":
        """The same hints with an ``asked`` of their own: what one file's verdict rests on
        (``clean_files.py`` keys a listed file by the values it asked)."""
        return ProjectHints(lambda: self.spawners, lambda: self.packages)


# ``from .views import x``, and ``from.views``, after ``;`` or ``:``, across a continuation
_RELATIVE_IMPORT = re.compile(r"\bfrom[\s\\]*\.")


def may_have_findings(source: str, options: Options, project: "ProjectHints | None" = None,
                      tree: Optional[ast.AST] = None) -> bool:
    """``tree``: the module's ``ast``, when the caller has it (flake8); else it is parsed
    here, for the files that pass the text test only."""
    workers = _may_have_worker_findings(source, options, project)
    if not workers and not _may_use_at_import(source, options):
        return False
    if tree is None:
        tree = parse_ast(source)
        if tree is None:
            return True  # the analysis reports what it can
    if workers:  # the second stage refines the first: the same tests on the code alone
        code = code_text(source, tree)
        if _may_have_worker_findings(code, options, project, code=tree):
            return True
        return _uses_flask_at_import(code, tree, options)
    return _uses_flask_at_import(source, tree, options)


def passes_text_test(source: str, options: Options, project: "ProjectHints | None" = None) -> bool:
    """The first stage alone, substring tests on the text: False proves that the file has
    no finding, at a fraction of a millisecond (the result cache keeps no entry for such a
    file: reading one would cost more)."""
    return _may_have_worker_findings(source, options, project) or _may_use_at_import(source, options)


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


# The second stage's text. One pattern finds every comment and every string literal, from
# its opening quote (a prefix's letters stay behind, harmless); the body of an f-string (or
# of a t-string: its braces hold code too) is captured, in the group of its quote.
_SINGLE_BODY = (r"(?:''[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*'''"  # ''' ... ''' after its first '
                r"|[^'\\\r\n]*(?:\\(?:\r\n|[\s\S])[^'\\\r\n]*)*')")  # ' ... ', continuations inside
_DOUBLE_BODY = _SINGLE_BODY.replace("'", '"')
_STRINGS_AND_COMMENTS = re.compile(
    r"#[^\r\n]*"
    rf"|'(?:(?<=[fFtT]')|(?<=[fFtT][rR]'))({_SINGLE_BODY})"
    rf'|"(?:(?<=[fFtT]")|(?<=[fFtT][rR]"))({_DOUBLE_BODY})'
    rf"|'{_SINGLE_BODY}|\"{_DOUBLE_BODY}")
# An f-string's body: literal text (``{{`` and ``}}`` included) and replacement fields, which
# may hold strings of the other quote and braces two deep (``{x:{width}}``), no backslash.
# Before 3.12 a field holds no comment: a ``#`` is a format spec's (``{n:#x}``); from 3.12
# it may start one, and a field may hold its own quote (the pattern then ends the string
# early, and what is left of it does not read as a body: ``code_words`` decides).
_FIELD_CHAR = r"[^{}'\"\\#]" if sys.version_info >= (3, 12) else r"[^{}'\"\\]"
_FIELD_STRING = r"'[^'\\{}\r\n]*'|\"[^\"\\{}\r\n]*\""
_INNER_FIELD = rf"\{{(?:{_FIELD_CHAR}|{_FIELD_STRING})*\}}"
_FIELD = rf"\{{(?!\{{)(?:{_FIELD_CHAR}|{_FIELD_STRING}|{_INNER_FIELD})*\}}"
_LITERAL = r"[^{}]|\{\{|\}\}"  # one character of literal text: the alternatives never overlap, nor
_F_BODY = re.compile(rf"(?:{_LITERAL}|{_FIELD})*")  # backtrack when a body does not match (``(?:x+)*`` would)
_F_PARTS = re.compile(rf"({_FIELD})|(?:{_LITERAL})+")
_FIELD_STRINGS = re.compile(_FIELD_STRING)
_AFTER_DOT = re.compile(r"\.\s+")


def code_text(source: str, tree: ast.AST) -> str:
    """The second stage's text: ``source`` without its comments and string literals
    (docstrings included), plus the code of its f-strings' replacement fields; with the
    line continuations and the spaces after each dot taken out, so that ``.attribute``,
    ``db.session`` and ``from .views import`` read as in ``code_words``. When the pattern
    may not have split the strings as Python does (a quote left in the code; an f-string
    whose fields it cannot follow), the words of ``tree`` instead."""
    parts = _STRINGS_AND_COMMENTS.split(source)
    code = "".join(parts[0::3])
    if "'" in code or '"' in code:  # outside strings and comments, a quote opens a string
        return code_words(tree)
    fields = []
    for quote, bodies in (("'", parts[1::3]), ('"', parts[2::3])):
        for body in filter(None, bodies):
            body = body[2:-3] if body.startswith(quote * 2) else body[:-1]  # the text between the quotes
            if _F_BODY.fullmatch(body) is None:
                return code_words(tree)
            fields.extend(_FIELD_STRINGS.sub(" ", field) for field in _F_PARTS.findall(body) if field)
    if fields:
        code = "\n".join((code, *fields))
    if "\\" in code:
        code = code.replace("\\", " ")  # outside strings, a backslash continues the line
    return _AFTER_DOT.sub(".", code)


# The lists of statements each kind of node holds (``If``: body, orelse; ``Try``: handlers):
# functions, classes, ``with`` and decorators are statements or on them, and a walk of
# the statements alone visits about an eighth of the nodes.
_STATEMENT_LISTS: dict[type, tuple[str, ...]] = {
    kind: lists
    for kind in (ast.Module, ast.ExceptHandler, *ast.stmt.__subclasses__(), getattr(ast, "match_case", None))
    if kind is not None
    for lists in [tuple(f for f in ("body", "orelse", "finalbody", "handlers", "cases") if f in kind._fields)] if lists
}


def _statements(node: ast.AST) -> Iterator[ast.AST]:
    """The statements (and handlers, match cases) right inside ``node``."""
    for field in _STATEMENT_LISTS.get(type(node), ()):
        yield from getattr(node, field)


def _has_copier_shape(tree: ast.AST) -> bool:
    """A function defined inside a function, entering ``with <name>:`` (FCX300's copier):
    a walk of the statements."""
    pending = [(tree, 0)]
    functions, withs, name, lists = (ast.FunctionDef, ast.AsyncFunctionDef), (ast.With, ast.AsyncWith), ast.Name, \
        _STATEMENT_LISTS
    while pending:  # one pass, counting the functions around each statement
        node, depth = pending.pop()
        kind = type(node)
        if kind in functions:
            depth += 1
        elif depth >= 2 and kind in withs and any(type(item.context_expr) is name for item in node.items):
            return True
        for field in lists.get(kind, ()):
            pending.extend((child, depth) for child in getattr(node, field))
    return False


def _may_have_worker_findings(source: str, options: Options, project: "ProjectHints | None",
                              code: Optional[ast.AST] = None) -> bool:
    """``code``: the module's tree, when ``source`` is its code text (the second stage):
    the context pushers count only in a copier's shape, a view decorator's word only in a
    decorator, and a thread-local's name only as a whole word (FCX500 resolves it by its
    name: ``threading.local``, ``Local``).

    A finding needs a spawn or other Flask work in a file that names Flask or an app-bound
    object; or a spawn in a file that imports from the project; or a thread spawn next to
    a thread-local. A task's send (``job.delay``) counts only in project mode, in a module
    that imports from the project: a task defined here carries its queue's decorator, a
    spawn word, and one imported from elsewhere is known to be a task only through the
    project index.

    The cheap tests run first: most files have no Flask word, no app-bound object and no
    thread-local, a few substring scans; the forty-odd words of Flask work come after the
    app-bound objects. The project's spawner names cost a read of every module: only a
    file with a Flask name, an app-bound object, a thread-local or an import from the
    project asks for them."""
    spawner_words, any_call_spawns, app_bound = _option_tests(options)
    words = _catalogue_words(TABLE.version)

    def spawns(spawn_words: tuple[str, ...] = words.spawn) -> bool:  # with ``thread_spawn``: a thread's
        return any_call_spawns or any(w in source for w in spawn_words) or any(w in source for w in spawner_words) \
            or (project is not None and _mentions(source, project.spawners))

    if FLASK_WORD in source:
        return spawns() or _flask_work(source, words, project, code)  # the other ways need a spawn
    has_local = _mentions(source, _THREAD_LOCAL_NAMES) if code is not None \
        else any(w in source for w in words.thread_locals)
    if has_local and spawns(words.thread_spawn):  # thread-local state read in a worker (FCX500)
        return True
    if project is not None and ((spawns() and _imports_project(source, project)) if has_local
                                else (_imports_project(source, project) and spawns())):
        return True  # a worker whose Flask names may all be in another module
    return _mentions_app_bound(source, app_bound) and (spawns() or _flask_work(source, words, project, code))


def _imports_project(source: str, project: ProjectHints) -> bool:
    return _RELATIVE_IMPORT.search(source) is not None or _mentions(source, project.packages)


def _flask_work(source: str, words: _Words, project: "ProjectHints | None", code: Optional[ast.AST]) -> bool:
    """Work leaving the request without a spawn word: a copy, an internal, a task starter,
    a task sent, a streamed generator, or a homemade copier. The text tests first, then
    (the second stage) the walks of the statements."""
    if any(w in source for w in words.flask_only):
        return True
    # the raw text may write ``.delay`` as ``. delay`` (the code text never does)
    enqueues, views = _spaced_attributes(TABLE.version)
    if project is not None and (any(w in source for w in words.enqueues)
                                or (code is None and enqueues.search(source) is not None)) \
            and _imports_project(source, project):
        return True
    streams = "yield" in source
    if streams and any(w in source for w in words.responses):
        return True
    if code is None:
        return any(p in source for p in words.pushers) or (streams and (
            any(w in source for w in words.views) or views.search(source) is not None))
    return (any(p in source for p in words.pushers) and _has_copier_shape(code)) \
        or (streams and any(w in source for w in words.views) and _decorates_as_view(code))


def _decorates_as_view(tree: ast.AST) -> bool:
    """Does a function carry a decorator written like a view's (``@bp.get(...)``)? Only the
    statements are walked: decorators are on them."""
    pending = list(getattr(tree, "body", ()))
    while pending:
        statement = pending.pop()
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in statement.decorator_list:
                func = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(func, ast.Attribute) and func.attr in _VIEW_METHODS:
                    return True
        pending.extend(_statements(statement))
    return False


_THREAD_LOCAL_NAMES = frozenset(_last(name) for name in THREAD_LOCALS)  # whole names: ``LocalStack`` too
_IMPORT_TIME_NAMES = frozenset(_last(n) for n in (*flask_names.REQUEST_BOUND, *flask_names.APP_BOUND))


def _may_use_at_import(text: str, options: Options) -> bool:
    """The words any import-time use (FCX103) needs: a Flask module and a name it exports
    that needs a context, or an app-bound object (``db.session``)."""
    return (FLASK_WORD in text and any(name in text for name in _IMPORT_TIME_NAMES)) \
        or _mentions_app_bound(text, _option_tests(options)[2])


def _uses_flask_at_import(code: str, tree: ast.AST, options: Options) -> bool:
    """Does code that runs at import time (module level, a class body, a default, a
    decorator's argument) name something it imported from a Flask module (``CFG =
    current_app.config[...]``) or an app-bound object, or call a function of this module
    from which such a name is reached (``fill_db()`` at module level, reading ``db.session``)?"""
    if not _may_use_at_import(code, options) or not isinstance(tree, ast.Module):
        return False
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and FLASK_WORD in node.module:
            imported |= {a.asname or a.name for a in node.names if a.name in _IMPORT_TIME_NAMES}
        elif isinstance(node, ast.Import):
            imported |= {(a.asname or a.name).split(".")[0] for a in node.names if FLASK_WORD in a.name}
    bound = _mentions_app_bound(code, _option_tests(options)[2])
    if not imported and not bound:
        return False

    def needs_context(node: ast.AST) -> bool:
        if type(node) is ast.Name:
            return node.id in imported
        return bound and type(node) is ast.Attribute and options.is_app_bound(_dotted(node))

    functions = _functions_by_name(tree)
    pending, seen = [], set()
    for node in _import_time_nodes(tree.body):
        if needs_context(node):
            return True
        if type(node) is ast.Call:
            pending.extend(_called(node, functions))
    while pending:  # the functions called at import time, and those they call, by name
        function = pending.pop()
        if id(function) in seen:
            continue
        seen.add(id(function))
        for node in ast.walk(function):
            if node is not function and needs_context(node):
                return True
            if type(node) is ast.Call:
                pending.extend(_called(node, functions))
    return False


def _dotted(node: ast.Attribute) -> str:
    parts: list[str] = []
    value: ast.AST = node
    while type(value) is ast.Attribute:
        parts.append(value.attr)  # type: ignore[attr-defined]
        value = value.value  # type: ignore[attr-defined]
    if type(value) is ast.Name:
        parts.append(value.id)  # type: ignore[attr-defined]
    return ".".join(reversed(parts))


def _functions_by_name(tree: ast.Module) -> dict[str, list[ast.AST]]:
    """Every ``def`` of the module (methods and nested ones too), by name: a statement walk."""
    functions: dict[str, list[ast.AST]] = {}
    pending: list[ast.AST] = list(tree.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.setdefault(statement.name, []).append(statement)
        pending.extend(_statements(statement))
    return functions


def _called(call: ast.Call, functions: dict[str, list[ast.AST]]) -> list[ast.AST]:
    """The module's functions a call may run, by the called name (``f()``, ``obj.f()``)."""
    func = call.func
    name = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else None
    return functions.get(name, []) if name else []  # type: ignore[arg-type]


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
    """Any of ``words`` as a whole word. Each alternative starts with its word and looks
    back for the boundary after it: the scan then only stops at the words' first letters
    (``\\b(?:...)\\b`` tries every position, ~5x slower)."""
    if not words:
        return None
    return re.compile("|".join(rf"{re.escape(w)}(?!\w)(?<!\w{re.escape(w)})" for w in sorted(words)))


_LAST_BOUND: tuple = (None, None, False)  # (text, tests, result): the worker and import-time tests share it


def _mentions_app_bound(source: str, bound: tuple[tuple[str, "re.Pattern[str]"], ...]) -> bool:
    """Does ``source`` write one of the app-bound objects (``db.session``)? The last answer
    is kept for the same text object: the first stage asks it, then the import-time test."""
    global _LAST_BOUND
    last = _LAST_BOUND  # one read: another thread may replace it
    if last[0] is source and last[1] is bound:
        return last[2]
    result = any((not word or word in source) and pattern.search(source) is not None for word, pattern in bound)
    _LAST_BOUND = (source, bound, result)
    return result
