"""Output formats for ``flask-ctx check``: for people, for scripts and for CI.

- ``text``: ``path:line:col: CODE message``, flake8's default, so editors and problem
  matchers that read flake8 read us; with ``--show-source`` the line and a caret under the
  column, in colour on a terminal (``Style``);
- ``json``: a list of ``{path, line, column, code, message, fix}`` (column 1-based, as printed);
- ``sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers: every rule with
  its docs page as help (text and markdown) and its URL, each result with its chain from
  the spawn to the read (``codeFlows``, ``relatedLocations``), the fix on offer as text
  edits (``fixes``), and a fingerprint that survives line moves (``partialFingerprints``);
- ``github``: workflow commands, so a plain ``run:`` step annotates the pull request.

Each reporter takes the results of the whole run and returns the text to print; files
that could not be checked are reported on stderr by the caller, and also inside the report
where the format has a place for them (SARIF notifications, GitHub annotations).

Messages are opaque here: a reporter prints what the rule says and never parses it.

Any file name must come through: a name that is not UTF-8 reaches us with surrogate
escapes (``os.fsdecode``); JSON escapes them (``\\udce9``: ``os.fsencode`` gets the bytes
back), SARIF URIs percent-encode the name's bytes, and the command line prints the bytes.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional, Sequence
from urllib.parse import quote

from . import __version__
from .fingerprints import SARIF_KEY, fingerprint, relative_path
from .findings import Step
from .urls import project_urls, rule_url
from . import rules  # rules.CODES is light; a rule's level and title import the checks
from .runner import FileResult, FixOffer, Replacement, Reported

TOOL_NAME = "flake8-flask-ctx"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"


def level(code: str) -> str:
    """``error`` or ``warning``: the rule's level (``Rule.level``)."""
    return rules.RULES_BY_CODE[code].level.value


def _findings(results: Sequence[FileResult]) -> list[Reported]:
    return [finding for result in results for finding in result.findings]


def _text_only(finding: Reported) -> str:
    """The message without the leading code, for formats that carry the code separately."""
    prefix = finding.code + " "
    return finding.message[len(prefix):] if finding.message.startswith(prefix) else finding.message


# --- text -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Style:
    """ANSI colours for the text format (flake8's default colours), or none."""

    color: bool = False

    def paint(self, text: str, *codes: str) -> str:
        if not self.color or not codes:
            return text
        return "\x1b[" + ";".join(codes) + "m" + text + "\x1b[0m"

    def path(self, text: str) -> str:
        return self.paint(text, "1")

    def sep(self, text: str) -> str:
        return self.paint(text, "36")

    def code(self, code: str) -> str:
        if not self.color:
            return code
        return self.paint(code, "1", "31" if code not in rules.CODES or level(code) == "error" else "33")

    def dim(self, text: str) -> str:
        return self.paint(text, "2")


def _location(f: Reported, style: Style) -> str:
    colon = style.sep(":")
    return f"{style.path(f.path)}{colon}{f.line}{colon}{f.col + 1}{colon}"


def _message(f: Reported, style: Style) -> str:
    if not style.color or not f.message.startswith(f.code + " "):
        return f.message
    return style.code(f.code) + f.message[len(f.code):]


def source_lines(f: Reported) -> str:
    """flake8's --show-source: the line, then a caret under the column (tabs kept)."""
    if not f.source_line:
        return ""
    indent = "".join(c if c.isspace() else " " for c in f.source_line[:f.col])
    return f"{f.source_line}\n{indent}^\n"


def render_text(results: Sequence[FileResult], style: Style = Style(), show_source: bool = False,
                show_fixes: bool = False) -> str:
    out = []
    for f in _findings(results):
        out.append(f"{_location(f, style)} {_message(f, style)}\n")
        if show_source:
            out.append(source_lines(f))
        if show_fixes:
            out.append(f"    {style.dim('fix:')} {_offer(f.fix)}\n")
    return "".join(out)


def _offer(offer: Optional[FixOffer]) -> str:
    if offer is None:
        return "no automatic fix"
    if offer.applicability == "safe":
        return f"safe: {offer.description}"
    return f"unsafe (with --unsafe-fixes): {offer.description}; {offer.reason}"


def render_text_with_fixes(results: Sequence[FileResult]) -> str:
    """``--show-fixes``: each finding, then the fix on offer for it."""
    return render_text(results, show_fixes=True)


