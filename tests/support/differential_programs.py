"""Runnable Flask programs for the differential tests (tests/support/differential.py).

``programs()`` is a hypothesis strategy of complete apps, unlike ``tests/test_fuzz.py``'s
Flask-shaped text: every program imports, serves its requests under ``app.test_client()``
(tests/support/runtime_runner.py), and means something when every worker runs inline in
its view (the runner's ``--sync``), which is what its author meant. A program is::

    DPMOD_app.py    app = Flask(__name__), RESULTS = [], a /login view writing the session,
                    one or two *units* (a view that spawns a worker, and what the worker
                    needs), SCENARIO = {"requests": [three requests]}
    DPMOD_util.py   a second module the app imports: helpers that read the request, used
                    in threads and in views, and callers of the app's workers

``DPMOD`` is replaced by the program's name (``dp0007``) when it is written out, so that
many programs import side by side in one process.

A unit draws a *shape* (where the worker is and how it is named: a module-level function,
a closure, a lambda, ``functools.partial``, a ``Thread`` subclass, a copied closure, a
chain of helpers, ``*args``, a worker that starts its own thread, a worker in the second
module, a module-level copy decorator with a ``RuntimeError`` fallback, a worker of a
second app behind ``DispatcherMiddleware``), a *spawner* (``Thread`` joined or not,
``Timer``, ``ThreadPoolExecutor.submit``/``map``, ``multiprocessing.dummy.Pool.map``,
``run_in_executor`` in an async view), one or two *reads* (request args, JSON, form,
headers, session, g, current_app, loops over ``args.items()``/``.values()``,
``request.stream.read(4)`` loops, a slow client's ``.get()``, a queue, a module global the
view shadows, view state written between the closure's ``def`` and the spawn), *guards*
around a read (``try/except KeyError|Exception|RuntimeError``, a flag, the method, an
early return) and view extras (the spawn under a condition, an early return before it, a
session write after it, the helper called directly). Every unit records its constructs as
tags (``shape:closure``, ``read:iter_twice``, ...): the differential report attributes a
worse outcome to the defect those tags point at.

Determinism: workers are joined (or fire-and-forget with nothing in the view racing them;
the runner waits for them), values never depend on timing or thread identity, pools only
run code whose every task writes the same kind of value (RESULTS are compared as
multisets), and the only sleeps are a 20 ms "slow client" and a 1 ms ``Timer``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from hypothesis import strategies as st

TOKEN = "DPMOD"

SHAPES = ("module", "closure", "lambda", "partial", "subclass", "copied", "helper_chain",
          "varargs", "nested", "util_worker", "fallback_copy", "admin_db")
# each spawner: which worker parameter it passes (None: none, "item": one item per task)
SPAWNERS = ("thread", "thread_nojoin", "timer", "submit", "submit_result", "map", "pool_map",
            "run_in_executor")
MAP_SPAWNERS = ("map", "pool_map")
RESULT_SPAWNERS = ("submit_result", "map", "pool_map", "run_in_executor")

# Reads: the lines computing v{i} ({i}: the read's index in the worker). Some can raise
# even with a context, for some requests (args_index, json_index, form_index,
# session_index, g_attr, queue): tests/support/differential.py knows which.
READS: dict[str, tuple[str, ...]] = {
    "args_get": ("v{i} = request.args.get('q', 'none')",),
    "args_index": ("v{i} = request.args['q']",),
    "json_index": ("v{i} = request.json['x']",),
    "json_silent": ("data{i} = request.get_json(silent=True) or {{}}",
                    "v{i} = data{i}.get('x', 'none')"),
    "form_get": ("v{i} = request.form.get('name', 'anon')",),
    "form_index": ("v{i} = request.form['name']",),
    "header": ("v{i} = request.headers.get('X-User', 'anon')",),
    "path": ("v{i} = request.method + ' ' + request.path",),
    "session_get": ("v{i} = session.get('user', 'guest')",),
    "session_index": ("v{i} = session['user']",),
    "g_get": ("v{i} = g.get('user', 'nobody')",),
    "g_attr": ("v{i} = g.user",),
    "config": ("v{i} = current_app.config['GREETING']",),
    "app_name": ("v{i} = current_app.name",),
    "url_for": ("v{i} = url_for('login')",),
    "is_json": ("if request.is_json:",
                "    v{i} = request.json.get('x', 'none')",
                "else:",
                "    v{i} = 'not json'"),
    "iter_twice": ("pairs{i} = []",
                   "for key, value in request.args.items():",
                   "    pairs{i}.append(key + '=' + value)",
                   "keys{i} = []",
                   "for key, value in request.args.items():",
                   "    keys{i}.append(key)",
                   "v{i} = [pairs{i}, keys{i}]"),
    "values_twice": ("first{i} = []",
                     "for value in request.args.values():",
                     "    first{i}.append(value)",
                     "second{i} = []",
                     "for value in request.args.values():",
                     "    second{i}.append(value)",
                     "v{i} = [first{i}, second{i}]"),
    "stream_while": ("size{i} = 0",
                     "while True:",
                     "    chunk{i} = request.stream.read(4)",
                     "    if not chunk{i}:",
                     "        break",
                     "    size{i} += len(chunk{i})",
                     "v{i} = size{i}"),
    "stream_bounded": ("parts{i} = []",
                       "for _ in range(6):",
                       "    chunk{i} = request.stream.read(4)",
                       "    if not chunk{i}:",
                       "        break",
                       "    parts{i}.append(chunk{i}.decode('latin-1'))",
                       "v{i} = ''.join(parts{i})"),
    "slow_app": ("v{i} = current_app.extensions['slow'].get('k')",),
    "slow_g": ("v{i} = g.client.get('k')",),
    "queue": ("current_app.config['JOBS'].put('job')",
              "v{i} = current_app.config['JOBS'].get(timeout=0.02)"),
    "shadow": ("v{i} = request.args.get(name, 'none')",),
    "util_helper": ("v{i} = DPMOD_util.client_tag()",),
    # closures only: view state written between the closure's def and the spawn
    "late_local": ("v{i} = request.args.get(key, 'none')",),
    "late_session": ("v{i} = session.get('stage', 'unset')",),
    "late_g": ("v{i} = g.stage",),
}
# expressions for lambdas and helper returns: (name, expression)
EXPRESSIONS: dict[str, str] = {
    "args_get": "request.args.get('q', 'none')",
    "args_index": "request.args['q']",
    "json_index": "request.json['x']",
    "json_cond": "request.json.get('x', 'none') if request.is_json else 'not json'",
    "form_get": "request.form.get('name', 'anon')",
    "header": "request.headers.get('X-User', 'anon')",
    "session_get": "session.get('user', 'guest')",
    "g_get": "g.get('user', 'nobody')",
    "config": "current_app.config['GREETING']",
    "iter_list": "sorted(request.args.items())",
    "values_list": "list(request.args.values())",
}
CLOSURE_ONLY = {"late_local", "late_session", "late_g"}
MODULE_ONLY = {"shadow"}  # a module global the view shadows: a module-level worker's read
GUARDS = ("none", "try_KeyError", "try_Exception", "try_RuntimeError", "flag_on", "flag_off",
          "method_post", "early_return", "item")
VIEW_EXTRAS = ("spawn_if_mode", "spawn_if_json", "early_return", "session_after",
               "view_reads", "helper_direct")

# requests, by kind: (method, url suffix after the route, test client kwargs or None)
REQUESTS: dict[str, tuple] = {
    "query": ("GET", "?q=alpha&who=ann&mode=bg", None),
    "bare": ("GET", "", None),
    "json": ("POST", "?q=beta", {"json": {"x": "jx", "name": "jn"}}),
    "json_missing": ("POST", "", {"json": {"y": 1}}),
    "form": ("POST", "?mode=bg", {"data": {"name": "bob", "x": "fx"}}),
    "text": ("POST", "?q=gamma", {"data": "raw-body-0123456789", "content_type": "text/plain"}),
    "header": ("GET", "?q=delta", {"headers": {"X-User": "carol", "X-Tag": "t-9"}}),
}
LOGIN = ("POST", "/login", {"data": {"user": "dana"}})
BODIES = ("text", "json", "form")
# the requests that exercise a construct (the others are drawn too, less often)
RELEVANT: dict[str, tuple[str, ...]] = {
    "read:stream_while": BODIES, "read:stream_bounded": BODIES,
    "read:json_index": ("json", "json_missing", "text"), "read:json_silent": ("json", "text"),
    "read:is_json": ("json", "text", "query"), "read:json_cond": ("json", "text", "query"),
    "read:form_get": ("form", "json"), "read:form_index": ("form", "json", "bare"),
    "read:args_index": ("query", "bare", "header"), "read:args_get": ("query", "bare"),
    "read:shadow": ("query", "header"), "read:late_local": ("query",),
    "read:iter_twice": ("query", "header"), "read:values_twice": ("query", "header"),
    "read:iter_list": ("query",), "read:values_list": ("query",),
    "read:header": ("header",), "read:g_get": ("header", "bare"), "read:g_attr": ("header", "bare"),
    "guard:early_return": ("json", "query"), "guard:method_post": ("json", "query"),
    "view:spawn_if_mode": ("query", "form", "bare"), "view:spawn_if_json": ("json", "query"),
    "view:early_return": ("bare", "query"),
}


def block(header: str, body: list[str]) -> list[str]:
    return [header] + ["    " + line if line else "" for line in (body or ["pass"])]


def indent(lines: list[str], n: int = 1) -> list[str]:
    return [("    " * n + line) if line else "" for line in lines]


@dataclass(frozen=True)
class Unit:
    label: str  # "u0"
    routes: tuple[str, ...]  # the view's route first, then helper views of this unit
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Program:
    """One generated app. ``files`` maps a file name to its text, the app first."""

    name: str
    files: tuple[tuple[str, str], ...]
    units: tuple[Unit, ...]
    requests: tuple

    @property
    def main(self) -> str:
        return self.files[0][0]

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(sorted({t for u in self.units for t in u.tags}))

    def source(self, file: Optional[str] = None) -> str:
        return dict(self.files)[file or self.main]

    def unit_of(self, url: str) -> Optional[Unit]:
        path = url.split("?")[0]
        for unit in self.units:
            if path in unit.routes:
                return unit
        return None

    def write(self, directory: Path, files: Optional[dict[str, str]] = None) -> Path:
        """Write the program (or other texts for its files) into ``directory``; the app's path."""
        directory.mkdir(parents=True, exist_ok=True)
        for file, text in (files or dict(self.files)).items():
            (directory / file).write_text(text, encoding="utf-8")
        return directory / self.main


