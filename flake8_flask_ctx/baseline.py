"""A baseline: the findings a code base already has, so that CI fails on new ones only.

``flask-ctx check --write-baseline FILE`` records the current findings; ``flask-ctx check
--baseline FILE`` (or ``baseline = "FILE"`` in ``[tool.flask-ctx]``) reports only those not
in it. A finding is matched by its fingerprint (``fingerprints.py``): code, path relative
to the baseline file's directory, enclosing def or class, and the code on its line, never
the line number, so edits above a finding (or moving its function) do not bring it back,
and running from another directory does not either. Each fingerprint has a count: a
second identical finding in the same function is new.

The file is JSON, sorted, one entry per fingerprint, so that its diff in a review reads
as the findings added or removed. ``line`` and ``message`` are there for people and are
not matched on.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

from . import __version__
from .fingerprints import VERSION, fingerprint, relative_path
from .runner import FileResult, Reported

FORMAT = "flake8-flask-ctx baseline"


class BaselineError(Exception):
    """A baseline file that cannot be used; ``str()`` is one line for the user."""


def finding_key(finding: Reported, root: str) -> str:
    return fingerprint(finding.code, relative_path(finding.path, root), finding.scope, finding.line_hash)


@dataclass
class Baseline:
    path: Path
    counts: Counter = field(default_factory=Counter)  # fingerprint -> findings accepted

    @property
    def root(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def __len__(self) -> int:
        return sum(self.counts.values())


def write_baseline(path: Path, results: Sequence[FileResult]) -> int:
    """Record every finding of ``results``; the number of findings written."""
    root = os.path.dirname(os.path.abspath(path))
    entries: dict[str, dict] = {}
    for result in results:
        for finding in result.findings:
            key = finding_key(finding, root)
            if key in entries:
                entries[key]["count"] += 1
                continue
            entries[key] = {
                "path": relative_path(finding.path, root),
                "code": finding.code,
                "scope": finding.scope,
                "fingerprint": key,
                "count": 1,
                "line": finding.line,  # for people; not matched on
                "message": finding.message,  # for people; not matched on
            }
    document = {
        "format": FORMAT,
        "version": 1,
        "fingerprint": VERSION,
        "generated_by": f"flake8-flask-ctx {__version__}: flask-ctx check --write-baseline",
        "findings": sorted(entries.values(), key=lambda e: (e["path"], e["line"], e["code"], e["fingerprint"])),
    }
    text = json.dumps(document, indent=2, ensure_ascii=True) + "\n"
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return sum(entry["count"] for entry in entries.values())


def load_baseline(path: Path) -> Baseline:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such file (write one with --write-baseline {path})") from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise BaselineError(f"{path}: not a baseline file (invalid JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BaselineError(f"{path}: not a flake8-flask-ctx baseline file")
    if document.get("fingerprint") != VERSION:
        raise BaselineError(f"{path}: written with fingerprints {document.get('fingerprint')!r}, this "
                            f"version uses {VERSION!r}: write it again with --write-baseline")
    baseline = Baseline(Path(path))
    for entry in document.get("findings", []):
        try:
            baseline.counts[str(entry["fingerprint"])] += max(1, int(entry.get("count", 1)))
        except (KeyError, TypeError, ValueError):
            raise BaselineError(f"{path}: an entry without a fingerprint: {entry!r}") from None
    return baseline


@dataclass
class Filtered:
    results: list[FileResult]
    matched: int  # findings the baseline accepted (not reported)
    stale: int  # baseline entries no finding matched any more (fixed, or changed)


def apply_baseline(results: Iterable[FileResult], baseline: Baseline) -> Filtered:
    """The results without the findings the baseline accepts, in order; the first N
    occurrences of a fingerprint the baseline counts N times are the accepted ones."""
    left = Counter(baseline.counts)
    out, matched = [], 0
    for result in results:
        kept: list[Reported] = []
        for finding in result.findings:
            key = finding_key(finding, baseline.root)
            if left[key] > 0:
                left[key] -= 1
                matched += 1
            else:
                kept.append(finding)
        out.append(replace(result, findings=kept) if len(kept) != len(result.findings) else result)
    return Filtered(out, matched, sum(left.values()))
