"""The prefilter's second stage: the text tests again, on the words of the code alone.

A file passes the text test when a word is anywhere in it, a docstring included; the
second stage reads the ``ast`` (flake8's, or one parse at a sixth of libcst's cost) and
keeps the file only when the word is in its code. It must never hide a finding: on every
fixture, the findings are the same with the prefilter forced open (the fuzz property
``test_prefilter_never_hides_a_finding`` covers generated code).
"""

from __future__ import annotations

import ast
import textwrap

import pytest

from flake8_flask_ctx.engine import check_source
from flake8_flask_ctx.options import Options
from flake8_flask_ctx.prefilter import ProjectHints, code_words, may_have_findings
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
    assert [f.code for f in check_source(COPIER)] == ["FCX300"]
    assert may_have_findings(COPIER, Options())
    assert not may_have_findings(PUSH_ONLY, Options())
    with prefilter_open():
        assert check_source(PUSH_ONLY) == []


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
    assert [f.code for f in check_source(STREAMED_VIEW)] == ["FCX400"]
    assert may_have_findings(STREAMED_VIEW, Options())
    assert not may_have_findings(DICT_GENERATOR, Options())
    with prefilter_open():
        assert check_source(DICT_GENERATOR) == []


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
