"""The codemod commands, through libcst's own command line, as the README shows them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.marks import FIXTURES

AUTOFIX = FIXTURES / "autofix"
CASES = [
    ("FixFlaskContext", "fcx100_hoist_closure_local", True),
    ("HoistContextReads", "fcx100_hoist_module_target_kwargs", True),
    ("HoistContextReads", "fcx100_copy_helper_chain", False),  # the helper has other callers: left alone
    ("HoistContextReads", "fcx100_hoist_helper_chain", True),
    ("CopyRequestContext", "fcx100_copy_helper_chain", True),
    ("CopyRequestContext", "fcx100_copy_closure_decorator", True),
    ("PushAppContext", "fcx101_app_context_extension", True),
    ("StreamWithContext", "fcx400_stream_response", True),
    ("StreamWithContext", "fcx100_hoist_lambda", False),
]


def run_codemod(command: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "libcst.tool", "codemod", "--no-format",
         "-x", f"flake8_flask_ctx.fixes.codemods.{command}", str(path)],
        capture_output=True, text=True, cwd=path.parent,
    )


@pytest.mark.parametrize("command,name,changes", CASES, ids=[f"{c}-{n}" for c, n, _ in CASES])
def test_codemod_command(tmp_path: Path, command: str, name: str, changes: bool) -> None:
    target = tmp_path / f"{name}.py"
    shutil.copy(AUTOFIX / f"{name}.py", target)
    proc = run_codemod(command, target)
    assert proc.returncode == 0, proc.stderr
    expected = (AUTOFIX / f"{name}.fixed.py") if changes else (AUTOFIX / f"{name}.py")
    assert target.read_text() == expected.read_text()
    # applied fixes are reported as flask-ctx fix reports them, never as warnings
    assert "WARNING" not in proc.stderr and "0 warnings were generated" in proc.stderr
    fixed = [line for line in proc.stderr.splitlines() if " fixed (" in line]
    assert bool(fixed) == changes
    assert all(re.match(rf"{re.escape(str(target))}:\d+:\d+: FCX\d{{3}} fixed \((safe|unsafe)\): ", line)
               for line in fixed)
