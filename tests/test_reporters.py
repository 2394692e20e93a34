"""Output formats: SARIF against the official 2.1.0 schema, GitHub escaping, JSON and text."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from support.marks import FIXTURES, ROOT
from flake8_flask_ctx import __version__
from flake8_flask_ctx.rules import RULES_BY_CODE as CODES
from flake8_flask_ctx.reporters import (
    escape_data, escape_property, render_github, render_json, render_sarif, render_text,
)
from flake8_flask_ctx.runner import FileResult, Reported

FLASK_CTX = str(Path(sys.executable).with_name("flask-ctx"))
if not Path(FLASK_CTX).exists():
    FLASK_CTX = str(ROOT / ".venv" / "bin" / "flask-ctx")
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def _result(path: str, *findings: tuple[int, int, str, str], error: str = None) -> FileResult:
    return FileResult(path, [Reported(path, line, col, code, f"{code} {text}")
                             for line, col, code, text in findings], error=error)


RESULTS = [
    _result("pkg/views.py", (14, 4, "FCX100", "worker work() reads request.args (line 9)"),
            (20, 0, "FCX300", "uses _app_ctx_stack: removed in Flask 3")),
    _result("pkg/bad.py", error="cannot decode as utf-8: byte 0xff on line 2"),
]


def _validate(log: dict) -> None:
    errors = sorted(Draft4Validator(SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER)
                    .iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_the_bundled_schema_is_the_official_one() -> None:
    assert SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]
    with pytest.raises(Exception):  # it does reject things: a result needs a message
        Draft4Validator(SCHEMA).validate({"version": "2.1.0", "runs": [{
            "tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "FCX100"}]}]})


def test_sarif_validates_and_carries_rules_and_locations(tmp_path: Path) -> None:
    log = json.loads(render_sarif(RESULTS, root=Path.cwd()))
    _validate(log)
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("flake8-flask-ctx", __version__)
    assert [rule["id"] for rule in driver["rules"]] == list(CODES)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] == CODES[rule["id"]].title
    first, second = run["results"]
    assert first["ruleId"] == "FCX100" and first["level"] == "error"
    assert driver["rules"][first["ruleIndex"]]["id"] == "FCX100"
    assert first["message"]["text"] == "worker work() reads request.args (line 9)"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "pkg/views.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 14, "startColumn": 5}
    assert second["level"] == "warning"
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "cannot decode" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_sarif_uris_are_escaped_and_absolute_outside_the_root(tmp_path: Path) -> None:
    inside = str(tmp_path / "my dir" / "app.py")
    outside = "/elsewhere/app.py"
    log = json.loads(render_sarif([_result(inside, (1, 0, "FCX100", "m")),
                                   _result(outside, (1, 0, "FCX100", "m"))], root=tmp_path))
    _validate(log)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in log["runs"][0]["results"]]
    assert uris == [{"uri": "my%20dir/app.py", "uriBaseId": "%SRCROOT%"},
                    {"uri": "file:///elsewhere/app.py"}]
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"


def test_sarif_of_an_empty_run_validates() -> None:
    log = json.loads(render_sarif([]))
    _validate(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_cli_sarif_on_all_fixtures_validates(cli_on_fixtures) -> None:
    proc = cli_on_fixtures("--format", "sarif")
    assert proc.returncode == 1, proc.stderr
    log = json.loads(proc.stdout)
    _validate(log)
    results = log["runs"][0]["results"]
    assert len(results) > 50
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert all(u.startswith("fixtures/") and "\\" not in u for u in uris)
    assert {r["ruleId"] for r in results} <= set(CODES)


def test_github_escaping_follows_the_workflow_command_rules() -> None:
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"


def test_github_annotations() -> None:
    results = [_result("dir,with:odd/v.py", (3, 0, "FCX100", "50% of\nthe message: x, y")),
               _result("ok.py", (7, 8, "FCX203", "late")), _result("bad.py", error="no: good"),
               FileResult("syntax.py", error="syntax error: invalid syntax (line 4)", error_line=4, error_col=7)]
    assert render_github(results).splitlines() == [
        "::error file=dir%2Cwith%3Aodd/v.py,line=3,col=1,title=FCX100::50%25 of%0Athe message: x, y",
        "::warning file=ok.py,line=7,col=9,title=FCX203::late",
        "::error file=bad.py,title=flask-ctx::no: good",
        "::error file=syntax.py,line=4,col=7,title=flask-ctx::syntax error: invalid syntax (line 4)",
    ]


def test_text_and_json() -> None:
    assert render_text(RESULTS).splitlines() == [
        "pkg/views.py:14:5: FCX100 worker work() reads request.args (line 9)",
        "pkg/views.py:20:1: FCX300 uses _app_ctx_stack: removed in Flask 3",
    ]
    assert json.loads(render_json(RESULTS)) == [
        {"path": "pkg/views.py", "line": 14, "column": 5, "code": "FCX100",
         "message": "worker work() reads request.args (line 9)", "fix": None},
        {"path": "pkg/views.py", "line": 20, "column": 1, "code": "FCX300",
         "message": "uses _app_ctx_stack: removed in Flask 3", "fix": None},
    ]
    assert json.loads(render_json([])) == []


def test_cli_formats_agree_on_what_they_report(cli_on_fixtures) -> None:
    outputs = {}
    for fmt in ("text", "json", "github", "sarif"):
        proc = cli_on_fixtures() if fmt == "text" else cli_on_fixtures("--format", fmt)
        assert proc.returncode == 1 and not proc.stderr
        outputs[fmt] = proc.stdout
    text = {tuple(line.split(":")[:3]) + (line.split(" ")[1],) for line in outputs["text"].splitlines()}
    as_json = {(i["path"], str(i["line"]), str(i["column"]), i["code"]) for i in json.loads(outputs["json"])}
    github = set()
    for line in outputs["github"].splitlines():
        props = dict(p.split("=", 1) for p in line.split(" ", 1)[1].split("::")[0].split(","))
        github.add((props["file"], props["line"], props["col"], props["title"]))
    sarif = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              str(r["locations"][0]["physicalLocation"]["region"]["startLine"]),
              str(r["locations"][0]["physicalLocation"]["region"]["startColumn"]), r["ruleId"])
             for r in json.loads(outputs["sarif"])["runs"][0]["results"]}
    assert text == as_json == github == sarif
    assert len(text) > 50


def test_every_format_survives_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    """b'caf\\xe9.py' (latin-1): SARIF percent-encodes the bytes, JSON escapes them so that
    os.fsencode gets them back, text and github print them as they are."""
    name = b"caf\xe9.py"
    source = (b"import threading\n\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
              b"def work():\n    print(request.args)\n\n\n@app.route('/')\ndef view():\n"
              b"    threading.Thread(target=work).start()\n    return 'ok'\n")
    with open(os.path.join(os.fsencode(tmp_path), name), "wb") as handle:
        handle.write(source)
    (tmp_path / "big.py").write_bytes(b"# generated\n" * 10_000)  # skipped: a warning
    outputs = {}
    for fmt in ("sarif", "json", "github", "text"):
        proc = subprocess.run([sys.executable, "-m", "flake8_flask_ctx", "check", "--format", fmt,
                               "--max-file-size", "100KB", "."], capture_output=True, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr == b"./big.py: skipped: 117.2 KB is larger than --max-file-size " \
                              b"(100 KB): not read\n"
        outputs[fmt] = proc.stdout
    log = json.loads(outputs["sarif"])
    _validate(log)
    run = log["runs"][0]
    locations = [r["locations"][0]["physicalLocation"] for r in run["results"]]
    assert locations[0]["artifactLocation"] == {"uri": "caf%E9.py", "uriBaseId": "%SRCROOT%"}
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True  # a skipped file is no failure
    assert [(n["level"], n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
            for n in invocation["toolExecutionNotifications"]] == [("warning", "big.py")]
    assert {os.fsencode(item["path"]) for item in json.loads(outputs["json"])} == {b"./" + name}
    assert outputs["text"].startswith(b"./" + name + b":14:5: FCX100 ")
    assert outputs["github"].startswith(b"::error file=" + name + b",line=14,col=5,title=FCX100::")
    assert b"::warning file=big.py,title=flask-ctx::skipped: " in outputs["github"]


# --- SARIF for code scanning: rule help, code flows, fixes, fingerprints -------------------------

def _sarif_of(tmp_path: Path, name: str, text: str, *args: str) -> dict:
    (tmp_path / name).write_text(text)
    proc = subprocess.run([FLASK_CTX, "check", "--format", "sarif", *args, name], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    log = json.loads(proc.stdout)
    _validate(log)
    return log


def test_sarif_rules_carry_their_docs_page_and_url() -> None:
    from flake8_flask_ctx.urls import project_urls

    pyproject = (ROOT / "pyproject.toml").read_text()
    documentation = project_urls()["Documentation"]
    assert f'Documentation = "{documentation}"' in pyproject  # built from pyproject.toml
    log = json.loads(render_sarif(RESULTS, root=Path.cwd()))
    _validate(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == project_urls()["Homepage"]
    for rule in driver["rules"]:
        code = rule["id"]
        page = (ROOT / "docs" / "rules" / f"{code}.md").read_text()
        assert rule["helpUri"] == documentation.rsplit("/", 1)[0] + f"/docs/rules/{code}.md"
        assert rule["help"]["markdown"].splitlines()[0] == page.splitlines()[0] == f"# {code}: {CODES[code].title}"
        assert rule["help"]["text"].startswith(f"{code}: {CODES[code].title}\n")
        # every section of the page is there, and no link is left relative
        for heading in ("What it finds", "Why it breaks", "Example", "Fix", "Not reported"):
            assert f"## {heading}\n" in rule["help"]["markdown"] and f"\n{heading}\n" in rule["help"]["text"]
        for target in re.findall(r"\]\(([^)]+)\)", rule["help"]["markdown"]):
            assert target.startswith("https://"), (code, target)
        what = page.split("## What it finds\n\n", 1)[1].split("\n\n", 1)[0]
        assert re.sub(r"[`*]", "", rule["fullDescription"]["text"]).split()[:3] == re.sub(r"[`*]", "", what).split()[:3]
        assert not re.search(r"\[[^\]]*\]\(", rule["fullDescription"]["text"])  # links made plain text
        assert rule["defaultConfiguration"]["level"] in ("error", "warning")


def test_sarif_code_flow_goes_from_the_spawn_to_the_read(tmp_path: Path) -> None:
    source = ("import threading\n\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
              "def helper():\n    return request.args\n\n\ndef work():\n    helper()\n\n\n"
              "@app.route('/')\ndef view():\n    threading.Thread(target=work).start()\n    return 'ok'\n")
    log = _sarif_of(tmp_path, "app.py", source)
    (result,) = log["runs"][0]["results"]
    flow = result["codeFlows"][0]["threadFlows"][0]["locations"]
    lines = [loc["location"]["physicalLocation"]["region"]["startLine"] for loc in flow]
    assert lines == [18, 12, 8, 9]  # the spawn, the worker work(), the helper helper(), the read
    assert [loc["executionOrder"] for loc in flow] == list(range(1, len(flow) + 1))
    related = result["relatedLocations"]
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == lines[1:]
    assert all(r["message"]["text"] for r in related)
    assert result["locations"][0]["logicalLocations"] == [{"fullyQualifiedName": "view"}]


def _apply(text: str, replacements: list[dict]) -> str:
    """What a SARIF consumer does with a fix's replacements (1-based lines and columns)."""
    from flake8_flask_ctx.runner import Replacement, apply_replacements

    edits = [Replacement(r["deletedRegion"]["startLine"], r["deletedRegion"]["startColumn"],
                         r["deletedRegion"]["endLine"], r["deletedRegion"]["endColumn"],
                         r.get("insertedContent", {}).get("text", "")) for r in replacements]
    return apply_replacements(text, edits)


