"""Project mode: fixture projects (fixtures/projects/<name>/), checked and run.

- The marks in a project's files are its expected findings (tests/test_fixtures.py compares
  them with flake8's, and tests/test_cli.py flake8's with ``flask-ctx check``'s).
- Each project's ``scenario.py`` says what each marked line does on real Flask; here it runs,
  and every error mark must fail in its worker and every ok mark must work.
- The summary cache: a cold and a warm flake8 run give the same findings, the warm one
  computes no summary, an edit recomputes that module only, and ``-j`` shares the folder.
- Without a project (``--fcx-no-project``, a file outside any project, stdin), a file is
  checked on its own, as before project mode existed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.marks import FIXTURES, ROOT, expected_findings, marks, ok_marks

PROJECTS = FIXTURES / "projects"
RUNNER = ROOT / "tests" / "support" / "project_runner.py"
FORMAT = "%(path)s:%(row)d:%(col)d: %(code)s"


def projects() -> list[Path]:
    return sorted(p for p in PROJECTS.iterdir() if (p / "scenario.py").exists())


def flake8(*args: str, cwd: Path) -> set[tuple[str, int, int, str]]:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "FCX",
                           f"--format={FORMAT}", *args], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    out = set()
    for line in proc.stdout.splitlines():
        path, row, col, code = line.split(":", 3)
        out.add((os.path.normpath(path), int(row), int(col), code.strip()))
    return out


def summary_files(root: Path) -> dict[str, int]:
    folder = root / ".flask_ctx_cache" / "summaries"
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*.json")} if folder.exists() else {}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of the shop project, with no cache yet."""
    copy = tmp_path / "shop"
    shutil.copytree(PROJECTS / "shop", copy, ignore=shutil.ignore_patterns(".flask_ctx_cache", "__pycache__"))
    return copy


# --- runtime proof -------------------------------------------------------------------

def _marked_lines(project: Path) -> tuple[set[str], set[str]]:
    errors, oks = set(), set()
    for path in project.rglob("*.py"):
        relative = path.relative_to(project).as_posix()
        errors |= {f"{relative}:{line}" for line, _ in expected_findings(path)}
        oks |= {f"{relative}:{line}" for line, _ in ok_marks(path)}
    return errors, oks


@pytest.mark.parametrize("project", projects(), ids=lambda p: p.name)
def test_each_positive_fails_in_its_worker_and_each_negative_works(project: Path) -> None:
    proc = subprocess.run([sys.executable, str(RUNNER), str(project)], capture_output=True, text=True,
                          timeout=300, cwd=project)
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = [json.loads(line) for line in proc.stdout.splitlines()]
    namespace: dict = {}
    exec((project / "scenario.py").read_text(), namespace)
    assert len(steps) == len(namespace["STEPS"])
    failing, working = set(), set()
    for expected, outcome in zip(namespace["STEPS"], steps):
        assert not outcome["lingering"], outcome
        if "fails" in expected:
            assert any(expected["fails"] in e for e in outcome["errors"]), (expected, outcome)
            failing |= set(outcome["marks"])
        else:
            assert outcome["errors"] == [], (expected, outcome)
            answered = outcome["printed"] + (outcome["body"] or "")
            missing = [text for text in expected["works"] if text not in answered]
            assert not missing, (expected, outcome)
            working |= set(outcome["marks"])
    errors, oks = _marked_lines(project)
    assert errors <= failing, f"error marks no step shows failing: {sorted(errors - failing)}"
    assert oks <= working, f"ok marks no step shows working: {sorted(oks - working)}"
    assert not (failing & oks) and not (working & errors)


def test_every_project_has_cross_module_findings_and_negatives() -> None:
    for project in projects():
        files = list(project.rglob("*.py"))
        assert any(marks(p) for p in files) and any(ok_marks(p) for p in files), project.name
        assert (project / "pyproject.toml").exists(), f"{project.name}: its own root"


# --- the cache -------------------------------------------------------------------------

def test_a_warm_run_finds_the_same_and_computes_no_summary(shop: Path) -> None:
    cold = flake8(".", cwd=shop)
    written = summary_files(shop)
    assert cold and written, "the cold run found the cross-module bugs and wrote summaries"
    assert (shop / ".flask_ctx_cache" / ".gitignore").read_text().strip().endswith("*")

    warm = flake8(".", cwd=shop)
    assert warm == cold
    assert summary_files(shop) == written, "the warm run wrote (or rewrote) summaries"

    messaging = shop / "shop" / "services" / "messaging.py"
    messaging.write_text(messaging.read_text() + "\n# an edit\n")
    edited = flake8(".", cwd=shop)
    assert edited == cold
    after = summary_files(shop)
    assert len(after) == len(written) + 1, "only the edited module is summarized again"
    assert {k: v for k, v in after.items() if k in written} == written


def test_parallel_flake8_on_a_cold_cache_finds_the_same(shop: Path) -> None:
    serial = flake8("--fcx-no-cache", ".", cwd=shop)
    assert not summary_files(shop), "--fcx-no-cache writes nothing"
    parallel = flake8("-j", "2", ".", cwd=shop)
    assert parallel == serial
    assert flake8("-j", "2", ".", cwd=shop) == serial


def test_a_stale_or_broken_cache_entry_is_never_trusted(shop: Path) -> None:
    cold = flake8(".", cwd=shop)
    for path in summary_files(shop):
        Path(path).write_text("{not json")
    assert flake8(".", cwd=shop) == cold


# --- without a project ---------------------------------------------------------------

def test_no_project_checks_each_file_on_its_own(shop: Path) -> None:
    with_project = flake8(".", cwd=shop)
    alone = flake8("--fcx-no-project", ".", cwd=shop)
    assert ("shop/views.py", 14, 5, "FCX100") in with_project - alone  # the target is in services/
    # alone, @run_async (from utils) is not known to spawn: the Thread given its wrapper is reported
    assert alone - with_project == {("shop/twice.py", 20, 5, "FCX100")}
    assert ("shop/jobs.py", 46, 12, "FCX400") in alone  # the query and its stream in one file


def test_single_file_fixtures_are_the_same_in_and_out_of_project_mode() -> None:
    files = [str(p.relative_to(ROOT)) for p in sorted(FIXTURES.glob("*.py"))]
    assert flake8(*files, cwd=ROOT) == flake8("--fcx-no-project", *files, cwd=ROOT)


def test_outside_any_project_and_on_stdin_nothing_is_followed(shop: Path, tmp_path: Path) -> None:
    from flake8_flask_ctx.project.layout import find_root

    loose = tmp_path / "loose"
    loose.mkdir()
    view = (shop / "shop" / "views.py").read_text()
    (loose / "views.py").write_text(view)
    if find_root(str(loose)) is not None:
        pytest.skip(f"a project marker above {loose}: {find_root(str(loose))}")
    assert ("views.py", 14, 5, "FCX100") not in flake8("views.py", cwd=loose)
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "FCX", "-"],
                          input=view, capture_output=True, text=True, cwd=shop / "shop", timeout=120)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr
