"""The registry and the catalogue keep their promises.

- Every code has one rule, in the module named by its code, positive and negative fixtures
  (``# error:`` and ``# ok:`` marks in ``fixtures/fcxNNN_*.py``), a docs page, and an autofix
  pair for every fix it offers (``fixtures/autofix/fcxNNN_<fix>_*.py``) whose fix is really
  made, or none at all when it offers none. The docs page lists the same fixes.
- Every spawner in the catalogue is detected by the engine and let through by the
  prefilter; a spawner added to the catalogue at run time is detected, prefiltered and
  fixed with no other change.
"""

from __future__ import annotations

import importlib
import re
import textwrap

import pytest

from flake8_flask_ctx.catalogue.spawners import TABLE, ArgSlot, Carry, Passing, Spawner
from flake8_flask_ctx.engine import check_source
from flake8_flask_ctx.fixes import fix_source
from flake8_flask_ctx.options import Options
from flake8_flask_ctx.prefilter import may_have_findings
from flake8_flask_ctx.rules import CODES as MODULE_CODES, MODULES, RULES, RULES_BY_CODE
from support.marks import AUTOFIX, FIXTURES, ROOT, autofix_pairs, fixture_files, marks, needs_unsafe_fixes, ok_marks

DOCS = ROOT / "docs" / "rules"
CODES = [rule.code for rule in RULES]


def _file_name(kind) -> str:
    return kind.value.replace("-", "_")


def test_codes_are_unique_ordered_and_valid_for_flake8() -> None:
    assert CODES == sorted(set(CODES))
    assert all(re.fullmatch(r"FCX\d{3}", code) for code in CODES)


def test_the_registry_lists_every_rule_module_and_knows_the_codes_without_importing_them() -> None:
    on_disk = sorted(p.stem for p in (ROOT / "flake8_flask_ctx" / "rules").glob("fcx[0-9]*_*.py"))
    assert list(MODULES) == on_disk
    assert list(MODULE_CODES) == CODES  # the light list, from the names, is the rules' own


@pytest.mark.parametrize("code", CODES)
def test_rule_lives_in_the_module_named_by_its_code(code: str) -> None:
    modules = list((ROOT / "flake8_flask_ctx" / "rules").glob(f"{code.lower()}_*.py"))
    assert len(modules) == 1, f"one rules/{code.lower()}_*.py module, found {modules}"
    module = importlib.import_module(f"flake8_flask_ctx.rules.{modules[0].stem}")
    assert module.RULE is RULES_BY_CODE[code]


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_positive_and_negative_fixtures(code: str) -> None:
    home = FIXTURES / "inherit" if RULES_BY_CODE[code].inherited_contexts else FIXTURES
    own = [p for p in fixture_files() if p.parent == home and p.name.startswith(code.lower() + "_")]
    assert own, f"no {home.relative_to(FIXTURES.parent)}/{code.lower()}_*.py"
    assert any(m.code == code for p in own for m in marks(p)), f"no '# error: {code}' mark in {own}"
    assert any(c == code for p in own for _, c in ok_marks(p)), f"no '# ok: {code}' mark in {own}"


@pytest.mark.parametrize("code", CODES)
def test_every_offered_fix_has_an_autofix_pair_that_makes_it(code: str) -> None:
    rule = RULES_BY_CODE[code]
    pairs = [(b, a) for b, a in autofix_pairs() if b.name.startswith(code.lower() + "_")]
    if not rule.fixes:
        assert not pairs, f"{code} offers no fix, but has autofix pairs {pairs}"
        return
    for kind in rule.fixes:
        prefix = f"{code.lower()}_{_file_name(kind)}_"
        exercised = [b for b, _ in pairs if b.name.startswith(prefix)]
        assert exercised, f"{code} offers {kind.value}: no fixtures/autofix/{prefix}*.py"
        for before in exercised:
            applied = fix_source(before.read_text(encoding="utf-8"), unsafe=needs_unsafe_fixes(before)).applied
            assert any(a.code == code and a.kind is kind for a in applied), (
                f"{before.name}: no {kind.value} fix of {code} applied: {applied}")
    for before, _ in pairs:
        assert any(before.name.startswith(f"{code.lower()}_{_file_name(k)}_") for k in rule.fixes), (
            f"{before.name} is named after no fix {code} offers")


@pytest.mark.parametrize("code", CODES)
def test_docs_list_the_fixes_the_rule_offers(code: str) -> None:
    text = (DOCS / f"{code}.md").read_text(encoding="utf-8")
    match = re.search(r"^Fixes offered: (.+)$", text, re.M)
    assert match, f"{code}.md has no 'Fixes offered:' line in its Autofix section"
    listed = [] if match.group(1).strip() == "none." else re.findall(r"`([a-z-]+)`", match.group(1))
    assert listed == [k.value for k in RULES_BY_CODE[code].fixes]


