"""What project mode costs: flake8 over a project of ~1,000 modules, cold and warm.

The project is made by copying the shop fixture project (fixtures/projects/shop: views,
services, a Thread subclass, decorators, models; every module Flask code, the worst case
for indexing) into one package ``N`` times, so that cross-module findings exist in every
copy. Three flake8 runs, each timed whole (CPU of flake8 and its workers, and wall clock):

- ``single-file``: ``--fcx-no-project``, what each file costs on its own;
- ``cold``: project mode with no ``.flask_ctx_cache/`` (every summary computed and written);
- ``warm``: the same again (every summary read from the cache).

    .venv/bin/python benchmarks/bench_project.py                # ~1,000 modules, -j 1
    .venv/bin/python benchmarks/bench_project.py --modules 200 --jobs 2 --json -

It checks that the cold and the warm run report the same findings and that the warm run
writes no summary, and prints the ratios cold/single-file and warm/single-file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "fixtures" / "projects" / "shop"


def build(target: Path, modules: int) -> int:
    """``target/big/shop_<i>/...``: copies of the shop package; returns the module count."""
    (target / "pyproject.toml").write_text("[project]\nname = 'big'\nversion = '0'\n")
    package = target / "big"
    package.mkdir()
    (package / "__init__.py").write_text("")
    per_copy = sum(1 for _ in (SHOP / "shop").rglob("*.py"))
    count = 1
    for index in range(max(1, modules // per_copy)):
        shutil.copytree(SHOP / "shop", package / f"shop_{index}",
                        ignore=shutil.ignore_patterns("__pycache__"))
        count += per_copy
    return count


def timed_flake8(project: Path, jobs: str, *extra: str) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "FCX", f"--jobs={jobs}",
                           "--format=%(path)s:%(row)d:%(col)d: %(code)s", *extra, "big"],
                          capture_output=True, text=True, cwd=project)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1) or "Traceback" in proc.stderr:
        raise SystemExit(proc.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, proc.stdout


def summaries(project: Path) -> dict[str, int]:
    folder = project / ".flask_ctx_cache" / "summaries"
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*.json")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--jobs", default="1")
    parser.add_argument("--json", help="write the numbers as JSON to this file ('-': stdout)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fcx-bench-project-") as tmp:
        project = Path(tmp)
        count = build(project, args.modules)
        timed_flake8(project, args.jobs, "--fcx-no-project")  # warm the OS's file cache
        single = timed_flake8(project, args.jobs, "--fcx-no-project")
        cold = timed_flake8(project, args.jobs)
        written = summaries(project)
        warm = timed_flake8(project, args.jobs)
        if warm[2] != cold[2]:
            raise SystemExit("the warm run's findings differ from the cold run's")
        if summaries(project) != written:
            raise SystemExit("the warm run wrote summaries")
        cache_bytes = sum(os.path.getsize(p) for p in written)
        result = {
            "modules": count, "jobs": args.jobs, "summaries": len(written), "cache_bytes": cache_bytes,
            "findings": {"single-file": len(single[2].splitlines()), "project": len(cold[2].splitlines())},
            "cpu_seconds": {"single-file": round(single[0], 2), "cold": round(cold[0], 2), "warm": round(warm[0], 2)},
            "wall_seconds": {"single-file": round(single[1], 2), "cold": round(cold[1], 2), "warm": round(warm[1], 2)},
            "ratio_cpu": {"cold": round(cold[0] / single[0], 2), "warm": round(warm[0] / single[0], 2)},
        }
    print(f"{count} modules, -j {args.jobs}: findings {result['findings']['single-file']} single-file, "
          f"{result['findings']['project']} in project mode; {len(written)} summaries, {cache_bytes // 1024} KiB")
    for side in ("single-file", "cold", "warm"):
        print(f"  {side:12} cpu {result['cpu_seconds'][side]:7.2f} s   wall {result['wall_seconds'][side]:7.2f} s")
    print(f"  ratio (cpu) cold/single-file {result['ratio_cpu']['cold']}, warm/single-file {result['ratio_cpu']['warm']}")
    if args.json:
        text = json.dumps(result, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
