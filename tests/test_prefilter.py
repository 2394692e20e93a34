"""The prefilter's second stage: the text tests again, on the code alone.

A file passes the text test when a word is anywhere in it, a docstring included; the
second stage reads the code text (the source without its strings and comments, with its
f-strings' fields; the ``ast``'s words where the regex may misread a string) and keeps the
file only when the word is in its code. The code text must hold every word of the ``ast``,
and the first stage must allow what may stand around a dot. The prefilter must never hide
a finding: on every fixture, the findings are the same with the prefilter forced open (the
fuzz properties ``test_prefilter_never_hides_a_finding`` and its disguised variant cover
generated code).
"""

from __future__ import annotations

import ast
import re
import sys
import textwrap
import time
from pathlib import Path
from typing import Iterator

import pytest

from flake8_flask_ctx import prefilter
from flake8_flask_ctx.engine import check_source
from flake8_flask_ctx.options import Options
from flake8_flask_ctx.prefilter import (_RELATIVE_IMPORT, ProjectHints, _has_copier_shape, _mentions_app_bound,
                                        _option_tests, _words_pattern, code_text, code_words, may_have_findings)
from support.marks import FIXTURES, fixture_files
from support.properties import prefilter_open

SPAWN = textwrap.dedent('''\
    import threading

    from flask import Flask, request

    app = Flask(__name__)


    def work():
        print(request.args["q"])


    @app.route("/")
    def view():
        threading.Thread(target=work).start()
        return "ok"
    ''')

# the same module, its spawn turned into prose: a docstring, a comment and a string
PROSE = SPAWN.replace("    threading.Thread(target=work).start()\n",
                      '    """Starts threading.Thread(target=work) later."""  # threading.Thread\n'
                      '    print("threading.Thread(target=work).start()")\n')

COPIER = textwrap.dedent('''\
    from flask import current_app


    def with_app_context(fn):
        ctx = current_app.app_context()

        def wrapper(*args):
            with ctx:
                return fn(*args)
        return wrapper
    ''')

PUSH_ONLY = textwrap.dedent('''\
    from flask import Flask, current_app

    app = Flask(__name__)


    def main():
        with app.app_context():
            print(current_app.name)
    ''')



def assert_kept_and_ruled_out(kept: str, codes: list[str], ruled_out: str) -> None:
    """``kept`` has findings ``codes`` and passes the prefilter; ``ruled_out`` does not pass,
    and the analysis forced open finds nothing in it either."""
    assert [f.code for f in check_source(kept)] == codes
    assert may_have_findings(kept, Options())
    assert not may_have_findings(ruled_out, Options())
    with prefilter_open():
        assert check_source(ruled_out) == []

def test_a_word_in_prose_only_is_not_code() -> None:
    assert [f.code for f in check_source(SPAWN)] == ["FCX100"]
    assert may_have_findings(SPAWN, Options())
    assert PROSE != SPAWN and "Thread" in PROSE and not may_have_findings(PROSE, Options())
    with prefilter_open():
        assert check_source(PROSE) == []  # nothing was hidden


def test_the_code_words_are_what_the_text_tests_read() -> None:
    words = code_words(ast.parse("from .jobs import run\nimport threading as t\n"
                                 "db.session.add(x)\nt.Thread(target=f, daemon=True)\n"
                                 "def g():\n    yield request.args\n"))
    for expected in ("\nfrom .jobs import", "run", "threading", "db.session", ".session", "t.Thread",
                     "target", "daemon", "yield", "request.args"):
        assert expected in words, expected
    matched = code_words(ast.parse("match event:\n    case Job(worker=w):\n        pass\n"
                                   "    case {'a': 1, **extra}:\n        pass\n"
                                   "    case [first, *others] as whole:\n        pass\n"))
    for expected in ("worker", "w", "extra", "first", "others", "whole"):
        assert f" {expected} " in f" {matched} ", (expected, matched)


def test_context_pushers_count_only_in_a_copiers_shape() -> None:
    assert_kept_and_ruled_out(COPIER, ["FCX300"], PUSH_ONLY)