def fixable(finding: Reported, unsafe_fixes: bool) -> bool:
    return finding.fix is not None and (finding.fix.applicability == "safe" or unsafe_fixes)


def summary(results: Sequence[FileResult], unsafe_fixes: bool = False, baselined: int = 0,
            files: Optional[int] = None) -> str:
    """The closing line on a terminal: ``Found 6 findings in 4 files (5 fixable)``."""
    findings = _findings(results)
    checked = files if files is not None else len(results)
    extra = f"; {baselined} in the baseline not shown" if baselined else ""
    if not findings:
        return f"No findings in {_plural(checked, 'file')}{extra}.\n"
    with_findings = sum(1 for r in results if r.findings)
    can = sum(fixable(f, unsafe_fixes) for f in findings)
    more = 0 if unsafe_fixes else sum(f.fix is not None and f.fix.applicability == "unsafe" for f in findings)
    fixes = f"{can} fixable with 'flask-ctx fix'" if can else "none fixable"
    if more:
        fixes += f", {more} more with --unsafe-fixes"
    return f"Found {_plural(len(findings), 'finding')} in {_plural(with_findings, 'file')} ({fixes}){extra}.\n"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def statistics(results: Sequence[FileResult], unsafe_fixes: bool = False) -> list[dict]:
    """A count per code (``--statistics``), with how many of them ``fix`` can rewrite."""
    counts = Counter(f.code for f in _findings(results))
    fixes = Counter(f.code for f in _findings(results) if fixable(f, unsafe_fixes))
    return [{"code": code, "count": counts[code], "fixable": fixes[code],
             "title": rules.RULES_BY_CODE[code].title if code in rules.CODES else ""}
            for code in sorted(counts)]


def render_statistics(results: Sequence[FileResult], style: Style = Style(), unsafe_fixes: bool = False) -> str:
    rows = statistics(results, unsafe_fixes)
    width = max((len(str(row["count"])) for row in rows), default=1)
    lines = []
    for row in rows:
        fix = f"[{row['fixable']} fixable]" if row["fixable"] else ""
        lines.append(f"{row['count']:>{max(5, width)}}  {style.code(row['code'])}  {fix:<13} {row['title']}".rstrip()
                     + "\n")
    return "".join(lines)


def render_statistics_json(results: Sequence[FileResult], unsafe_fixes: bool = False) -> str:
    return json.dumps(statistics(results, unsafe_fixes), indent=2) + "\n"


# --- json -----------------------------------------------------------------------------

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


@lru_cache(maxsize=None)
def sarif_rule(code: str) -> dict:
    """A rule's descriptor: its title, the first paragraph of its page's "What it finds",
    the whole page as help (text and markdown, links made absolute) and the page's URL."""
    from .ruledocs import first_paragraph, markdown, page, to_text

    spec = rules.RULES_BY_CODE[code]
    help_markdown = markdown(code)
    full = first_paragraph(help_markdown) if page(code) is not None else ""
    return {
        "id": code,
        "name": _rule_name(spec.title),
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": full or f"{spec.title[:1].upper()}{spec.title[1:]}."},
        "help": {"text": to_text(help_markdown), "markdown": help_markdown},
        "helpUri": rule_url(code),
        "defaultConfiguration": {"level": level(code)},
        "properties": {"tags": ["flask", "concurrency", "correctness"],
                       "fixes": [kind.value for kind in spec.fixes]},
    }


