"""Every fixture through flake8's real command line: findings must match the marks exactly.

A missing finding (false negative) and an unexpected one (false positive) both fail, and so
does a finding in the wrong column or whose message lacks the marked fragment (a wrong
call chain, a wrong name). See tests/support/marks.py for the mark syntax.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from support.marks import FIXTURES, ROOT, fixture_files, marks, ok_marks


@pytest.fixture(scope="module")
def flake8_findings(flake8_on_fixtures) -> dict[Path, list[tuple[int, int, str, str]]]:
    """The flake8 runs over all fixtures (a subprocess per file would dominate the suite),
    shared with the other modules that compare against it (tests/conftest.py)."""
    results: dict[Path, list[tuple[int, int, str, str]]] = defaultdict(list)
    for path, row, col, code, text in flake8_on_fixtures:
        results[(ROOT / path).resolve()].append((row, col - 1, code, f"{code} {text}"))
    return results


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_match_marks(path: Path, flake8_findings) -> None:
    expected = marks(path)
    malformed = [m for m in expected if not m.col or not m.fragment]
    assert not malformed, f"{path.name}: marks need a column and a message fragment: {malformed}"
    actual = flake8_findings.get(path.resolve(), [])
    missing = [m for m in expected if not any(m.matches(*f) for f in actual)]
    unexpected = [f for f in actual if not any(m.matches(*f) for m in expected)]
    assert not missing and not unexpected, (
        f"{path.name}: missing {missing}; unexpected (line, col0, code, message) {unexpected}"
    )
    clean = {(line, code) for line, _, code, _ in actual} & ok_marks(path)
    assert not clean, f"{path.name}: reported on lines marked ok: {sorted(clean)}"


def test_there_are_positive_and_negative_fixtures() -> None:
    files = fixture_files()
    assert any(marks(p) for p in files)
    assert any(ok_marks(p) for p in files)
