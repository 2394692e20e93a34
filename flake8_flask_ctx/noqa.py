"""``# noqa`` for the ``flask-ctx`` command line, with flake8's exact semantics.

Teams move between ``flake8 --select FCX`` and ``flask-ctx check`` (ruff users run the
latter with ``lint.external = ["FCX"]``), so a comment must silence the same findings in
both. Hence flake8's rules, checked against flake8 itself in the tests:

- ``# noqa`` (the word in any case, exactly one space after ``#``) silences every code;
- ``# noqa: FCX100,FCX2`` / ``# noqa:FCX100 FCX2`` silences codes equal to or starting with
  a listed code; the codes themselves are compared case-sensitively, as flake8 does;
- the comment counts on every physical line of the finding's *token* line: a finding
  inside a triple-quoted string or a backslash continuation is silenced by a ``noqa``
  anywhere on those lines (flake8 joins them the same way);
- a line that starts with ``# flake8: noqa`` silences the whole file.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Optional

# "# noqa", then optionally ":" + at most one whitespace + codes (letters then digits,
# separated by commas or whitespace). Written after flake8's documented syntax.
_NOQA = re.compile(r"# noqa(?::\s?(?P<codes>(?:[A-Z]+[0-9]+[,\s]*)+))?", re.IGNORECASE)
_FILE_NOQA = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)
_SEPARATORS = re.compile(r"[,\s]+")
_ANY_NOQA = re.compile(r"#\s*noqa", re.IGNORECASE)


class Suppressions:
    """Which findings of one file the author silenced; built only for files with findings."""

    def __init__(self, text: str) -> None:
        self._lines = io.StringIO(text, newline=None).readlines()  # Python's line numbering
        self.whole_file = any(_FILE_NOQA.match(line) for line in self._lines)
        self._any = _ANY_NOQA.search(text) is not None  # else nothing to tokenize
        self._token_lines: Optional[dict[int, str]] = None

    def silences(self, code: str, line: int) -> bool:
        if self.whole_file:
            return True
        if not self._any:
            return False
        match = _NOQA.search(self._text_for(line))
        if match is None:
            return False
        if match.group("codes") is None:
            return True
        codes = tuple(c for c in _SEPARATORS.split(match.group("codes")) if c)
        return code.startswith(codes)

    def _text_for(self, line: int) -> str:
        if self._token_lines is None:
            self._token_lines = _join_token_lines(self._lines)
        if line in self._token_lines:
            return self._token_lines[line]
        return self._lines[line - 1] if 0 < line <= len(self._lines) else ""


def _token_groups(lines: list[str]) -> dict[int, tuple[int, int]]:
    """Map each line to the (first, last) physical lines its tokens span, up to the next
    NL/NEWLINE; empty when the text does not tokenize."""
    groups: dict[int, tuple[int, int]] = {}
    first, last = None, None
    try:
        for token in tokenize.generate_tokens(io.StringIO("".join(lines)).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first = token.start[0] if first is None else min(first, token.start[0])
            last = token.end[0] if last is None else max(last, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                groups.update(dict.fromkeys(range(first, last + 1), (first, last)))
                first, last = None, None
    except (tokenize.TokenError, SyntaxError):
        return {}  # like flake8: fall back to the physical line
    return groups


def _join_token_lines(lines: list[str]) -> dict[int, str]:
    """Map each line to the text of all lines its tokens span, up to the next NL/NEWLINE."""
    return {line: "".join(lines[first - 1:last]) for line, (first, last) in _token_groups(lines).items()}


# --- --add-noqa ------------------------------------------------------------------------------

def _comments(text: str) -> dict[int, int]:
    """``{line: column where its comment starts}`` (Python's line numbering)."""
    found: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.start[1]
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def add_noqa(text: str, findings: "list[tuple[int, str]]") -> "tuple[str, list[tuple[int, str]]]":
    """``text`` with a ``# noqa: CODE`` for every ``(line, code)``, and the findings that
    could not be silenced (a ``# noqa`` inside a string on their line, which flake8 would
    read first).

    The comment goes where flake8 and this module read it: an existing ``# noqa: ...`` of
    the finding's token line gets the code added (``# noqa: E501, FCX100``), otherwise
    ``  # noqa: FCX100`` is appended to the last physical line of the token line (after any
    comment already there). Newlines, encoding and every other byte stay as they were.
    """
    from .sources import split_lines

    raw = split_lines(text)  # endings kept: \n, \r\n, \r, as Python counts lines
    translated = io.StringIO(text, newline=None).read()
    lines = io.StringIO(translated).readlines()
    groups = _token_groups(lines)
    comments = _comments(translated)
    wanted: dict[int, list[str]] = {}  # the line that gets the comment -> codes
    merge: dict[int, tuple[int, int]] = {}  # line -> (start, end) of the codes to extend
    for line, code in sorted(set(findings)):
        first, last = groups.get(line, (line, line))
        joined = "".join(lines[first - 1:last])
        match = _NOQA.search(joined)
        target = last
        if match is not None:
            offset = match.start()
            target = first + joined.count("\n", 0, offset)
            column = offset - (joined.rfind("\n", 0, offset) + 1)
            if comments.get(target, -1) > column or target not in comments or match.group("codes") is None:
                continue  # inside a string (flake8 reads it anyway), or a bare noqa: left as it is
            start = column + match.start("codes") - match.start()
            merge[target] = (start, start + len(match.group("codes").rstrip(", \t")))
        codes = wanted.setdefault(target, [])
        if code not in codes:
            codes.append(code)
    out = list(raw)
    for target, codes in wanted.items():
        if target > len(out):
            continue
        body = out[target - 1].rstrip("\r\n")
        ending = out[target - 1][len(body):]
        if target in merge:
            start, end = merge[target]
            present = [c for c in _SEPARATORS.split(body[start:end]) if c]
            extra = [c for c in codes if not c.startswith(tuple(present))]
            body = body[:end] + "".join(f", {c}" for c in extra) + body[end:]
        else:
            body = body + "  # noqa: " + ", ".join(sorted(codes))
        out[target - 1] = body + ending
    new_text = "".join(out)
    check = Suppressions(new_text)
    left = [(line, code) for line, code in findings if not check.silences(code, line)]
    return new_text, left
