"""Time flake8 with and without the flake8-flask-ctx plugin (FCX).

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/bench_flake8.py [--runs 5] [--corpus all] [--copies 40] [--jobs 1]

Method
------
*Two interpreters, one flake8.* flake8 7.x runs every installed plugin on every file:
``--select``/``--ignore``/``--extend-ignore`` only filter what is *reported* (checked:
with ``--select E`` the plugin's ``run()`` is still called once per file). The only
switch that skips a plugin is ``off_by_default`` + ``--enable-extensions``, which FCX does
not use. So "without the plugin" means a second venv,
``benchmarks/.corpus/venv-baseline`` (gitignored), created on first use from the same base
interpreter with only flake8, pycodestyle, pyflakes and mccabe pinned to the exact versions
installed in the running (main) venv, and reused afterwards. Before timing, the script
checks that ``flake8 --version`` of the two interpreters differs by the FCX entry and
nothing else (same flake8, same built-in plugins, same CPython), and that the warm-up runs
report identical non-FCX findings (same files, same flags, same results).

*Same command, same files.* Both sides run ``<python> -m flake8 --isolated -j N
--select E,F,W,C90,FCX <corpus dir>`` from the same working directory on a copy of the
corpus under ``benchmarks/.corpus/`` (rebuilt on every run, so the paths are identical
for both sides). ``--isolated`` ignores any flake8 config file. ``--jobs`` defaults to 1
(serial): the ratio then measures CPU cost per file and is less disturbed by other load on
the machine; pass ``--jobs auto`` to mimic flake8's default. ``C90`` is selected but
inert (no ``--max-complexity``), as in flake8's default configuration.

*Timing.* One untimed warm-up run per side (byte-code compilation, file cache, output
cross-check), then ``--runs`` alternating pairs; the order inside a pair flips every
pair (B P, P B, B P, ...) to cancel drift. Each run is timed as a whole (interpreter
start, plugin import, all files; output to /dev/null), both wall clock and CPU time
(user + sys of flake8 and its worker processes, from ``getrusage(RUSAGE_CHILDREN)``; Unix
only). Reported: the median time of each side and the median of the per-pair ratios
plugin/baseline, against the targets below. The ratio and PASS/FAIL use CPU time unless
``--clock wall``: it barely moves when other work shares the machine, and with ``-j 1`` on
an idle machine the two agree; the wall-clock ratio is printed beside it. The exit status
is 1 when a target is missed.

Corpora
-------
``mixed``  the ``.py`` files of the running interpreter's standard library
           (``sysconfig`` "stdlib"), *excluding* ``site-packages`` and the test
           directories (``test``, ``tests``, ``idle_test``), plus the installed sources of
           flask, werkzeug, jinja2 and click (located with importlib). Target ratio <= 1.03.
``real``   real Flask modules: the files of ``bench_cli.py``'s corpus of Flask
           applications and extensions from PyPI (downloaded on first use, see
           README.md) that import Flask or a Flask extension, outside ``SKIP_DIRS``
           (the prefilter lets a few of them through). Target <= 1.5.
``flask``  every ``.py`` file under ``fixtures/`` (recursively) that passes the plugin's
           prefilter, copied ``--copies`` times: small files dense with findings, the
           worst case per line. Target <= 2.0.

Also printed: how many files of the mixed corpus pass
``flake8_flask_ctx.prefilter.may_have_findings`` and what the plugin costs on them in
process; the slowest of them are listed when the mixed target fails (or with ``--top``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import inspect
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
import tokenize
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / ".corpus"  # gitignored
BASELINE_VENV = WORK_DIR / "venv-baseline"
FIXTURES = REPO / "fixtures"

# flake8 itself and its built-in plugins: the baseline venv gets exactly these, pinned.
FLAKE8_DISTS = ("flake8", "pycodestyle", "pyflakes", "mccabe")
SITE_PACKAGES = ("flask", "werkzeug", "jinja2", "click")
SKIP_DIRS = {"site-packages", "test", "tests", "idle_test", "__pycache__"}
SELECT = "E,F,W,C90,FCX"
TARGETS = {"mixed": 1.03, "real": 1.5, "flask": 2.0}
SCALING_TARGET = 1.6  # --scaling: -j 2 at least this much faster than -j 1
PLUGIN_DIST = "flake8-flask-ctx"


# --------------------------------------------------------------------------- corpora


def _py_files(root: Path) -> list[Path]:
    """``.py`` files under ``root``, skipping ``SKIP_DIRS``, sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        found.extend(Path(dirpath, f) for f in filenames if f.endswith(".py"))
    return sorted(found)


