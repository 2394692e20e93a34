"""Every fixture through flake8's real command line: findings must match the marks exactly.

A missing finding (false negative) and an unexpected one (false positive) both fail.
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from fixture_marks import FIXTURES, ROOT, expected_findings, fixture_files

FORMAT = "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s"


@pytest.fixture(scope="module")
def flake8_findings() -> dict[Path, set[tuple[int, str]]]:
    """One flake8 run over all fixtures (a subprocess per file would dominate the suite)."""
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "FCX", f"--format={FORMAT}",
         str(FIXTURES)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    results: dict[Path, set[tuple[int, str]]] = defaultdict(set)
    for line in proc.stdout.splitlines():
        path, row, _col, code, _text = line.split("\t", 4)
        results[Path(path).resolve()].add((int(row), code))
    return results


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_match_marks(path: Path, flake8_findings) -> None:
    expected = expected_findings(path)
    actual = flake8_findings.get(path.resolve(), set())
    missing = sorted(expected - actual)
    unexpected = sorted(actual - expected)
    assert not missing and not unexpected, (
        f"{path.name}: missing (line, code) {missing}; unexpected {unexpected}"
    )


def test_there_are_positive_and_negative_fixtures() -> None:
    files = fixture_files()
    assert any(expected_findings(p) for p in files)
    assert any(not expected_findings(p) for p in files)