@dataclass(frozen=True)
class ProgramTemplate:
    """What the strategy draws: the texts with ``DPMOD`` still in them."""

    files: tuple[tuple[str, str], ...]
    units: tuple[Unit, ...]
    requests: tuple

    def named(self, name: str) -> Program:
        sub = lambda text: text.replace(TOKEN, name)  # noqa: E731
        return Program(name, tuple((sub(f), sub(t)) for f, t in self.files),
                       self.units, self.requests)


# --- building one program ----------------------------------------------------------------------

@dataclass
class Builder:
    thread: str = "threading.Thread"
    timer: str = "threading.Timer"
    setup: dict = field(default_factory=dict)  # key -> lines, module level, before the units
    module_defs: list = field(default_factory=list)
    views: list = field(default_factory=list)
    util: dict = field(default_factory=dict)  # key -> lines of DPMOD_util.py
    units: list = field(default_factory=list)

    def need(self, key: str, lines: list[str]) -> None:
        self.setup.setdefault(key, lines)

    def render_app(self, requests: list) -> str:
        imports = [
            f'"""Generated by tests/support/differential_programs.py: {len(self.units)} unit(s)."""',
            "import asyncio",
            "import functools",
            "import queue",
            "import threading",
            "import time",
            "from concurrent.futures import ThreadPoolExecutor",
            "from multiprocessing.dummy import Pool",
        ]
        if self.thread == "Thread":
            imports.append("from threading import Thread, Timer")
        imports += [
            "",
            "from flask import Flask, copy_current_request_context, current_app, g, request, "
            "session, url_for",
            "",
            f"import {TOKEN}_util",
            "",
            "app = Flask(__name__)",
            "app.secret_key = 'dev'",
            "app.config['GREETING'] = 'hello'",
            "RESULTS = []",
            "",
            "",
            "@app.route('/login', methods=['POST'])",
            "def login():",
            "    session['user'] = request.form.get('user', 'anon')",
            "    return 'welcome'",
        ]
        lines = list(imports)
        for key in sorted(self.setup):
            lines += ["", ""] + self.setup[key]
        for chunk in self.module_defs:
            lines += ["", ""] + chunk
        for chunk in self.views:
            lines += ["", ""] + chunk
        lines += ["", "", f"SCENARIO = {{\"requests\": {_format_requests(requests)}}}"]
        return "\n".join(lines) + "\n"

    def render_util(self) -> str:
        lines = ['"""The second module of a generated program: helpers and callers."""',
                 "from flask import current_app, g, request, session, url_for  # noqa: F401",
                 "",
                 "",
                 "def client_tag():",
                 "    return request.headers.get('X-Tag', 'none')"]
        for key in sorted(self.util):
            lines += ["", ""] + self.util[key]
        return "\n".join(lines) + "\n"


