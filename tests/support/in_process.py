"""``flask-ctx check`` run inside the test process, and spies on the code under test.

Running in process lets a test watch what a run does (which files it opens, which texts
libcst parses, whether it starts a pool); each run first forgets the per-process project
indexes and result caches, as a new ``flask-ctx`` process would start without them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from flake8_flask_ctx import cli
from flake8_flask_ctx.project import index, results


def new_process() -> None:
    index._INDEXES.clear()
    results._CACHES.clear()


def check(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """``flask-ctx check --isolated -j 1 ARGS`` in this process: (status, stdout, stderr)."""
    new_process()
    capsys.readouterr()
    status = cli.main(["check", "--isolated", "-j", "1", *args])
    out, err = capsys.readouterr()
    return status, out, err


def copy_tree(source: Path, target: Path) -> Path:
    """``source`` copied without its caches."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".flask_ctx_cache", "__pycache__"))
    return target


def calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str,
          record: Callable[..., Any] = lambda first, *rest, **named: first) -> list:
    """``owner.name`` watched for this test: each call appends ``record(*args, **kwargs)``
    to the list returned, then runs the real function."""
    seen: list = []
    real = getattr(owner, name)

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(record(*args, **kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, watched)
    return seen
