"""Runtime proof, on real Flask 3.1, 2.3 and 2.2: the buggy apps fail, the fixed ones work.

Each scenario in ``fixtures/runtime/*.py`` is a small Flask app as a user writes it, with the
bug, a ``RESULTS`` list its workers fill, and a literal ``SCENARIO`` dict (read here with
``ast.literal_eval``, never imported: the tests' own Flask is not the one under test)::

    SCENARIO = {
        "requests": [(method, url), (method, url, {test client kwargs}), ...],
        "expect": [...],          # RESULTS after all the requests and their workers (any order)
        "bodies": [...],          # optional: each response's text
        "bug": "first line",      # the error the buggy app must show, or {"2.2": ..., "*": ...}
        "rounds": 3,              # optional: how often the requests are replayed
        "needs": ["asgiref"],     # optional: distributions the app needs besides Flask
        "may_remain": ["FCX300"], # optional: codes the fixer may leave for a human
        "no_safe_rewrite": True,  # optional: the fixer must leave this one alone
        "fix": "unsafe",          # optional: only an unsafe fix (--unsafe-fixes) repairs it
    }

``tests/support/runtime_runner.py`` runs one app in a subprocess with the Python of one Flask
version and reports what happened (JSON); the tests here decide:

- ``test_buggy_app_fails``: in every round the app shows its bug (an exception in a worker,
  the view, the streamed body or the import). It proves the bug is real on that version.
- ``test_reference_fix_works``: ``fixtures/runtime/reference/<scenario>.py``, a hand-written
  correct fix, passes: no error, the right results. It proves the expectations can be met,
  so a failing ``test_fixed_app_works`` is the fixer's fault, not the scenario's.
- ``test_fixed_app_works``: ``fix_source(buggy)`` passes like the reference, over 5 rounds.
- ``test_fix_is_clean``: the fixed text parses, a second fix changes nothing, the SCENARIO
  is untouched, and no finding is left except the scenario's ``may_remain``.

A scenario the fixer applies nothing to fails the last two, unless it says
``no_safe_rewrite`` (then the fixer must indeed leave it alone).

Flask 3.1 is this interpreter's environment. 2.2 and 2.3 get venvs built on first use
(``python -m venv`` + pip from PyPI) and cached under ``$FLASK_CTX_VENV_CACHE``, else the
pytest cache (``.pytest_cache/d/flask-venvs``; ``pytest --cache-clear`` rebuilds them), else,
when pytest runs without its cache plugin, ``.flask-venvs/`` at the top of the repository.
``FLASK_CTX_RUNTIME_VERSIONS=3.1`` (a comma list) limits the versions, e.g. offline.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Optional

import pytest

from support.marks import ROOT, RUNTIME

REFERENCE = RUNTIME / "reference"
RUNNER = ROOT / "tests" / "support" / "runtime_runner.py"
SCENARIOS = sorted(RUNTIME.glob("*.py"))
FIXED_ROUNDS = 5
RUN_TIMEOUT = 120

# Pins from docs/runtime-facts.md (How the facts were measured): Flask 2.2 breaks with Werkzeug >= 2.3
# ("module 'werkzeug' has no attribute '__version__'" in the test client); 2.3.3 works with
# both Werkzeug 2.3.8 and 3.1, and is pinned to its own era's 2.3.8. asgiref = flask[async].
OLD_FLASKS: dict[str, tuple[str, ...]] = {
    "2.3": ("flask==2.3.3", "werkzeug==2.3.8", "asgiref"),
    "2.2": ("flask==2.2.5", "werkzeug==2.2.3", "asgiref"),
}


def _current_flask() -> str:
    version = metadata.version("flask")
    return ".".join(version.split(".")[:2])


def _versions() -> list[str]:
    wanted = [_current_flask(), *OLD_FLASKS]
    chosen = os.environ.get("FLASK_CTX_RUNTIME_VERSIONS")
    if chosen:
        names = {v.strip() for v in chosen.split(",") if v.strip()}
        wanted = [v for v in wanted if v in names]
    return wanted


VERSIONS = _versions()


# --- scenarios ------------------------------------------------------------------------------

def load_scenario(source: str) -> dict:
    """The module-level ``SCENARIO = {...}`` literal, read without importing the module."""
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "SCENARIO"):
            return ast.literal_eval(node.value)
    raise AssertionError("no module-level SCENARIO = {...}")


def _normalise(value):
    """What the JSON report holds for ``value`` (tuples become lists)."""
    return json.loads(json.dumps(value))


def expected_bug(scenario: dict, version: str) -> str:
    bug = scenario["bug"]
    return bug if isinstance(bug, str) else bug.get(version, bug["*"])


def round_problems(scenario: dict, round_: dict) -> list[str]:
    """Everything that says one round did not work: errors, bad statuses, wrong values."""
    problems = [f"{where}: {error}" for where in ("view", "body", "thread", "task")
                for error in round_[f"{where}_errors"]]
    problems += [f"worker still running after the wait: {name}"
                 for name in round_["lingering_threads"]]
    if any(status != 200 for status in round_["statuses"]):
        problems.append(f"statuses {round_['statuses']}")
    expect, results = _normalise(scenario["expect"]), round_["results"]
    same = (results == expect if scenario.get("ordered") or not isinstance(expect, list)
            else Counter(map(json.dumps, results)) == Counter(map(json.dumps, expect)))
    if not same:
        problems.append(f"results {results!r}, expected {expect!r}")
    bodies = scenario.get("bodies")
    if bodies is not None and round_["bodies"] != bodies:
        problems.append(f"bodies {round_['bodies']!r}, expected {bodies!r}")
    return problems


def _errors(round_: dict) -> list[str]:
    return [e for where in ("view", "body", "thread", "task") for e in round_[f"{where}_errors"]]


# --- Flask versions -------------------------------------------------------------------------

def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _cache_root(config) -> Path:
    override = os.environ.get("FLASK_CTX_VENV_CACHE")
    if override:
        Path(override).mkdir(parents=True, exist_ok=True)
        return Path(override)
    cache = getattr(config, "cache", None)  # None under ``-p no:cacheprovider``
    if cache is not None:
        return Path(cache.mkdir("flask-venvs"))
    root = ROOT / ".flask-venvs"
    root.mkdir(exist_ok=True)
    return root


def _build_venv(root: Path, version: str, requirements: tuple[str, ...]) -> Path:
    """A venv with ``requirements``, built once and reused (keyed by Python and pins)."""
    key = hashlib.sha256(json.dumps([sys.version, sys.base_prefix, requirements]).encode())
    python = f"py{sys.version_info[0]}{sys.version_info[1]}"
    venv = root / f"flask{version}-{python}-{key.hexdigest()[:10]}"
    marker = venv / "fcx-ready.json"
    if marker.exists():
        return _venv_python(venv)
    staging = root / f"{venv.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    steps = [
        [sys.executable, "-m", "venv", str(staging)],
        [str(_venv_python(staging)), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", *requirements],
        [str(_venv_python(staging)), "-c", "import flask, werkzeug.test, asgiref"],
    ]
    for step in steps:
        proc = subprocess.run(step, capture_output=True, text=True, timeout=600,
                              env=_subprocess_env())
        if proc.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise RuntimeError(
                f"building the Flask {version} venv failed at {' '.join(step[:4])}...:\n"
                f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}\n"
                "(set FLASK_CTX_RUNTIME_VERSIONS to run only some versions)"
            )
    (staging / "fcx-ready.json").write_text(json.dumps(list(requirements)))
    try:
        staging.rename(venv)  # atomic: a concurrent run that won keeps its own
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not marker.exists():
            raise
    return _venv_python(venv)


@pytest.fixture(scope="session")
def flask_pythons(request):
    """``version -> python``; old versions are built on first use, failures remembered."""
    built: dict[str, object] = {_current_flask(): Path(sys.executable)}

    def get(version: str) -> Path:
        if version not in built:
            try:
                built[version] = _build_venv(_cache_root(request.config), version,
                                             OLD_FLASKS[version])
            except Exception as exc:  # noqa: BLE001 - reported by every test of that version
                built[version] = exc
        found = built[version]
        if isinstance(found, Exception):
            pytest.fail(str(found), pytrace=False)
        return found

    return get


def _subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # keep fixtures/runtime free of __pycache__
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_app(python: Path, path: Path, rounds: Optional[int] = None) -> dict:
    """The runner's report for one app (see tests/support/runtime_runner.py)."""
    command = [str(python), str(RUNNER), str(path)]
    if rounds:
        command += ["--rounds", str(rounds)]
    try:
        proc = subprocess.run(command, capture_output=True, timeout=RUN_TIMEOUT,
                              env=_subprocess_env(), cwd=path.parent)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{path.name} did not finish in {RUN_TIMEOUT}s:\n"
                    f"{(exc.stderr or b'').decode('utf-8', 'replace')[-4000:]}")
    stdout = proc.stdout.decode("utf-8", "replace")
    stderr = proc.stderr.decode("utf-8", "replace")
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert proc.returncode == 0 and lines, (
        f"the runner itself failed on {path.name} (exit {proc.returncode}):\n{stderr[-4000:]}")
    report = json.loads(lines[-1])
    report["stderr"] = stderr
    return report


