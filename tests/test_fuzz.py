"""Fuzz: generated programs never crash the analysis or the fixer.

Two sources of programs:

- hypothesmith: any Python the grammar allows (``from_grammar``) or libcst can build
  (``from_node``). It almost never contains a Flask name, so the prefilter is forced open
  and the engine's own entry points (``check_source``, ``fix_source``) run on every program;
- ``flask_programs()``: Flask-shaped modules assembled from the pieces the rules look at
  (imports and aliases of Flask names, every spawner, closures, lambdas, ``partial``,
  copy decorators, with-blocks, guards, loops, joins, generators, thread locals,
  Thread subclasses, shadowing, odd call shapes), so the fuzz walks the interesting paths.

For every program: no exception (a SyntaxError or libcst's ``ParserSyntaxError`` only
where ``ast`` rejects the text too, or for the one construct libcst is known to reject);
every finding is on a line of the file, inside it, and its message starts with its code;
the prefilter never hides a finding; the fixer returns text that still compiles, changes
nothing when nothing is reported, reports what it applied, and leaves its own output alone.

``FCX_FUZZ_SCALE=10`` runs ten times as many examples (a longer local hunt).
"""

from __future__ import annotations

import ast
import os
import re
import textwrap
from typing import Optional

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from flake8_flask_ctx.engine import check_source
from flake8_flask_ctx.fixes import fix_source
from flake8_flask_ctx.options import Options
from flake8_flask_ctx.prefilter import may_have_findings
from support.properties import analyse, check_fixer, compiles

