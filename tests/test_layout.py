"""The layout of fixed code: imports, blank lines, line length, comments.

The acceptance test at the end runs flake8 (E, W) and ruff (I, E) once each over every
autofix pair and asserts that no fixed file reports anything its buggy original did not.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Optional

import libcst as cst
import pytest

from support.marks import autofix_pairs
from flake8_flask_ctx import cli
from flake8_flask_ctx.config import ConfigError, find_line_length
from flake8_flask_ctx.fixes import fix_source
from flake8_flask_ctx.fixes.edits import EditPlan, apply
from flake8_flask_ctx.fixes.layout import (
    add_imports,
    attach_comments,
    comments_of,
    member_key,
    remove_imports,
    with_blank_lines,
)
from flake8_flask_ctx.options import Options
from flake8_flask_ctx.plugin import FlaskCtxChecker
from flake8_flask_ctx.rules import FixKind

PAIRS = autofix_pairs()
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
needs_ruff = pytest.mark.skipif(RUFF is None, reason="ruff is not installed (pip install ruff, in the test extra)")


def fixed(source: str, limit: int = 88, unsafe: bool = True) -> str:
    """The fixed text, unsafe fixes included: the layout is the same for both."""
    return fix_source(source, Options(max_line_length=limit), unsafe=unsafe).source


def hoisted(source: str, limit: int = 88) -> str:
    """The text after hoists only (a public target's hoist is unsafe, and a safe copy would
    otherwise be preferred): what the layout of new parameters is tested on."""
    return fix_source(source, Options(max_line_length=limit), fixes=frozenset({FixKind.HOIST}), unsafe=True).source


def added(source: str, *imports: tuple[str, str], limit: int = 88) -> str:
    return add_imports(cst.parse_module(source), imports, limit).code


# --- the linters, once over a directory --------------------------------------------------

UNSTABLE = {"E501"}  # messages that carry numbers which move with the text


def lint(directory: Path, limit: int = 88, tools: tuple[str, ...] = ("flake8", "ruff")) -> dict[str, Counter]:
    """flake8 --select E,W and ruff check --select I,E over ``directory``, one run each:
    ``{file name: Counter of (tool, code, message)}``, the message left out where it is not
    stable."""
    found: dict[str, Counter] = {}
    commands = {
        "flake8": [sys.executable, "-m", "flake8", "--isolated", "--select", "E,W", f"--max-line-length={limit}",
                   "--format=%(path)s:%(row)d:%(col)d: %(code)s %(text)s", "."],
        "ruff": [RUFF, "check", "--isolated", "--no-cache", "--select", "I,E", "--line-length", str(limit),
                 "--output-format", "concise", "."],
    }
    for tool in tools:
        command = commands[tool]
        proc = subprocess.run(command, cwd=directory, capture_output=True, text=True)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        for line in proc.stdout.splitlines():
            parts = line.split(":", 3)
            if len(parts) < 4 or not parts[0].endswith(".py"):
                continue
            code, _, message = parts[3].strip().partition(" ")
            key = (tool, code) if code in UNSTABLE else (tool, code, message.removeprefix("[*] "))
            found.setdefault(Path(parts[0]).name, Counter())[key] += 1
    return found


def new_reports(pairs: list[tuple[str, str, str]], tmp_path: Path, limit: int = 88,
                tools: tuple[str, ...] = ("flake8", "ruff")) -> dict[str, Counter]:
    """For ``(name, before, after)`` texts: what each after reports that its before did not."""
    for name, before, after in pairs:
        (tmp_path / f"{name}__before.py").write_text(before, encoding="utf-8")
        (tmp_path / f"{name}__after.py").write_text(after, encoding="utf-8")
    found = lint(tmp_path, limit, tools)
    worse = {}
    for name, _, _ in pairs:
        extra = found.get(f"{name}__after.py", Counter()) - found.get(f"{name}__before.py", Counter())
        if extra:
            worse[name] = extra
    return worse


# --- imports: into an existing statement -------------------------------------------------

@pytest.mark.parametrize("existing,name,expected", [
    ("Flask, request", "copy_current_request_context", "Flask, copy_current_request_context, request"),
    ("Flask, Response, request", "stream_with_context", "Flask, Response, request, stream_with_context"),
    ("request, url_for", "Flask", "Flask, request, url_for"),
    ("Flask, request", "G_CONST", "G_CONST, Flask, request"),
    ("CONST, Flask", "Blueprint", "CONST, Blueprint, Flask"),
    ("abort, request", "Flask", "Flask, abort, request"),
    ("a2, a10", "a3", "a2, a3, a10"),  # natural order, as ruff's natord
    ("request, Flask", "copy_current_request_context", "copy_current_request_context, request, Flask"),
    ("x, g, a", "h", "x, g, a, h"),  # not sorted to begin with: the fewest new inversions
])
def test_a_name_joins_the_existing_statement_in_ruffs_order(existing: str, name: str, expected: str) -> None:
    source = f"import os\n\nfrom flask import {existing}\n\napp = 1\n"
    assert added(source, ("flask", name)) == source.replace(existing, expected)


def test_member_order_is_ruffs_order_by_type() -> None:
    """Checked against ``ruff check --select I`` (0.17): CONSTANTS (more than one
    character, all cased letters upper), then Classes (a capital first), then the rest; each
    by the lowercased name in natural order, then case-sensitively."""
    ruff_order = ["_A", "A_B", "AB", "C2", "C10", "CONST2", "CONST10", "A", "Ab", "Const",
                  "__a", "_a", "a", "a_b", "aB", "ab", "c2", "c10"]
    assert sorted(reversed(ruff_order), key=member_key) == ruff_order
    assert sorted(["request", "copy_current_request_context", "Flask"], key=member_key) == \
        ["Flask", "copy_current_request_context", "request"]


@needs_ruff
def test_member_order_agrees_with_the_installed_ruff(tmp_path: Path) -> None:
    names = ["request", "Flask", "G", "CONFIG", "copy_current_request_context", "Response", "url_for",
             "_private", "X_1", "x10", "x9", "abort", "Abort", "ABORT", "stream_with_context"]
    (tmp_path / "a.py").write_text(f"from flask import {', '.join(sorted(names, key=member_key))}\n")
    proc = subprocess.run([RUFF, "check", "--isolated", "--no-cache", "--select", "I", "--line-length", "300",
                           "a.py"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_a_parenthesized_import_keeps_its_form_and_trailing_comma() -> None:
    source = "from flask import (\n    Flask,  # the app\n    request,\n)\n\napp = 1\n"
    assert added(source, ("flask", "copy_current_request_context")) == (
        "from flask import (\n    Flask,  # the app\n    copy_current_request_context,\n    request,\n)\n\napp = 1\n")
    assert added(source, ("flask", "url_for")) == (
        "from flask import (\n    Flask,  # the app\n    request,\n    url_for,\n)\n\napp = 1\n")


def test_a_statement_made_too_long_is_wrapped_as_ruff_wraps_it() -> None:
    source = "from flask import Flask, Response, render_template, request, session, url_for  # web\n\napp = 1\n"
    assert added(source, ("flask", "stream_with_context")) == (
        "from flask import (  # web\n"
        "    Flask,\n    Response,\n    render_template,\n    request,\n    session,\n"
        "    stream_with_context,\n    url_for,\n)\n\napp = 1\n")
    assert added(source, ("flask", "g"), limit=120) == source.replace(
        "Response, render_template", "Response, g, render_template")


def test_nothing_is_added_twice_and_renaming_statements_are_left_apart() -> None:
    source = "from flask import Flask, copy_current_request_context\n\napp = 1\n"
    assert added(source, ("flask", "copy_current_request_context")) == source
    assert added("from flask import *\n\napp = 1\n", ("flask", "g")) == "from flask import *\n\napp = 1\n"
    assert added("import functools\n\napp = 1\n", ("functools", "")) == "import functools\n\napp = 1\n"
    renamed = "from flask import copy_current_request_context as copy\n\napp = 1\n"
    assert added(renamed, ("flask", "copy_current_request_context")) == (
        "from flask import copy_current_request_context\n" + renamed)


# --- imports: new statements, in their section ------------------------------------------

@pytest.mark.parametrize("source,imports,expected", [
    pytest.param("import os\nfrom concurrent.futures import Future\n\nfrom flask import Flask\n\napp = 1\n",
                 [("functools", "")],
                 "import functools\nimport os\nfrom concurrent.futures import Future\n\nfrom flask import Flask\n"
                 "\napp = 1\n", id="stdlib: import lines first, sorted"),
    pytest.param("import threading\n\nfrom flask import Flask\n\napp = 1\n", [("functools", "")],
                 "import functools\nimport threading\n\nfrom flask import Flask\n\napp = 1\n", id="stdlib first"),
    pytest.param("from multiprocessing.dummy import Pool\n\nfrom flask import Flask\n\napp = 1\n", [("functools", "")],
                 "import functools\nfrom multiprocessing.dummy import Pool\n\nfrom flask import Flask\n\napp = 1\n",
                 id="before the from lines"),
    pytest.param("from flask import Flask\n\napp = 1\n", [("functools", "")],
                 "import functools\n\nfrom flask import Flask\n\napp = 1\n", id="a new stdlib section"),
    pytest.param("import os\n\napp = 1\n", [("flask", "g")],
                 "import os\n\nfrom flask import g\n\napp = 1\n", id="a new third-party section"),
    pytest.param("import os\n\nfrom . import views\n\napp = 1\n", [("flask", "g")],
                 "import os\n\nfrom flask import g\n\nfrom . import views\n\napp = 1\n", id="before local imports"),
    pytest.param("import flask\nimport requests\n\napp = 1\n", [("flask", "g"), ("flask", "Flask")],
                 "import flask\nimport requests\nfrom flask import Flask, g\n\napp = 1\n", id="after the import lines"),
    pytest.param("import os\n\n# web\nimport flask\n\napp = 1\n", [("aiohttp", "")],
                 "import os\n\nimport aiohttp\n\n# web\nimport flask\n\napp = 1\n", id="a comment above stays on"),
    pytest.param("from __future__ import annotations\n\napp = 1\n", [("functools", "")],
                 "from __future__ import annotations\n\nimport functools\n\napp = 1\n", id="after __future__"),
    pytest.param('"""Doc."""\nfrom __future__ import annotations\n\nimport os\n\napp = 1\n', [("flask", "g")],
                 '"""Doc."""\nfrom __future__ import annotations\n\nimport os\n\nfrom flask import g\n\napp = 1\n',
                 id="docstring and __future__"),
    pytest.param('"""Doc."""\n\napp = 1\n', [("functools", "")], '"""Doc."""\n\nimport functools\n\napp = 1\n',
                 id="after the docstring"),
    pytest.param('"""Doc."""\n\n\ndef f():\n    pass\n', [("functools", "")],
                 '"""Doc."""\n\nimport functools\n\n\ndef f():\n    pass\n', id="two blank lines before a def"),
    pytest.param("# Copyright\n\napp = 1\n", [("functools", ""), ("flask", "g")],
                 "# Copyright\n\nimport functools\n\nfrom flask import g\n\napp = 1\n", id="no import at all"),
    pytest.param("", [("flask", "g")], "from flask import g\n", id="an empty module"),
])
def test_a_new_statement_goes_into_its_section(source: str, imports: list, expected: str) -> None:
    assert added(source, *imports) == expected
    cst.parse_module(expected)


def test_functools_for_partial_lands_among_the_stdlib_imports() -> None:
    before = next(b for b, _ in PAIRS if b.stem == "fcx100_hoist_unsafe_pool_map_partial")
    lines = fixed(before.read_text()).splitlines()
    assert lines[2:6] == ["import functools", "from multiprocessing.dummy import Pool", "",
                          "from flask import Flask, request"]


@needs_ruff
def test_added_imports_report_nothing_new(tmp_path: Path) -> None:
    """Every module form above and more, each with several sets of names: flake8 and ruff
    report nothing on the result that they did not report on the module."""
    forms = {
        "plain": "import threading\n\nfrom flask import Flask, request\n\napp = Flask(__name__)\n",
        "doc": '"""Doc."""\n\nimport threading\n\nfrom flask import Flask, request\n\napp = Flask(__name__)\n',
        "doc_only": '"""Doc."""\n',
        "def_only": "def f():\n    pass\n",
        "header": "#!/usr/bin/env python\n# Copyright\n\napp = 1\n",
        "future": "from __future__ import annotations\n\nimport os\n\n\nclass A:\n    pass\n",
        "vertical": "import os\n\nfrom flask import (  # web\n    Flask,  # the app\n    request,\n)\n\napp = 1\n",
        "long": "from flask import Flask, Response, abort, render_template, request, session, url_for\n\napp = 1\n",
        "local": "import os\n\nimport requests\n\nfrom . import views\n\napp = 1\n",
        "renamed": "from flask import copy_current_request_context as cc\n\napp = 1\n",
        "stdlib_from": "import os\nfrom concurrent.futures import ThreadPoolExecutor\n\napp = 1\n",
    }
    names = [[("flask", "copy_current_request_context")], [("functools", "")],
             [("flask", "stream_with_context"), ("flask", "current_app")],
             [("flask", "G_CONST"), ("flask", "Blueprint"), ("functools", "")]]
    cases = [(f"{form}_{i}", source, added(source, *imports))
             for form, source in forms.items() for i, imports in enumerate(names)]
    assert new_reports(cases, tmp_path) == {}


# --- imports: removing -------------------------------------------------------------------

COPY = {("flask", "copy_current_request_context")}


@pytest.mark.parametrize("source,expected", [
    ("from flask import Flask, copy_current_request_context, request\n\nx = Flask, request\n",
     "from flask import Flask, request\n\nx = Flask, request\n"),
    ("from flask import (\n    Flask,\n    request,\n    copy_current_request_context,  # gone\n)\n"
     "\nx = Flask, request\n",
     "from flask import (\n    Flask,\n    request,\n)\n\nx = Flask, request\n"),
    ("from flask import (\n    copy_current_request_context,\n    Flask,\n)\n\nx = Flask\n",
     "from flask import (\n    Flask,\n)\n\nx = Flask\n"),
    ("import os\n\n# for the copy\nfrom flask import copy_current_request_context  # noqa: F401\n\nx = os\n",
     "import os\n\n# for the copy\n\nx = os\n"),
    ("import os\n\nfrom flask import copy_current_request_context\n\n\ndef f():\n    return os\n",
     "import os\n\n\ndef f():\n    return os\n"),
    ("from flask import copy_current_request_context\n\n\n@copy_current_request_context\ndef f():\n    pass\n", None),
    ("from flask import copy_current_request_context as copy\n\n\n@copy\ndef f():\n    pass\n", None),
    ("from flask import copy_current_request_context\n\n__all__ = ['copy_current_request_context']\n", None),
    ("from flask import copy_current_request_context as copy\n\nx = 1\n", "x = 1\n"),
    ("def f():\n    from flask import copy_current_request_context\n    return 1\n", "def f():\n    return 1\n"),
    ("from flask import copy_current_request_context\n", ""),
])
def test_unused_imports_go_and_the_layout_stays(source: str, expected: Optional[str]) -> None:
    assert remove_imports(cst.parse_module(source), COPY).code == (source if expected is None else expected)


# --- blank lines -------------------------------------------------------------------------

def test_a_hoisted_local_goes_just_before_the_spawn_after_the_blank_line() -> None:
    before = next(b for b, _ in PAIRS if b.stem == "fcx100_hoist_closure_local")
    assert ('        print(f"building report as {fmt}")\n\n    fmt = request.args.get("format", "csv")\n'
            '    t = threading.Thread(target=build)') in fixed(before.read_text())


def test_a_hoist_for_a_spawn_in_a_loop_goes_into_the_loop() -> None:
    before = next(b for b, _ in PAIRS if b.stem == "fcx201_hoist_submit_in_loop")
    assert ('        for size in (64, 128, 256):\n            quality = request.args.get("quality", "80")\n'
            '            futures.append(') in fixed(before.read_text())


def test_a_statement_inserted_before_a_nested_def_leaves_one_blank_line() -> None:
    """The blank lines (and comments) above the def stay above what now comes first."""
    module = cst.parse_module("def index():\n    x = 1\n\n    # the worker\n    def work():\n        pass\n")
    work = module.body[0].body.body[1]
    plan = EditPlan(insert_before={id(work): [cst.parse_statement("text = 2\n")]})
    assert apply(module, plan).code == (
        "def index():\n    x = 1\n\n    text = 2\n\n    # the worker\n    def work():\n        pass\n")


def test_an_app_object_goes_just_before_the_spawn() -> None:
    source = (
        "from concurrent.futures import ThreadPoolExecutor\n\nfrom flask import Blueprint\nfrom myext import db\n\n"
        "bp = Blueprint('x', __name__)\n\n\n@bp.route('/purge')\ndef purge():\n    def work():\n"
        "        db.session.commit()\n\n    ThreadPoolExecutor(2).submit(work)\n    return 'ok'\n")
    out = fixed(source)
    assert "from flask import Blueprint, current_app\n" in out
    assert ("def purge():\n    def work():\n        with app.app_context():\n            db.session.commit()\n\n"
            "    app = current_app._get_current_object()\n    ThreadPoolExecutor(2).submit(work)\n") in out


@pytest.mark.parametrize("body", ["", '    """Export."""\n\n    kind = "csv"\n\n'])
def test_a_new_init_gets_pep8s_blank_lines(body: str) -> None:
    source = (
        "import threading\n\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
        f"class Job(threading.Thread):\n{body}    def run(self):\n"
        "        agent = request.headers.get('User-Agent')\n        print(agent)\n\n\n"
        "@app.route('/')\ndef index():\n    Job().start()\n    return ''\n")
    out = fixed(source)
    assert (f"class Job(threading.Thread):\n{body}    def __init__(self, *args, **kwargs):\n"
            "        super().__init__(*args, **kwargs)\n        self.agent = request.headers.get('User-Agent')\n"
            "\n    def run(self):\n") in out


def test_a_removed_decorator_leaves_no_blank_line() -> None:
    before = next(b for b, _ in PAIRS if b.stem == "fcx201_hoist_drop_unused_copy")
    assert "def squares():\n    def square(n):\n" in fixed(before.read_text())


def test_a_removed_statement_leaves_no_extra_blank_lines() -> None:
    module = cst.parse_module("def f():\n    a = 1\n\n    b = 2\n\n    def g():\n        pass\n")
    body = module.body[0].body.body
    plan = EditPlan(remove_statements={id(body[1])})
    assert apply(module, plan).code == "def f():\n    a = 1\n\n    def g():\n        pass\n"
    plan = EditPlan(remove_statements={id(body[0]), id(body[1])})
    assert apply(module, plan).code == "def f():\n    def g():\n        pass\n"
    plan = EditPlan(remove_statements={id(body[0])})
    assert apply(module, plan).code == "def f():\n    b = 2\n\n    def g():\n        pass\n"


@pytest.mark.parametrize("lines,exact,most,expected", [
    ("", 1, 1, "_"), ("__", 1, 1, "_"), ("#", 1, 1, "_#"), ("_#__#", 2, 2, "_#__#"), ("_#_", 2, 2, "__#_"),
    ("___", None, 2, "__"), ("_#__", None, 1, "_#_"), ("_#", 0, 1, "#"),
])
def test_blank_line_runs(lines: str, exact: Optional[int], most: int, expected: str) -> None:
    """``_`` a blank line, ``#`` a comment line."""
    def make(text: str) -> list[cst.EmptyLine]:
        return [cst.EmptyLine(comment=cst.Comment("# c")) if c == "#" else cst.EmptyLine(indent=False)
                for c in text]
    result = with_blank_lines(make(lines), exact, most)
    assert "".join("#" if line.comment else "_" for line in result) == expected


