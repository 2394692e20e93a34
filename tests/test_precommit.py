"""The pre-commit hooks, through the real ``pre-commit run`` against this repository.

pre-commit builds the hook's environment the way a user's machine would (a venv with this
package installed from a git clone), so this also proves the hooks install from scratch.
The repository is a snapshot of this working tree committed into a scratch clone (what
``pre-commit try-repo`` does), and the environment is built once for the module:
``try-repo`` would build a new one for every call.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.marks import FIXTURES, ROOT

pytestmark = pytest.mark.slow

BUGGY = FIXTURES / "autofix" / "fcx100_hoist_closure_local.py"
FIXED = FIXTURES / "autofix" / "fcx100_hoist_closure_local.fixed.py"
CLEAN = FIXTURES / "negatives" / "not_workers.py"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A user's repository with one buggy and one clean Flask module."""
    path = tmp_path_factory.mktemp("user-project")
    _git(path, "init", "-q")
    shutil.copy(BUGGY, path / "buggy.py")
    shutil.copy(CLEAN, path / "clean.py")
    _git(path, "add", ".")
    return path


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    environ = dict(os.environ)
    environ["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    # try-repo commits uncommitted changes of the hook repo into a shadow copy
    for key, value in (("GIT_AUTHOR_NAME", "t"), ("GIT_AUTHOR_EMAIL", "t@example.invalid"),
                       ("GIT_COMMITTER_NAME", "t"), ("GIT_COMMITTER_EMAIL", "t@example.invalid")):
        environ.setdefault(key, value)
    return environ


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory, env: dict[str, str]) -> tuple[Path, str]:
    """This working tree (tracked and untracked files, uncommitted changes included) as a
    one-commit repository: (path, commit)."""
    path = tmp_path_factory.mktemp("hook-repo")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (os.fsdecode(n) for n in listed)):
        source = ROOT / name
        if source.is_file():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, path / name)
    _git(path, "init", "-q")
    _git(path, "add", ".")
    subprocess.run(["git", "commit", "-q", "-m", "snapshot"], cwd=path, check=True, capture_output=True, env=env)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True,
                         check=True).stdout.strip()
    return path, rev


def try_repo(project: Path, env: dict[str, str], hook: str, *files: str, repo=None) -> subprocess.CompletedProcess:
    path, rev = repo
    config = project.parent / f"{project.name}-pre-commit-config.yaml"  # outside the repository
    config.write_text(f"repos:\n  - repo: {path}\n    rev: {rev}\n    hooks:\n      - id: {hook}\n")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "-c", str(config), hook, "--files", *files],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )


def test_check_hook_fails_on_buggy_and_passes_on_clean(project: Path, env: dict[str, str], hook_repo) -> None:
    bad = try_repo(project, env, "flask-ctx", "buggy.py", repo=hook_repo)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "buggy.py:15:9: FCX100" in bad.stdout
    good = try_repo(project, env, "flask-ctx", "clean.py", repo=hook_repo)
    assert good.returncode == 0, good.stdout + good.stderr


def test_fix_hook_rewrites_the_buggy_file(project: Path, env: dict[str, str], hook_repo) -> None:
    result = try_repo(project, env, "flask-ctx-fix", "buggy.py", repo=hook_repo)
    assert result.returncode == 1, result.stdout + result.stderr  # files were modified
    assert (project / "buggy.py").read_text() == FIXED.read_text()
    again = try_repo(project, env, "flask-ctx-fix", "buggy.py", repo=hook_repo)
    assert again.returncode == 0, again.stdout + again.stderr


def test_hooks_run_serially_and_honour_exclude() -> None:
    """pre-commit runs a hook in parallel batches (one process per CPU) unless
    require_serial; flask-ctx spreads the files over every CPU itself. And pre-commit names
    each staged file, so the hooks pass --force-exclude for [tool.flask-ctx] exclude."""
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    hooks = re.split(r"^- ", text, flags=re.M)[1:]
    assert len(hooks) == 2
    for hook in hooks:
        assert re.search(r"^  require_serial: true$", hook, re.M), hook
        assert re.search(r"^  entry: flask-ctx (check|fix) --force-exclude$", hook, re.M), hook


def test_exclude_applies_to_the_files_pre_commit_names(project: Path, env: dict[str, str], hook_repo) -> None:
    shutil.copy(BUGGY, project / "generated.py")
    (project / "pyproject.toml").write_text('[tool.flask-ctx]\nextend-exclude = ["generated.py"]\n')
    _git(project, "add", ".")
    try:
        result = try_repo(project, env, "flask-ctx", "generated.py", "clean.py", repo=hook_repo)
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        (project / "pyproject.toml").unlink()
        (project / "generated.py").unlink()
        _git(project, "add", "-A")