# FCX_FUZZ_SCALE=10 runs ten times as many examples (a longer local hunt); CI uses 1.
SCALE = float(os.environ.get("FCX_FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


# hypothesmith's programs compile with SyntaxWarnings ('int' object is not callable...)
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

FUZZ = settings(
    max_examples=examples(300),
    deadline=None,
    derandomize=True,  # CI runs the same examples every time; FCX_FUZZ_SCALE hunts further
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    print_blob=True,
)


# --- hypothesmith ----------------------------------------------------------------------------


@settings(FUZZ, max_examples=examples(200))
@given(source=hypothesmith.from_grammar())
def test_grammar_programs(source: str) -> None:
    found = analyse(source)
    check_fixer(source, found)


HEADER = textwrap.dedent(
    """\
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from flask import Flask, copy_current_request_context, current_app, g, request, session
    """
)


@settings(FUZZ, max_examples=examples(60))
@given(source=hypothesmith.from_grammar())
def test_grammar_programs_after_flask_imports(source: str) -> None:
    """The same, with Flask names bound, so the resolver has something to resolve."""
    source = HEADER + source
    found = analyse(source)
    check_fixer(source, found)


@st.composite
def libcst_node_programs(draw) -> str:
    """hypothesmith.from_node(), minus the nodes libcst itself refuses to build: those are
    hypothesmith's bugs (CSTValidationError while generating), not programs to test."""
    from libcst._nodes.base import CSTValidationError

    try:
        return draw(hypothesmith.from_node())
    except CSTValidationError:
        assume(False)
        raise  # unreachable: assume(False) rejects the example


@settings(FUZZ, max_examples=examples(40))
@given(source=libcst_node_programs())
def test_libcst_node_programs(source: str) -> None:
    found = analyse(source)
    check_fixer(source, found)


# --- Flask-shaped programs -------------------------------------------------------------------
#
# A program draws one import style for Flask's names (plain, ``flask.x``, ``fl.x``, aliases),
# one for the spawners, then a few scenarios, each a shape a rule looks at, with random
# statements mixed into the bodies. Templates name things through ``N`` (``{request}``,
# ``{Thread}``...), so every scenario works under every import style.

FLASK_NAMES = ("request", "session", "g", "current_app", "url_for", "flash", "Response",
               "stream_with_context", "copy_current_request_context", "has_request_context",
               "has_app_context", "Flask", "jsonify", "render_template")
FLASK_ALIASES = {"request": "req", "session": "sess", "g": "flask_g", "current_app": "capp",
                 "copy_current_request_context": "copy_ctx", "stream_with_context": "swc"}


@st.composite
def name_styles(draw) -> tuple[list[str], dict[str, str]]:
    """The import lines and how each name is written under them."""
    imports: list[str] = []
    names: dict[str, str] = {}
    style = draw(st.sampled_from(["from", "from", "module", "alias-module", "aliases", "globals", "mixed"]))
    if style in ("from", "mixed", "aliases"):
        imported = []
        for n in FLASK_NAMES:
            local = FLASK_ALIASES.get(n, n) if style == "aliases" and n in FLASK_ALIASES else n
            imported.append(n if local == n else f"{n} as {local}")
            names[n] = local
        imports.append(f"from flask import {', '.join(imported)}")
        if style == "mixed":  # some through the module, some from submodules
            imports += ["import flask", "from flask.globals import request, current_app"]
            names["g"] = "flask.g"
    elif style == "globals":
        imports += ["import flask", "from flask.globals import request, session, g, current_app"]
        names = {n: f"flask.{n}" for n in FLASK_NAMES}
        names.update({n: n for n in ("request", "session", "g", "current_app")})
    else:
        mod = "flask" if style == "module" else "fl"
        imports.append("import flask" if mod == "flask" else "import flask as fl")
        names = {n: f"{mod}.{n}" for n in FLASK_NAMES}
    names["app"] = "app"
    threads = draw(st.sampled_from(["threading", "from", "th"]))
    if threads == "from":
        imports.append("from threading import Thread, Timer, local")
        names.update(Thread="Thread", Timer="Timer", thread_local="local")
    else:
        imports.append("import threading" if threads == "threading" else "import threading as th")
        mod = "threading" if threads == "threading" else "th"
        names.update(Thread=f"{mod}.Thread", Timer=f"{mod}.Timer", thread_local=f"{mod}.local")
    if draw(st.booleans()):
        imports.append("from concurrent.futures import ThreadPoolExecutor, wait")
        names["TPE"] = "ThreadPoolExecutor"
    else:
        imports.append("import concurrent.futures")
        names["TPE"] = "concurrent.futures.ThreadPoolExecutor"
    imports.append(draw(st.sampled_from(["from multiprocessing.dummy import Pool",
                                         "from multiprocessing.pool import ThreadPool as Pool"])))
    imports.append(draw(st.sampled_from(["import functools", "from functools import partial"])))
    names["partial"] = "partial" if "from functools import partial" in imports else "functools.partial"
    extras = draw(st.lists(st.sampled_from([
        "import _thread", "import gevent", "import eventlet", "import asyncio", "import contextvars",
        "from werkzeug.local import Local, LocalStack", "from flask_login import current_user",
        "from extensions import db, mail, cache", "from models import User",
        "from myapp.tasks import run_later", "from myapp.ctx import with_ctx", "from flask_socketio import SocketIO",
        "from flask import _app_ctx_stack, _request_ctx_stack", "from flask.globals import _cv_request, request_ctx",
        "from flask.ctx import RequestContext",
    ]), max_size=5, unique=True))
    return imports + extras, names


READS = [
    "{request}.args.get('q')", "{request}.form['x']", "{request}.json", "{request}.get_json()",
    "{request}.files", "{request}.stream.read()", "{request}.data", "{request}.values",
    "{request}.headers.get('h')", "{session}.get('k')", "{session}['k']", "{g}.user", "{g}.db",
    "{current_app}.config['X']", "{current_app}.logger", "{url_for}('index')", "{flash}('hi')",
    "{render_template}('t.html')", "{jsonify}(a=1)", "item", "x", "self.data",
]
RARE_READS = [
    "{request}", "{session}", "{g}", "{current_app}", "current_user.id", "db.session.query(User).all()",
    "User.query.all()", "mail.send(msg)", "cache.get('k')", "var.get()", "_app_ctx_stack.top",
    "_cv_request.get()", "request_ctx.copy()", "{app}.app_context().push()", "{has_request_context}()",
]
WRITES = [
    "{g}.user = 1", "{g}.counter += 1", "{session}['k'] = 1", "{session}.pop('k', None)",
    "del {session}['k']", "{session}.update(a=1)", "store.value = 1", "x = item",
]
ARGS = ["1", "item", "{request}", "{request}.args", "{session}", "{g}", "{current_app}", "x",
        "{current_app}._get_current_object()", "{request}.args.to_dict()", "store"]
FUNC_NAMES = ["work", "helper", "task", "job", "send", "worker"]

# Odd but valid shapes around spawns and proxies: what a resolver gets wrong first.
WEIRD = [
    "x = [{Thread}(target=work).start() for _ in range(2)]",
    "x = (lambda: {request}.args)()",
    "x = lambda: {Thread}(target=lambda: {request}.args).start()",
    "if (y := {request}.args):\n    {Thread}(target=work, args=(y,)).start()",
    "{Thread}(*args).start()",
    "{Thread}(**kwargs).start()",
    "{Thread}(target=work, args=args, kwargs=kwargs).start()",
    "{Thread}(target=work, args=[*args], kwargs={{**kwargs}}).start()",
    "{Thread}(target=work, kwargs=dict(a={request}, b=1)).start()",
    "executor.submit(*fns)",
    "executor.submit()",
    "{Thread}().start()",
    "{Thread}(target=None).start()",
    "{Thread}(target=work.__call__).start()",
    "{Thread}(target=getattr(obj, 'work')).start()",
    "{Thread}(target=(work)).start()",
    "{Thread}(target=work if x else helper).start()",
    "{Thread}(target=[work][0]).start()",
    "{Thread}(target={partial}()).start()",
    "{Thread}(target={partial}(*fns)).start()",
    "{Thread}(target={partial}(func=work)).start()",
    "{Thread}(target={copy_current_request_context}()).start()",
    "{Thread}(target={copy_current_request_context}(*fns)).start()",
    "{copy_current_request_context}()",
    "{copy_current_request_context}(*fns)",
    "{copy_current_request_context}(lambda: {request}.args)",
    "w = {copy_current_request_context}(work)\n{Thread}(target=w).start()\n{Thread}(target=w).start()",
    "w = work\nw = helper\n{Thread}(target=w).start()",
    "work = work\n{Thread}(target=work).start()",
    "del x",
    "match x:\n    case {{'a': request}}:\n        {Thread}(target=work).start()\n    case [*rest]:\n        pass",
    "class Inner({Thread}):\n    def run(self):\n        x = {request}.args\nInner().start()",
    "class Inner:\n    x = {request}\n    {Thread}(target=work).start()",
    "{Thread}.start(obj)",
    "{Thread}(target=Inner).start()",
    "{Thread}(target={Thread}).start()",
    "{Thread}(target=work)(1)",
    "{Thread}(target=work).start().join()",
    "executor.map(work, {request}.args)",
    "pool.starmap(work, [({request},)])",
    "{request}.args.get(work)",
    "{session}[{request}.args] = {g}",
    "{Timer}(interval=1, function=lambda: {request}.args).start()",
    "x = {{k: {Thread}(target=work) for k in range(2)}}",
    "x = ({Thread}(target=work) for k in range(2))",
    "x = {g} = {request} = 1",
    "x, *y = {request}.args, {session}",
    "ann: int = {request}.args",
    "ann: int",
    "with {app}.app_context() as ctx, {app}.test_request_context():\n    {Thread}(target=work).start()",
    "assert {request}.args, {Thread}(target=work).start()",
    "raise ValueError({request}.args) from None",
    "import threading as Thread",
    "from flask import request as session",
]
WEIRD_IN_FUNCTION = [
    "x = yield",
    "yield from gen()",
    "return (yield {request}.args)",
    "def inner():\n    nonlocal cnt\n    cnt = {request}.args\ncnt = 1\n{Thread}(target=inner).start()",
    "def work():\n    return work()\n{Thread}(target=work).start()",
    "def a():\n    return b()\ndef b():\n    return a() or {request}.args\n{Thread}(target=a).start()",
    "@{copy_current_request_context}\n@{copy_current_request_context}\ndef twice():\n    x = {request}.args\n"
    "{Thread}(target=twice).start()",
]


def _block(header: str, body: list[str]) -> list[str]:
    return [header] + ["    " + line for line in (body or ["pass"])]


@st.composite
def read(draw, names: dict[str, str]) -> str:
    template = draw(st.sampled_from(READS) if draw(st.integers(0, 5)) else st.sampled_from(RARE_READS))
    return template.format(**names)


@st.composite
def statements(draw, names: dict[str, str], depth: int, in_function: bool, in_loop: bool = False,
               max_size: int = 3) -> list[str]:
    """A few statements; compound ones nest up to ``depth``."""
    out: list[str] = []
    for _ in range(draw(st.integers(1, max_size))):
        kinds = ["read", "read", "write", "call", "spawn", "weird"]
        if depth > 0:
            kinds += ["with", "if", "for", "try", "def", "while"]
        if in_function:
            kinds += ["return", "yield"]
        if in_loop:
            kinds += ["break"]
        kind = draw(st.sampled_from(kinds))

        def sub(loop: bool = in_loop) -> list[str]:
            return draw(statements(names, depth - 1, in_function, loop))

        if kind == "read":
            out.append(f"x = {draw(read(names))}")
        elif kind == "weird":
            pool = WEIRD + WEIRD_IN_FUNCTION if in_function else WEIRD
            out += draw(st.sampled_from(pool)).format(**names).split("\n")
        elif kind == "write":
            out.append(draw(st.sampled_from(WRITES)).format(**names))
        elif kind == "call":
            out.append(f"{draw(st.sampled_from(FUNC_NAMES))}({draw(st.sampled_from(['', 'item', 'x']))})")
        elif kind == "spawn":
            out += draw(spawn(names))
        elif kind == "with":
            item = draw(st.sampled_from([
                "{app}.app_context()", "{app}.test_request_context()", "{current_app}.app_context()",
                "{app}.test_request_context('/')", "{TPE}() as executor", "Pool(2) as pool",
                "with_ctx()", "open('f') as fh", "ctx_copy", "request_ctx",
            ])).format(**names)
            out += _block(f"with {item}:", sub())
        elif kind == "if":
            test = draw(st.sampled_from([
                "{has_request_context}()", "not {has_request_context}()", "{has_app_context}()",
                "{has_request_context}() and x", "x", "{request}",
            ])).format(**names)
            body = sub() + (["return"] if in_function and draw(st.booleans()) else [])
            out += _block(f"if {test}:", body)
            if draw(st.booleans()):
                out += _block("else:", sub())
        elif kind == "for":
            out += _block(f"for item in {draw(st.sampled_from(['range(3)', 'items', names['request'] + '.args']))}:",
                          sub(loop=True))
        elif kind == "while":
            out += _block("while x:", sub(loop=True))
        elif kind == "try":
            out += _block("try:", sub()) + _block(f"except Exception as {draw(st.sampled_from(['e', 'request']))}:",
                                                  sub())
        elif kind == "def":
            out += draw(function(names, depth - 1))
        elif kind == "return":
            out.append(draw(st.sampled_from([
                "return", "return x", "return {Response}(gen())", "return {Response}({stream_with_context}(gen()))",
                "return gen()", "return {app}.response_class(gen())", "return stream(gen())",
                "return {Response}(gen()), 200",
            ])).format(**names))
        elif kind == "yield":
            out.append(f"yield {draw(read(names))}")
        elif kind == "break":
            out.append("break")
    return out


@st.composite
def target(draw, names: dict[str, str], name: Optional[str] = None) -> str:
    name = name or draw(st.sampled_from(FUNC_NAMES))
    form = draw(st.sampled_from([
        "{f}", "{f}", "{f}", "{partial}({f}, {a})", "{copy_current_request_context}({f})",
        "with_ctx({f})", "lambda: {f}({a})", "lambda: {r}", "lambda item=None: {r}",
        "self.{f}", "{partial}({copy_current_request_context}({f}), {a})",
    ]))
    return form.format(f=name, a=draw(st.sampled_from(ARGS)).format(**names), r=draw(read(names)), **names)


SPAWNS = [
    "{Thread}(target={t}).start()",
    "{Thread}(target={t}, args=({a},), daemon=True).start()",
    "{Thread}(None, {t}, 'name', ({a},), {{'k': {a}}}).start()",
    "{Timer}(1.0, {t}, args=[{a}]).start()",
    "{Timer}(0, function={t}).start()",
    "executor.submit({t}, {a})",
    "executor.submit(fn={t})",
    "list(executor.map({t}, range(3)))",
    "pool.map({t}, range(3))",
    "pool.apply_async({t}, ({a},))",
    "pool.imap_unordered({t}, items)",
    "{TPE}().submit({t})",
    "Pool(2).map({t}, [1, 2])",
    "_thread.start_new_thread({t}, ({a},))",
    "gevent.spawn({t}, {a})",
    "gevent.spawn_later(1, {t})",
    "eventlet.spawn_n({t}, {a})",
    "loop.run_in_executor(None, {t}, {a})",
    "socketio.start_background_task(target={t})",
    "run_later({t})",
    "run_later(1, {t})",
    "MyThread({t}).start()",
    "Worker().start()",
]


@st.composite
def spawn(draw, names: dict[str, str], worker: Optional[str] = None) -> list[str]:
    t = draw(target(names, worker))
    a = draw(st.sampled_from(ARGS)).format(**names)
    # the common spawners most of the time, the rest now and then
    choices = SPAWNS[:13] if draw(st.integers(0, 3)) else SPAWNS
    call = draw(st.sampled_from(choices)).format(t=t, a=a, **names)
    joined = draw(st.sampled_from(["none", "none", "assign", "join", "wait"]))
    if joined == "none":
        return [call]
    if call.endswith(".start()"):
        call = call[: -len(".start()")]
        return [f"t = {call}", "t.start()"] + (["t.join()"] if joined in ("join", "wait") else [])
    return [f"fut = {call}"] + {"assign": [], "join": ["fut.result()"], "wait": ["wait([fut])"]}[joined]


DECORATORS = [
    "@{copy_current_request_context}", "@with_ctx", "@{app}.route('/x')", "@{app}.get('/y')",
    "@{app}.before_request", "@{app}.cli.command()", "@functools.wraps(f)", "@{stream_with_context}",
    "@socketio.on('event')",
]


@st.composite
def function(draw, names: dict[str, str], depth: int, name: Optional[str] = None,
             body: Optional[list[str]] = None) -> list[str]:
    name = name or draw(st.sampled_from(FUNC_NAMES + ["gen", "stream"]))
    params = draw(st.sampled_from(["", "", "item", "item=None", "*args, **kwargs", "request", "x, /, y=1", "*, k"]))
    decorators = [d.format(**names) for d in draw(st.lists(st.sampled_from(DECORATORS), max_size=2))]
    body = (body or []) + draw(statements(names, depth, in_function=True))
    if draw(st.integers(0, 5)) == 0:  # ``global`` must come before any use of the name
        global_names = [n for n in ("request", "g", "x", "executor", "store") if n not in params]
        body.insert(0, f"global {draw(st.sampled_from(global_names))}")
    # an async generator cannot ``return value``: only bodies without ``yield`` become async
    is_async = draw(st.integers(0, 7)) == 0 and not any("yield" in line for line in body)
    return decorators + _block(f"{'async ' if is_async else ''}def {name}({params}):", body)


@st.composite
def view(draw, names: dict[str, str], body: list[str]) -> list[str]:
    route = draw(st.sampled_from(["@{app}.route('/')", "@{app}.post('/p')", "@bp.route('/b')", ""])).format(**names)
    noise = draw(st.lists(st.sampled_from(["before", "after"]), max_size=2))
    full = (draw(statements(names, 1, True, max_size=2)) if "before" in noise else []) + body
    full += draw(statements(names, 1, True, max_size=2)) if "after" in noise else []
    full.append(draw(st.sampled_from(["return 'ok'", "return x", "pass"])))
    return ([route] if route else []) + _block(f"def {draw(st.sampled_from(['index', 'view', 'upload']))}():", full)


@st.composite
def scenario(draw, names: dict[str, str]) -> list[str]:
    kind = draw(st.sampled_from(["module-worker", "module-worker", "closure", "closure", "stream", "local",
                                 "copy-at-import", "thread-class", "random-function", "module-code"]))
    worker = draw(st.sampled_from(FUNC_NAMES))
    if kind == "module-worker":  # FCX100 / FCX101 / FCX102
        body = [f"x = {draw(read(names))}" for _ in range(draw(st.integers(1, 2)))]
        out = draw(function(names, 1, name=worker, body=body)) + [""]
        spawn_lines = draw(spawn(names, worker))
        if draw(st.booleans()):
            spawn_lines = _block(draw(st.sampled_from(["for item in range(3):", "with {app}.app_context():",
                                                       "if x:"])).format(**names), spawn_lines)
        return out + draw(view(names, spawn_lines))
    if kind == "closure":  # FCX201 / FCX202 / FCX203
        decorator = draw(st.sampled_from(["@{copy_current_request_context}", "@{copy_current_request_context}",
                                          "@with_ctx", ""])).format(**names)
        inner = ([decorator] if decorator else []) + _block(
            f"def {worker}(item=None):", [f"x = {draw(read(names))}", *draw(statements(names, 1, True, max_size=2))])
        spawns = draw(spawn(names, worker))
        if draw(st.booleans()):
            spawns = _block("for item in range(3):", spawns)
        if draw(st.booleans()):
            spawns += draw(spawn(names, worker))  # the same copy for two workers
        setup = [draw(st.sampled_from(["{g}.user = 1", "{g}.db = 2", "x = 1", "{session}['k'] = 1"])).format(**names)]
        if draw(st.booleans()):
            setup.append("executor = %s(2)" % names["TPE"])
        tail = [draw(st.sampled_from(["x = {g}.user", "x = {g}.db", "pass"])).format(**names)]
        loop_inner = draw(st.booleans())
        body = setup + (_block("for item in range(3):", inner + spawns) if loop_inner else inner + spawns) + tail
        return draw(view(names, body))
    if kind == "stream":  # FCX400
        gen = _block("def gen():", [f"yield {draw(read(names))}", f"x = {draw(read(names))}", "yield x"])
        if draw(st.booleans()):
            gen = [f"@{names['stream_with_context']}"] + gen
        ret = draw(st.sampled_from([
            "return {Response}(gen())", "return {Response}({stream_with_context}(gen()))", "return gen()",
            "return {app}.response_class(gen(), mimetype='text/plain')", "return stream(gen())",
            "g2 = gen()\n    return {Response}(g2)", "return {Response}(gen()), 200",
        ])).format(**names)
        helper = _block("def stream(it):", ["return %s(it)" % names["Response"]])
        return gen + [""] + helper + [""] + draw(view(names, [ret]))
    if kind == "local":  # FCX500
        setup = draw(st.sampled_from(["store = {thread_local}()", "store = Local()",
                                      "var = contextvars.ContextVar('v')", "store = LocalStack()"])).format(**names)
        write = draw(st.sampled_from(["store.value = 1", "store.push(1)", "var.set(1)",
                                      "store.value = {request}.args"])).format(**names)
        use = draw(st.sampled_from(["x = store.value", "x = store.top", "x = var.get()",
                                    "store.value = 2\n    x = store.value"]))
        worker_def = _block(f"def {worker}():", [use])
        return [setup, ""] + worker_def + [""] + draw(view(names, [write, *draw(spawn(names, worker))]))
    if kind == "copy-at-import":  # FCX200
        copy = names["copy_current_request_context"]
        return [f"@{copy}"] + _block(f"def {worker}():", [f"x = {draw(read(names))}"]) \
            + [f"ctx_copy = {copy}({worker})"] \
            + _block("def create_app():", [f"app = {names['Flask']}(__name__)",
                                           f"w = {copy}({worker})", "return app"])
    if kind == "thread-class":
        base = draw(st.sampled_from(["{Thread}", "{Timer}", "Base", "object", "MyThread"])).format(**names)
        name = draw(st.sampled_from(["MyThread", "Worker", "Base"]))
        init = _block("def __init__(self, fn=None, *args):",
                      ["super().__init__()", "self.fn = fn", f"self.data = {draw(read(names))}",
                       f"self.executor = {names['TPE']}(2)"])
        run = _block("def run(self):", ["self.fn()", *draw(statements(names, 1, True, max_size=2))])
        method = _block(f"def {worker}(self, item=None):", draw(statements(names, 1, True, max_size=2)))
        spawner = _block("def start_all(self):", ["self.executor.submit(self.run)",
                                                  f"{names['Thread']}(target=self.{worker}).start()"])
        cls = _block(f"class {name}({base}):", init + run + method + spawner)
        return cls + [""] + draw(view(names, draw(spawn(names, worker))))
    if kind == "random-function":
        return draw(function(names, 2))
    return draw(statements(names, 1, in_function=False))


@st.composite
def flask_programs(draw) -> str:
    imports, names = draw(name_styles())
    lines = list(imports)
    lines.append(f"app = {names['Flask']}(__name__)")
    lines += draw(st.lists(st.sampled_from([
        "executor = {TPE}(2)", "pool = Pool(2)", "store = {thread_local}()", "socketio = SocketIO(app)",
        "request = None", "req = {request}", "loop = asyncio.new_event_loop()", "items = [1, 2]",
    ]), max_size=3).map(lambda xs: [x.format(**names) for x in xs]))
    for _ in range(draw(st.integers(1, 4))):
        lines.append("")
        lines += draw(scenario(names))
    return "\n".join(lines) + "\n"


def options_strategy() -> st.SearchStrategy[Options]:
    return st.builds(
        Options,
        extra_spawners=st.lists(st.sampled_from(
            ["myapp.tasks.run_later", "run_later", "*.defer", "myapp.tasks.*", "run_later:1", "x:notanumber",
             "*", "a..b", ":", ""]), max_size=3).map(tuple),
        context_wrappers=st.lists(st.sampled_from(
            ["myapp.ctx.with_ctx", "with_ctx", "*.with_ctx", "*", "app.app_context", ""]), max_size=2).map(tuple),
        app_bound_names=st.lists(st.sampled_from(
            ["db.session", "*.query", "cache.get", "mail.send", "*", "cache", "a.*.c", ""]), max_size=4).map(tuple),
    )


def test_flask_programs_are_valid_python() -> None:
    """The generator itself: its programs must compile (else the fuzz tests test nothing)."""

    @settings(FUZZ, max_examples=examples(150))
    @given(source=flask_programs())
    def inner(source: str) -> None:
        assert compiles(source), source

    inner()


@settings(FUZZ, max_examples=examples(100))
@given(source=flask_programs())
@example(source="import threading\nfrom flask import request\n\ndef work():\n    request.args\n\n"
                "def view():\n    threading.Thread(target=work).start()\n")
def test_flask_programs(source: str) -> None:
    found = analyse(source)
    assert found is not None, "flask_programs() makes valid Python: libcst must parse it"
    if may_have_findings(source, Options()):
        assert check_source(source) == found  # the flake8/CLI path and the direct path agree
    else:
        assert not found, "the prefilter ruled out a file that has findings"
    check_fixer(source, found)


@settings(FUZZ, max_examples=examples(25))
@given(source=flask_programs(), options=options_strategy())
# '*' makes every plain call a spawner, copy_current_request_context(...) included: the fixer
# then wrapped the target in 8 more copies per run (found by this test at FCX_FUZZ_SCALE=3)
@example(source="import threading\n\nfrom flask import Flask, jsonify\n\napp = Flask(__name__)\n\n\n"
                "@app.route('/')\ndef view():\n    t = threading.Thread(target=lambda: jsonify(a=1))\n"
                "    t.start()\n    t.join()\n    return 'ok'\n",
         options=Options(extra_spawners=("*",)))
def test_flask_programs_with_options(source: str, options: Options) -> None:
    found = analyse(source, options)
    assert found is not None
    if may_have_findings(source, options):
        assert check_source(source, options) == found
    else:
        assert not found, "the prefilter ruled out a file that has findings"
    check_fixer(source, found, options)


def test_a_known_bug_is_reported() -> None:
    """The fuzz properties are not vacuous: a known bug is found, and the fixer rewrites it."""
    source = ("import threading\nfrom flask import Flask, request\napp = Flask(__name__)\n\n"
              "def work():\n    print(request.args)\n\n@app.route('/')\ndef view():\n"
              "    threading.Thread(target=work).start()\n    return 'ok'\n")
    found = analyse(source)
    assert [f.code for f in found] == ["FCX100"]
    check_fixer(source, found)
    assert fix_source(source).applied


# --- inputs that have broken libcst-based tools before ------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("", id="empty"),
        pytest.param("\n", id="newline"),
        pytest.param("\ufeffimport flask\n", id="bom-in-text"),
        pytest.param("import flask\r\nimport threading\r\n", id="crlf"),
        pytest.param("import flask\rimport threading\r", id="cr"),
        pytest.param("import flask\n\x0cimport threading\n", id="form-feed"),
        pytest.param("import flask, threading\nx = 1 \\\n    + 2\n", id="continuation"),
        pytest.param("import flask, threading\n" + "x = " + "(" * 150 + ")" * 150 + "\n", id="deep-parens"),
        pytest.param("import flask, threading\n" + "x = " + "[" * 90 + "]" * 90 + "\n", id="deep-lists"),
        pytest.param("from flask import request\nimport threading\n"
                     + "".join("    " * i + f"def f{i}():\n" for i in range(60)) + "    " * 60 + "request.args\n",
                     id="deep-defs"),
        pytest.param("import flask, threading\nif 1:\n\tx = 1\n", id="tab-indent"),
        pytest.param("import flask, threading\nx = 1\x00\n", id="nul-byte"),
        pytest.param("import flask, threading\ndef f(:\n", id="syntax-error"),
        pytest.param("import flask, threading\nprint 'py2'\n", id="python2"),
        pytest.param("import flask, threading\n(x): int = 1\n", id="parenthesised-annotation"),
        pytest.param("import flask, threading\nmatch x:\n    case {'a': request, **rest}:\n        pass\n",
                     id="match"),
        pytest.param("import flask, threading\ndef f[T](x: T) -> T: return x\n", id="pep695-on-old-python"),
    ],
)
def test_odd_inputs(source: str) -> None:
    found = analyse(source)
    check_fixer(source, found)


