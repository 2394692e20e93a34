"""Every FCX code, its title and its message template: the one place they are defined.

The flake8 plugin, the CLI, the README's rule list and the docs test all read this table,
so the documentation and the code cannot drift apart. A message is one line: the code,
what the code does, what happens at runtime (the first line of the exception, which is the
same on every Flask version where the text differs) and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

RQ = "RuntimeError: Working outside of request context."
AP = "RuntimeError: Working outside of application context."
SN2 = ("RuntimeError: Unable to build URLs outside an active request without 'SERVER_NAME' "
       "configured.")


# FCX101's advice: the general one, and url_for's (it needs a request, or SERVER_NAME).
APP_FIX = ("Compute the value in the view and pass it, or pass app = "
           "current_app._get_current_object() and use 'with app.app_context():' in the worker")
URL_FIX = ("Build the URL in the view and pass it, or run this one worker in a request copy "
           "(copy_current_request_context); an app context alone needs SERVER_NAME")


@dataclass(frozen=True)
class Code:
    code: str
    title: str
    template: str

    def format(self, **fields: object) -> str:
        return f"{self.code} {self.template.format(**fields)}"


CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code(
            "FCX100",
            "worker reads a request-bound proxy with no request context",
            "{worker} reads {what} (line {line}) with no request context: "
            f"{RQ} Read the value in the view and pass it as an argument, "
            "or decorate a closure made in the view with @copy_current_request_context "
            "(one worker per copy)",
        ),
        Code(
            "FCX101",
            "worker uses an app-bound proxy or extension object with no app context",
            "{worker} uses {what} (line {line}) {where}: {error} {fix}",
        ),
        Code(
            "FCX102",
            "a context proxy object itself is passed to a worker",
            "{proxy} is passed to {worker} as an argument; the proxy is unbound in the "
            "worker thread ({error}). Pass {proxy}._get_current_object() or the values "
            "the worker needs",
        ),
        Code(
            "FCX200",
            "copy_current_request_context evaluated where no request is active",
            "copy_current_request_context is evaluated {where}, where no request is "
            "active: RuntimeError: 'copy_current_request_context' can only be used when "
            "a request context is active. Decorate a closure inside the view, or drop "
            "the decorator and wrap at the spawn site in the view: "
            "Thread(target=copy_current_request_context({name}))",
        ),
        Code(
            "FCX201",
            "one copied request context entered by several workers",
            "{worker} runs one copied request context in several threads ({how}): once tasks "
            "do I/O, ValueError: <Token ...> was created in a different Context (Flask "
            "2.2-3.1; AssertionError: Popped wrong app context on <=2.1, RuntimeError: "
            "Cannot pop this context on 3.2), and pooled threads may later read a stale "
            "request. Pass the values each task needs, or copy once per task in the view: "
            "copy_current_request_context({name}) inside the loop",
        ),
        Code(
            "FCX202",
            "a worker in a copied or pushed context relies on the view's g",
            "{worker} {action} g.{attr} in a copied context, which gets a fresh g: "
            "{result}. Pass the value as an argument (or return it) instead of going through g",
        ),
        Code(
            "FCX203",
            "an unjoined worker reads the request body lazily or writes the session",
            "{worker} {action} after the view may have returned (the thread is not joined): "
            "{result}; the test client hides this. {fix}",
        ),
        Code(
            "FCX300",
            "removed or private Flask context internals",
            "{what}: {why}. Use the public API: pass values and use 'with "
            "app.app_context():' in the worker, or copy_current_request_context once per task",
        ),
        Code(
            "FCX400",
            "a generator that uses a context is streamed without stream_with_context",
            "generator {gen}() uses {what} (line {line}) but is streamed without "
            "stream_with_context: the response starts with 200 and the body is cut when the "
            f"generator runs after the request ended ({RQ}; a use before the first yield "
            "gives a 500). Wrap it: stream_with_context({gen}()) or @stream_with_context, or "
            "read the values before building the generator",
        ),
        Code(
            "FCX500",
            "thread-local state set in the spawning thread is read in a worker",
            "{worker} reads {what}, but {obj} is {kind} set in the spawning thread: the "
            "worker sees its own empty copy ({result}). Pass the value as an argument",
        ),
    )
}


def message(code: str, **fields: object) -> str:
    """The full flake8 message text for ``code``."""
    return CODES[code].format(**fields)
