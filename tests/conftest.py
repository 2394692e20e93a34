"""Session-wide runs that several modules compare against, each made once per test
process: flake8 over ``fixtures/`` and ``flask-ctx check`` over ``fixtures/`` per format;
and ``fixtures_copy``, which the cache tests share."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.cli import CLI_FIXTURE_ARGS, FLASK_CTX, clean_env  # noqa: E402
from support.in_process import copy_tree  # noqa: E402
from support.marks import FIXTURES, INHERIT, ROOT  # noqa: E402

FLAKE8_FORMAT = "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s"


@pytest.fixture(scope="session")
def flake8_on_fixtures() -> list[tuple[str, int, int, str, str]]:
    """Two flake8 runs over all fixtures, (path as printed, row, col 1-based, code, text):
    fixtures/inherit/ with ``--fcx-thread-inherit-context``, the others without."""
    rows = []
    runs = (["--extend-exclude", str(INHERIT.relative_to(ROOT)), str(FIXTURES.relative_to(ROOT))],
            ["--fcx-thread-inherit-context", str(INHERIT.relative_to(ROOT))])
    for args in runs:
        proc = subprocess.run(
            [sys.executable, "-m", "flake8", "--isolated", "--select", "FCX", f"--format={FLAKE8_FORMAT}", *args],
            capture_output=True, text=True, cwd=ROOT, timeout=600,
        )
        assert proc.returncode in (0, 1), proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
        for line in proc.stdout.splitlines():
            path, row, col, code, text = line.split("\t", 4)
            rows.append((path, int(row), int(col), code, text))
    return rows


class _CliRuns:
    """``flask-ctx check --format FMT fixtures`` (from the repository root), run once each."""

    def __init__(self) -> None:
        self._runs: dict[tuple[str, ...], subprocess.CompletedProcess] = {}

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        if args not in self._runs:
            proc = subprocess.run([FLASK_CTX, "check", *args, *CLI_FIXTURE_ARGS],
                                  capture_output=True, text=True, cwd=ROOT, timeout=600, env=clean_env())
            assert "Traceback" not in proc.stderr, proc.stderr
            self._runs[args] = proc
        return self._runs[args]


@pytest.fixture(scope="session")
def cli_on_fixtures() -> _CliRuns:
    return _CliRuns()


@pytest.fixture
def fixtures_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """fixtures/ copied under a project root of its own (so that it has a cache)."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "copy"\nversion = "0"\n')
    copy_tree(FIXTURES, root / "fixtures")
    monkeypatch.chdir(root)
    return root