# Left- or right-nested libcst nodes, one level per element: a tree walk recurses once per
# level, so past ~300-500 elements a plain analysis hits Python's recursion limit. Real code has
# such chains (pydoc_data/topics.py has 2215 implicitly concatenated strings; generated
# dispatchers have long elif chains), and under flake8 the plugin then drops every finding
# of the file silently.
CHAINS = {
    "implicit-concat": lambda n: "PAGE = (\n" + "    '<p>line</p>'\n" * n + ")\n",
    "plus-strings": lambda n: "PAGE = " + " + ".join(["'a'"] * n) + "\n",
    "elif-chain": lambda n: "def route(x):\n    if x == 0:\n        pass\n"
                            + "".join(f"    elif x == {i}:\n        pass\n" for i in range(1, n)),
    "and-chain": lambda n: "ok = " + " and ".join(["x"] * n) + "\n",
    "method-chain": lambda n: "q = query" + ".filter(x)" * n + "\n",
    "subscripts": lambda n: "y = x" + "[0]" * n + "\n",
    "not-chain": lambda n: "y = " + "not " * n + "x\n",
}


@pytest.mark.parametrize("shape", sorted(CHAINS))
def test_long_chains_do_not_crash_and_keep_findings(shape: str) -> None:
    bug = ("import threading\nfrom flask import request\n\ndef work():\n    print(request.args)\n\n"
           "def view():\n    threading.Thread(target=work).start()\n\n")
    # past the limit of every shape (method chains fail from ~300 links, the others from
    # ~350-500); libcst's own parse is superlinear on method chains (4.6 s for 1000 links)
    source = bug + CHAINS[shape](400 if shape == "method-chain" else 600)
    ast.parse(source)
    found = analyse(source)
    assert [(f.line, f.code) for f in found] == [(8, "FCX100")]
    check_fixer(source, found)


