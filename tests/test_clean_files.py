"""The clean list (``flake8_flask_ctx/project/clean_files.py``): files ``check`` found clean,
known again by their ``stat`` so that a warm run does not even open them.

What must hold: a listed file is not opened; every other run reports exactly what
``--no-cache`` reports; an edit (even one that keeps the size), a file that just changed,
other options, a lower ``--max-file-size`` and a broken or unwritable list are all seen.
Most tests set ``SETTLED_NS`` to 0, so that files written a moment ago can be listed (the
first test waits out the real margin instead).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from support.cli import BUGGY
from support.marks import FIXTURES

from support.in_process import calls, check, copy_tree

from flake8_flask_ctx import runner, sources
from flake8_flask_ctx.project.clean_files import CleanFiles

CLEAN = "import os\n\nprint(os.getcwd())\n"


class Opens:
    """The paths ``runner.process`` reads, in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths = calls(monkeypatch, runner, "read_source", lambda path, *rest, **named: Path(path).name)

    def take(self) -> list[str]:
        taken = sorted(self.paths)
        self.paths.clear()
        return taken


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0"\n')
    (root / "clean.py").write_text(CLEAN)
    (root / "buggy.py").write_text(BUGGY)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def settled_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "SETTLED_NS", 0)


def list_entries(root: Path, state: str = "clean") -> dict:
    """The files the list of the project at ``root`` holds as clean (or, with ``state="-"``,
    as checked and not clean: a hint for the scheduler, never a reason to skip one)."""
    [path] = (root / ".flask_ctx_cache" / "results").glob("clean-*.json")
    return {name: entry for name, entry in json.loads(path.read_text()).items() if (entry[5] == "-") == (state == "-")}


def every_entry(tree: Path) -> list[str]:
    """The files listed as clean by every project under ``tree`` (nested projects have
    their own), relative to ``tree``."""
    return [(path.parents[2] / name).relative_to(tree).as_posix()
            for path in tree.rglob(".flask_ctx_cache/results/clean-*.json")
            for name, entry in json.loads(path.read_text()).items() if entry[5] != "-"]