# --- line length -------------------------------------------------------------------------

KWARGS = next(b for b, _ in PAIRS if b.stem == "fcx100_hoist_module_target_kwargs")


def test_a_call_the_fix_made_too_long_is_split_as_black_splits_it() -> None:
    out = fixed(KWARGS.read_text())
    assert ("    threading.Thread(\n        target=_send_receipt,\n        args=(order_id,),\n"
            '        kwargs={"email": request.args.get("email", "")},\n    ).start()  # error: FCX100:5') in out


def test_the_limit_is_the_configured_one() -> None:
    out = fixed(KWARGS.read_text(), limit=120)
    assert ('    threading.Thread(target=_send_receipt, args=(order_id,), kwargs={"email": request.args.get('
            '"email", "")}).start()  # error: FCX100:5') in out


def test_arguments_still_too_long_are_split_in_turn() -> None:
    before = next(b for b, _ in PAIRS if b.stem == "fcx100_hoist_unsafe_pool_map_partial")
    assert ("        urls = pool.map(\n            functools.partial(\n                fetch,\n"
            '                base=request.args.get("base", "https://example.org"),\n            ),\n'
            "            [1, 2, 3],\n        )  # error") in fixed(before.read_text())


def test_a_def_line_made_too_long_gets_one_parameter_per_line() -> None:
    source = (
        "import threading\n\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
        "def _send_the_receipt_for_the_order(order_identifier, customer_reference_number):\n"
        "    address = request.args.get('address', '')\n"
        "    print(order_identifier, customer_reference_number, address)\n\n\n"
        "@app.route('/')\ndef index():\n"
        "    threading.Thread(target=_send_the_receipt_for_the_order, args=(1, 2)).start()\n"
        "    return ''\n")
    out = fixed(source)
    assert ("def _send_the_receipt_for_the_order(\n    order_identifier,\n    customer_reference_number,\n"
            "    address,\n):\n    print(") in out