# --- the prefilter never hides a finding ---------------------------------------------------------
#
# Small modules built from the few words the prefilter looks for, each present or not: with
# the prefilter forced open the analysis must find nothing where the prefilter says "no".

PROBE_IMPORTS = ["from flask import request, g, current_app", "import flask", "from flask import Flask",
                 "from myapp.models import User", "from myapp.ext import db, cache, mail",
                 "from myapp.tasks import run_later, defer", "import myapp.tasks as tasks",
                 "import threading", "from threading import Thread, local",
                 "from concurrent.futures import ThreadPoolExecutor", "import contextvars"]
PROBE_USES = ["request.args", "flask.request.args", "g.user", "current_app.config", "User.query.all()",
              "db.session.add(x)", "cache.get(1)", "mail.send(x)", "store.value", "var.get()", "x"]
PROBE_SPAWNS = ["threading.Thread(target=work).start()", "Thread(target=work).start()",
                "ThreadPoolExecutor().submit(work)", "run_later(work)", "run_later(1, work)",
                "tasks.defer(work)", "defer(work)", "tasks.run_later(work)"]
PROBE_SETUP = ["store = local()", "store = threading.local()", "var = contextvars.ContextVar('v')",
               "store.value = 1", "var.set(1)"]
# code that runs at import time (FCX103): a use, a call of ``work``, one through a helper
PROBE_IMPORT_TIME = ["", "work()", "VALUE = work()", "class Config:\n    VALUE = work()", "TOP = {use}",
                     "def helper():\n    return work()\n\n\nhelper()", "def later():\n    class Meta:\n"
                     "        VALUE = work()\n    return Meta"]