def _format_requests(requests: list) -> str:
    parts = []
    for method, url, kwargs in requests:
        parts.append(repr((method, url, kwargs)) if kwargs is not None else repr((method, url)))
    return "[" + ",\n                         ".join(parts) + "]"


def _apply_guard(guard: str, lines: list[str], i: int, b: Builder, label: str,
                 extra: str) -> list[str]:
    """Wrap a read's lines in a guard; every path assigns ``v{i}``, or returns."""
    if guard == "none":
        return lines
    if guard.startswith("try_"):
        exc = guard[4:]
        return block("try:", lines) + block(f"except {exc}:", [f"v{i} = 'caught {exc}'"])
    if guard in ("flag_on", "flag_off"):
        flag = f"ENABLED_{label.upper()}_{i}"
        b.need(f"flag {flag}", [f"{flag} = {guard == 'flag_on'}"])
        return block(f"if {flag}:", lines) + block("else:", [f"v{i} = 'disabled'"])
    if guard == "method_post":
        return block("if request.method == 'POST':", lines) + block("else:", [f"v{i} = 'get'"])
    if guard == "early_return":
        return block("if not request.is_json:", [
            f"RESULTS.append([{label!r}, {extra}, 'early'])", "return 'early'"]) + lines
    if guard == "item":
        return block("if item == 2:", lines) + block("else:", [f"v{i} = 'skip'"])
    raise AssertionError(guard)