def test_the_users_long_lines_are_left_alone() -> None:
    long_comment = "# " + "x" * 90
    source = (
        "import threading\n\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
        "def wk(a):\n    print(a, request.args.get('q'))\n\n\n"
        "@app.route('/')\ndef index():\n"
        "    print('a long line of the user, never touched by the fixer at all, whatever it is: ', 1, 2, 3)\n"
        f"    threading.Thread(target=wk, args=(1,)).start()  {long_comment}\n    return ''\n")
    out = hoisted(source)
    assert "    print('a long line of the user, never touched by the fixer at all, whatever it is: ', 1, 2, 3)\n" in out
    # the code still fits: the user's comment, too long already, does not make the fixer split it
    assert f"    threading.Thread(target=wk, args=(1,), kwargs={{\"q\": request.args.get('q')}}).start()  " \
           f"{long_comment}\n" in out


def test_a_line_the_fix_pushed_over_the_limit_is_split_with_its_comment_at_the_end() -> None:
    source = (
        "import threading\n\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
        "def work(a):\n    print(a, request.args.get('q'))\n\n\n"
        "@app.route('/')\ndef index():\n    threading.Thread(target=work, args=(1,)).start()  # start the work\n"
        "    return ''\n")
    assert ("    threading.Thread(\n        target=work,\n        args=(1,),\n"
            "        kwargs={\"q\": request.args.get('q')},\n    ).start()  # start the work\n") in hoisted(source)