@st.composite
def prefilter_probes(draw) -> str:
    lines = draw(st.lists(st.sampled_from(PROBE_IMPORTS), max_size=4, unique=True))
    lines += draw(st.lists(st.sampled_from(PROBE_SETUP), max_size=2, unique=True))
    lines += ["", "", "def work():", f"    return {draw(st.sampled_from(PROBE_USES))}", "", "",
              "def start():"]
    lines += ["    " + s for s in draw(st.lists(st.sampled_from(PROBE_SETUP[3:]), max_size=1))]
    lines.append("    " + draw(st.sampled_from([*PROBE_SPAWNS, "pass"])))
    import_time = draw(st.sampled_from(PROBE_IMPORT_TIME)).format(use=draw(st.sampled_from(PROBE_USES)))
    return "\n".join(lines) + "\n" + (f"\n\n{import_time}\n" if import_time else "")


def probe_options() -> st.SearchStrategy[Options]:
    return st.builds(
        Options,
        extra_spawners=st.lists(st.sampled_from(
            ["myapp.tasks.run_later", "run_later", "*.defer", "defer", "myapp.tasks.*", "myapp.tasks.run_*",
             "run_later:1", "myapp.tasks.run_later:1"]), max_size=2).map(tuple),
        app_bound_names=st.one_of(st.just(Options().app_bound_names), st.lists(st.sampled_from(
            ["db.session", "*.query", "User.query", "cache.get", "cache.*", "mail.send", "*.session"]),
            max_size=3).map(tuple)),
    )


