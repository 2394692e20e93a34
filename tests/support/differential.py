"""Differential proof of the fixer: run each program as written, synchronously, and fixed.

Each program (tests/support/differential_programs.py, or a scenario app of
fixtures/runtime) is run four ways under ``app.test_client()`` on the same requests, by
tests/support/runtime_runner.py:

- **original**: as written (its workers crash, or not);
- **sync**: with ``--sync``, every worker runs at once in its view's thread and context:
  what the author of the worker meant;
- **safe**: after ``fix_source(text)`` on every file of the program;
- **unsafe**: after ``fix_source(text, unsafe=True)`` (run only where its text differs
  from the safe one).

All programs of one mode run in ONE runner process (``--batch``), each imported under its
own module name from its own directory; a hang ends that process and a new one takes the
programs after it.

When a fixed program is worse
-----------------------------

Per request ``i`` of a program, with O the original's outcome, S the synchronous one and
F the fixed one (status ``None`` when the view raised):

- ``import``: F fails to import where O imports. Every request then counts as ``status``.
- ``status``: F's status is neither O's nor S's (200 became 400, 415 or 500...). A fix may
  make a view answer as the synchronous run does: an original whose ``Pool.map`` re-raised
  a worker's ``RuntimeError`` answers 500, the fixed one 200, and that is the fix working.
- ``body``: the status is O's or S's, but F's (status, body) pair is neither O's nor S's.
- ``worker_error``: F shows a kind of error (in a thread, a task, or reading the body), by
  ``"ExcType: first line"``, that neither O nor S shows for that request. An error the
  synchronous run shows too is the author's own bug, now reachable: not the fixer's.
- ``wrong_data``: F's ``RESULTS`` for that request hold a value that neither S nor O
  produced, or lack every copy of a value that both O and S produced (``lost``).

Errors and values are compared as sets, not counts: when one task of ``executor.map``
fails, the tasks not started yet are cancelled, and how many that is depends on timing.
- ``hang``: F's request (its view, body or workers) is not done after the deadline
  (2 s) and O's is.
- ``slowdown``: F's view slept at least 15 ms more than O's and S's views did
  (``time.sleep`` in the request's own context, S's inline workers not counted: a slow
  call moved from a worker into the view), F's view does not wait for its worker anyway
  (no ``join``/``result``/``map``... in the view: a view that waits for its worker took
  that time before the fix too); or F's view took 3 times as long as O's plus 0.5 s, for
  any reason. (The first rule counts sleeps, not wall time, so that a loaded machine does
  not change the verdict.)

A program is *worse* when any of its requests is; a program the fixer did not change is
not run again (it cannot be worse). Differences in the other direction (F better than O)
are the point of the fixer and are not reported.

The report counts worse programs per category and per defect: each category hit is
attributed, through the constructs its unit was built from (its tags), to the numbered
defects of the tracker (``DEFECTS``); a hit no tag explains is ``unattributed``.

Besides: ``fixer_crash`` (``fix_source`` raised) and ``unstable`` (fixing the fixed text
changes it again) are counted, not run.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

RUNNER = Path(__file__).resolve().with_name("runtime_runner.py")
DEADLINE = 2.0
CATEGORIES = ("import", "status", "body", "worker_error", "wrong_data", "hang", "slowdown")
SLEEP_MARGIN = 0.015

# The tracker's numbered defects, and new ones found by the hunt (letters), with the tags
# (tests/support/differential_programs.py) that build the construct each one is about.
DEFECTS: dict[str, str] = {
    "1": "stream read loop hoisted once (infinite loop)",
    "2": "nested spawn wrapped again each round / helper chain hits the round limit",
    "3": "a read that can raise moved out of its guard",
    "4": "new parameter before *args",
    "5": "iterator hoisted once, consumed twice",
    "6": "any .get() is a pure read (slow client, Queue.get)",
    "7": "closure reads hoisted above its def, not to the spawn",
    "8": "hoisted names resolve in the view's scope (shadowing)",
    "9": "hoist into Thread.__init__ breaks a module-level instance",
    "10": "new required parameter breaks callers elsewhere",
    "11": "module-level copy fallback removed / app context of the wrong app",
    "A": "an unguarded read that raises moved from the worker into the view",
    "B": "a copy decorator dropped while a helper in another module still needs the request",
}
GUARD_TAGS = {"guard:try_KeyError", "guard:try_Exception", "guard:try_RuntimeError",
              "guard:flag_off", "guard:flag_on", "guard:method_post", "guard:early_return",
              "guard:item", "view:spawn_if_mode", "view:spawn_if_json", "view:early_return",
              "read:is_json", "read:json_cond"}
RAISING_READS = {"read:args_index", "read:json_index", "read:form_index", "read:session_index",
                 "read:g_attr", "read:json_cond", "read:is_json", "read:queue"}
RAISE_SIGNS = ("-> 400", "-> 415", "-> 500", "-> None", "BadRequest", "KeyError",
               "AttributeError", "UnsupportedMediaType")


def defect_candidates(tags: Iterable[str]) -> set[str]:
    """The defects whose construct a unit with these tags has."""
    tags = set(tags)
    found = set()
    if "read:stream_while" in tags or "read:stream_bounded" in tags:
        found.add("1")
    if "shape:nested" in tags or tags & {"chain:8", "chain:9"}:
        found.add("2")
    if tags & RAISING_READS:
        found.add("3" if tags & GUARD_TAGS else "A")
    if "shape:varargs" in tags:
        found.add("4")
    if tags & {"read:iter_twice", "read:values_twice", "read:iter_list", "read:values_list"}:
        found.add("5")
    if tags & {"read:slow_app", "read:slow_g", "read:queue"}:
        found.add("6")
    if tags & {"read:late_local", "read:late_session", "read:late_g"}:
        found.add("7")
    if "read:shadow" in tags:
        found.add("8")
    if "module_instance" in tags:
        found.add("9")
    if "caller_in_other_module" in tags or "view:helper_direct" in tags:
        found.add("10")
    if tags & {"shape:fallback_copy", "shape:admin_db"}:
        found.add("11")
    if "shape:copied" in tags and "read:util_helper" in tags:
        found.add("B")
    return found


def attribute(category: str, detail: str, tags: set[str]) -> set[str]:
    """The defects a difference is due to: the unit's candidates, narrowed by what happened."""
    found = defect_candidates(tags)
    rules = [
        (category == "hang", {"1"}),
        (category == "slowdown" or "Empty" in detail, {"6"}),
        (category == "import", {"9"}),
        (any(w in detail for w in ("UnboundLocalError", "set-in-view", "unset", ": stage")),
         {"7"}),
        ("multiple values" in detail, {"4"}),
        ("missing" in detail and "required" in detail, {"10", "4"}),
        (any(w in detail for w in ("fallback", "admin", "_app\"")), {"11"}),
        ("outside of request context" in detail, {"B"}),
        (category == "wrong_data" and any(w in detail for w in ("=", "[[")), {"5"}),
        (category == "wrong_data" and "shadow_local" in tags, {"8"}),
        (category == "wrong_data" and "read:stream" in " ".join(tags), {"1"}),
        (category in ("status", "worker_error") and any(w in detail for w in RAISE_SIGNS),
         {"3", "A"}),
    ]
    for applies, narrowed in rules:
        if applies and found & narrowed:
            return found & narrowed
    return found


