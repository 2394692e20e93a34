"""``flask-ctx check``'s result cache (``flake8_flask_ctx/project/results.py``).

- A warm run on an unchanged tree never calls libcst's parser, nor even imports libcst
  (a new process: its import is most of a warm run's cost), and every run (no cache,
  cold, warm, ``-j 2``) prints the same report, on ``fixtures/`` and on each fixture project.
- An edited file is checked again, and so is a file whose finding came through an edited
  module; a file that read nothing of the edited module is not.
- ``--no-cache`` reads and writes nothing; a broken entry is never trusted; ``fix`` does
  not use the cache; outside any project nothing is written.

The in-process runs clear the per-process indexes and caches between runs, as a new
``flask-ctx`` process would start without them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import libcst
import pytest

from support.cli import BUGGY, FLASK_CTX, PYTHON, clean_env
from support.marks import FIXTURES

from support.in_process import calls, check, copy_tree, new_process

from flake8_flask_ctx import cli
from flake8_flask_ctx.project import results
from flake8_flask_ctx.project.layout import find_root

PROJECTS = FIXTURES / "projects"


class Parses:
    """Counts libcst parses, with the text of each."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts = calls(monkeypatch, libcst, "parse_module",
                           lambda source, *rest, **named: source if isinstance(source, str)
                           else source.decode("utf-8", "replace"))

    def reset(self) -> None:
        self.texts.clear()


def result_files(root: Path) -> list[Path]:
    return sorted((root / ".flask_ctx_cache" / "results").rglob("*.json"))


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = copy_tree(PROJECTS / "shop", tmp_path / "shop")
    monkeypatch.chdir(copy)
    return copy


def test_a_warm_run_on_fixtures_never_parses_and_reports_the_same(fixtures_copy: Path, capsys,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    parses = Parses(monkeypatch)
    uncached = check(capsys, "--no-cache", "fixtures")
    assert not (fixtures_copy / ".flask_ctx_cache").exists(), "--no-cache wrote something"
    assert uncached[0] == 1 and uncached[1].count("FCX") > 100
    cold = check(capsys, "fixtures")
    assert cold == uncached
    assert result_files(fixtures_copy)
    assert (fixtures_copy / ".flask_ctx_cache" / ".gitignore").read_text().strip().endswith("*")
    parses.reset()
    warm = check(capsys, "fixtures")
    assert warm == uncached
    assert parses.texts == [], f"{len(parses.texts)} libcst parses on a warm run"
    assert results.cache_stats()[0] > 0 and results.cache_stats()[2] == 0


@pytest.mark.parametrize("project", sorted(p.name for p in PROJECTS.iterdir() if (p / "pyproject.toml").exists()))
def test_each_fixture_project_warm_and_cold_alike(project: str, tmp_path: Path, capsys,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_tree(PROJECTS / project, tmp_path / project)
    monkeypatch.chdir(root)
    parses = Parses(monkeypatch)
    uncached = check(capsys, "--no-cache", ".")
    assert uncached[1].count("FCX") > 0
    assert check(capsys, ".") == uncached
    parses.reset()
    assert check(capsys, ".") == uncached
    assert parses.texts == []


IMPORTS_LIBCST = """
import sys
from flake8_flask_ctx import cli
status = cli.main(sys.argv[1:])
print("libcst" in sys.modules, status)
"""


def test_a_warm_run_never_imports_libcst(shop: Path) -> None:
    """Cold: the analysis imports libcst; warm, from the result cache: nothing does."""
    def imports_libcst(*args: str) -> str:
        run = subprocess.run([PYTHON, "-c", IMPORTS_LIBCST, "check", "--isolated", "-j", "1", *args, "."],
                             capture_output=True, text=True, cwd=shop, timeout=300, env=clean_env())
        assert "Traceback" not in run.stderr, run.stderr
        return run.stdout.splitlines()[-1]

    assert imports_libcst() == "True 1"  # cold: findings
    assert imports_libcst() == "False 1"  # warm: the same status, libcst never imported
    assert imports_libcst("--no-cache") == "True 1"


def test_parallel_runs_share_the_folder(shop: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([FLASK_CTX, "check", "--isolated", *args, "."], capture_output=True, text=True,
                              cwd=shop, timeout=300, env=clean_env())

    uncached = run("--no-cache", "-j", "1")
    assert uncached.returncode == 1 and "Traceback" not in uncached.stderr
    for jobs in ("2", "2", "1"):  # cold, warm, warm in one process
        again = run("-j", jobs)
        expected = (uncached.returncode, uncached.stdout, uncached.stderr)
        assert (again.returncode, again.stdout, again.stderr) == expected
    assert result_files(shop)
    assert not list((shop / ".flask_ctx_cache" / "results").rglob(".tmp-*")), "a temporary file was left"


def test_an_edited_file_is_checked_again(shop: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    check(capsys, ".")
    later = shop / "shop" / "later.py"
    later.write_text(BUGGY)
    status, out, _ = check(capsys, ".")
    assert "shop/later.py:14:5: FCX100" in out
    assert check(capsys, ".") == check(capsys, "--no-cache", ".")


def test_an_edit_of_a_module_a_finding_came_through_rechecks_the_file(shop: Path, capsys,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    before = check(capsys, ".")[1]
    assert "shop/views.py:14:5: FCX100" in before  # through shop/services/messaging.py
    messaging = shop / "shop" / "services" / "messaging.py"
    messaging.write_text(messaging.read_text().replace('return request.form["email"]', 'return "someone"'))
    after = check(capsys, ".")
    assert "shop/views.py:14:5: FCX100" not in after[1]
    assert "shop/views.py:14:5: FCX101" in after[1]  # current_app.logger is still used
    assert after == check(capsys, "--no-cache", ".")


def test_a_file_that_read_nothing_of_an_edited_module_is_not_parsed_again(shop: Path, capsys,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    parses = Parses(monkeypatch)
    first = check(capsys, ".")
    views = (shop / "shop" / "views.py").read_text()
    assert views in parses.texts
    reports = shop / "shop" / "services" / "reports.py"
    reports.write_text(reports.read_text() + "\n# an edit\n")
    parses.reset()
    assert check(capsys, ".") == first
    assert views not in parses.texts, "views.py reads nothing of reports.py, yet was parsed again"
    assert reports.read_text() in parses.texts


def test_selection_is_applied_to_cached_findings(shop: Path, capsys) -> None:
    check(capsys, ".")
    for args in (("--select", "FCX101"), ("--ignore", "FCX100"), ("--per-file-ignores", "shop/views.py:FCX"),
                 ("--disable-noqa",)):
        assert check(capsys, *args, ".") == check(capsys, "--no-cache", *args, ".")


def test_a_broken_or_foreign_entry_is_never_trusted(shop: Path, capsys) -> None:
    cold = check(capsys, ".")
    entries = result_files(shop)
    assert entries
    for number, path in enumerate(entries):
        path.write_text(["{not json", "[]", '{"content": "x"}', "{}"][number % 4])
    assert check(capsys, ".") == cold
    options_change = check(capsys, "--app-bound-names", "db.session", ".")
    assert options_change == check(capsys, "--no-cache", "--app-bound-names", "db.session", ".")


def test_fix_does_not_use_the_cache(shop: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    check(capsys, ".")
    parses = Parses(monkeypatch)
    new_process()
    assert cli.main(["fix", "--isolated", "--diff", "-j", "1", "."]) == 1
    assert parses.texts, "fix --diff parsed nothing"


def test_outside_any_project_nothing_is_written(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    if find_root(str(loose)) is not None:
        pytest.skip(f"a project marker above {loose}")
    (loose / "app.py").write_text(BUGGY)
    monkeypatch.chdir(loose)
    assert "FCX100" in check(capsys, "app.py")[1]
    assert not (loose / ".flask_ctx_cache").exists()


def test_standard_input_has_no_cache(shop: Path) -> None:
    proc = subprocess.run([FLASK_CTX, "check", "--isolated", "--stdin-filename", "shop/views.py", "-"],
                          input=(shop / "shop" / "views.py").read_text(), capture_output=True, text=True,
                          cwd=shop, timeout=120, env=clean_env())
    assert proc.returncode == 1 and "shop/views.py:14:5: FCX100" in proc.stdout, proc.stderr
    assert not result_files(shop)


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_steps_scopes_and_fix_offers_survive_the_cache(fmt: str, shop: Path, capsys) -> None:
    uncached = check(capsys, "--no-cache", "--format", fmt, ".")
    assert check(capsys, "--format", fmt, ".") == uncached
    assert check(capsys, "--format", fmt, ".") == uncached  # warm
    assert fmt != "sarif" or "codeFlows" in uncached[1]  # the steps to another module's read


def test_a_module_added_later_is_seen_through_a_cached_summary(tmp_path: Path, capsys,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``helpers.helper`` calls ``extra.work``, which does not exist yet: the summary of
    ``helpers`` cached then must still lead to ``extra`` once it is added (it used to keep
    only the calls into the modules of the day, and the finding was lost)."""
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0"\n')
    (root / "views.py").write_text("import threading\n\nfrom flask import Flask\n\nfrom helpers import helper\n\n"
                                   "app = Flask(__name__)\n\n\n@app.route('/')\ndef view():\n"
                                   "    threading.Thread(target=helper).start()\n    return 'ok'\n")
    (root / "helpers.py").write_text("from extra import work\n\n\ndef helper():\n    work()\n")
    monkeypatch.chdir(root)
    assert check(capsys, ".")[0] == 0
    (root / "extra.py").write_text("from flask import request\n\n\ndef work():\n    print(request.args)\n")
    status, out, _ = check(capsys, ".")
    assert status == 1 and "views.py:12:5: FCX100 worker helper() (helpers.py) -> work()" in out, out
    assert (status, out) == check(capsys, "--no-cache", ".")[:2]


def test_no_cache_workers_share_summaries_in_a_private_folder_removed_at_the_end(shop: Path, tmp_path: Path) -> None:
    """``--no-cache -j 2``: the workers share the module summaries of the run in a
    temporary folder (each used to compute every summary it needed); nothing is read or
    written in the project, nothing is left behind, and the report is ``-j 1``'s."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([FLASK_CTX, "check", "--isolated", "--no-cache", *args, "."], capture_output=True,
                              text=True, cwd=shop, timeout=300, env=clean_env(TMPDIR=str(scratch)))

    alone, shared = run("-j", "1"), run("-j", "2")
    assert alone.returncode == 1 and "Traceback" not in alone.stderr
    assert (shared.returncode, shared.stdout, shared.stderr) == (alone.returncode, alone.stdout, alone.stderr)
    assert not (shop / ".flask_ctx_cache").exists(), "--no-cache wrote into the project"
    assert list(scratch.iterdir()) == [], "the shared folder was left behind"


def test_no_cache_workers_write_their_summaries_to_the_shared_folder(shop: Path, capsys,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    kept = calls(monkeypatch, shutil, "rmtree", lambda path, *rest, **named: len(list(Path(path).rglob("*.json"))))
    assert check(capsys, "--no-cache", "-j", "2", ".")[:2] == check(capsys, "--no-cache", ".")[:2]
    assert len(kept) == 1 and kept[0] > 0, "the workers shared no summary"
    assert not (shop / ".flask_ctx_cache").exists()