@settings(FUZZ, max_examples=examples(200))
@given(source=prefilter_probes(), options=probe_options())
@example(source="import threading\nfrom myapp.models import User\n\n\ndef work():\n    return User.query.all()\n\n\n"
                "def start():\n    threading.Thread(target=work).start()\n", options=Options())
@example(source="from flask import request\nfrom myapp.tasks import run_later\n\n\ndef work():\n"
                "    return request.args\n\n\ndef start():\n    run_later(work)\n",
         options=Options(extra_spawners=("myapp.tasks.*",)))
@example(source="from myapp.ext import db\n\n\ndef work():\n    return db.session.add(x)\n\n\ndef start():\n"
                "    pass\n\n\ndef helper():\n    return work()\n\n\nhelper()\n", options=Options())
def test_prefilter_never_hides_a_finding(source: str, options: Options) -> None:
    assert_prefilter_hides_nothing(source, options)


def assert_prefilter_hides_nothing(source: str, options: Options) -> None:
    """Where the prefilter says "no", the analysis forced open finds nothing; where it says
    "maybe", the filtered check finds what the open one does."""
    found = analyse(source, options)
    assert found is not None
    if not may_have_findings(source, options):
        assert not found, f"the prefilter rules out a file with {[(f.line, f.code) for f in found]}"
    else:
        assert check_source(source, options) == found


