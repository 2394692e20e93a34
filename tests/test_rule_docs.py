"""``flask-ctx rule``: a rule's docs page in the terminal, from the one copy in docs/rules/."""

from __future__ import annotations

import re

from support.cli import flask_ctx
from support.marks import ROOT
from flake8_flask_ctx.urls import rule_url
from flake8_flask_ctx.rules import RULES_BY_CODE

DOCS = ROOT / "docs" / "rules"


def test_rule_prints_the_page_with_working_links() -> None:
    proc = flask_ctx("rule", "FCX201")
    assert proc.returncode == 0 and proc.stderr == ""
    page = (DOCS / "FCX201.md").read_text()
    assert proc.stdout.splitlines()[0] == page.splitlines()[0]
    assert proc.stdout.rstrip().endswith(rule_url("FCX201"))
    # the page, with its relative links made absolute (a terminal cannot follow ../x.md)
    assert "[runtime facts, case 5](https://" in proc.stdout and "](../" not in proc.stdout
    prose = re.sub(r"\]\([^)]*\)", "]()", proc.stdout)
    assert re.sub(r"\]\([^)]*\)", "]()", page).strip() in prose


def test_rule_all_and_prefixes() -> None:
    every = flask_ctx("rule", "--all")
    assert every.returncode == 0
    assert [line for line in every.stdout.splitlines() if re.match(r"# FCX\d{3}: ", line)] == [
        f"# {code}: {rule.title}" for code, rule in RULES_BY_CODE.items()]
    two = flask_ctx("rule", "FCX2")
    assert re.findall(r"^# (FCX\d{3}): ", two.stdout, re.M) == [c for c in RULES_BY_CODE if c.startswith("FCX2")]


def test_rule_errors() -> None:
    for args, message in ((["rule", "FCX999"], "matches no flask-ctx rule"),
                          (["rule", "fcx201"], "did you mean FCX201?"),
                          (["rule"], "give a CODE"), (["rule", "--all", "FCX100"], "give a CODE")):
        proc = flask_ctx(*args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)


def test_a_wheel_carries_the_rule_pages_and_the_urls(tmp_path) -> None:
    """A non-editable install (pip install ., git+URL, pre-commit) has no docs/ folder: the
    wheel carries a copy of the pages, and the URLs come from its metadata."""
    import subprocess
    import sys
    import zipfile

    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(ROOT),
                            "-w", str(tmp_path / "dist")], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("flake8_flask_ctx-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {f"flake8_flask_ctx/rule_docs/{code}.md" for code in RULES_BY_CODE} <= names
        archive.extractall(tmp_path / "site")
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", "import flake8_flask_ctx.cli as c, sys; "
                           "assert 'site' in c.__file__, c.__file__; sys.exit(c.main(['rule', 'FCX100']))"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# FCX100: ") and proc.stdout.rstrip().endswith(rule_url("FCX100"))