def _skip_if_missing(report: dict, scenario: dict) -> None:
    for dist in scenario.get("needs", ()):
        if report.get(dist) is None:
            pytest.skip(f"{dist} is not installed with Flask {report['flask']}: this scenario "
                        f"needs flask[async]; add {dist!r} to the test extra to run it")


def _summary(report: dict) -> str:
    return json.dumps({k: v for k, v in report.items() if k != "stderr"}, indent=1)[:6000]


# --- the fixer ------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def fixed(path: Path):
    """The fixer's result: with unsafe fixes on for a scenario that says it needs them."""
    from flake8_flask_ctx.fixes import fix_source

    source = path.read_text(encoding="utf-8")
    return fix_source(source, unsafe=load_scenario(source).get("fix") == "unsafe")


def fixed_or_skip(path: Path):
    """The fixer's result for a scenario; a scenario documented as having no safe rewrite
    must get none, and is then skipped."""
    scenario = load_scenario(path.read_text(encoding="utf-8"))
    result = fixed(path)
    if scenario.get("no_safe_rewrite"):
        assert not result.applied, f"{path.name} is documented as having no safe rewrite"
        pytest.skip("documented as no safe rewrite: the finding stays")
    if not result.applied:
        pytest.fail(f"the fixer applied nothing to {path.name}; remaining: "
                    f"{[f.message for f in result.remaining]}")
    return result