# The same probes in disguise. The second stage reads the code text (strings and comments
# cut out, f-string fields kept, the gaps after dots closed) and the first allows gaps
# around dots: the probes' dots get gaps, their uses and spawns move into f-string fields,
# and prose with the prefilter's words comes in comments, docstrings and strings.
PROSE = ["threading.Thread(target=work).start()", "from flask import request, current_app", "db.session.add(x)",
         "store = threading.local()", "@app.route('/rows')", "yield Response(rows())", "with app.app_context():",
         "task.delay(user)", "from .tasks import run_later", "User.query.all()", "ContextVar", "flask.g"]
GAPS = [". ", ".\\\n        ", " . ", ".  \\\n    "]


@st.composite
def disguised_probes(draw) -> str:
    source = draw(prefilter_probes())
    if draw(st.booleans()):  # the use read in a field: still a use
        source = re.sub(r"(?m)^    return (.+)$", r'    return f"got {\1!r:>10}"', source)
    if draw(st.booleans()):  # the spawn in a field: still a spawn
        source = re.sub(r"(?m)^    ((?:threading\.)?Thread\(.*|ThreadPoolExecutor\(.*|\w*\.?run_later\(.*)$",
                        r'    print(f"{\1}")', source)
    if draw(st.booleans()):  # outside the f-strings (a field holds no backslash before 3.12)
        source = "".join(line if 'f"' in line else re.sub(r"(?<=\w)\.(?=[A-Za-z_])",
                                                          lambda _: draw(st.sampled_from(GAPS)), line)
                         for line in source.splitlines(keepends=True))
    prose = draw(st.lists(st.sampled_from(PROSE), max_size=3))
    forms = draw(st.lists(st.sampled_from(["comment", "docstring", "string", "bytes", "fstring", "triple"]),
                          min_size=len(prose), max_size=len(prose)))
    head, tail = [], []
    for words, form in zip(prose, forms):
        if form == "docstring":
            head = [f'"""{words}."""', ""]
        elif form == "comment":
            tail.append(f"# {words}")
        elif form == "string":
            tail.append(f'NOTE = "{words}"')
        elif form == "bytes":
            tail.append(f"NOTE = rb'{words}'".replace("'/rows'", '"/rows"'))
        elif form == "fstring":
            tail.append(f'NOTE = f"{words} {{len(__name__)}}"')
        else:
            tail.append(f"NOTE = '''\n{words}\n'''")
    return "\n".join([*head, source.rstrip("\n"), *tail]) + "\n"


@settings(FUZZ, max_examples=examples(200))
@given(source=disguised_probes(), options=probe_options())
@example(source='"""from flask import request."""\nimport threading\n\n\ndef work():\n    return 1\n\n\n'
                "def start():\n    threading.Thread(target=work).start()\n", options=Options())
@example(source="from myapp.ext import db\n\n\ndef work():\n    return (db).session.add(x)\n\n\ndef start():\n"
                "    pass\n\n\nwork()\n", options=Options())
@example(source="from flask import request\nimport threading\n\n\ndef work():\n    return f\"{request.args}\"\n\n\n"
                "def start():\n    print(f\"{threading.Thread(target=work).start()}\")\n", options=Options())
def test_prefilter_never_hides_a_finding_in_disguise(source: str, options: Options) -> None:
    ast.parse(source)
    assert_prefilter_hides_nothing(source, options)