def _needs(read: str, b: Builder) -> None:
    """Add the module-level setup a read needs."""
    if read in ("slow_app", "slow_g"):
        b.need("a slow client", [
            "class SlowClient:",
            "    def get(self, key):",
            "        time.sleep(0.02)  # a remote call",
            "        return 'slow-' + key",
            "",
            "",
            "app.extensions['slow'] = SlowClient()",
        ])
        if read == "slow_g":
            b.need("before_request client", [
                "@app.before_request",
                "def attach_client():",
                "    g.client = current_app.extensions['slow']",
            ])
    if read == "queue":
        b.need("a queue", ["app.config['JOBS'] = queue.Queue()"])
    if read in ("g_get", "g_attr"):
        b.need("before_request user", [
            "@app.before_request",
            "def load_user():",
            "    if 'X-User' in request.headers:",
            "        g.user = request.headers['X-User']",
        ])
    if read == "shadow":
        b.need("a global name", ["name = 'q'  # the query parameter the workers read"])


@st.composite
def worker_reads(draw, shape: str, spawner: str, b: Builder, label: str, extra: str,
                 focus: Optional[str] = None):
    """The body of a worker: one or two reads with their guards, then the append."""
    allowed = [r for r in READS if r not in CLOSURE_ONLY | MODULE_ONLY]
    if shape in ("closure", "copied"):
        allowed += sorted(CLOSURE_ONLY)
    if shape in ("module", "partial", "varargs"):
        allowed += sorted(MODULE_ONLY)
    if spawner in MAP_SPAWNERS or shape == "nested":
        allowed = [r for r in allowed if not r.startswith("stream")]  # one stream, many tasks
    if spawner in MAP_SPAWNERS or spawner == "run_in_executor":
        allowed = [r for r in allowed if r != "queue"]
    if spawner not in ("thread", "thread_nojoin", "timer", "submit", "submit_result"):
        allowed = [r for r in allowed if not r.startswith("late_")]
    count = draw(st.sampled_from([1, 1, 2]))
    body: list[str] = []
    tags: list[str] = []
    for i in range(count):
        read = focus if i == 0 and focus in allowed else draw(st.sampled_from(sorted(allowed)))
        _needs(read, b)
        lines = [line.format(i=i) for line in READS[read]]
        guards = [gd for gd in GUARDS if gd != "item" or spawner in MAP_SPAWNERS]
        if read.startswith("stream") or read.startswith("late_"):
            guards = ["none", "try_Exception", "flag_on", "method_post"]
        guard = draw(st.sampled_from(guards)) if draw(st.booleans()) else "none"
        body += _apply_guard(guard, lines, i, b, label, extra)
        tags += [f"read:{read}", f"guard:{guard}"]
    values = ", ".join(f"v{i}" for i in range(count))
    body.append(f"RESULTS.append([{label!r}, {extra}, {values}])")
    body.append(f"return [{values}]")
    return body, tags, count