@pytest.mark.parametrize("code,expected", [
    pytest.param("x = [threading.Thread(target=copy_current_request_context(work)).start() for _ in range(2)]",
                 "x = [\n    threading.Thread(target=copy_current_request_context(work)).start()\n"
                 "    for _ in range(2)\n]", id="comprehension"),
    pytest.param("t = Timer(1.0, lambda: send(request_identifier, data=request_data), name='the timer')",
                 "t = Timer(\n    1.0,\n    lambda: send(request_identifier, data=request_data),\n"
                 "    name='the timer',\n)", id="lambda"),
    pytest.param("t = Timer(1.0, lambda: send(request_identifier, request_data=the_request_data, also=more))",
                 "t = Timer(\n    1.0,\n    lambda: send(\n        request_identifier,\n"
                 "        request_data=the_request_data,\n        also=more,\n    ),\n)", id="lambda body"),
    pytest.param("assert ok, threading.Thread(target=work, kwargs={'user': flask.g.user, 'id': flask.g.id}).start()",
                 "assert ok, threading.Thread(\n    target=work,\n"
                 "    kwargs={'user': flask.g.user, 'id': flask.g.id},\n).start()", id="assert"),
    pytest.param("ok = any(copy_current_request_context_of_something(x) for x in the_items_of_the_request_data)",
                 "ok = any(copy_current_request_context_of_something(x) for x in the_items_of_the_request_data)",
                 id="a lone generator is left alone"),
    pytest.param("t = threading.Thread(\n    target=work,\n"
                 "    kwargs={'user': flask.g.user, 'identifier': flask.g.identifier, 'n': 1},\n)",
                 "t = threading.Thread(\n    target=work,\n    kwargs={\n        'user': flask.g.user,\n"
                 "        'identifier': flask.g.identifier,\n        'n': 1,\n    },\n)", id="split already"),
])
def test_statement_shapes_split_as_black_splits_them(code: str, expected: str) -> None:
    from flake8_flask_ctx.fixes.layout import fit_statement

    module = cst.parse_module("def f():\n" + "".join(f"    {line}\n" for line in code.split("\n")))
    statement = module.body[0].body.body[0]
    out = module.code_for_node(fit_statement(module, statement, "    ", "    ", 76))
    assert out == expected + "\n"


