"""Differential proof of the fixer: a fixed program must never behave worse than it did.

Two sets of apps, each run under ``app.test_client()`` as written, synchronously (every
worker inline in its view: what its author meant) and after ``fix_source``; what "worse"
means is defined in tests/support/differential.py:

- generated programs (tests/support/differential_programs.py): a deterministic slice of
  ``FCX_DIFF_PROGRAMS`` programs (60 by default; ``FCX_DIFF_PROGRAMS=600`` for a longer
  hunt). SAFE fixes must make none of them worse; what the UNSAFE fixes do is printed,
  not asserted. ``FCX_DIFF_REPORT=path`` writes every worse program (the program, the
  diff of its fix, the outcomes of the four runs) to ``path``.
- the defect apps ``fixtures/runtime/fcx*_defect_*.py``, one per defect the hunt found:
  their SCENARIO says what the synchronous run gives (``expect``, ``statuses``,
  ``bodies``); the safe-fixed app must answer every request as the original does, show no
  worker error the original lacks, and, if the fixer rewrote it, fill RESULTS as expected.

The programs of one mode run in one process (tests/support/runtime_runner.py
``--batch``), so the whole module takes seconds, not minutes.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from support import differential as diff
from support.differential_programs import check_valid, collect
from support.marks import RUNTIME

PROGRAMS = int(os.environ.get("FCX_DIFF_PROGRAMS", "60"))
REPORT = os.environ.get("FCX_DIFF_REPORT")
DEFECT_APPS = sorted(RUNTIME.glob("fcx*_defect_*.py"))
SHOWN = 4  # worse programs described in full in a failure message


@pytest.fixture(scope="module")
def programs():
    return collect(PROGRAMS)


@pytest.fixture(scope="module")
def hunt(programs, tmp_path_factory) -> diff.Report:
    workdir = tmp_path_factory.mktemp("differential")
    report = diff.run_differential(programs, workdir, log=workdir / "runner")
    if REPORT:
        _write_report(report, Path(REPORT))
    return report


@pytest.fixture(scope="module")
def defect_runs(tmp_path_factory) -> dict[str, diff.ProgramRun]:
    workdir = tmp_path_factory.mktemp("defects")
    apps = [(path.stem, {path.name: path.read_text(encoding="utf-8")}) for path in DEFECT_APPS]
    report = diff.run_differential(apps, workdir, modes=("safe",))
    return {run.name: run for run in report.runs}


def _write_report(report: diff.Report, path: Path) -> None:
    parts = [report.summary("safe"), report.summary("unsafe"),
             f"seconds: {json.dumps(report.seconds)}", ""]
    parts += [run.describe("safe") + "\n" for run in report.worse("safe")]
    path.write_text("\n".join(parts), encoding="utf-8")


# --- the generated programs -----------------------------------------------------------------

def test_programs_are_valid_and_importable(programs, hunt) -> None:
    """The generator makes complete apps: they compile, import, and answer their requests
    (as written and synchronously), without a hang. Else the hunt tests nothing."""
    assert len(programs) == PROGRAMS
    problems = []
    for program in programs:
        check_valid(program)
    for run in hunt.runs:
        for mode in ("original", "sync"):
            outcome = run.outcomes[mode]
            if outcome.get("import_error"):
                problems.append(f"{run.name} {mode}: import failed: {outcome['import_error']}")
                continue
            records = diff.requests_of(outcome)
            if len(records) != 3:
                problems.append(f"{run.name} {mode}: {len(records)} of 3 requests ran")
            problems += [f"{run.name} {mode}: request {i + 1} hung" for i, r in enumerate(records)
                         if r["hang"]]
    assert not problems, "\n".join(problems) + "\n\n" + "\n\n".join(
        run.describe("safe") for run in hunt.runs if any(run.name in p for p in problems[:3]))


def test_programs_cover_every_construct(programs) -> None:
    tags = Counter(t for program in programs for t in program.tags)
    shapes = {t.split(":")[1] for t in tags if t.startswith("shape:")}
    spawners = {t.split(":")[1] for t in tags if t.startswith("spawner:")}
    from support.differential_programs import SHAPES, SPAWNERS

    if PROGRAMS >= 48:
        assert shapes == set(SHAPES), set(SHAPES) - shapes
        assert spawners == set(SPAWNERS), set(SPAWNERS) - spawners


def test_the_comparison_is_deterministic(hunt, tmp_path) -> None:
    """The originals, run a second time, are never "worse" than themselves: the verdicts
    below come from the fixes, not from timing."""
    originals = {run.name: run for run in hunt.runs}
    paths = []
    for run in hunt.runs:
        directory = tmp_path / run.name
        directory.mkdir()
        for file, text in run.files.items():
            (directory / file).write_text(text, encoding="utf-8")
        paths.append(directory / next(iter(run.files)))
    again = diff.run_batch(paths)
    flaky = []
    for path in paths:
        run = originals[path.parent.name]
        found = diff.compare(run.outcomes["original"], run.outcomes["sync"], again[str(path)],
                             run.tags_of)
        flaky += [f"{run.name}: {d.line()}" for d in found]
    assert not flaky, "\n".join(flaky)


def test_safe_fixes_make_nothing_worse(hunt) -> None:
    worse = hunt.worse("safe")
    assert not worse, (
        hunt.summary("safe") + "\n" + "\n".join(
            f"  {run.name}: " + "; ".join(d.line() for d in run.differences["safe"][:3])
            for run in worse)
        + "\n\n" + "\n\n".join(run.describe("safe") for run in worse[:SHOWN])
        + (f"\n\n... and {len(worse) - SHOWN} more (FCX_DIFF_REPORT=path writes them all)"
           if len(worse) > SHOWN else ""))


def test_unsafe_fixes_report(hunt, capsys) -> None:
    """Printed, not asserted: unsafe fixes may change behaviour; the numbers say how often."""
    with capsys.disabled():
        print(f"\n[differential] {hunt.summary('safe')}\n[differential] {hunt.summary('unsafe')}"
              f"\n[differential] seconds: "
              f"{json.dumps(hunt.seconds)}")


# --- the defect apps ------------------------------------------------------------------------

defect_params = pytest.mark.parametrize("path", DEFECT_APPS, ids=lambda p: p.stem)


def _results(outcome: dict) -> list:
    rounds = outcome.get("rounds") or []
    return rounds[0]["results"] if rounds else []


def _same_results(results: list, expect: list) -> bool:
    return Counter(map(json.dumps, results)) == Counter(map(json.dumps, expect))


def _outcomes(run: diff.ProgramRun, mode: str) -> str:
    lines = []
    for i, request in enumerate(run.requests):
        for m in ("original", "sync", mode):
            records = diff.requests_of(run.outcomes.get(m, {}))
            if i < len(records):
                r = records[i]
                errors = [e for kind in ("view", "thread", "task", "body") for e in r["errors"][kind]]
                lines.append(f"  {request[:2]} {m}: {r['status']} {r['body']!r} errors={errors}")
    return "\n".join(lines)


def test_every_defect_has_an_app() -> None:
    names = {p.stem for p in DEFECT_APPS}
    assert len(DEFECT_APPS) >= 11, names
    for path in DEFECT_APPS:
        scenario = diff.scenario_of(path.read_text(encoding="utf-8"))
        assert {"requests", "expect", "statuses", "bodies", "bug"} <= set(scenario), path.name
        assert len(scenario["statuses"]) == len(scenario["bodies"]) == len(scenario["requests"])


@defect_params
def test_defect_app_means_what_its_scenario_says(path: Path, defect_runs) -> None:
    """The synchronous run (every worker inline: what the author meant) gives the SCENARIO's
    ``expect``, ``statuses`` and ``bodies``, with no error: the expectations are right."""
    scenario = diff.scenario_of(path.read_text(encoding="utf-8"))
    run = defect_runs[path.stem]
    sync = run.outcomes["sync"]
    assert not sync.get("import_error"), sync.get("import_error")
    records = diff.requests_of(sync)
    assert [r["status"] for r in records] == scenario["statuses"], _outcomes(run, "safe")
    assert [r["body"] for r in records] == scenario["bodies"], _outcomes(run, "safe")
    errors = [e for r in records for kind in ("view", "thread", "task", "body") for e in r["errors"][kind]]
    assert not errors, _outcomes(run, "safe")
    assert _same_results(_results(sync), scenario["expect"]), (_results(sync), scenario["expect"])


@defect_params
def test_safe_fix_keeps_the_defect_app_working(path: Path, defect_runs) -> None:
    scenario = diff.scenario_of(path.read_text(encoding="utf-8"))
    run = defect_runs[path.stem]
    fix = run.safe
    assert fix is not None and not fix.crash, fix and fix.crash
    if not fix.changed:
        return  # nothing rewritten: the original's behaviour, by definition
    fixed, original = run.outcomes["safe"], run.outcomes["original"]
    shown = (f"\n--- outcomes ---\n{_outcomes(run, 'safe')}\n--- the fix ---\n"
             f"{diff.diff_text(run.files, fix.files)}")
    problems = []
    if fixed.get("import_error"):
        problems.append(f"the fixed app does not import: {fixed['import_error']}")
    else:
        o_records, f_records = diff.requests_of(original), diff.requests_of(fixed)
        for i, (o, f) in enumerate(zip(o_records, f_records)):
            if (f["status"], f["body"]) != (o["status"], o["body"]):
                problems.append(f"request {i + 1}: {o['status']} {o['body']!r} became "
                                f"{f['status']} {f['body']!r} {f['errors']['view']}")
            new = diff._errors(f, ("thread", "task", "body")) - diff._errors(o, ("thread", "task", "body"))
            if new:
                problems.append(f"request {i + 1}: new worker errors {sorted(new)}")
        if len(f_records) < len(o_records):
            problems.append(f"only {len(f_records)} of {len(o_records)} requests ran (a hang?)")
        if not _same_results(_results(fixed), scenario["expect"]):
            problems.append(f"RESULTS {_results(fixed)!r}, expected {scenario['expect']!r}")
        problems += [d.line() for d in run.differences.get("safe", [])
                     if d.category in ("hang", "slowdown")]
    assert not problems, "\n".join(problems) + shown
