"""The expected findings that fixture files mark on their lines.

A finding is marked on the line it is reported on, with its code, its 1-based column (as
flake8 prints it) and a fragment of its message, so that a wrong column or a wrong call
chain fails as surely as a missing finding::

    threading.Thread(target=work).start()  # error: FCX100:5 "worker work() reads request.args"

Several findings on one line are separated by commas. A negative example marks the line a
finding would be reported on if the code were wrong, with the codes that must not be::

    threading.Thread(target=work, args=(q,)).start()  # ok: FCX100

An ``ok`` mark asserts nothing the exact comparison does not already assert (any finding
not marked as an error fails); it documents the negative and lets the registry test check
that every code has negative fixtures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
INHERIT = FIXTURES / "inherit"  # checked as for Python 3.14t: threads inherit the starting context
AUTOFIX = FIXTURES / "autofix"
RUNTIME = FIXTURES / "runtime"

_ERROR = re.compile(r"#\s*error:\s*(?P<items>.*)$")
_ITEM = re.compile(r'\s*(?P<code>FCX\d{3})(?::(?P<col>\d+))?(?:\s+"(?P<fragment>[^"]*)")?\s*(?:,|$)')
_OK = re.compile(r"#\s*ok:\s*(?P<codes>FCX\d{3}(?:\s*,\s*FCX\d{3})*)")


@dataclass(frozen=True)
class Mark:
    line: int
    code: str
    col: int  # 1-based, 0 when the mark has none (a malformed mark: the test says so)
    fragment: str

    def matches(self, line: int, col: int, code: str, message: str) -> bool:
        """``col`` is 0-based, as ``Finding.col``."""
        return (line, code) == (self.line, self.code) and col + 1 == self.col and self.fragment in message


def marks(path: Path) -> list[Mark]:
    found = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _ERROR.search(text)
        if not match:
            continue
        rest = match.group("items")
        while rest.strip():
            item = _ITEM.match(rest)
            if item is None:
                raise ValueError(f"{path.name}:{number}: cannot read the mark {rest!r}")
            found.append(Mark(number, item.group("code"), int(item.group("col") or 0),
                              item.group("fragment") or ""))
            rest = rest[item.end():]
    return found


def ok_marks(path: Path) -> set[tuple[int, str]]:
    found = set()
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _OK.search(text)
        if match:
            found |= {(number, code.strip()) for code in match.group("codes").split(",")}
    return found


def expected_findings(path: Path) -> set[tuple[int, str]]:
    return {(m.line, m.code) for m in marks(path)}


def fixture_files() -> list[Path]:
    """Every lint fixture. Expected fixer outputs (``*.fixed.py``) and the runtime scenario
    apps in fixtures/runtime are checked by their own tests."""
    return sorted(p for p in FIXTURES.rglob("*.py")
                  if "runtime" not in p.relative_to(FIXTURES).parts and not p.name.endswith(".fixed.py"))


def needs_unsafe_fixes(before: Path) -> bool:
    """An autofix pair whose fix is unsafe (``fcxNNN_<fix>_unsafe_<slug>.py``): its expected
    output is made with unsafe fixes on, and without them the file must stay as it is."""
    return "_unsafe_" in before.name


def autofix_pairs() -> list[tuple[Path, Path]]:
    """(before, expected after) pairs in fixtures/autofix."""
    return [(p, p.with_name(p.stem + ".fixed.py")) for p in sorted(AUTOFIX.glob("*.py"))
            if not p.name.endswith(".fixed.py")]