def test_sarif_fixes_are_the_edits_fix_makes(tmp_path: Path) -> None:
    before = FIXTURES / "autofix" / "fcx100_hoist_closure_local.py"
    after = before.with_name(before.stem + ".fixed.py")
    log = _sarif_of(tmp_path, "app.py", before.read_text())
    (result,) = log["runs"][0]["results"]
    (fix,) = result["fixes"]
    assert "safe" in fix["description"]["text"]
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "app.py", "uriBaseId": "%SRCROOT%"}
    assert _apply(before.read_text(), change["replacements"]) == after.read_text()
    # an unsafe fix is offered as the text --unsafe-fixes writes
    unsafe = next(p for p in sorted((FIXTURES / "autofix").glob("*_unsafe_*.py")) if ".fixed" not in p.name)
    log = _sarif_of(tmp_path, "u.py", unsafe.read_text())
    offered = [r for r in log["runs"][0]["results"] if r.get("fixes")]
    assert offered and all("unsafe" in r["fixes"][0]["description"]["text"] for r in offered)
    fixed = _apply(unsafe.read_text(), offered[0]["fixes"][0]["artifactChanges"][0]["replacements"])
    assert fixed == unsafe.with_name(unsafe.stem + ".fixed.py").read_text()
    # a finding nothing can fix has no fixes
    plain = _sarif_of(tmp_path, "internals.py", "from flask import _app_ctx_stack\n")
    assert all("fixes" not in r for r in plain["runs"][0]["results"])