def _spawn(spawner: str, b: Builder, target: str, args: list[str]) -> tuple[list[str], bool]:
    """The lines that start ``target``; True if they bind ``out`` (the workers' results)."""
    tuple_args = "(" + "".join(a + ", " for a in args) + ")"
    if spawner == "thread":
        return [f"t = {b.thread}(target={target}, args={tuple_args})", "t.start()", "t.join()"], False
    if spawner == "thread_nojoin":
        return [f"{b.thread}(target={target}, args={tuple_args}).start()"], False
    if spawner == "timer":
        return [f"t = {b.timer}(0.001, {target}, args=[{', '.join(args)}])", "t.start()",
                "t.join()"], False
    call_args = "".join(", " + a for a in args)
    if spawner == "submit":
        return block("with ThreadPoolExecutor(max_workers=2) as ex:",
                     [f"ex.submit({target}{call_args})"]), False
    if spawner == "submit_result":
        return block("with ThreadPoolExecutor(max_workers=2) as ex:",
                     [f"fut = ex.submit({target}{call_args})"]) + ["out = fut.result()"], True
    if spawner == "map":
        return block("with ThreadPoolExecutor(max_workers=2) as ex:",
                     [f"out = list(ex.map({target}, [1, 2]))"]), True
    if spawner == "pool_map":
        return block("with Pool(2) as pool:", [f"out = pool.map({target}, [1, 2])"]), True
    if spawner == "run_in_executor":
        return ["loop = asyncio.get_running_loop()",
                f"out = await loop.run_in_executor(None, {target}{call_args})"], True
    raise AssertionError(spawner)


