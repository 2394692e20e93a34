"""The engine on hostile input: deep nesting, syntax errors; and the plugin never raises."""

from __future__ import annotations

import ast

import pytest

from flake8_flask_ctx.engine import check_source
from flake8_flask_ctx.fixes import fix_source
from flake8_flask_ctx.plugin import FlaskCtxChecker

HEADER = (
    "import threading\n"
    "from flask import Flask, request\n\n"
    "app = Flask(__name__)\n\n"
    "def work():\n"
    "    print(request.args)\n\n"
    "@app.route('/')\n"
    "def view():\n"
    "    threading.Thread(target=work).start()\n"
    "    return ''\n\n"
)


def test_deep_but_valid_code_is_analysed() -> None:
    source = HEADER + "TOTAL = " + " + ".join(["1"] * 1200) + "\n"
    findings = check_source(source)
    assert [(f.line, f.code) for f in findings] == [(11, "FCX100")]
    result = fix_source(source)
    assert result.applied and not result.remaining
    ast.parse(result.source)


def test_deeply_nested_literal() -> None:
    source = HEADER + "DATA = " + "[" * 180 + "]" * 180 + "\n"
    assert [f.code for f in check_source(source)] == ["FCX100"]


def test_syntax_errors_raise_cpythons_error_before_libcst_sees_them() -> None:
    with pytest.raises(SyntaxError):
        check_source(HEADER + "def broken(:\n")
    with pytest.raises(SyntaxError):
        check_source(HEADER + "x = " + "(" * 5000 + ")" * 5000 + "\n")  # would overflow libcst's C stack
    with pytest.raises(SyntaxError):
        fix_source(HEADER + "print 'python 2'\n")


@pytest.mark.parametrize("text", ["", "\n", "def broken(:\n", "\x00\x01junk", "threading flask Thread (((("])
def test_plugin_never_raises(text: str) -> None:
    checker = FlaskCtxChecker(None, text.splitlines(keepends=True), "x.py")  # type: ignore[arg-type]
    assert list(checker.run()) == []


# --- findings do not depend on where things are written --------------------------------------

CYCLE = '''\
import threading
from flask import Flask, request
app = Flask(__name__)

def a():
    print(request.args)
    b()

def b():
    a()
'''
VIEW_A = '''
@app.route("/a")
def view_a():
    threading.Thread(target=a).start()
    return ""
'''
VIEW_B = '''
@app.route("/b")
def view_b():
    threading.Thread(target=b).start()
    return ""
'''


def _reported(source: str) -> set[tuple[str, str]]:
    """(code, message) pairs with line numbers blanked: what moving code around must keep."""
    import re

    return {(f.code, re.sub(r"line \d+", "line N", f.message)) for f in check_source(source)}


def test_a_call_cycle_is_reported_from_both_ends_whatever_the_order() -> None:
    first, second = _reported(CYCLE + VIEW_A + VIEW_B), _reported(CYCLE + VIEW_B + VIEW_A)
    assert first == second
    assert {m.split(" reads")[0] for _, m in first} == {"FCX100 worker a()", "FCX100 worker b() -> a()"}


def test_a_longer_cycle_reached_at_different_depths() -> None:
    source = CYCLE.replace("    a()\n", "    c()\n\ndef c():\n    a()\n") + VIEW_A + VIEW_B + VIEW_A.replace(
        "view_a", "view_c").replace('"/a"', '"/c"').replace("target=a", "target=c")
    shuffled = CYCLE.replace("    a()\n", "    c()\n\ndef c():\n    a()\n") + VIEW_B + VIEW_A.replace(
        "view_a", "view_c").replace('"/a"', '"/c"').replace("target=a", "target=c") + VIEW_A
    assert _reported(source) == _reported(shuffled)
    assert len(_reported(source)) == 3