def test_what_the_fix_adds_to_code_written_one_per_line_is_written_so_too() -> None:
    source = (
        "import threading\n\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
        "def send(\n    order_id,\n    other,  # the other\n):\n"
        "    email = request.args.get('email', '')\n    print(order_id, email, other)\n\n\n"
        "@app.route('/')\ndef index():\n    threading.Thread(\n        target=send,\n"
        "        args=(1, 2),  # the args\n    ).start()\n    return ''\n")
    out = hoisted(source)
    assert "def send(\n    order_id,\n    other,  # the other\n    email,\n):\n" in out
    assert ("    threading.Thread(\n        target=send,\n        args=(1, 2),  # the args\n"
            "        kwargs={\"email\": request.args.get('email', '')},\n    ).start()\n") in out


# --- where the line length comes from ----------------------------------------------------

@pytest.mark.parametrize("name,text,expected", [
    ("setup.cfg", "[flake8]\nmax-line-length = 100\n", 100),
    ("tox.ini", "[flake8]\nmax_line_length = 101\n", 101),
    (".flake8", "[flake8]\nmax-line-length=102\n", 102),
    ("pyproject.toml", "[tool.ruff]\nline-length = 103\n", 103),
    ("ruff.toml", "line-length = 104\n", 104),
    (".ruff.toml", "line-length = 105\n", 105),
    ("setup.cfg", "[metadata]\nname = x\n", 88),
    ("pyproject.toml", "[tool.black]\nline-length = 99\n", 88),
])
def test_the_line_length_comes_from_flake8_or_ruff(tmp_path: Path, name: str, text: str, expected: int) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / name).write_text(text)
    (tmp_path / "pkg").mkdir()
    assert find_line_length(tmp_path / "pkg") == expected