@st.composite
def unit(draw, b: Builder, k: int, focus: Optional[tuple[str, str]] = None) -> None:
    """One view, its worker and what they need; ``focus`` forces the shape and first read."""
    label = f"u{k}"
    route = f"/{label}"
    shape = focus[0] if focus else draw(st.sampled_from(SHAPES))
    focus_read = focus[1] if focus else None
    if shape == "subclass":
        spawner = draw(st.sampled_from(["thread", "thread_nojoin"]))
    elif shape in ("copied", "fallback_copy", "admin_db"):
        spawner = draw(st.sampled_from(["thread", "timer", "submit_result"]))
    elif shape == "nested":
        spawner = draw(st.sampled_from(["thread", "submit_result", "map"]))
    else:
        spawner = draw(st.sampled_from(SPAWNERS))
    tags = [f"shape:{shape}", f"spawner:{spawner}"]
    is_map = spawner in MAP_SPAWNERS
    is_async = spawner == "run_in_executor"
    routes = [route]
    worker = f"work_{k}"
    # the worker's parameters and the values passed at the spawn
    if is_map:
        params, args, extra = ["item"], [], "item"
    elif draw(st.booleans()):
        params, args, extra = ["tag"], [f"'t{k}'"], "tag"
    else:
        params, args, extra = [], [], "'-'"
    if shape == "subclass":
        params, args, extra = [], [f"'t{k}'"], "self.tag"
    elif shape == "varargs":
        extra = "list(names)"
    pre_spawn: list[str] = []  # view lines before the spawn
    target = worker
    app_name = "app"

    if shape == "lambda":
        expr_name = (focus_read if focus_read in EXPRESSIONS
                     else draw(st.sampled_from(sorted(EXPRESSIONS))))
        tags.append(f"read:{expr_name}")
        b.module_defs.append(block(f"def record_{k}(extra, value):", [
            f"RESULTS.append([{label!r}, extra, value])", "return [value]"]))
        if is_map:
            target = f"lambda item: record_{k}(item, {EXPRESSIONS[expr_name]})"
        else:
            target = f"lambda: record_{k}('-', {EXPRESSIONS[expr_name]})"
        args = []
        if expr_name in ("g_get",):
            _needs("g_get", b)
    elif shape == "fallback_copy":
        expr_name = draw(st.sampled_from(["args_get", "header", "session_get"]))
        tags.append(f"read:{expr_name}")
        b.module_defs.append(
            block("try:", ["@copy_current_request_context"] + block(
                f"def {worker}():", [f"RESULTS.append([{label!r}, 'copied', "
                                     f"{EXPRESSIONS[expr_name]}])", "return ['copied']"]))
            + block("except RuntimeError:  # no request at import time: the plain version", block(
                f"def {worker}():", [f"RESULTS.append([{label!r}, 'fallback', 'none'])",
                                     "return ['fallback']"])))
        args = []
    elif shape == "admin_db":
        b.need("a fake db", [
            "class FakeDB:",
            "    @property",
            "    def session(self):",
            "        return current_app.extensions.setdefault('fake_db', [])",
            "",
            "",
            "db = FakeDB()",
        ])
        b.need("a second app", [
            "from werkzeug.middleware.dispatcher import DispatcherMiddleware  # noqa: E402",
            "",
            "admin = Flask('admin')",
            "admin.secret_key = 'dev'",
            "app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {'/admin': admin.wsgi_app})",
        ])
        b.module_defs.append(block(f"def {worker}({', '.join(params)}):", [
            f"db.session.append({extra})",
            f"RESULTS.append([{label!r}, {extra}, current_app.name, len(db.session) > 0])",
            "return [current_app.name]"]))
        app_name = "admin"
        route = f"/{label}"
        routes = [f"/admin/{label}"]
        tags.append("read:app_name")
    else:
        body, read_tags, count = draw(worker_reads(shape, spawner, b, label, extra,
                                                   None if shape == "helper_chain" else focus_read))
        tags += read_tags
        if shape == "nested":
            inner = draw(st.sampled_from(["current_app.name", "current_app.config['GREETING']"]))
            body = [f"inner = {b.thread}(target=lambda: RESULTS.append([{label!r}, 'inner', "
                    f"{inner}]))", "inner.start()", "inner.join()"] + body
        if shape == "helper_chain":
            depth = draw(st.sampled_from([1, 2, 3, 8, 9]))
            tags.append(f"chain:{depth}")
            chain_reads = ["args_get", "header", "session_get", "config", "args_index",
                           "iter_list"]
            expr_name = (focus_read if focus_read in chain_reads
                         else draw(st.sampled_from(chain_reads)))
            tags.append(f"read:{expr_name}")
            for level in range(1, depth + 1):
                nxt = (f"helper_{k}_{level + 1}()" if level < depth else EXPRESSIONS[expr_name])
                b.module_defs.append(block(f"def helper_{k}_{level}():", [f"return {nxt}"]))
            body = [f"h = helper_{k}_1()"] + body[:-2] + [
                f"RESULTS.append([{label!r}, {extra}, h, {', '.join(f'v{i}' for i in range(count))}])",
                "return [h]"]
            if draw(st.booleans()):  # the helper is also used out of threads
                routes.append(f"/h{k}")
                b.views.append(["@app.route('/h%d', methods=['GET', 'POST'])" % k] + block(
                    f"def helper_view_{k}():", [f"return {{'direct': helper_{k}_1()}}"]))
                tags.append("view:helper_direct")
        if shape == "subclass":
            cls = f"Job{k}"
            b.module_defs.append(block(f"class {cls}({b.thread}):", block(
                "def __init__(self, tag):", ["super().__init__()", "self.tag = tag"])
                + [""] + block("def run(self):", body)))
            if draw(st.booleans()):
                b.module_defs.append([f"BACKGROUND_{k} = {cls}('boot')  # made at import time"])
                tags.append("module_instance")
            target = None
        elif shape in ("closure", "copied"):
            deco = ["@copy_current_request_context"] if shape == "copied" else []
            pre_spawn += deco + block(f"def {worker}({', '.join(params)}):", body)
        elif shape == "partial":
            b.module_defs.append(block(f"def {worker}({', '.join(['part'] + params)}):", body))
            target = f"functools.partial({worker}, 'p{k}')"
        elif shape == "varargs":
            b.module_defs.append(block(f"def {worker}(*names):", body))
            if not is_map:
                args = ["'a'", "'b'"]
        elif shape == "util_worker":
            util_body = [line.replace("RESULTS.append", "results.append")
                         .replace(f"{TOKEN}_util.client_tag()", "client_tag()") for line in body]
            b.util[f"worker {k}"] = block(f"def {worker}({', '.join(['results'] + params)}):",
                                          util_body)
            target = f"functools.partial({TOKEN}_util.{worker}, RESULTS)"
        else:  # module, nested, helper_chain
            b.module_defs.append(block(f"def {worker}({', '.join(params)}):", body))

    # the spawn and the view around it
    if shape == "subclass":
        spawn_lines = [f"job = Job{k}({args[0] if args else repr('t%d' % k)})", "job.start()"]
        if spawner == "thread":
            spawn_lines.append("job.join()")
        binds_out = False
    else:
        spawn_lines, binds_out = _spawn(spawner, b, target, args)
    late = [t for t in tags if t.startswith("read:late_")]
    between: list[str] = []
    for t in late:
        between += {"read:late_local": ["key = 'q'"],
                    "read:late_session": ["session['stage'] = 'set-in-view'"],
                    "read:late_g": ["g.stage = 'set-in-view'"]}[t]
    view_body = list(pre_spawn) + between
    extras = draw(st.lists(st.sampled_from(VIEW_EXTRAS), max_size=2, unique=True))
    if spawner == "thread_nojoin":
        extras = [e for e in extras if e != "session_after"]
    if "helper_direct" in extras and shape != "helper_chain":
        extras.remove("helper_direct")
    tags += [f"view:{e}" for e in extras]
    result = "out" if binds_out else "None"
    if "early_return" in extras:
        view_body = block("if request.method == 'GET' and 'q' not in request.args:",
                          [f"return {{'unit': {label!r}, 'skipped': True}}"]) + view_body
    if "spawn_if_mode" in extras or "spawn_if_json" in extras:
        test = ("request.args.get('mode') == 'bg'" if "spawn_if_mode" in extras
                else "request.is_json")
        if binds_out:
            view_body += ["out = None"]
        view_body += block(f"if {test}:", spawn_lines)
    else:
        view_body += spawn_lines
    answer = [f"'unit': {label!r}", f"'out': {result}"]
    if "view_reads" in extras or any(t == "read:shadow" for t in tags):
        view_body.insert(0, "name = request.args.get('who', 'nobody')  # the view's own name")
        answer.append("'who': name")
        if any(t == "read:shadow" for t in tags):
            tags.append("shadow_local")
    if "session_after" in extras:
        view_body += ["session['visits'] = session.get('visits', 0) + 1"]
        answer.append("'visits': session['visits']")
    if shape == "helper_chain" and "helper_direct" in extras:
        view_body.insert(0, f"direct = helper_{k}_1()")
        answer.append("'direct': direct")
    view_body.append("return {" + ", ".join(answer) + "}")
    header = f"{'async ' if is_async else ''}def view_{k}():"
    b.views.append([f"@{app_name}.route({route!r}, methods=['GET', 'POST'])"]
                   + block(header, view_body))
    # a caller of the worker in the second module (tests and other modules call workers too)
    if shape in ("module", "varargs") and not is_async and draw(st.integers(0, 3)) == 0:
        call_args = ", ".join(["1"] if is_map else args)
        b.util[f"caller {k}"] = block(f"def replay_{k}():", [
            f"from {TOKEN}_app import {worker}  # the app imports this module: import late",
            f"return {worker}({call_args})"])
        routes.append(f"/r{k}")
        b.views.append([f"@app.route('/r{k}', methods=['GET', 'POST'])"] + block(
            f"def replay_view_{k}():", [f"return {{'replayed': {TOKEN}_util.replay_{k}()}}"]))
        tags.append("caller_in_other_module")
    b.units.append(Unit(label, tuple(routes), tuple(tags)))


