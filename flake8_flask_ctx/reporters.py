"""Output formats for ``flask-ctx check``: for people, for scripts and for CI.

- ``text``: ``path:line:col: CODE message``, flake8's default, so editors and problem
  matchers that read flake8 read us;
- ``json``: a list of ``{path, line, column, code, message}`` (column 1-based, as printed);
- ``sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers, with the rule
  table from ``codes.CODES`` so every result links to its rule's help;
- ``github``: workflow commands, so a plain ``run:`` step annotates the pull request.

Each reporter takes the results of the whole run and returns the text to print; files
that could not be checked are reported on stderr by the caller, and also inside the report
where the format has a place for them (SARIF notifications, GitHub annotations).

Any file name must come through: a name that is not UTF-8 reaches us with surrogate
escapes (``os.fsdecode``); JSON escapes them (``\\udce9``: ``os.fsencode`` gets the bytes
back), SARIF URIs percent-encode the name's bytes, and the command line prints the bytes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable, Optional, Sequence
from urllib.parse import quote

from . import __version__
from .rules import RULES_BY_CODE
from .runner import FileResult, FixOffer, Reported

TOOL_NAME = "flake8-flask-ctx"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"

def level(code: str) -> str:
    """``error`` or ``warning``: the rule's level (``Rule.level``)."""
    return RULES_BY_CODE[code].level.value


def _findings(results: Sequence[FileResult]) -> list[Reported]:
    return [finding for result in results for finding in result.findings]


def _text_only(finding: Reported) -> str:
    """The message without the leading code, for formats that carry the code separately."""
    prefix = finding.code + " "
    return finding.message[len(prefix):] if finding.message.startswith(prefix) else finding.message


def render_text(results: Sequence[FileResult]) -> str:
    return "".join(f"{f.path}:{f.line}:{f.col + 1}: {f.message}\n" for f in _findings(results))


def _offer(offer: Optional[FixOffer]) -> str:
    if offer is None:
        return "no automatic fix"
    if offer.applicability == "safe":
        return f"safe: {offer.description}"
    return f"unsafe (with --unsafe-fixes): {offer.description}; {offer.reason}"


def render_text_with_fixes(results: Sequence[FileResult]) -> str:
    """``--show-fixes``: each finding, then the fix on offer for it."""
    return "".join(f"{f.path}:{f.line}:{f.col + 1}: {f.message}\n    fix: {_offer(f.fix)}\n"
                   for f in _findings(results))


def _fix_json(offer: Optional[FixOffer]) -> Optional[dict]:
    if offer is None:
        return None
    return {"applicability": offer.applicability, "description": offer.description,
            **({"reason": offer.reason} if offer.reason else {})}


def render_json(results: Sequence[FileResult]) -> str:
    items = [{"path": f.path, "line": f.line, "column": f.col + 1, "code": f.code,
              "message": _text_only(f), "fix": _fix_json(f.fix)} for f in _findings(results)]
    return json.dumps(items, indent=2) + "\n"


def fix_record(result: FileResult) -> dict:
    """``fix --format json``: one object per file, printed as soon as the file is done."""
    return {
        "path": result.path,
        "written": result.written,
        "fixed": [{"line": a.line, "column": a.col + 1, "code": a.code, "applicability": a.applicability,
                   "description": a.description, **({"reason": a.reason} if a.reason else {})}
                  for a in sorted(result.applied, key=lambda a: (a.line, a.col, a.code))],
        "left": [{"line": f.line, "column": f.col + 1, "code": f.code, "message": _text_only(f)}
                 for f in result.findings],
        "unsafe_fixable": result.unsafe_fixable,
        "error": result.error,
        "skipped": result.skipped,
    }


# --- SARIF --------------------------------------------------------------------------

def _rule_name(title: str) -> str:
    """SARIF's ``name`` is an identifier-like label: the title in PascalCase."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^A-Za-z0-9]+", title))


def _rule(code: str) -> dict:
    spec = RULES_BY_CODE[code]
    pattern = re.sub(r"\{(\w+)\}", r"<\1>", spec.template)  # the message, with its blanks
    return {
        "id": code,
        "name": _rule_name(spec.title),
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": f"{spec.title[:1].upper()}{spec.title[1:]}."},
        "help": {"text": f"{code} {pattern}"},
        "defaultConfiguration": {"level": level(code)},
    }


def _artifact(path: str, root: Path) -> dict:
    """A URI relative to ``%SRCROOT%`` (the working directory) when the file is under it."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return {"uri": absolute.as_uri()}  # percent-encodes os.fsencode(path)
    return {"uri": quote(os.fsencode(relative.as_posix())), "uriBaseId": SRCROOT}


def render_sarif(results: Sequence[FileResult], root: Optional[Path] = None) -> str:
    root = Path(os.path.abspath(root or os.getcwd()))
    rule_ids = list(RULES_BY_CODE)
    index = {code: number for number, code in enumerate(rule_ids)}
    sarif_results = [{
        "ruleId": f.code,
        "ruleIndex": index[f.code],
        "level": level(f.code),
        "message": {"text": _text_only(f)},
        "locations": [{"physicalLocation": {
            "artifactLocation": _artifact(f.path, root),
            "region": {"startLine": f.line, "startColumn": f.col + 1},
        }}],
    } for f in _findings(results) if f.code in RULES_BY_CODE]
    notifications = [{
        "level": "error" if r.error else "warning",
        "message": {"text": r.error or f"skipped: {r.skipped}"},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(r.path, root)}}],
    } for r in results if r.error or r.skipped]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "version": __version__,
                                "semanticVersion": __version__,
                                "rules": [_rule(code) for code in rule_ids]}},
            "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",  # libcst and flake8 count characters
            "invocations": [{"executionSuccessful": not any(r.error for r in results),
                             "toolExecutionNotifications": notifications}],
            "results": sarif_results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"


# --- GitHub workflow commands -------------------------------------------------------

def escape_data(value: str) -> str:
    """GitHub's escaping for a command's message (after ``::``)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """GitHub's escaping for a property value (``file=``, ``title=``...)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _workflow_path(path: str) -> str:
    """Annotations need the path from the repository root: the working directory in CI."""
    try:
        relative = os.path.relpath(os.path.abspath(path))
    except ValueError:  # another drive (Windows)
        return path
    return relative.replace(os.sep, "/") if not relative.startswith("..") else path


def render_github(results: Sequence[FileResult]) -> str:
    lines = []
    for f in _findings(results):
        props = (f"file={escape_property(_workflow_path(f.path))},line={f.line},"
                 f"col={f.col + 1},title={escape_property(f.code)}")
        lines.append(f"::{level(f.code)} {props}::{escape_data(_text_only(f))}\n")
    for r in results:
        props = f"file={escape_property(_workflow_path(r.path))},title=flask-ctx"
        if r.error:
            lines.append(f"::error {props}::{escape_data(r.error)}\n")
        if r.skipped:
            lines.append(f"::warning {props}::{escape_data('skipped: ' + r.skipped)}\n")
    return "".join(lines)


FORMATS: dict[str, Callable[[Sequence[FileResult]], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
}
