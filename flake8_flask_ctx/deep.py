"""Run an analysis of deeply nested (but valid) code without a RecursionError.

The collector, libcst's code generator and the fixer recurse once per nesting level, so a
999-term ``a + b + ...`` chain or a 200-deep literal exceeds Python's default limit of
1000 frames. Such files are rare and valid: instead of failing a build on them, the work
is retried once in a thread with a large stack and a high recursion limit.
"""

from __future__ import annotations

import sys
import threading
from typing import Callable, TypeVar

T = TypeVar("T")

DEEP_RECURSION_LIMIT = 50_000
DEEP_STACK_BYTES = 512 * 1024 * 1024  # address space only; pages are used as needed


def run_deep(work: Callable[[], T]) -> T:
    try:
        return work()
    except RecursionError:
        pass
    outcome: dict[str, object] = {}

    def target() -> None:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, DEEP_RECURSION_LIMIT))
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        finally:
            sys.setrecursionlimit(limit)

    previous = threading.stack_size()
    try:
        threading.stack_size(DEEP_STACK_BYTES)
        worker = threading.Thread(target=target, name="flask-ctx-deep")
    finally:
        threading.stack_size(previous)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