def test_autofix_pairs_are_all_named_by_code() -> None:
    known = tuple(code.lower() + "_" for code in CODES)
    stray = [b.name for b, _ in autofix_pairs() if not b.name.startswith(known)]
    assert not stray
    assert all(p.exists() for _, p in autofix_pairs())
    assert AUTOFIX.is_dir()


# --- the spawner catalogue ----------------------------------------------------------------


def _call(spawner: Spawner, worker: str) -> tuple[str, str]:
    """(imports, spawn statement) that use ``spawner`` to run ``worker``."""
    fillers = ["None"] * (spawner.worker.position or 0)
    args = ", ".join([*fillers, worker, *(["[1, 2]"] if spawner.fan_out else [])])
    if spawner.bases:
        module, name = spawner.bases[0].rsplit(".", 1)
        return (f"from {module} import {name}\n\n\nclass Job({name}):\n    def run(self):\n"
                "        print(request.args)\n", "Job().start()")
    if spawner.callables:
        name = spawner.callables[0]
        return f"import {name.rsplit('.', 1)[0]}", f"{name}({args})"
    method = spawner.methods[0]
    if spawner.receivers:
        module, name = spawner.receivers[0].rsplit(".", 1)
        return f"from {module} import {name}", f"{name}().{method}({args})"
    return "", f"runner.{method}({args})"


WORKER = """\
def work(*items):
    print(request.args.get("q"), items)
"""


def _program(spawner: Spawner) -> str:
    """A view that hands ``work`` to the spawner, or (a task decorator) ``work`` decorated."""
    if spawner.decorator:
        if spawner.callables:
            module = spawner.callables[0].rsplit(".", 1)[0]
            imports, maker, decorator = f"import {module}", "", spawner.callables[0]
        else:
            module, name = spawner.receivers[0].rsplit(".", 1)
            imports, maker, decorator = f"from {module} import {name}", f"runner = {name}()\n", \
                f"runner.{spawner.methods[0]}"
        return (f"{imports}\nfrom flask import Flask, request\n\napp = Flask(__name__)\n{maker}\n\n"
                f"@{decorator}\n{WORKER}")
    imports, spawn = _call(spawner, "work")
    return textwrap.dedent("""\
        {imports}
        from flask import Flask, request

        app = Flask(__name__)


        {worker}

        @app.route("/")
        def view(runner=None):
            {spawn}
            return "ok"
        """).format(imports=imports, spawn=spawn, worker=WORKER.replace("\n", "\n        "))


def _reported_line(spawner: Spawner, source: str) -> int:
    lines = source.splitlines()
    if spawner.decorator:
        return next(n for n, line in enumerate(lines, 1) if line.startswith("@"))
    return next(n for n, line in enumerate(lines, 1) if 'return "ok"' in line) - 1


@pytest.mark.parametrize("spawner", list(TABLE), ids=lambda s: s.name)
def test_every_catalogued_spawner_is_prefiltered_and_detected(spawner: Spawner) -> None:
    """A worker that reads the request is reported where it is handed over, unless the
    spawner gives it the request itself (then only a shared copy is: FCX201)."""
    source = _program(spawner)
    assert may_have_findings(source, Options()), source
    codes = [(f.code, f.line) for f in check_source(source)]
    line = _reported_line(spawner, source)
    if spawner.carries is Carry.NOTHING:
        assert ("FCX100", line) in codes, f"{spawner.name} not detected:\n{source}\n{codes}"
    else:
        assert ("FCX100", line) not in codes, f"{spawner.name} carries the request:\n{source}\n{codes}"
        assert (("FCX201", line) in codes) == (spawner.carries is Carry.ONE_COPY), codes


@pytest.fixture
def deferred_spawner():
    """A spawner nobody knows, added as one catalogue entry and removed afterwards."""
    spawner = Spawner("tasks.run_later", ArgSlot(0, ("func",)), callables=("tasks.run_later",), extra_from=1,
                      passing=Passing.EXTRA_KEYWORDS)
    TABLE.add(spawner)
    yield spawner
    TABLE.remove(spawner)


DEFERRED = textwrap.dedent("""\
    from tasks import run_later
    from flask import Flask, request

    app = Flask(__name__)


    def _notify(user):
        print("notify", user, request.args.get("channel", "mail"))


    @app.route("/users/<user>")
    def view(user):
        run_later(_notify, user)
        return "ok"
    """)


def test_a_new_catalogue_entry_is_all_it_takes(deferred_spawner) -> None:
    assert not may_have_findings(DEFERRED.replace("run_later", "later"), Options())
    assert may_have_findings(DEFERRED, Options())
    assert [(f.code, f.line) for f in check_source(DEFERRED)] == [("FCX100", 13)]
    fixed = fix_source(DEFERRED)
    assert 'run_later(_notify, user, channel=request.args.get("channel", "mail"))' in fixed.source
    assert check_source(fixed.source) == []


def test_without_the_entry_nothing_is_found() -> None:
    assert check_source(DEFERRED) == []
