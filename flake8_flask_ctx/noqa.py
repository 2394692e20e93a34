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


class Suppressions:
    """Which findings of one file the author silenced; built only for files with findings."""

    def __init__(self, text: str) -> None:
        self._lines = io.StringIO(text, newline=None).readlines()  # Python's line numbering
        self.whole_file = any(_FILE_NOQA.match(line) for line in self._lines)
        self._token_lines: Optional[dict[int, str]] = None

    def silences(self, code: str, line: int) -> bool:
        if self.whole_file:
            return True
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


def _join_token_lines(lines: list[str]) -> dict[int, str]:
    """Map each line to the text of all lines its tokens span, up to the next NL/NEWLINE."""
    joined: dict[int, str] = {}
    first, last = None, None
    try:
        for token in tokenize.generate_tokens(io.StringIO("".join(lines)).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first = token.start[0] if first is None else min(first, token.start[0])
            last = token.end[0] if last is None else max(last, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                text = "".join(lines[first - 1:last])
                joined.update(dict.fromkeys(range(first, last + 1), text))
                first, last = None, None
    except (tokenize.TokenError, SyntaxError):
        return {}  # like flake8: fall back to the physical line
    return joined