# --- tests ----------------------------------------------------------------------------------

scenario_params = pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
version_params = pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"flask{v}")


def test_every_scenario_is_complete() -> None:
    assert len(SCENARIOS) >= 14
    for path in SCENARIOS:
        source = path.read_text(encoding="utf-8")
        module = ast.parse(source)
        assert ast.get_docstring(module), f"{path.name}: say the scenario in a docstring"
        names = {t.id for node in module.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)}
        assert {"app", "RESULTS", "SCENARIO"} <= names, path.name
        scenario = load_scenario(source)
        assert scenario["requests"] and "expect" in scenario and scenario["bug"], path.name
        assert (REFERENCE / path.name).exists(), f"{path.name}: no reference fix"


@version_params
@scenario_params
def test_buggy_app_fails(path: Path, version: str, flask_pythons) -> None:
    scenario = load_scenario(path.read_text(encoding="utf-8"))
    report = run_app(flask_pythons(version), path)
    _skip_if_missing(report, scenario)
    bug = expected_bug(scenario, version)
    if report["import_error"]:
        assert bug in report["import_error"], _summary(report)
        return
    assert report["rounds"], _summary(report)
    for number, round_ in enumerate(report["rounds"], start=1):
        assert round_problems(scenario, round_), (
            f"round {number} of {path.name} worked on Flask {report['flask']}:\n{_summary(report)}")
        assert any(bug in error for error in _errors(round_)), (
            f"round {number} of {path.name} did not show {bug!r}:\n{_summary(report)}")