def test_a_settled_clean_file_is_not_opened_again_and_a_fresh_one_is(project: Path, capsys,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    opens = Opens(monkeypatch)
    time.sleep(sources.SETTLED_NS / 1e9 + 0.1)  # the real margin: clean.py and buggy.py settle
    (project / "fresh.py").write_text(CLEAN)
    uncached = check(capsys, "--no-cache", ".")
    assert uncached[0] == 1 and "FCX100" in uncached[1]
    opens.take()
    assert check(capsys, ".") == uncached
    assert opens.take() == ["buggy.py", "clean.py", "fresh.py"]
    assert set(list_entries(project)) == {"clean.py"}, "only a settled clean file is listed"
    assert set(list_entries(project, "-")) == {"buggy.py"}
    assert check(capsys, ".") == uncached
    assert opens.take() == ["buggy.py", "fresh.py"], "the listed file was opened, or a fresh one was not"


def test_an_edit_that_keeps_the_size_is_seen(project: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                             settled_now: None) -> None:
    same_size = "#" * (len(BUGGY) - 1) + "\n"
    (project / "clean.py").write_text(same_size)
    check(capsys, ".")
    assert "clean.py" in list_entries(project)
    before = (project / "clean.py").stat()
    time.sleep(0.05)  # past a tick of the file system's clock
    (project / "clean.py").write_text(BUGGY)
    after = (project / "clean.py").stat()
    assert after.st_size == before.st_size and after.st_ctime_ns != before.st_ctime_ns
    status, out, _ = check(capsys, ".")
    assert status == 1 and "clean.py:14:5: FCX100" in out
    assert "clean.py" not in list_entries(project), "a file with findings stays listed"
    assert "clean.py" in list_entries(project, "-")


def test_other_options_do_not_trust_the_list(project: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                             settled_now: None) -> None:
    custom = BUGGY.replace("threading.Thread(target=work).start()", "spawn_later(work)")
    (project / "clean.py").write_text(custom)  # parsed and analysed: listed only outside a project
    assert "clean.py" not in check(capsys, "--no-project", ".")[1]
    assert "clean.py" in list_entries(project)
    opens = Opens(monkeypatch)
    status, out, _ = check(capsys, "--no-project", "--extra-spawners", "spawn_later", ".")
    assert "clean.py" in opens.take()
    assert status == 1 and "clean.py:14:5: FCX100" in out


def test_a_lower_max_file_size_still_skips_a_listed_file(project: Path, capsys, settled_now: None) -> None:
    check(capsys, ".")
    assert "clean.py" in list_entries(project)
    status, out, err = check(capsys, "--max-file-size", "10", ".")
    assert "clean.py: skipped:" in err


def test_the_same_report_with_and_without_the_list(fixtures_copy: Path, capsys,
                                                   monkeypatch: pytest.MonkeyPatch, settled_now: None) -> None:
    opens = Opens(monkeypatch)
    uncached = check(capsys, "--no-cache", "fixtures")
    every = opens.take()
    assert check(capsys, "fixtures") == uncached  # cold: the list is written
    opens.take()
    assert check(capsys, "fixtures") == uncached
    warm = opens.take()
    listed = every_entry(fixtures_copy)
    assert len(listed) > 50 and len(warm) == len(every) - len(listed)
    reported = {line.split(":")[0] for line in uncached[1].splitlines() if ": FCX" in line}
    assert reported and not reported & set(listed), "a file with findings was listed"


def test_each_fixture_project_with_the_list(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                            settled_now: None) -> None:
    for project in sorted(p for p in (FIXTURES / "projects").iterdir() if (p / "pyproject.toml").exists()):
        root = copy_tree(project, tmp_path / project.name)
        monkeypatch.chdir(root)
        uncached = check(capsys, "--no-cache", ".")
        assert check(capsys, ".") == uncached, project.name
        assert check(capsys, ".") == uncached, project.name


def test_two_runs_at_once_merge_their_lists(project: Path) -> None:
    first, second = CleanFiles(str(project)), CleanFiles(str(project))
    first.note("clean.py", lambda hints: "v", (1, 2, 3, 4, 5), ((), None))
    second.note("other.py", lambda hints: "v", (1, 2, 3, 4, 6), (("packages",), None))
    first.save()
    second.save()
    assert set(list_entries(project)) == {"clean.py", "other.py"}
    third = CleanFiles(str(project))
    third.note("clean.py", lambda hints: "v", None, None)  # no settled stat: dropped, the other one kept
    third.save()
    assert set(list_entries(project)) == {"other.py"}


def test_a_broken_list_is_ignored_and_an_unwritable_one_costs_nothing(project: Path, capsys,
                                                                      settled_now: None) -> None:
    uncached = check(capsys, "--no-cache", ".")
    check(capsys, ".")
    [path] = (project / ".flask_ctx_cache" / "results").glob("clean-*.json")
    path.write_text('{"clean.py": [1, 2')
    assert check(capsys, ".") == uncached
    assert "clean.py" in list_entries(project), "the broken list was not rewritten"
    path.unlink()
    path.mkdir()  # a folder where the list should be: it cannot be read or written
    assert check(capsys, ".") == uncached
    assert check(capsys, ".") == uncached


def test_a_verdict_that_asked_the_project_is_redone_when_the_answer_changes(project: Path, capsys,
                                                                            monkeypatch: pytest.MonkeyPatch,
                                                                            settled_now: None) -> None:
    (project / "clean.py").write_text("import threading\n\nfrom helpers import work\n\n"
                                      "threading.Thread(target=work).start()\n")
    check(capsys, ".")
    assert list_entries(project)["clean.py"][6] == ["packages"]  # "is helpers one of the project's?"
    (project / "helpers.py").write_text("from flask import request\n\n\ndef work():\n    print(request.args)\n")
    opens = Opens(monkeypatch)
    assert check(capsys, ".") == check(capsys, "--no-cache", ".")
    assert opens.take().count("clean.py") == 2, "the list was trusted though the project changed"


def test_a_symbolic_link_is_listed_under_its_own_path(project: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                                      settled_now: None) -> None:
    """``a.py`` lists first in its directory and is a link into a folder whose
    ``pyproject.toml`` targets Python 3.14 with inherited contexts: its verdict is that
    folder's, the other files keep their own."""
    other = project.parent / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "o"\nversion = "0"\nrequires-python = ">=3.14"\n')
    (other / "target.py").write_text(CLEAN)
    (project / "a.py").symlink_to(other / "target.py")
    uncached = check(capsys, "--no-cache", ".")
    assert check(capsys, ".") == uncached
    assert {"a.py", "clean.py"} <= set(list_entries(project))
    opens = Opens(monkeypatch)
    assert check(capsys, ".") == uncached
    assert opens.take() == ["buggy.py"]


def test_a_file_the_second_stage_rules_out_is_listed_with_what_it_asked(project: Path, capsys,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        settled_now: None) -> None:
    """The text names Flask only in a comment: the substring tests pass it, the code text
    (second stage) rules it out after asking whether ``threading`` is one of the project's
    packages. Listed, it is not opened again; the same holds after a run that read its
    result cache entry."""
    (project / "clean.py").write_text("# flask\nimport threading\n\nthreading.Thread(target=print).start()\n")
    uncached = check(capsys, "--no-cache", ".")
    assert check(capsys, ".") == uncached
    assert list_entries(project)["clean.py"][6] == ["packages"]
    opens = Opens(monkeypatch)
    assert check(capsys, ".") == uncached
    assert "clean.py" not in opens.take()
    [path] = (project / ".flask_ctx_cache" / "results").glob("clean-*.json")
    path.unlink()  # only the result cache entry is left: it says what the verdict asked
    assert check(capsys, ".") == uncached
    assert list_entries(project)["clean.py"][6] == ["packages"]


HELPERS = "from flask import current_app\n\n\ndef work():\n    print('working')\n"
USES_HELPERS = ("import threading\n\nfrom flask import Flask\n\nfrom helpers import work\n\n"
                "app = Flask(__name__)\n\n\n@app.route('/')\ndef view():\n"
                "    threading.Thread(target=work).start()\n    return 'ok'\n")


def test_an_analysed_clean_file_is_listed_with_what_it_read_of_the_project(project: Path, capsys,
                                                                           monkeypatch: pytest.MonkeyPatch,
                                                                           settled_now: None) -> None:
    """``clean.py`` starts ``helpers.work`` in a thread: clean while ``work`` reads no
    context. Its analysis read ``helpers``'s summary: listed with that, not opened while
    ``helpers.py`` is unchanged, and checked again (now with a finding) once it reads one."""
    (project / "helpers.py").write_text(HELPERS)
    (project / "clean.py").write_text(USES_HELPERS)
    check(capsys, ".")
    entry = list_entries(project)["clean.py"]
    assert entry[7] and "helpers" in entry[7]["summaries"], entry
    opens = Opens(monkeypatch)
    assert "clean.py" not in check(capsys, ".")[1]
    assert "clean.py" not in opens.take()
    (project / "helpers.py").write_text(HELPERS.replace("print('working')", "print(current_app.name)"))
    status, out, _ = check(capsys, ".")
    assert "clean.py" in opens.take()
    assert status == 1 and "clean.py:12:5: FCX101" in out, out
    assert check(capsys, ".") == check(capsys, "--no-cache", ".")


def test_module_facts_are_kept_by_stat(project: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                       settled_now: None) -> None:
    """The prefilter's spawners hint reads every module's text once; after that, a run
    reads none while their ``stat`` holds, and an edited module is read again."""
    from flake8_flask_ctx.project import module_facts

    (project / "helpers.py").write_text(HELPERS)
    (project / "clean.py").write_text(USES_HELPERS)
    reads = calls(monkeypatch, module_facts, "read_facts", lambda data: data.decode())
    check(capsys, ".")
    assert reads, "the hints read no module"
    reads.clear()
    check(capsys, ".")
    check(capsys, ".")
    assert reads == [], f"{len(reads)} modules read again though unchanged"
    (project / "helpers.py").write_text(HELPERS + "\n\ndef later():\n    threading.Thread(target=work).start()\n")
    check(capsys, ".")
    assert [text for text in reads if "def later" in text], "an edited module was not read again"


def test_with_two_workers_the_main_process_keeps_what_they_learnt(fixtures_copy: Path, capsys,
                                                                  settled_now: None) -> None:
    uncached = check(capsys, "--no-cache", "fixtures")
    assert check(capsys, "-j", "2", "fixtures") == uncached
    listed = every_entry(fixtures_copy)
    assert len(listed) > 10
    assert list(fixtures_copy.rglob(".flask_ctx_cache/results/modules-*.json")), "no module facts kept"
    assert check(capsys, "-j", "2", "fixtures") == uncached
    assert every_entry(fixtures_copy) == listed


def test_a_warm_run_starts_no_process_pool_for_the_files_its_cache_answers(project: Path, capsys,
                                                                           monkeypatch: pytest.MonkeyPatch,
                                                                           settled_now: None) -> None:
    """Twenty files with findings, answered by the result cache on a warm run, are not
    worth a pool's start; seven never checked are."""
    pools = calls(monkeypatch, runner, "_pooled", lambda work, paths, *rest: len(paths))
    for number in range(20):
        (project / f"buggy{number}.py").write_text(BUGGY)
    uncached = check(capsys, "--no-cache", "-j", "2", ".")
    assert pools == [22], "a cold run did not go parallel"
    assert check(capsys, "-j", "2", ".") == uncached
    pools.clear()
    assert check(capsys, "-j", "2", ".") == uncached
    assert pools == [], "the files with findings, answered by the result cache, went to a pool"
    for number in range(7):
        (project / f"new{number}.py").write_text(BUGGY)
    status, out, _ = check(capsys, "-j", "2", ".")
    assert pools == [29], "seven files never checked were not worth a pool"  # and clean.py: new packages
    assert out.count("FCX100") == uncached[1].count("FCX100") + 7


def test_the_module_facts_workers_learn_are_kept_though_the_main_process_read_none(project: Path, capsys,
                                                                                   settled_now: None) -> None:
    """A first ``-j 2`` run over files with findings: only the workers read the modules
    (the result cache records the project's hints); the main process, which writes the
    facts, never asked for them, nor read the file they go in."""
    for number in range(8):
        (project / f"buggy{number}.py").write_text(BUGGY)
    check(capsys, "-j", "2", ".")
    [path] = (project / ".flask_ctx_cache" / "results").glob("modules-*.json")
    assert "buggy3.py" in json.loads(path.read_text()), "the workers' module facts were dropped"