# --- running -----------------------------------------------------------------------------------

def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_batch(paths: list[Path], sync: bool = False, python: str = sys.executable,
              deadline: float = DEADLINE, log: Optional[Path] = None) -> dict[str, dict]:
    """The runner's report of every app in ``paths`` (by path), in as few processes as
    possible: one, plus one more after each hang or crash."""
    reports: dict[str, dict] = {}
    remaining = [str(p) for p in paths]
    while remaining:
        command = [python, str(RUNNER), "--batch", "--deadline", str(deadline)]
        if sync:
            command.append("--sync")
        timeout = 60 + (deadline + 1) * len(remaining)
        stderr = open(log, "ab") if log else subprocess.DEVNULL
        try:
            proc = subprocess.run(command + remaining, stdout=subprocess.PIPE, stderr=stderr,
                                  env=_env(), timeout=timeout, cwd=str(Path(remaining[0]).parent))
            out = proc.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as exc:
            out = (exc.stdout or b"").decode("utf-8", "replace")
        finally:
            if log:
                stderr.close()
        done = []
        for line in out.splitlines():
            if line.startswith("{"):
                report = json.loads(line)
                reports[report["path"]] = report
                done.append(report["path"])
        if not done:  # the first app took the runner down without a report
            reports[remaining[0]] = {"path": remaining[0], "import_error": "RunnerCrash: no report",
                                     "rounds": []}
            done.append(remaining[0])
        last = remaining.index(done[-1])
        remaining = remaining[last + 1:]
    return reports