@st.composite
def programs(draw, focus: Optional[tuple[str, str]] = None) -> ProgramTemplate:
    """A complete, importable Flask app (and its second module), with three requests.

    ``focus``, a ``(shape, read)`` pair from :func:`focuses`, fixes the first unit's shape
    and first read; everything else is drawn.
    """
    b = Builder()
    if draw(st.integers(0, 3)) == 0:
        b.thread, b.timer = "Thread", "Timer"
    n_units = draw(st.sampled_from([1, 1, 1, 2]))
    for k in range(n_units):
        draw(unit(b, k, focus if k == 0 else None))
    requests = []
    logged_in = False
    for slot in range(3):
        if slot == 0:
            u = b.units[0]
        elif slot == 1:
            u = b.units[-1]
        else:
            u = draw(st.sampled_from(b.units))
        route = draw(st.sampled_from(u.routes)) if draw(st.integers(0, 2)) == 0 else u.routes[0]
        if slot < 2 and not logged_in and draw(st.integers(0, 5)) == 5:
            requests.append(LOGIN)
            logged_in = True
            continue
        relevant = sorted({kind for t in u.tags for kind in RELEVANT.get(t, ())})
        kinds = relevant if relevant and draw(st.integers(0, 2)) < 2 else sorted(REQUESTS)
        kind = kinds[(draw(st.integers(0, len(kinds) - 1)) + slot) % len(kinds)]  # vary by slot
        method, suffix, kwargs = REQUESTS[kind]
        requests.append((method, route + suffix, kwargs))
    app = b.render_app(requests)
    util = b.render_util()
    return ProgramTemplate(files=((f"{TOKEN}_app.py", app), (f"{TOKEN}_util.py", util)),
                           units=tuple(b.units), requests=tuple(requests))


