"""Read the expected findings that fixture files mark on their lines: ``# error: FCX100``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
MARK = re.compile(r"#\s*error:\s*(FCX\d{3}(?:\s*,\s*FCX\d{3})*)")


def fixture_files() -> list[Path]:
    """Every lint fixture. Expected fixer outputs (``*.fixed.py``) and the runtime apps in
    fixtures/fixes are checked by their own tests."""
    return sorted(p for p in FIXTURES.rglob("*.py")
                  if "fixes" not in p.relative_to(FIXTURES).parts and not p.name.endswith(".fixed.py"))


def autofix_pairs() -> list[tuple[Path, Path]]:
    """(before, expected after) pairs in fixtures/autofix."""
    return [(p, p.with_name(p.stem + ".fixed.py")) for p in sorted((FIXTURES / "autofix").glob("*.py"))
            if not p.name.endswith(".fixed.py")]


def expected_findings(path: Path) -> set[tuple[int, str]]:
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = MARK.search(line)
        if match:
            found |= {(number, code.strip()) for code in match.group(1).split(",")}
    return found