def _artifact(path: str, root: Path) -> dict:
    """A URI relative to ``%SRCROOT%`` (the working directory) when the file is under it."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return {"uri": absolute.as_uri()}  # percent-encodes os.fsencode(path)
    return {"uri": quote(os.fsencode(relative.as_posix())), "uriBaseId": SRCROOT}


def _physical(path: str, root: Path, line: int, column: int) -> dict:
    return {"artifactLocation": _artifact(path, root), "region": {"startLine": line, "startColumn": column}}


def _step_location(f: Reported, step: Step, root: Path) -> dict:
    return _physical(step.path or f.path, root, step.line, step.col + 1)


def _code_flow(f: Reported, root: Path) -> list[dict]:
    """spawn -> worker -> helpers -> the use, as one thread flow."""
    if not f.steps:
        return []
    start = {"location": {"physicalLocation": _physical(f.path, root, f.line, f.col + 1),
                          "message": {"text": "reported here"}}, "nestingLevel": 0, "executionOrder": 1}
    locations = [start] + [{
        "location": {"physicalLocation": _step_location(f, step, root), "message": {"text": step.message}},
        "nestingLevel": 1 if number < len(f.steps) else 2, "executionOrder": number + 1,
    } for number, step in enumerate(f.steps, 1)]
    return [{"message": {"text": "from where it is reported to the use that breaks"},
             "threadFlows": [{"locations": locations}]}]


def _region(edit: Replacement) -> dict:
    return {"startLine": edit.start_line, "startColumn": edit.start_col,
            "endLine": edit.end_line, "endColumn": edit.end_col}


def _sarif_fix(f: Reported, result: FileResult, root: Path) -> list[dict]:
    """The fix on offer as text edits: the changes ``flask-ctx fix`` makes to the whole file
    (with ``--unsafe-fixes`` for an unsafe offer), as SARIF consumers apply them."""
    if f.fix is None or not result.edits.get(f.fix.applicability):
        return []
    edits = result.edits[f.fix.applicability]
    if f.fix.applicability == "safe":
        description = f"{f.fix.description} (safe; this change is what 'flask-ctx fix' writes to the file)"
    else:
        description = (f"{f.fix.description} (unsafe: {f.fix.reason}; this change is what "
                       "'flask-ctx fix --unsafe-fixes' writes to the file)")
    return [{"description": {"text": description}, "artifactChanges": [{
        "artifactLocation": _artifact(f.path, root),
        "replacements": [{"deletedRegion": _region(edit), "insertedContent": {"text": edit.text}}
                         for edit in edits],
    }]}]


def render_sarif(results: Sequence[FileResult], root: Optional[Path] = None) -> str:
    root = Path(os.path.abspath(root or os.getcwd()))
    rule_ids = list(rules.CODES)
    index = {code: number for number, code in enumerate(rule_ids)}
    sarif_results = []
    occurrences: Counter = Counter()
    for result in results:
        for f in result.findings:
            if f.code not in rules.CODES:
                continue
            key = fingerprint(f.code, relative_path(f.path, str(root)), f.scope, f.line_hash)
            occurrences[key] += 1
            item: dict = {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": level(f.code),
                "message": {"text": _text_only(f)},
                "locations": [{"physicalLocation": _physical(f.path, root, f.line, f.col + 1)}],
                "partialFingerprints": {SARIF_KEY: f"{key}:{occurrences[key]}"},
            }
            if f.steps:
                item["relatedLocations"] = [
                    {"id": number, "physicalLocation": _step_location(f, step, root),
                     "message": {"text": step.message}} for number, step in enumerate(f.steps, 1)]
                item["codeFlows"] = _code_flow(f, root)
            fixes = _sarif_fix(f, result, root)
            if fixes:
                item["fixes"] = fixes
            if f.scope:
                item["locations"][0]["logicalLocations"] = [{"fullyQualifiedName": f.scope}]
            sarif_results.append(item)
    notifications = []
    for r in results:
        if not (r.error or r.skipped):
            continue
        location: dict = {"artifactLocation": _artifact(r.path, root)}
        if r.error and r.error_line:
            location["region"] = {"startLine": r.error_line, **({"startColumn": r.error_col} if r.error_col else {})}
        notifications.append({"level": "error" if r.error else "warning",
                              "message": {"text": r.error or f"skipped: {r.skipped}"},
                              "locations": [{"physicalLocation": location}]})
    urls = project_urls()
    driver = {"name": TOOL_NAME, "version": __version__, "semanticVersion": __version__,
              "rules": [sarif_rule(code) for code in rule_ids]}
    if urls.get("Homepage") or urls.get("Documentation"):
        driver["informationUri"] = urls.get("Homepage") or urls["Documentation"]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
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
        props = f"file={escape_property(_workflow_path(r.path))}"
        if r.error:
            where = (f",line={r.error_line}" if r.error_line else "") + (
                f",col={r.error_col}" if r.error_line and r.error_col else "")
            lines.append(f"::error {props}{where},title=flask-ctx::{escape_data(r.error)}\n")
        if r.skipped:
            lines.append(f"::warning {props},title=flask-ctx::{escape_data('skipped: ' + r.skipped)}\n")
    return "".join(lines)


FORMATS: dict[str, Callable[[Sequence[FileResult]], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
}