def signature(template) -> tuple:
    """What makes two programs different for the hunt: their units' constructs."""
    return tuple(sorted(u.tags) for u in template.units).__repr__()


def focuses() -> list[tuple[str, str]]:
    """Every (shape, first read) pair a unit can have, in a fixed shuffled order."""
    import random

    pairs = []
    body_reads = sorted(READS)
    for shape in SHAPES:
        if shape == "lambda":
            reads = sorted(EXPRESSIONS)
        elif shape == "helper_chain":
            reads = ["args_get", "header", "session_get", "config", "args_index", "iter_list"]
        elif shape in ("fallback_copy", "admin_db"):
            reads = ["-", "-", "-"]
        else:
            reads = [r for r in body_reads if (r not in CLOSURE_ONLY or shape in ("closure", "copied"))
                     and (r not in MODULE_ONLY or shape in ("module", "partial", "varargs"))]
        while len(reads) < 20:  # every shape about as often as the others
            reads = reads * 2
        pairs += [(shape, r) for r in reads]
    random.Random(20260401).shuffle(pairs)
    return pairs


def collect(count: int) -> list[Program]:
    """``count`` programs, the same ones every time (hypothesis, derandomized).

    Hypothesis favours the first choice of a ``sampled_from`` and mutates the examples it
    made before, so its consecutive examples share their constructs. So the programs are
    drawn in turns, one derandomized run per turn: the i-th turn fixes the first unit's
    (shape, read) to the i-th pair of :func:`focuses` (all the pairs in turn) and keeps
    the first program whose :func:`signature` is new; one turn in three may keep
    hypothesis's simplest example (one unit, a joined ``Thread``, no guard), the others
    keep a random one.
    """
    from hypothesis import HealthCheck, Phase, given, settings

    drawn: list[ProgramTemplate] = []
    seen: set = set()
    plan = focuses()
    config = settings(max_examples=4, derandomize=True, database=None, deadline=None,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    turn = 0
    while len(drawn) < count and turn < count * 4:
        focus = plan[turn % len(plan)]
        turn += 1
        kept: list[ProgramTemplate] = []
        examples: list[int] = []
        simplest = turn % 3 == 1  # hypothesis's first example: one unit, no guard, a Thread

        def draw_program(template: ProgramTemplate) -> None:
            examples.append(1)
            key = signature(template)
            if not kept and key not in seen and (simplest or len(examples) > 1):
                seen.add(key)
                kept.append(template)

        # derandomize seeds a run from the test's digest: the turn makes each run its own,
        # so a second lap of the plan draws other programs for the same focus
        draw_program._hypothesis_internal_add_digest = f"turn {turn}".encode()
        config(given(programs(focus))(draw_program))()
        drawn += kept
    return [template.named(f"dp{index:04d}") for index, template in enumerate(drawn)]


def check_valid(program: Program) -> None:
    """Every file parses; the app has app, RESULTS and a literal SCENARIO of 3 requests."""
    for file, text in program.files:
        tree = ast.parse(text, filename=file)
        compile(tree, file, "exec")
    tree = ast.parse(program.source())
    names = {t.id for node in tree.body if isinstance(node, ast.Assign)
             for t in node.targets if isinstance(t, ast.Name)}
    assert {"app", "RESULTS", "SCENARIO"} <= names, program.name
    scenario = next(ast.literal_eval(node.value) for node in tree.body
                    if isinstance(node, ast.Assign)
                    and getattr(node.targets[0], "id", None) == "SCENARIO")
    assert len(scenario["requests"]) == 3
