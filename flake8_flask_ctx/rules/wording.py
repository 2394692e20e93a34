"""The words messages use for each kind of worker: where it runs, what it lacks there,
and the shortest fix that applies. The rest of the story is on each rule's docs page.
"""

from __future__ import annotations

from ..catalogue.contexts import RUNTIME_ERROR, Need
from ..catalogue.spawners import Kind

# the first line of Flask's error, without its final period (it sits inside parentheses)
REQUEST_ERROR = RUNTIME_ERROR[Need.REQUEST].rstrip(".")
APP_ERROR = RUNTIME_ERROR[Need.APP].rstrip(".")

NO_REQUEST = {
    Kind.THREAD: "with no request context",
    Kind.TASK: "in a task, which never runs in a request",
    Kind.JOB: "in a scheduled job, which never runs in a request",
    # fork (Linux's default to 3.13) copies the request into the child; spawn and forkserver do not
    Kind.PROCESS: "in another process, which has no request under spawn or forkserver (macOS's "
                  "default, and Linux's from 3.14)",
}
NO_REQUEST_FORKSERVER = "in another process, which has no request (forkserver, 3.14's default on Linux)"
NO_REQUEST_STARTED = "in another process, which has no request ({method} start method)"
NO_REQUEST_FORKED_BEFORE = "in another process, forked before this request (a pool's children are made with it)"
PASS_REQUEST_VALUE = {
    Kind.THREAD: "pass the value from the view",
    Kind.TASK: "pass the value as a task argument",
    Kind.JOB: "pass the value in the job's args",
    Kind.PROCESS: "pass the value as an argument",
}
PASS_TO_CONSTRUCTOR = "pass the value to its constructor"

NO_APP = {
    Kind.THREAD: "with no app context",
    Kind.TASK: "in a task with no app context",
    Kind.JOB: "in a scheduled job with no app context",
    Kind.PROCESS: "in another process with no app context",
}
PUSH_APP = {
    Kind.THREAD: "pass the value, or push app.app_context() in the worker",
    Kind.TASK: "push app.app_context() in the task, or give the queue a task class that does",
    Kind.JOB: "run the job's body in 'with app.app_context():'",
    Kind.PROCESS: "push app.app_context() in the child",
}
