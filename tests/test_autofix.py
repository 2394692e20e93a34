"""The fixer, before/after: exact output, idempotence, parseability, byte-for-byte care.

Each fixtures/autofix/<name>.py is buggy code (its findings marked, checked by the
fixture test); <name>.fixed.py is what ``fix_source`` must produce, reviewed by hand.
Runtime proof that the fixed code works on real Flask lives in test_runtime_fixes.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from support.marks import autofix_pairs, needs_unsafe_fixes
from flake8_flask_ctx.engine import check_source
from flake8_flask_ctx.fixes import fix_source

PAIRS = autofix_pairs()


@pytest.mark.parametrize("before,after", PAIRS, ids=[b.stem for b, _ in PAIRS])
def test_fix_produces_the_reviewed_output(before: Path, after: Path) -> None:
    unsafe = needs_unsafe_fixes(before)
    result = fix_source(before.read_text(encoding="utf-8"), unsafe=unsafe)
    assert result.source == after.read_text(encoding="utf-8")
    assert result.applied, "a fixture pair must exercise a fix"
    assert any(not a.safe for a in result.applied) == unsafe, [(a.code, a.applicability) for a in result.applied]
    # every finding of the buggy file was fixed (a round may expose new ones: FCX200 -> FCX100)
    assert {f.code for f in check_source(before.read_text(encoding="utf-8"))} <= {a.code for a in result.applied}


@pytest.mark.parametrize("before", [b for b, _ in PAIRS if needs_unsafe_fixes(b)], ids=lambda b: b.stem)
def test_an_unsafe_fix_is_only_offered_by_default(before: Path) -> None:
    source = before.read_text(encoding="utf-8")
    result = fix_source(source)
    assert result.source == source and not result.applied
    assert {code for code, _, _ in result.unsafe_fixable} == {f.code for f in check_source(source)}


@pytest.mark.parametrize("before,after", PAIRS, ids=[b.stem for b, _ in PAIRS])
def test_fixed_code_parses_has_no_findings_and_is_stable(before: Path, after: Path) -> None:
    fixed = after.read_text(encoding="utf-8")
    ast.parse(fixed)
    assert check_source(fixed) == []
    again = fix_source(fixed, unsafe=True)
    assert again.source == fixed and not again.applied


def test_untouched_lines_stay_byte_identical() -> None:
    before, after = next((b, a) for b, a in PAIRS if b.stem == "fcx100_hoist_closure_local")
    old, new = before.read_text().splitlines(), after.read_text().splitlines()
    moved = {'        fmt = request.args.get("format", "csv")', '    fmt = request.args.get("format", "csv")'}
    assert [line for line in old if line not in moved] == [line for line in new if line not in moved]


def test_crlf_newlines_are_kept() -> None:
    source = (Path(__file__).parent.parent / "fixtures/autofix/fcx100_hoist_closure_local.py").read_text()
    crlf = source.replace("\n", "\r\n")
    result = fix_source(crlf)
    assert result.applied
    assert "\n" not in result.source.replace("\r\n", "")
    assert result.source.replace("\r\n", "\n") == fix_source(source).source


def test_imports_are_added_once() -> None:
    source = (
        "import threading\n"
        "from flask import Flask, request\n\n"
        "app = Flask(__name__)\n\n"
        "def client():\n    return request.remote_addr\n\n"
        "def a():\n    print(client())\n\n"
        "def b():\n    print(client())\n\n"
        "@app.route('/')\n"
        "def view():\n"
        "    threading.Thread(target=a).start()\n"
        "    threading.Thread(target=b).start()\n"
        "    return ''\n"
    )
    result = fix_source(source)
    assert len(result.applied) == 2
    assert result.source.count("copy_current_request_context") == 3  # one import, two wraps
    assert result.source.splitlines()[1] == "from flask import Flask, copy_current_request_context, request"


def test_noqa_filter_leaves_a_finding_alone() -> None:
    before = next(b for b, _ in PAIRS if b.stem == "fcx100_hoist_closure_local").read_text()
    result = fix_source(before, keep=lambda finding, text: False)
    assert result.source == before and not result.applied and not result.remaining


def test_file_without_findings_is_returned_as_is() -> None:
    source = "from flask import Flask\napp = Flask(__name__)\n# Thread\n"
    assert fix_source(source).source == source


def test_readme_before_after_example_is_what_the_fixer_does() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### What `fix` does", 1)[1]
    before, after = [block.split("```", 1)[0] for block in section.split("```python\n")[1:3]]
    header = ("from multiprocessing.dummy import Pool\n"
              "from flask import Flask, copy_current_request_context, request\n\n"
              "app = Flask(__name__)\n\n\n")
    fixed_header = header.replace("copy_current_request_context, ", "")
    assert fix_source(header + before).source == fixed_header + after


def test_noqa_is_honoured_after_an_earlier_fix_moved_the_lines(tmp_path: Path) -> None:
    """Round 1 removes a decorator line; the noqa'd spawn below it must still be left alone."""
    import subprocess
    import sys

    source = (
        "import threading\n"
        "from flask import Flask, copy_current_request_context, request\n\n"
        "app = Flask(__name__)\n\n\n"
        "@copy_current_request_context\n"
        "def log_visit():\n"
        "    print(request.path)\n\n\n"
        "def audit():\n"
        "    print(request.remote_addr)\n\n\n"
        "@app.route('/')\n"
        "def index():\n"
        "    threading.Thread(target=log_visit).start()\n"
        "    threading.Thread(target=audit).start()  # noqa: FCX100\n"
        "    return ''\n"
    )
    path = tmp_path / "app.py"
    path.write_text(source)
    proc = subprocess.run([sys.executable, "-m", "flake8_flask_ctx", "fix", str(path)],
                          capture_output=True, text=True)
    fixed = path.read_text()
    assert "@copy_current_request_context" not in fixed, proc.stdout + proc.stderr
    assert "threading.Thread(target=copy_current_request_context(log_visit)).start()" in fixed
    assert "    threading.Thread(target=audit).start()  # noqa: FCX100\n" in fixed
    assert "def audit():\n    print(request.remote_addr)\n" in fixed
    assert proc.returncode == 0, proc.stdout + proc.stderr  # nothing left but the silenced one


def test_a_shared_copy_whose_workers_read_uploads_is_left_alone() -> None:
    """One copy per task would close the uploaded files under the other tasks (case 5c)."""
    source = (
        "import threading\n\n"
        "from flask import Flask, copy_current_request_context, request\n\n"
        "app = Flask(__name__)\n\n\n"
        "@app.route('/upload', methods=['POST'])\n"
        "def upload():\n"
        "    @copy_current_request_context\n"
        "    def scan(part):\n"
        "        request.files['doc'].save(f'/tmp/part{part}')\n\n"
        "    for part in range(3):\n"
        "        threading.Thread(target=scan, args=(part,)).start()\n"
        "    return 'scanning'\n"
    )
    assert "FCX201" in {f.code for f in check_source(source)}
    result = fix_source(source)
    assert result.source == source and not result.applied