def test_flake8s_setting_wins_over_ruffs_and_the_search_stops_at_the_repository(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[flake8]\nmax-line-length = 79\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert find_line_length(repo) == 88  # the setup.cfg above the repository does not count
    (repo / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    (repo / "tox.ini").write_text("[flake8]\nmax-line-length = 120\n")
    assert find_line_length(repo) == 120
    (repo / "tox.ini").write_text("[flake8]\nselect = E\n")  # flake8 configured, but not its line length
    assert find_line_length(repo) == 100
    (repo / "setup.cfg").write_text("[flake8]\nmax-line-length = lots\n")
    with pytest.raises(ConfigError, match="max-line-length must be a positive whole number"):
        find_line_length(repo)


@pytest.mark.parametrize("name,text", [
    ("setup.cfg", "[flake8]\nmax-line-length = 120\n"), ("tox.ini", "[flake8]\nmax-line-length = 120\n"),
    (".flake8", "[flake8]\nmax-line-length = 120\n"), ("pyproject.toml", "[tool.ruff]\nline-length = 120\n"),
    ("ruff.toml", "line-length = 120\n"), (".ruff.toml", "line-length = 120\n"),
])
def test_the_cli_splits_at_the_configured_line_length(tmp_path: Path, monkeypatch, capsys, name: str,
                                                       text: str) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "app.py").write_text(KWARGS.read_text())
    monkeypatch.chdir(tmp_path)
    assert cli.main(["fix", "--diff", "-j", "1", "app.py"]) == 1
    assert "+    threading.Thread(\n" in capsys.readouterr().out  # 88: split
    (tmp_path / name).write_text(text)
    assert cli.main(["fix", "--diff", "-j", "1", "app.py"]) == 1
    assert '+    threading.Thread(target=_send_receipt, args=(order_id,), kwargs=' in capsys.readouterr().out


def test_the_plugin_takes_flake8s_max_line_length(monkeypatch) -> None:
    monkeypatch.setattr(FlaskCtxChecker, "options", FlaskCtxChecker.options)
    values = argparse.Namespace(max_line_length=99, fcx_extra_spawners=[], fcx_context_wrappers=[],
                                fcx_app_bound_names=["db.session"])
    FlaskCtxChecker.parse_options(values)
    assert FlaskCtxChecker.options.max_line_length == 99
    assert FlaskCtxChecker.options.app_bound_names == ("db.session",)


def test_the_codemods_take_the_projects_line_length(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "ruff.toml").write_text("line-length = 120\n")
    target = tmp_path / "app.py"
    target.write_text(KWARGS.read_text())
    proc = subprocess.run([sys.executable, "-m", "libcst.tool", "codemod", "--no-format", "-x",
                           "flake8_flask_ctx.fixes.codemods.HoistContextReads", str(target)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert target.read_text() == fixed(KWARGS.read_text(), limit=120)


# --- comments ----------------------------------------------------------------------------

def test_comments_of_and_attach_comments() -> None:
    removed = cst.parse_statement("\n# why\n# and how\ndoc_id = request.args['id']  # the id\n")
    comments = comments_of(removed)
    assert [line.comment.value for line in comments.leading] == ["# why", "# and how"]
    assert comments.trailing is not None and comments.trailing.value == "# the id"
    moved = attach_comments(cst.parse_statement("\ndoc_id = request.args['id']\n"), comments)
    assert cst.Module([moved]).code == "\n# why\n# and how\ndoc_id = request.args['id']  # the id\n"


HOISTED = (
    "import threading\n\nfrom flask import Flask, copy_current_request_context, request\n\napp = Flask(__name__)\n\n\n"
    "@app.route('/')\ndef index():\n    x = 1\n\n    # copy the request\n    @copy_current_request_context\n"
    "    def work():\n        # the text\n        text = request.form['text']  # from the form\n        print(text)\n\n"
    "    threading.Thread(target=work).start()\n    return x\n")


def test_a_hoisted_statements_comments_move_with_it() -> None:
    out = fixed(HOISTED)
    assert ("    x = 1\n\n    # copy the request\n    def work():\n        print(text)\n\n"
            "    # the text\n    text = request.form['text']  # from the form\n"
            "    threading.Thread(target=work).start()\n") in out


def test_the_plan_can_link_a_removed_statement_to_its_replacement() -> None:
    module = cst.parse_module("def f():\n    # a\n    x = g(1)  # b\n    return x\n")
    body = module.body[0].body.body
    new = cst.parse_statement("y = g(1)\n")
    plan = EditPlan(insert_before={id(body[1]): [new]}, remove_statements={id(body[0])},
                    moved_comments={id(body[0]): id(new)})
    assert apply(module, plan).code == "def f():\n    # a\n    y = g(1)  # b\n    return x\n"
    plan.moved_comments = {}  # no link and no statement with the same code: the comments stay
    assert apply(module, plan).code == "def f():\n    # a\n    # b\n    y = g(1)\n    return x\n"


def test_comments_of_a_statement_moved_into_a_parameter_stay_in_place() -> None:
    source = (
        "import threading\n\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
        "def work(n):\n    # who\n    email = request.args.get('email')  # the query\n    print(n, email)\n\n\n"
        "@app.route('/')\ndef index():\n    threading.Thread(target=work, args=(1,)).start()\n    return ''\n")
    assert "def work(n, email):\n    # who\n    # the query\n    print(n, email)\n" in hoisted(source)


def test_a_removed_decorators_comments_go_to_the_next_decorator_or_the_def() -> None:
    source = (
        "from multiprocessing.dummy import Pool\n\nfrom flask import Flask, copy_current_request_context\n\n"
        "app = Flask(__name__)\n\n\n@app.route('/')\ndef index():\n"
        "    @app.before_request\n    # copy the request\n    @copy_current_request_context  # for the pool\n"
        "    @staticmethod\n    def square(n):\n        return n * n\n\n"
        "    return str(Pool(3).map(square, [1, 2]))\n")
    out = fixed(source)
    assert ("    @app.before_request\n    # copy the request\n    # for the pool\n    @staticmethod\n"
            "    def square(n):\n") in out
    only = source.replace("    @app.before_request\n", "").replace("    @staticmethod\n", "")
    assert "    # copy the request\n    # for the pool\n    def square(n):\n" in fixed(only)


# --- acceptance: the linters on every autofix pair ---------------------------------------

@pytest.mark.parametrize("tool", ["flake8", pytest.param("ruff", marks=needs_ruff)])
def test_fixed_fixtures_report_nothing_new(tmp_path: Path, tool: str) -> None:
    """flake8 --select E,W and ruff check --select I,E, at the fixer's line length: each
    fixed fixture reports nothing its buggy original did not (compared by code and, where
    it carries no line lengths, message)."""
    cases = [(before.stem, before.read_text(encoding="utf-8"), after.read_text(encoding="utf-8"))
             for before, after in PAIRS]
    assert new_reports(cases, tmp_path, tools=(tool,)) == {}
