"""The README's commands stay true: the install lines name what exists (a clone, a real tag,
the project's URL from pyproject.toml), and CI runs exactly the README's test command."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from support.marks import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

URLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]


def test_quick_start_commands_and_ci_agree() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line for line in quick.splitlines() if line.startswith(("python3 ", ".venv/"))]
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/flake8 --select FCX fixtures/",
        ".venv/bin/python -m pytest -q",
    ]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == commands[1]  # the last thing CI does is the README's test command, verbatim
    assert any("pip install --quiet -e '.[test]'" in line for line in ci)
    assert "rm -rf .venv .pytest_cache .flask-venvs" in "\n".join(ci)  # from scratch


def test_install_lines_name_what_exists() -> None:
    assert not re.search(r"pip install flake8-flask-ctx\b", README)  # not published on PyPI
    assert "OWNER" not in README
    repository = URLS["Repository"]
    for url in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", README):
        if "flake8-flask-ctx" in url:
            assert url == repository, url
    assert URLS["Homepage"] == repository and URLS["Documentation"].startswith(repository + "/")
    assert f"Its canonical URL is\n`{repository}`" in README


def test_the_revisions_the_readme_names_are_tags() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tags = set(subprocess.run(["git", "tag", "--list"], cwd=ROOT, capture_output=True, text=True).stdout.split())
    if not tags:
        pytest.skip("a clone without tags")
    named = set(re.findall(r"@(v\d+\.\d+\.\d+)\b", README)) | set(re.findall(r"rev: (v\d+\.\d+\.\d+)", README))
    ours = {rev for rev in named if rev not in ("v7.1.1",)}  # the flake8 hook's own rev
    assert ours and ours <= tags, (ours, tags)