def requests_of(report: dict) -> list[dict]:
    rounds = report.get("rounds") or []
    return rounds[0].get("requests", []) if rounds else []


# --- fixing -----------------------------------------------------------------------------------

@dataclass
class FixOutcome:
    files: dict[str, str]  # the fixed texts (all files)
    applied: list[str]  # "file:line CODE description"
    changed: bool
    crash: Optional[str] = None
    unstable: list[str] = field(default_factory=list)  # files a second fix changes again
    remaining: list[str] = field(default_factory=list)


def fix_files(files: dict[str, str], unsafe: bool = False, check_stable: bool = True) -> FixOutcome:
    """Fix each file of a program as ``flask-ctx fix`` does in a project: the files are on disk
    in a folder of their own with a ``pyproject.toml``, so project mode follows the worker
    into the program's other module; each file is fixed in turn and written before the next."""
    from flake8_flask_ctx.fixes import fix_source
    from flake8_flask_ctx.options import Options
    from flake8_flask_ctx.project.index import forget_module

    options = Options(no_cache=True)
    fixed, applied, unstable, remaining = {}, [], [], []
    with tempfile.TemporaryDirectory(prefix="fcx-diff-project-") as root:
        Path(root, "pyproject.toml").write_text("[project]\nname = 'program'\n", encoding="utf-8")
        for name, text in files.items():
            Path(root, name).write_text(text, encoding="utf-8")
        for name, text in files.items():
            path = str(Path(root, name))
            try:
                result = fix_source(text, options, unsafe=unsafe, path=path)
            except Exception as exc:  # noqa: BLE001 - a crash of the fixer is an outcome
                return FixOutcome(dict(files), [], False, crash=f"{name}: {type(exc).__name__}: {exc}")
            fixed[name] = result.source
            applied += [f"{name}:{a.line} {a.code} {a.description}" for a in result.applied]
            remaining += [f"{name}:{f.line} {f.code}" for f in result.remaining]
            if result.source != text:
                Path(path).write_text(result.source, encoding="utf-8")
                forget_module(path)
            if check_stable and result.source != text:
                try:
                    again = fix_source(result.source, options, unsafe=unsafe, path=path)
                    if again.source != result.source:
                        unstable.append(name)
                except Exception:  # noqa: BLE001
                    unstable.append(name)
    return FixOutcome(fixed, applied, fixed != files, unstable=unstable, remaining=remaining)


def diff_text(before: dict[str, str], after: dict[str, str]) -> str:
    out = []
    for name in before:
        out += difflib.unified_diff(before[name].splitlines(True), after[name].splitlines(True),
                                    f"a/{name}", f"b/{name}")
    return "".join(out)


# --- comparing --------------------------------------------------------------------------------

@dataclass
class Difference:
    category: str
    request: int  # index, -1 for the whole program
    detail: str
    defects: tuple[str, ...] = ()  # the defects (DEFECTS) the unit's constructs point at

    def line(self) -> str:
        where = f"request {self.request + 1}" if self.request >= 0 else "program"
        blame = ",".join(map(str, self.defects)) or "?"
        return f"{self.category:12} {where:10} defect {blame:6} {self.detail}"


def _defect_key(key: str):
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def _errors(record: dict, kinds=("thread", "task", "body")) -> set[str]:
    return {e for kind in kinds for e in record["errors"].get(kind, [])}


def _values(record: dict) -> set[str]:
    return {json.dumps(v, sort_keys=True) for v in record.get("results", [])}