def _copy(files: list[Path], src_root: Path, dest_root: Path) -> list[Path]:
    out = []
    for f in files:
        dest = dest_root / f.relative_to(src_root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dest)
        out.append(dest)
    return out


def _fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def build_mixed() -> tuple[Path, list[Path]]:
    dest = _fresh_dir(WORK_DIR / "mixed")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = _copy(_py_files(stdlib), stdlib, dest / "stdlib")
    for name in SITE_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"{name} is not installed in {sys.prefix}; pip install -e '.[test]'")
        pkg = Path(next(iter(spec.submodule_search_locations)))
        files += _copy(_py_files(pkg), pkg, dest / "site" / name)
    return dest, files


def build_flask(copies: int) -> tuple[Path, list[Path], list[Path]]:
    """Copies of the fixtures that pass the prefilter; also returns the fixtures left out."""
    dest = _fresh_dir(WORK_DIR / "flask")
    sources = _py_files(FIXTURES)
    passing = [f for f in sources if prefilter_passes(read_source(f))]
    rejected = [f for f in sources if f not in passing]
    files = []
    for i in range(copies):
        files += _copy(passing, FIXTURES, dest / f"copy_{i:03d}")
    return dest, files, rejected


FLASK_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+flask\w*", re.M)


def build_real() -> tuple[Path, list[Path]]:
    """The Flask modules of ``bench_cli.py``'s PyPI corpus: every file with an import of
    Flask or of a Flask extension (``flask*``), whatever the prefilter says of it."""
    import bench_cli  # it imports this module: imported here, not at the top

    source = bench_cli.build_real(False, False, print)
    dest = _fresh_dir(WORK_DIR / "flake8-real")
    flask_modules = [path for path in _py_files(source)
                     if FLASK_IMPORT.search(path.read_text(encoding="utf-8", errors="replace"))]
    return dest, _copy(flask_modules, source, dest)


# ------------------------------------------------------------------------- prefilter


def read_source(path: Path) -> str:
    """The text flake8 hands the plugin: decoded per PEP 263 (BOM dropped)."""
    with tokenize.open(path) as fh:
        return fh.read()


def _prefilter_func():
    from flake8_flask_ctx import options, prefilter

    func = prefilter.may_have_findings
    if len(inspect.signature(func).parameters) >= 2:
        opts = options.Options()
        return lambda source: func(source, opts)
    return func


_PREFILTER = None


def prefilter_passes(source: str) -> bool:
    global _PREFILTER
    if _PREFILTER is None:
        _PREFILTER = _prefilter_func()
    return bool(_PREFILTER(source))


@dataclass
class PrefilterReport:
    files: int
    passing: int
    prefilter_s: float
    plugin_on_passing_s: float
    # (file, in-process seconds of the plugin's whole check, prefilter words found in it)
    passing_files: list[tuple[str, float, list[str]]] = field(default_factory=list)


def _prefilter_words() -> list[str]:
    """Every literal the prefilter looks for: its module-level word tuples + option words."""
    from flake8_flask_ctx import options, prefilter

    words = [w for v in vars(prefilter).values()
             if isinstance(v, tuple) and v and all(isinstance(x, str) for x in v) for w in v]
    opts = options.Options()
    words += list(getattr(opts, "prefilter_words", tuple)())
    words += [p.split(".", 1)[0] for p in getattr(opts, "app_bound_names", ()) if not p.startswith("*")]
    return list(dict.fromkeys(words))


def measure_prefilter(files: list[Path], root: Path) -> PrefilterReport:
    """Prefilter over every file, then the plugin's whole check on the files that pass."""
    from flake8_flask_ctx.engine import check_source

    sources = {}
    for f in files:
        try:
            sources[f] = read_source(f)
        except (SyntaxError, UnicodeDecodeError):
            continue  # flake8 would report E902/E999; the plugin never sees it
    t0 = time.perf_counter()
    passing = [f for f, src in sources.items() if prefilter_passes(src)]
    prefilter_s = time.perf_counter() - t0
    words = _prefilter_words()
    rows = []
    for f in passing:
        t = time.process_time()
        try:
            check_source(sources[f])
        except Exception:  # noqa: BLE001 - the plugin swallows these too
            pass
        rows.append((str(f.relative_to(root)), time.process_time() - t,
                     [w for w in words if w in sources[f]]))
    rows.sort(key=lambda r: -r[1])
    return PrefilterReport(len(files), len(passing), prefilter_s, sum(r[1] for r in rows), rows)


