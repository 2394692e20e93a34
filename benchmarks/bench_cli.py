"""Time ``flask-ctx check`` against ``ruff check --select E9,F``: cold and warm caches, -j1 and -j2.

Two corpora:

* ``mixed``: the standard library plus the installed flask, werkzeug, jinja2 and click (the
  files ``bench_flake8.py`` uses), copied to ``benchmarks/.corpus/cli-mixed/``. It is inside
  this repository, under a hidden folder, so each file is checked on its own and the cache
  is the repository's ``.flask_ctx_cache/``.
* ``real``: Flask applications and extensions from PyPI source distributions
  (``pip download --no-deps --no-binary :all:``), unpacked into
  ``benchmarks/.corpus/real/<sdist>/``. Each has a ``pyproject.toml`` or ``setup.cfg``, so
  each is a project of its own (project mode, its own ``.flask_ctx_cache/``). ``--large``
  adds apache-superset and mlflow (about 2500 more files; a cold run takes minutes).

For each corpus, ``--runs`` rounds of, per ``-j`` value: caches cleared, then
``flask-ctx check`` cold (writes the cache), warm (reads it), and ``--no-cache``; ruff the
same way (``--no-cache``, cold, warm; ``RAYON_NUM_THREADS`` = the ``-j`` value). Each run is
a whole process (interpreter start included), its CPU time (user + system, with workers)
and wall time are taken, output goes to /dev/null. The report is the median per command and
the ratios flask-ctx / ruff, plus flask-ctx's warm / cold. The three flask-ctx runs of a
round must print the same findings, or the script stops.

    .venv/bin/python benchmarks/bench_cli.py                  # both corpora, 3 rounds
    .venv/bin/python benchmarks/bench_cli.py --corpus real --runs 1 --jobs 2
    .venv/bin/python benchmarks/bench_cli.py --rebuild        # download and unpack again
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_flake8  # noqa: E402  (the mixed corpus's file list)

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / ".corpus"  # gitignored
MIXED = WORK_DIR / "cli-mixed"
REAL = WORK_DIR / "real"
SDISTS = WORK_DIR / "sdists"
PACKAGES = ("Flask-AppBuilder", "Flask-Admin", "Flask-SocketIO", "Flask-Security-Too", "Flask-Login",
            "Flask-SQLAlchemy", "Flask-Executor", "Flask-APScheduler")
LARGE = ("apache-superset", "mlflow")
BIN = Path(sys.executable).parent
FLASK_CTX = BIN / "flask-ctx"
RUFF = BIN / "ruff"
CACHE_DIRS = (".flask_ctx_cache", ".ruff_cache")


# --------------------------------------------------------------------------- corpora

def build_mixed(rebuild: bool) -> Path:
    if MIXED.exists() and not rebuild:
        return MIXED
    built, _ = bench_flake8.build_mixed()  # into .corpus/mixed, rebuilt each time there
    if MIXED.exists():
        shutil.rmtree(MIXED)
    shutil.copytree(built, MIXED)
    return MIXED


def _unpack(archive: Path, into: Path) -> None:
    if archive.name.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar")):
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")
    elif archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(into)


def build_real(rebuild: bool, large: bool, log) -> Path:
    names = PACKAGES + (LARGE if large else ())
    marker = REAL / ".built"
    if marker.exists() and not rebuild and set(json.loads(marker.read_text())) == set(names):
        return REAL
    for folder in (REAL, SDISTS):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    for name in names:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                               "-d", str(SDISTS), name], capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:  # Flask-Security-Too's sdist has no build files: pip refuses it
            log(f"  {name}: not downloaded as source ({proc.stderr.strip().splitlines()[-1][:120]})")
    for archive in sorted(SDISTS.iterdir()):
        _unpack(archive, REAL)
    marker.write_text(json.dumps(names))
    return REAL


def count_files(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.py"))


# --------------------------------------------------------------------------- timing

def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float, str]:
    """(wall s, CPU s, stdout) of one run."""
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if proc.returncode not in (0, 1, 2) or "Traceback" in proc.stderr or "panicked" in proc.stderr:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return wall, cpu, proc.stdout


def clear_caches(corpus: Path) -> None:
    """Every cache the runs on ``corpus`` use: under it, and at the project root above it."""
    sys.path.insert(0, str(REPO))
    from flake8_flask_ctx.project.layout import find_root

    folders = [p for name in CACHE_DIRS for p in corpus.rglob(name)]
    root = find_root(str(corpus))
    if root is not None:
        folders.append(Path(root) / ".flask_ctx_cache")
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def commands(jobs: int) -> dict[str, list[str]]:
    ctx = [str(FLASK_CTX), "check", "--isolated", "--exit-zero", "-j", str(jobs)]
    ruff = [str(RUFF), "check", "--isolated", "--select", "E9,F", "--exit-zero", "-q"]
    return {"flask-ctx cold": ctx + ["."], "flask-ctx warm": ctx + ["."],
            "flask-ctx --no-cache": ctx + ["--no-cache", "."],
            "ruff cold": ruff + ["."], "ruff warm": ruff + ["."], "ruff --no-cache": ruff + ["--no-cache", "."]}


def bench(corpus: Path, jobs: int, runs: int, log) -> dict[str, dict[str, float]]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["RAYON_NUM_THREADS"] = str(jobs)  # ruff's threads
    env["FLASK_CTX_PROGRESS_DELAY"] = "1000000"
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands(jobs)}
    for round_ in range(runs):
        clear_caches(corpus)
        outputs = {}
        for name, cmd in commands(jobs).items():  # cold before warm, within each tool
            wall, cpu, out = timed(cmd, corpus, env)
            times[name].append((wall, cpu))
            outputs[name] = out
        ctx = {outputs[n] for n in outputs if n.startswith("flask-ctx")}
        if len(ctx) != 1:
            raise SystemExit(f"{corpus.name} -j{jobs}: flask-ctx's cold, warm and --no-cache findings differ")
        log(f"  round {round_ + 1}: " + ", ".join(f"{n} {t[-1][1]:.2f}s" for n, t in times.items()))
    return {name: {"wall": statistics.median(w for w, _ in t), "cpu": statistics.median(c for _, c in t)}
            for name, t in times.items()}


def report(name: str, files: int, jobs: int, medians: dict[str, dict[str, float]]) -> list[str]:
    def ratio(a: str, b: str, clock: str) -> float:
        return medians[a][clock] / medians[b][clock]

    lines = [f"{name} ({files} files), -j{jobs}:"]
    for mode in ("--no-cache", "cold", "warm"):
        ctx, ruff = f"flask-ctx {mode}", f"ruff {mode}"
        lines.append(f"  {mode:<11} flask-ctx {medians[ctx]['cpu']:7.2f}s cpu {medians[ctx]['wall']:7.2f}s wall | "
                     f"ruff {medians[ruff]['cpu']:6.2f}s cpu {medians[ruff]['wall']:6.2f}s wall | "
                     f"flask-ctx/ruff {ratio(ctx, ruff, 'cpu'):7.1f}x cpu {ratio(ctx, ruff, 'wall'):7.1f}x wall")
    lines.append(f"  flask-ctx warm/--no-cache {ratio('flask-ctx warm', 'flask-ctx --no-cache', 'cpu'):.3f} cpu "
                 f"{ratio('flask-ctx warm', 'flask-ctx --no-cache', 'wall'):.3f} wall; "
                 f"cold/--no-cache {ratio('flask-ctx cold', 'flask-ctx --no-cache', 'cpu'):.3f} cpu")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=("mixed", "real", "all"), default="all")
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3); medians are reported")
    parser.add_argument("--jobs", default="1,2", help="comma-separated -j values (default 1,2)")
    parser.add_argument("--large", action="store_true", help="add apache-superset and mlflow to the real corpus")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the corpora (download again)")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    if not RUFF.exists():
        raise SystemExit(f"no ruff in {BIN}: {sys.executable} -m pip install ruff")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    corpora = []
    if args.corpus in ("mixed", "all"):
        corpora.append(("mixed", build_mixed(args.rebuild)))
    if args.corpus in ("real", "all"):
        corpora.append(("real", build_real(args.rebuild, args.large, log)))
    version = subprocess.run([str(RUFF), "--version"], capture_output=True, text=True).stdout.strip()
    lines = [f"flask-ctx check vs {version} --select E9,F; medians of {args.runs} rounds; "
             f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at the start"]
    for name, corpus in corpora:
        files = count_files(corpus)
        for jobs in (int(j) for j in args.jobs.split(",")):
            log(f"{name} -j{jobs}: {files} files")
            lines += report(name, files, jobs, bench(corpus, jobs, args.runs, log))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