def test_replacements_round_trip() -> None:
    from flake8_flask_ctx.runner import apply_replacements, replacements

    cases = [("a\nb\nc\n", "a\nB\nc\n"), ("a\nb", "a\nb\nc\n"), ("", "x\n"), ("a\r\nb\r\n", "z\r\na\r\nb\r\n"),
             ("a\nb\nc\n", "c\n"), ("x = 'é'\n", "y = 'é'\nx = 'é'\n"), ("a\rb\r", "a\rc\rb\r")]
    for old, new in cases:
        assert apply_replacements(old, replacements(old, new)) == new, (old, new)


def test_sarif_fingerprints_survive_line_moves_and_tell_findings_apart(tmp_path: Path) -> None:
    source = (FIXTURES / "autofix" / "fcx100_hoist_closure_local.py").read_text()

    def prints(text: str) -> list[str]:
        log = _sarif_of(tmp_path, "app.py", text)
        return [r["partialFingerprints"]["flake8FlaskCtx/v1"] for r in log["runs"][0]["results"]]

    first = prints(source)
    assert len(first) == 1 and first[0].endswith(":1")
    moved = prints('"""Moved down."""\n\n\n' + source.replace("import threading\n", "import threading\nimport os\n"))
    assert moved == first
    changed = prints(source.replace("target=build", "target=build, daemon=True"))
    assert changed != first
    assert prints(source.replace("def report():", "def summary():")) != first