# ---------------------------------------------------------------------- interpreters


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(cmd: list, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=True, text=True, **kw)


def _pins() -> list[str]:
    return [f"{d}=={importlib.metadata.version(d)}" for d in FLAKE8_DISTS]


def _installed(python: Path) -> list[str]:
    code = (
        "import importlib.metadata as m, sys; "
        f"print(' '.join(d + '==' + m.version(d) for d in {FLAKE8_DISTS!r}))"
    )
    try:
        out = _run([python, "-c", code], capture_output=True, env=clean_env()).stdout
    except (subprocess.CalledProcessError, OSError):
        return []
    return out.split()


def ensure_baseline(log) -> Path:
    """The flake8-only venv: created on first use, re-pinned if the main venv's versions moved."""
    python = _venv_python(BASELINE_VENV)
    pins = _pins()
    if not python.exists():
        log(f"creating {BASELINE_VENV.relative_to(REPO)} (flake8 only) ...")
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "venv", BASELINE_VENV])
    if _installed(python) != pins:
        log(f"installing {' '.join(pins)} into the baseline venv ...")
        _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
             env=clean_env())
    return python


def clean_env() -> dict:
    """The environment minus anything that could put other code on either side's path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME")}
    env["PYTHONHASHSEED"] = "0"
    return env


def flake8_version(python: Path) -> str:
    out = _run([python, "-m", "flake8", "--version"], capture_output=True,
               env=clean_env(), cwd=WORK_DIR).stdout
    return " ".join(out.split())  # argparse wraps the version line


def check_versions(plugin_py: Path, baseline_py: Path) -> tuple[str, str]:
    """The two sides must differ by the FCX plugin only."""
    with_plugin, without = flake8_version(plugin_py), flake8_version(baseline_py)
    entry = re.escape(PLUGIN_DIST) + r": [^,)]+(, )?"
    if not re.search(entry, with_plugin):
        raise SystemExit(f"{PLUGIN_DIST} is not loaded by {plugin_py}: {with_plugin}")
    if PLUGIN_DIST in without:
        raise SystemExit(f"baseline {baseline_py} loads {PLUGIN_DIST}: {without}")
    if re.sub(entry, "", with_plugin) != without:
        raise SystemExit(f"flake8 differs beyond the plugin:\n  plugin:   {with_plugin}\n"
                         f"  baseline: {without}")
    return with_plugin, without


# -------------------------------------------------------------------------- timing


def flake8_cmd(python: Path, target: Path, jobs: str) -> list[str]:
    return [str(python), "-m", "flake8", "--isolated", f"--jobs={jobs}",
            f"--select={SELECT}", str(target)]


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_flake8(cmd: list[str], capture: bool = False) -> tuple[float, float, str]:
    """(wall s, CPU s of flake8 and its workers, stdout) of one flake8 run."""
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=WORK_DIR, env=clean_env(), text=True,
                          stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if proc.returncode not in (0, 1) or "Traceback" in proc.stderr:
        raise SystemExit(f"flake8 failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return wall, cpu, proc.stdout or ""


@dataclass
class Side:
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)


@dataclass
class Result:
    corpus: str
    files: int
    clock: str  # "cpu" or "wall": which times the ratio and the verdict use
    baseline: Side
    plugin: Side
    target: float
    fcx_findings: int
    other_findings: int

    def times(self, side: Side) -> list[float]:
        return side.cpu_s if self.clock == "cpu" else side.wall_s

    @property
    def ratios(self) -> list[float]:
        return [p / b for b, p in zip(self.times(self.baseline), self.times(self.plugin))]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def wall_ratio(self) -> float:
        return statistics.median(p / b for b, p in zip(self.baseline.wall_s, self.plugin.wall_s))

    @property
    def passed(self) -> bool:
        return self.ratio <= self.target

    def as_dict(self) -> dict:
        d = asdict(self)
        for side in ("baseline", "plugin"):
            d[f"{side}_median_wall_s"] = statistics.median(getattr(self, side).wall_s)
            d[f"{side}_median_cpu_s"] = statistics.median(getattr(self, side).cpu_s)
        d.update(ratios=self.ratios, median_ratio=self.ratio, median_wall_ratio=self.wall_ratio,
                 passed=self.passed)
        return d


def _is_fcx(line: str) -> bool:
    return re.search(r":\d+:\d+: FCX\d", line) is not None


def bench(name: str, target: Path, nfiles: int, pythons: dict, args, log) -> Result:
    cmds = {side: flake8_cmd(py, target, args.jobs) for side, py in pythons.items()}
    log(f"[{name}] {nfiles} files; warm-up ...")
    base_out = run_flake8(cmds["baseline"], capture=True)[2]
    plug_lines = run_flake8(cmds["plugin"], capture=True)[2].splitlines()
    fcx = [ln for ln in plug_lines if _is_fcx(ln)]
    other = sorted(ln for ln in plug_lines if not _is_fcx(ln))
    if other != sorted(base_out.splitlines()):
        raise SystemExit(f"[{name}] the two sides report different non-FCX findings: "
                         "not the same files/flags/flake8?")
    sides = {"baseline": Side(), "plugin": Side()}
    for i in range(args.runs):
        order = ("baseline", "plugin") if i % 2 == 0 else ("plugin", "baseline")
        for side in order:
            wall, cpu, _ = run_flake8(cmds[side])
            sides[side].wall_s.append(wall)
            sides[side].cpu_s.append(cpu)
        b, p = sides["baseline"], sides["plugin"]
        log(f"[{name}] pair {i + 1}/{args.runs}: baseline {b.wall_s[-1]:.2f}s wall "
            f"{b.cpu_s[-1]:.2f}s cpu | plugin {p.wall_s[-1]:.2f}s wall {p.cpu_s[-1]:.2f}s cpu | "
            f"ratio wall {p.wall_s[-1] / b.wall_s[-1]:.3f} cpu {p.cpu_s[-1] / b.cpu_s[-1]:.3f}")
    return Result(name, nfiles, args.clock, sides["baseline"], sides["plugin"],
                  TARGETS[name], len(fcx), len(other))


def scaling(name: str, target: Path, python: Path, runs: int, log) -> dict:
    """Wall time of flake8 with the plugin at ``-j 1`` and ``-j 2``, alternating: how much
    the second core buys (issue 13's target: >= 1.6x on an idle 2-core machine)."""
    walls: dict[str, list[float]] = {"1": [], "2": []}
    for i in range(runs):
        for jobs in (("1", "2") if i % 2 == 0 else ("2", "1")):
            walls[jobs].append(run_flake8(flake8_cmd(python, target, jobs))[0])
    j1, j2 = statistics.median(walls["1"]), statistics.median(walls["2"])
    log(f"[{name}] with the plugin: -j 1 {j1:.2f}s, -j 2 {j2:.2f}s wall: {j1 / j2:.2f}x faster")
    return {"corpus": name, "j1_wall_s": j1, "j2_wall_s": j2, "speedup": j1 / j2, "target": SCALING_TARGET}


# --------------------------------------------------------------------------- output


def table(results: list[Result]) -> str:
    clock = results[0].clock
    head = ("corpus", "files", f"baseline s ({clock})", f"plugin s ({clock})", "ratio",
            "ratio range", "target", "result", "wall ratio")
    rows = [head]
    for r in results:
        rows.append((r.corpus, str(r.files), f"{statistics.median(r.times(r.baseline)):.2f}",
                     f"{statistics.median(r.times(r.plugin)):.2f}", f"{r.ratio:.3f}",
                     f"{min(r.ratios):.3f}-{max(r.ratios):.3f}", f"<= {r.target:g}",
                     "PASS" if r.passed else "FAIL", f"{r.wall_ratio:.3f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="timed alternating pairs (default 5)")
    p.add_argument("--corpus", choices=("mixed", "real", "flask", "all"), default="all")
    p.add_argument("--copies", type=int, default=40, help="copies of the fixtures (default 40)")
    p.add_argument("--jobs", default="1", help="flake8 -j for both sides (default 1; 'auto' ok)")
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                   help="times behind the ratio and PASS/FAIL (default cpu; both are printed)")
    p.add_argument("--top", type=int, default=None,
                   help="list the N slowest prefilter-passing mixed files "
                        "(default: 15 if the mixed target fails, else 0)")
    p.add_argument("--scaling", action="store_true",
                   help="also time the plugin side at -j 1 and -j 2 (wall clock) on each corpus")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON ('-': stdout)")
    args = p.parse_args(argv)
    if args.runs < 1 or args.copies < 1:
        p.error("--runs and --copies must be >= 1")

    quiet = args.json == "-"

    def log(msg: str) -> None:
        print(msg, file=sys.stderr if quiet else sys.stdout, flush=True)

    started = time.perf_counter()
    if importlib.util.find_spec("flake8_flask_ctx") is None:
        raise SystemExit("run with the project's venv: .venv/bin/python benchmarks/bench_flake8.py")
    baseline_py = ensure_baseline(log)
    plugin_py = Path(sys.executable)
    with_plugin, without = check_versions(plugin_py, baseline_py)
    flags = ["--isolated", f"--jobs={args.jobs}", f"--select={SELECT}"]
    log(f"plugin:   {plugin_py}  flake8 {with_plugin}")
    log(f"baseline: {baseline_py}  flake8 {without}")
    log(f"flags:    {' '.join(flags)}; clock: {args.clock}")
    pythons = {"baseline": baseline_py, "plugin": plugin_py}

    results: list[Result] = []
    scalings: list[dict] = []
    report = None
    if args.corpus in ("mixed", "all"):
        root, files = build_mixed()
        report = measure_prefilter(files, root)
        log(f"[mixed] prefilter: {report.passing}/{report.files} files pass "
            f"({report.prefilter_s * 1000:.0f} ms wall for all files); the plugin's whole check "
            f"on them takes {report.plugin_on_passing_s:.2f}s cpu in process")
        results.append(bench("mixed", root, len(files), pythons, args, log))
        if args.scaling:
            scalings.append(scaling("mixed", root, plugin_py, args.runs, log))
    if args.corpus in ("real", "all"):
        root, files = build_real()
        results.append(bench("real", root, len(files), pythons, args, log))
        if args.scaling:
            scalings.append(scaling("real", root, plugin_py, args.runs, log))
    if args.corpus in ("flask", "all"):
        root, files, rejected = build_flask(args.copies)
        if rejected:
            log(f"[flask] left out (fail the prefilter): {', '.join(f.name for f in rejected)}")
        if not files:
            raise SystemExit("[flask] no fixture passes the prefilter")
        results.append(bench("flask", root, len(files), pythons, args, log))
        if args.scaling:
            scalings.append(scaling("flask", root, plugin_py, args.runs, log))

    elapsed = time.perf_counter() - started
    out = [table(results)]
    for r in results:
        out.append(f"{r.corpus}: the plugin reports {r.fcx_findings} FCX findings "
                   f"(flake8's own checks: {r.other_findings}, identical on both sides)")
    if report is not None:
        out.append(f"mixed prefilter: {report.passing} of {report.files} files pass "
                   f"may_have_findings(); the plugin's check on them: "
                   f"{report.plugin_on_passing_s:.2f}s cpu in process")
        mixed = next(r for r in results if r.corpus == "mixed")
        top = args.top if args.top is not None else (0 if mixed.passed else 15)
        if top:
            out.append("slowest prefilter-passing files (plugin check in process; words found):")
            out += [f"  {t * 1000:7.0f} ms  {name}  [{', '.join(words)}]"
                    for name, t, words in report.passing_files[:top]]
    for row in scalings:
        out.append(f"{row['corpus']}: -j 2 is {row['speedup']:.2f}x faster than -j 1 with the plugin "
                   f"(target >= {SCALING_TARGET}: {'PASS' if row['speedup'] >= SCALING_TARGET else 'FAIL'})")
    out.append(f"total time {elapsed:.0f}s")
    log("\n" + "\n".join(out))

    if args.json:
        payload = {
            "flake8_with_plugin": with_plugin, "flake8_baseline": without, "flags": flags,
            "clock": args.clock, "runs": args.runs, "copies": args.copies, "elapsed_s": elapsed,
            "results": [r.as_dict() for r in results],
            "prefilter": asdict(report) if report else None,
            "scaling": scalings,
        }
        text = json.dumps(payload, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