@pytest.mark.parametrize("path", [p for p in fixture_files() if "projects" not in p.parts],
                         ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_are_the_same_with_the_prefilter_forced_open(path) -> None:
    source = path.read_text(encoding="utf-8")
    options = Options(no_project=True, thread_inherit_context="inherit" in path.parts)
    filtered = check_source(source, options)
    with prefilter_open():
        assert check_source(source, options) == filtered


LOCALS = textwrap.dedent('''\
    import threading

    state = threading.local()


    def work():
        print(state.user)


    def start():
        state.user = "ann"
        threading.Thread(target=work).start()
    ''')


def test_a_thread_local_counts_as_a_whole_name_only() -> None:
    assert [f.code for f in check_source(LOCALS)] == ["FCX500"]
    assert may_have_findings(LOCALS, Options())
    lookalike = LOCALS.replace("threading.local()", "dict(localhost=1)")
    assert "local" in lookalike and not may_have_findings(lookalike, Options())
    with prefilter_open():
        assert check_source(lookalike) == []


def test_a_file_with_nothing_flask_like_never_reads_the_projects_hints() -> None:
    """The project's spawner names cost a read of every module: only a file that could
    need them (a Flask name, a thread-local, an import from the project) asks for them. (Its
    package names cost a walk of the folders, and tell whether it imports from the project.)"""
    def unread() -> frozenset[str]:
        raise AssertionError("the project's hints were read")

    hints = ProjectHints(unread, lambda: frozenset({"shop"}))
    assert not may_have_findings("import threading\n\nthreading.Thread(target=print).start()\n", Options(), hints)
    asked: list[str] = []
    hints = ProjectHints(lambda: asked.append("spawners") or frozenset({"run_async"}), lambda: frozenset({"shop"}))
    source = "from flask import request\n\nfrom shop.utils import run_async\n\nrun_async(lambda: request.args)\n"
    assert may_have_findings(source, Options(), hints) and asked == ["spawners"]


# ``.get`` and ``yield`` are everywhere; a stream needs a view (its decorator) or a response
DICT_GENERATOR = textwrap.dedent('''\
    from flask import request


    def pairs(mapping):
        for key in mapping:
            yield key, mapping.get(key)


    def user_agent():
        return request.headers.get("User-Agent")
    ''')
STREAMED_VIEW = DICT_GENERATOR + textwrap.dedent('''\


    @bp.get("/rows")
    def rows():
        def generate():
            yield request.args.get("q")
        return generate()
    ''')


def test_a_view_decorators_word_counts_only_in_a_decorator() -> None:
    assert_kept_and_ruled_out(STREAMED_VIEW, ["FCX400"], DICT_GENERATOR)


# an imported task's send: known to be a task only through the project index
SENDS = textwrap.dedent('''\
    from flask import request

    from .tasks import notify


    def view():
        notify.send(request.args["user"])
    ''')


def test_a_tasks_send_counts_only_where_the_project_can_say_it_is_a_task() -> None:
    assert not may_have_findings(SENDS, Options())  # no project: the analysis cannot know either
    with prefilter_open():
        assert check_source(SENDS) == []
    hints = ProjectHints(packages=lambda: frozenset({"shop"}))
    assert may_have_findings(SENDS, Options(), hints)  # ``from .tasks``: from the project
    assert not may_have_findings(SENDS.replace("from .tasks", "from mailer"), Options(), hints)


# FCX103 through an app-bound object, in a module that imports nothing from Flask
SEEDS = textwrap.dedent('''\
    from . import db


    def seed():
        db.session.commit()


    seed()
    ''')


def test_an_app_bound_object_reached_at_import_time_passes() -> None:
    assert [f.code for f in check_source(SEEDS)] == ["FCX103"]
    assert "flask" not in SEEDS and may_have_findings(SEEDS, Options())
    unused = SEEDS.replace("seed()\n", "")
    assert not may_have_findings(unused, Options())
    with prefilter_open():
        assert check_source(unused) == []


# --- the second stage's text: the code without its strings and comments ------------------------

def test_the_code_text_has_no_string_or_comment() -> None:
    source = textwrap.dedent('''\
        """Thread at the top."""
        import os  # Thread in a comment


        def f(x=b"Thread", y=rb'Thread', z=u"Thread"):
            """Thread in a docstring."""
            s = 'it\\'s Thread'; t = "a \\" Thread"  # Thread
            r = r"\\\\" + R'Thread' + """Thread
        Thread""" + \'\'\'Thread\'\'\' + f"Thread {x}" + rf"Thread {y}"
            return s if"Thread"else t
        ''')
    tree = ast.parse(source)
    text = code_text(source, tree)
    assert "Thread" in source and "Thread" not in text, text
    for word in ("import os", "def f", "x=", "y=", "return s if", "else t", "{x}", "{y}"):
        assert word in text, word
    assert text != code_words(tree)


def test_the_code_text_keeps_the_code_of_f_string_fields() -> None:
    fields = 'x = f"{threading.Thread(target=work)!r:>{width}}"\ny = rf"""{Pool} and {{Timer}}"""\n' \
             "z = F'{d[\"Executor\"]} {spawn}'\nw = f'{a:#x}'\n"
    text = code_text(fields, ast.parse(fields))
    for word in ("threading.Thread(target=work)", "width", "Pool", "spawn", "d[", "a:#x"):
        assert word in text, (word, text)
    for prose in ("Timer", "Executor"):  # ``{{Timer}}`` is literal text, ``"Executor"`` a string
        assert prose not in text, (prose, text)
    # a spawn written inside an f-string is code: the analysis finds it, the prefilter keeps it
    spawn = SPAWN.replace("    threading.Thread(target=work).start()\n",
                          '    print(f"started {threading.Thread(target=work).start()}")\n')
    assert [f.code for f in check_source(spawn)] == ["FCX100"]
    assert may_have_findings(spawn, Options())


def test_the_code_text_joins_an_attribute_to_its_dot() -> None:
    """``app. route``, a continuation or a comment after the dot: the code words say
    ``.route``, and so does the code text; before the dot, the chain's regex allows them."""
    source = "x = (app.  # the app\n    route)\ny = task.\\\n    delay\nz = db \\\n    .session\nw = (db).engine\n"
    tree = ast.parse(source)
    text = code_text(source, tree)
    for word in (".route", ".delay"):
        assert word in text and word in code_words(tree), (word, text)
    options = Options(app_bound_names=("db.session", "db.engine"))
    for pattern in ("db.session", "db.engine"):
        assert _mentions_app_bound(text, _option_tests(Options(app_bound_names=(pattern,)))[2]), pattern
    assert _mentions_app_bound(source, _option_tests(options)[2])  # the raw text: the first stage


@pytest.mark.parametrize("statement", ["from .jobs import run", "import os; from .jobs import run",
                                       "from.jobs import run", "if True: from . import jobs",
                                       "from \\\n    .jobs import run", "from ..shop.jobs import run"])
def test_a_relative_import_reads_as_one_wherever_it_is_written(statement: str) -> None:
    source = f"import threading\n{statement}\n"
    tree = ast.parse(source)
    for text in (source, code_text(source, tree), code_words(tree)):
        assert _RELATIVE_IMPORT.search(text), (statement, text)
    assert not _RELATIVE_IMPORT.search(code_text("from shop.jobs import run\nx = 1.5\n",
                                                 ast.parse("from shop.jobs import run\nx = 1.5\n")))


# a quote in a format spec, an f-string inside a field: the pattern does not follow the field
NO_FOLLOW = ["x = f\"{n:'>10} {Thread}\"\n", "x = f'{\",\".join(f\"{Thread}\" for a in b)}'\n"]
if sys.version_info >= (3, 12):  # a field may hold the f-string's own quote, a comment, a newline, a backslash
    NO_FOLLOW += ['x = f"{d["k"] + str(threading.Thread)}"\n', 'x = f"""{y # a comment }\n + Thread}"""\n',
                  'x = f"{y +\n Thread}"\n', "x = f\"{'\\n'.join(Thread)}\"\n", "x = f'{n:#x} {Thread}'\n"]


@pytest.mark.parametrize("source", NO_FOLLOW)
def test_where_the_pattern_may_misread_a_string_the_code_text_is_the_code_words(
        source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = ast.parse(source)
    asked: list[ast.AST] = []
    monkeypatch.setattr(prefilter, "code_words", lambda tree: asked.append(tree) or code_words(tree))
    assert "Thread" in code_text(source, tree) and asked == [tree]


def test_an_f_string_the_pattern_cannot_follow_costs_no_backtracking() -> None:
    """A body that does not read as literal text and fields fails in one pass (a nested
    quantifier once made this exponential in the literal text before the field)."""
    source = "".join(f'x{i} = f"{"a" * 60}{{f\'{{y}}\'}}"\n' for i in range(50))
    tree = ast.parse(source)
    started = time.perf_counter()
    assert code_text(source, tree) == code_words(tree)
    assert time.perf_counter() - started < 1.0


def _reference_words(tree: ast.AST) -> Iterator[tuple[str, str]]:
    """What the code words hold, as (kind, word): names, attributes, relative imports."""
    words = code_words(tree)
    for dots, module in re.findall(r"\nfrom (\.*)([\w.]*) import\n", words):
        if dots:
            yield "relative import", dots + module
        yield from (("name", name) for name in module.split(".") if name)
    for word in re.sub(r"\nfrom \.*[\w.]* import\n", " ", words).split(" "):
        if word.startswith("."):
            yield "attribute", word
        else:
            yield from (("name", name) for name in word.split(".") if name)


def _modules() -> list[Path]:
    """The fixtures, this package's modules and some standard library ones with strings of
    every kind (f-strings, bytes, raw, triple-quoted, continuations)."""
    stdlib = Path(textwrap.__file__).parent
    return [*fixture_files(), *sorted(Path(prefilter.__file__).parent.rglob("*.py")),
            *(stdlib / name for name in ("threading.py", "textwrap.py", "string.py", "argparse.py",
                                         "concurrent/futures/thread.py", "asyncio/base_events.py",
                                         "logging/handlers.py", "pydoc.py", "inspect.py"))]


def test_the_code_text_holds_every_code_word(monkeypatch: pytest.MonkeyPatch) -> None:
    """On real modules: each name of the ast is a whole word of the code text, each
    attribute is there after its dot, each relative import reads as one; and the pattern
    followed every string of these modules (no fallback to the ast's words)."""
    def no_fallback(tree: ast.AST) -> str:
        raise AssertionError("the code text fell back to the ast's words")

    for path in _modules():
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        with monkeypatch.context() as patch:
            patch.setattr(prefilter, "code_words", no_fallback)
            text = code_text(source, tree)
        names = set(re.findall(r"\w+", text))
        for kind, word in _reference_words(tree):
            if kind == "name":
                assert word in names, (path, word)
            elif kind == "attribute":
                assert word in text, (path, word)
            else:
                assert _RELATIVE_IMPORT.search(text), (path, word)


# --- what the first stage allows around a dot ----------------------------------------------------

def test_an_attribute_written_with_a_gap_after_its_dot_still_counts() -> None:
    view = textwrap.dedent('''\
        from flask import request


        @bp. get("/rows")
        def rows():
            def generate():
                yield request.args["q"]
            return generate()
        ''')
    for source in (view, view.replace("bp. get", "bp.\\\n    get")):
        assert [f.code for f in check_source(source)] == ["FCX400"]
        assert may_have_findings(source, Options())
    sends = SENDS.replace("notify.send", "notify. send")
    assert may_have_findings(sends, Options(), ProjectHints(packages=lambda: frozenset({"shop"})))


@pytest.mark.parametrize("written", ["db .session", "(db).session", "(db  # the db\n     ).session",
                                     "db.\\\n        session", "db.  \\\n   session"])
def test_an_app_bound_object_written_with_gaps_still_counts(written: str) -> None:
    seeds = SEEDS.replace("db.session", written)
    assert [f.code for f in check_source(seeds)] == ["FCX103"]
    assert may_have_findings(seeds, Options())


# --- the walks of the statements, the whole-word pattern -----------------------------------------

def _copier_shape_by_a_full_walk(tree: ast.AST) -> bool:
    """The shape as the walk of every node found it (the reference)."""
    pending = [(tree, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            depth += 1
        elif depth >= 2 and isinstance(node, (ast.With, ast.AsyncWith)) \
                and any(isinstance(item.context_expr, ast.Name) for item in node.items):
            return True
        pending.extend((child, depth) for child in ast.iter_child_nodes(node))
    return False


COPIER_PLACES = [
    "def outer():\n    def inner():\n        with ctx:\n            pass\n",
    ("class C:\n    def outer(self):\n        if x:\n            async def inner():\n"
     "                async with a, ctx:\n                    pass\n"),
    ("def outer():\n    try:\n        pass\n    except E:\n        def inner():\n            for i in x:\n"
     "                with ctx as c:\n                    pass\n"),
    ("def outer():\n    match x:\n        case 1:\n            def inner():\n                while y:\n"
     "                    with (ctx):\n                        pass\n"),
    ("def outer():\n    def inner():\n        try:\n            pass\n        finally:\n            with ctx:\n"
     "                pass\n"),
    "def outer():\n    with ctx:\n        pass\n",  # one function deep: no copier
    "def outer():\n    def inner():\n        with ctx():\n            pass\n",  # a call, not a name
    "def outer():\n    return lambda: [x for x in y]\n",
]


@pytest.mark.parametrize("source", COPIER_PLACES)
def test_the_statement_walk_finds_the_copier_shape_as_the_full_walk(source: str) -> None:
    tree = ast.parse(source)
    assert _has_copier_shape(tree) == _copier_shape_by_a_full_walk(tree)


def test_the_statement_walk_agrees_with_the_full_walk_on_real_modules() -> None:
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert _has_copier_shape(tree) == _copier_shape_by_a_full_walk(tree), path


def test_the_whole_word_pattern_finds_what_word_boundaries_find() -> None:
    words = frozenset({"local", "Local", "LocalStack", "ContextVar", "run_async"})
    reference = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(words))) + r")\b")
    texts = ["x = local()", "localhost", "nonlocal x", "threading.local", "Local(", "LocalStack()", "LocalStacks",
             "my_local", "local_", "ContextVar('v')", "run_async", "run_async_", "(local)", "local", "é local",
             "Localé", "a.run_async()", ""]
    for text in texts:
        assert bool(_words_pattern(words).search(text)) == bool(reference.search(text)), text