def compare(original: dict, sync: dict, fixed: dict,
            tags_of: Callable[[int], Iterable[str]] = lambda i: ()) -> list[Difference]:
    """How ``fixed`` is worse than ``original`` (see the module docstring)."""
    diffs: list[Difference] = []

    def add(category: str, index: int, detail: str, program_wide: bool = False) -> None:
        tags = ({t for i in range(len(requests_of(original))) for t in tags_of(i)}
                if program_wide or index < 0 else set(tags_of(index)))
        blamed = attribute("import" if program_wide else category, detail, tags)
        diffs.append(Difference(category, index, detail, tuple(sorted(blamed, key=_defect_key))))

    if fixed.get("import_error") and not original.get("import_error"):
        add("import", -1, fixed["import_error"])
        for i, o in enumerate(requests_of(original)):
            add("status", i, f"{o['status']} -> no app ({fixed['import_error']})", True)
        return diffs
    o_reqs, s_reqs, f_reqs = requests_of(original), requests_of(sync), requests_of(fixed)
    for i, f in enumerate(f_reqs):
        o = o_reqs[i] if i < len(o_reqs) else None
        s = s_reqs[i] if i < len(s_reqs) else None
        if o is None:
            continue  # the original hung before this request: nothing to compare with
        s = s or o
        if f["hang"] and not o["hang"]:
            add("hang", i, f["errors"]["view"][-1] if f["errors"]["view"] else "hang")
            continue
        statuses = {o["status"], s["status"]}
        if f["status"] not in statuses:
            why = "; ".join(f["errors"]["view"])[:200]
            add("status", i, f"{o['status']} -> {f['status']}" + (f" ({why})" if why else "")
                + (f" [sync {s['status']}]" if s["status"] != o["status"] else ""))
        elif (f["status"], f["body"]) not in {(o["status"], o["body"]), (s["status"], s["body"])}:
            add("body", i, f"{(o['body'] or '')[:120]!r} -> {(f['body'] or '')[:120]!r}")
        new = _errors(f) - _errors(o) - _errors(s)
        if new:
            add("worker_error", i, "; ".join(sorted(new))[:300])
        fv, ov, sv = _values(f), _values(o), _values(s)
        extra = fv - sv - ov
        lost = (ov & sv) - fv
        if extra or lost:
            parts = []
            if extra:
                parts.append("new " + ", ".join(sorted(extra))[:200])
            if lost:
                parts.append("lost " + ", ".join(sorted(lost))[:200])
            add("wrong_data", i, "; ".join(parts) + f" (sync: {', '.join(sorted(sv))[:160]})")
        moved = f["view_sleep"] - max(o["view_sleep"], s["view_sleep"])
        if (moved >= SLEEP_MARGIN and not f.get("joins")) or f["seconds"] > 3 * o["seconds"] + 0.5:
            add("slowdown", i, f"{o['seconds']:.3f}s -> {f['seconds']:.3f}s "
                               f"(sleeping in the view {o['view_sleep']:.3f}s -> {f['view_sleep']:.3f}s)")
    return diffs


# --- the whole run ------------------------------------------------------------------------------