@version_params
@scenario_params
def test_reference_fix_works(path: Path, version: str, flask_pythons) -> None:
    scenario = load_scenario(path.read_text(encoding="utf-8"))
    report = run_app(flask_pythons(version), REFERENCE / path.name, rounds=FIXED_ROUNDS)
    _skip_if_missing(report, scenario)
    _assert_works(report, scenario, path.name)


@version_params
@scenario_params
def test_fixed_app_works(path: Path, version: str, flask_pythons, tmp_path: Path) -> None:
    scenario = load_scenario(path.read_text(encoding="utf-8"))
    result = fixed_or_skip(path)
    target = tmp_path / path.name
    target.write_text(result.source, encoding="utf-8")
    report = run_app(flask_pythons(version), target, rounds=FIXED_ROUNDS)
    _skip_if_missing(report, scenario)
    _assert_works(report, scenario, f"fixed {path.name}", fixed_source=result.source)


@scenario_params
def test_fix_is_clean(path: Path) -> None:
    from flake8_flask_ctx.engine import check_source
    from flake8_flask_ctx.fixes import fix_source

    source = path.read_text(encoding="utf-8")
    scenario = load_scenario(source)
    result = fixed_or_skip(path)
    ast.parse(result.source)  # the fixed text parses
    assert load_scenario(result.source) == scenario, "the fixer changed the SCENARIO"
    unsafe = scenario.get("fix") == "unsafe"
    again = fix_source(result.source, unsafe=unsafe)
    assert again.source == result.source and not again.applied, "a second fix changed the text"
    allowed = set(scenario.get("may_remain", ()))
    left = [f"{f.line}: {f.message}" for f in result.remaining if f.code not in allowed]
    assert not left, "the fixer left findings:\n" + "\n".join(left)
    found = [f"{f.line}: {f.message}" for f in check_source(result.source)
             if f.code not in allowed]
    assert not found, "the fixed text still has findings:\n" + "\n".join(found)


@scenario_params
def test_reference_fix_is_clean(path: Path) -> None:
    """The hand-written fixes are correct code: the checker must not flag them."""
    from flake8_flask_ctx.engine import check_source

    scenario = load_scenario(path.read_text(encoding="utf-8"))
    reference = (REFERENCE / path.name).read_text(encoding="utf-8")
    assert load_scenario(reference) == scenario
    allowed = set(scenario.get("may_remain", ()))
    found = [f"{f.line}: {f.message}" for f in check_source(reference) if f.code not in allowed]
    assert not found, "\n".join(found)


def _assert_works(report: dict, scenario: dict, name: str, fixed_source: str = "") -> None:
    where = f"{name} on Flask {report['flask']}"
    assert not report["import_error"], f"{where}: import failed: {report['import_error']}"
    assert report["rounds"], _summary(report)
    failures = [f"round {n}: {problem}" for n, round_ in enumerate(report["rounds"], start=1)
                for problem in round_problems(scenario, round_)]
    assert not failures, (f"{where} does not work:\n" + "\n".join(failures)
                          + (f"\n--- fixed source ---\n{fixed_source}" if fixed_source else "")
                          + f"\n--- stderr ---\n{report['stderr'][-3000:]}")


@pytest.mark.parametrize("path", [p for p in SCENARIOS if load_scenario(p.read_text(encoding="utf-8")).get("fix")
                                  == "unsafe"], ids=lambda p: p.stem)
def test_only_an_unsafe_fix_repairs_it(path: Path) -> None:
    """Without --unsafe-fixes the finding that needs an unsafe fix stays, and is counted as
    fixable with them."""
    from flake8_flask_ctx.fixes import fix_source

    result = fix_source(path.read_text(encoding="utf-8"))
    assert result.remaining and result.unsafe_fixable, (result.applied, result.remaining)
    assert all(a.safe for a in result.applied)