@dataclass
class ProgramRun:
    name: str
    files: dict[str, str]
    units: tuple = ()
    requests: tuple = ()
    safe: Optional[FixOutcome] = None
    unsafe: Optional[FixOutcome] = None
    outcomes: dict[str, dict] = field(default_factory=dict)  # mode -> runner report
    differences: dict[str, list[Difference]] = field(default_factory=dict)  # safe/unsafe

    def tags_of(self, index: int) -> tuple[str, ...]:
        if not self.units or index >= len(self.requests):
            return ()
        url = self.requests[index][1].split("?")[0]
        for unit in self.units:
            if url in unit.routes:
                return unit.tags
        return ()

    def worse(self, mode: str = "safe") -> bool:
        return bool(self.differences.get(mode))

    def describe(self, mode: str = "safe", with_source: bool = True) -> str:
        fix = self.safe if mode == "safe" else self.unsafe
        lines = [f"=== {self.name} ({mode} fix) " + "=" * 40]
        if self.units:
            for unit in self.units:
                lines.append(f"  unit {unit.label} {' '.join(unit.routes)}: {' '.join(unit.tags)}")
        lines += ["  " + d.line() for d in self.differences.get(mode, [])]
        for i, request in enumerate(self.requests):
            row = []
            for m in ("original", "sync", mode):
                recs = requests_of(self.outcomes.get(m, {}))
                rec = recs[i] if i < len(recs) else None
                if rec is None:
                    row.append(f"{m}: -")
                    continue
                errs = [e for kind in ("view", "thread", "task", "body") for e in rec["errors"][kind]]
                row.append(f"{m}: {rec['status']} {(rec['body'] or '')[:80]!r} "
                           f"results={rec['results']} errors={errs} {rec['seconds']}s")
            lines.append(f"  request {i + 1} {request[:2]}")
            lines += ["      " + r for r in row]
        if fix is not None:
            lines.append("  fixes: " + "; ".join(fix.applied))
            lines.append("--- the fix ---")
            lines.append(diff_text(self.files, fix.files))
            traces = [t for rec in requests_of(self.outcomes.get(mode, {})) for t in rec.get("traces", [])]
            if self.outcomes.get(mode, {}).get("import_trace"):
                traces.insert(0, self.outcomes[mode]["import_trace"])
            if traces:
                lines.append("--- first traceback of the fixed run ---")
                lines.append(traces[0])
        if with_source:
            lines.append("--- the program ---")
            for name, text in self.files.items():
                lines.append(f"# {name}")
                lines.append(text)
        return "\n".join(lines)


@dataclass
class Report:
    runs: list[ProgramRun]
    seconds: dict[str, float] = field(default_factory=dict)

    def rewritten(self, mode: str = "safe") -> list[ProgramRun]:
        return [r for r in self.runs if getattr(r, mode) is not None and getattr(r, mode).changed]

    def worse(self, mode: str = "safe") -> list[ProgramRun]:
        return [r for r in self.runs if r.worse(mode)]

    def counts(self, mode: str = "safe") -> dict[str, int]:
        """Worse programs per category (a program counts once per category)."""
        return {c: sum(1 for r in self.runs if any(d.category == c for d in r.differences.get(mode, [])))
                for c in CATEGORIES}

    def by_defect(self, mode: str = "safe") -> dict[str, int]:
        out: Counter = Counter()
        for r in self.worse(mode):
            blamed = {n for d in r.differences[mode] for n in d.defects}
            for n in blamed:
                out[n] += 1
            if any(not d.defects for d in r.differences[mode]):
                out["unattributed"] += 1
        return dict(sorted(out.items(), key=lambda kv: _defect_key(kv[0])
                           if kv[0] != "unattributed" else (2, 0, "")))

    def summary(self, mode: str = "safe") -> str:
        rewritten, worse = self.rewritten(mode), self.worse(mode)
        crashes = [r for r in self.runs if getattr(r, mode) and getattr(r, mode).crash]
        unstable = [r for r in self.runs if getattr(r, mode) and getattr(r, mode).unstable]
        share = f" ({100 * len(worse) / len(rewritten):.0f}%)" if rewritten else ""
        lines = [f"{mode} fixes: {len(self.runs)} programs, {len(rewritten)} rewritten, "
                 f"{len(worse)} worse{share}; fixer crashes {len(crashes)}, "
                 f"unstable fixes (a second fix changes the text) {len(unstable)}"]
        lines.append("  worse, per category: " + ", ".join(
            f"{c} {n}" for c, n in self.counts(mode).items()))
        defects = self.by_defect(mode)
        if defects:
            lines.append("  worse, per defect: " + ", ".join(
                f"({k}) {v}" if k in DEFECTS else f"{k} {v}" for k, v in defects.items()))
        return "\n".join(lines)


def _fix_job(job: tuple[dict[str, str], bool, bool]) -> FixOutcome:
    files, unsafe, check_stable = job
    return fix_files(files, unsafe=unsafe, check_stable=check_stable)


def fix_all(jobs: list[tuple[dict[str, str], bool, bool]], processes: int = 2) -> list[FixOutcome]:
    """``fix_files`` over many programs, in ``processes`` worker processes (libcst is slow)."""
    if processes <= 1 or len(jobs) < 400:  # starting the workers costs more than it saves
        return [_fix_job(job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        return list(pool.map(_fix_job, jobs, chunksize=max(1, len(jobs) // (processes * 4))))


def run_differential(programs: list, workdir: Path, python: str = sys.executable,
                     deadline: float = DEADLINE, modes=("safe", "unsafe"),
                     log: Optional[Path] = None, processes: int = 2) -> Report:
    """Fix, write and run every program in every mode; compare (see the module docstring).

    ``programs``: :class:`differential_programs.Program` objects, or ``(name, files)``
    pairs whose first file is the app (the scenario apps; their requests are read from
    the SCENARIO).
    """
    started = time.monotonic()
    runs: list[ProgramRun] = []
    for program in programs:
        if isinstance(program, tuple):
            name, files = program
            files = dict(files)
            requests = tuple(tuple(r) for r in scenario_of(next(iter(files.values())))["requests"])
            runs.append(ProgramRun(name, files, (), requests))
        else:
            runs.append(ProgramRun(program.name, dict(program.files), program.units,
                                   program.requests))
    seconds: dict[str, float] = {}

    def write(mode: str, run: ProgramRun, files: dict[str, str]) -> Path:
        directory = workdir / mode / run.name
        directory.mkdir(parents=True, exist_ok=True)
        for file, text in files.items():
            (directory / file).write_text(text, encoding="utf-8")
        return directory / next(iter(files))

    originals = {run.name: write("original", run, run.files) for run in runs}

    def timed(mode: str, paths: list[Path], sync: bool = False) -> dict[str, dict]:
        t = time.monotonic()
        out = run_batch(paths, sync=sync, python=python, deadline=deadline,
                        log=(log.with_suffix(f".{mode}.log") if log else None))
        seconds[mode] = round(time.monotonic() - t, 2)
        return out

    with ThreadPoolExecutor(max_workers=4) as pool:
        base = {"original": pool.submit(timed, "original", list(originals.values())),
                "sync": pool.submit(timed, "sync", list(originals.values()), True)}
        t = time.monotonic()
        # the unsafe fix is checked for stability only where its text is not the safe one's
        jobs = [(run.files, mode == "unsafe", mode == "safe" or "safe" not in modes)
                for run in runs for mode in modes]
        outcomes = iter(fix_all(jobs, processes))
        fixed_paths: dict[str, dict[str, Path]] = {m: {} for m in modes}
        for run in runs:
            for mode in modes:
                outcome = next(outcomes)
                setattr(run, mode, outcome)
                if outcome.crash or not outcome.changed:
                    continue
                if mode == "unsafe" and run.safe is not None and outcome.files == run.safe.files:
                    outcome.unstable = list(run.safe.unstable)
                    continue  # the same text as the safe fix: the same outcome
                if mode == "unsafe" and "safe" in modes:
                    outcome.unstable = fix_files(run.files, unsafe=True).unstable
                fixed_paths[mode][run.name] = write(mode, run, outcome.files)
        seconds["fixing"] = round(time.monotonic() - t, 2)
        fixed_futures = {m: pool.submit(timed, m, list(paths.values()))
                         for m, paths in fixed_paths.items() if paths}
        reports = {m: f.result() for m, f in {**base, **fixed_futures}.items()}
    for run in runs:
        run.outcomes["original"] = reports["original"].get(str(originals[run.name]), {})
        run.outcomes["sync"] = reports["sync"].get(str(originals[run.name]), {})
        for mode in modes:
            path = fixed_paths[mode].get(run.name)
            if path is not None:
                run.outcomes[mode] = reports[mode].get(str(path), {})
            elif mode == "unsafe" and run.name in fixed_paths.get("safe", {}) and \
                    run.unsafe is not None and run.unsafe.changed and not run.unsafe.crash:
                run.outcomes[mode] = run.outcomes.get("safe", {})
            else:
                continue
            run.differences[mode] = compare(run.outcomes["original"], run.outcomes["sync"],
                                            run.outcomes[mode], run.tags_of)
    seconds["total"] = round(time.monotonic() - started, 2)
    return Report(runs, seconds)


def scenario_of(source: str) -> dict:
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "SCENARIO"):
            return ast.literal_eval(node.value)
    raise AssertionError("no module-level SCENARIO = {...}")
