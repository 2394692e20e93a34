"""What identifies a finding across edits: its code, its file, its enclosing function and
the code on its line, never its line number.

The same fingerprint serves the baseline file (``--baseline``) and SARIF's
``partialFingerprints`` (GitHub code scanning tracks an alert by it), so an alert a
baseline accepted and an alert code scanning dismissed are the same finding:

    sha256(code, path relative to the root, enclosing def/class (dotted), code on the line)

"The code on the line" is the finding's physical line without its comment and with its
whitespace collapsed: editing lines above it, re-indenting it into a block, or adding a
``# noqa`` for another tool leaves it alone; changing the line itself makes a new finding.
The message is not part of it (its wording may change between releases).
"""

from __future__ import annotations

import hashlib
import io
import os
import tokenize
from typing import Optional, Sequence

VERSION = "v1"
SARIF_KEY = f"flake8FlaskCtx/{VERSION}"


def line_codes(text: str, lines: Sequence[int]) -> dict[int, str]:
    """``{line: the code on it}`` for the given 1-based physical lines of ``text``."""
    translated = io.StringIO(text, newline=None).read()  # Python's line numbering
    physical = translated.split("\n")
    comments: dict[int, int] = {}
    # only a line with a "#" can end in a comment, and tokens come in order of lines
    last = max((line for line in lines if 0 < line <= len(physical) and "#" in physical[line - 1]), default=0)
    try:
        for token in tokenize.generate_tokens(io.StringIO(translated).readline) if last else ():
            if token.start[0] > last:
                break
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.start[1]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # a file with findings tokenizes; if not, the whole line counts
    out = {}
    for line in lines:
        code = physical[line - 1] if 0 < line <= len(physical) else ""
        if line in comments:
            code = code[:comments[line]]
        out[line] = " ".join(code.split())
    return out


def code_hash(code_text: str) -> str:
    return hashlib.sha256(code_text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def relative_path(path: str, root: Optional[str] = None) -> str:
    """The path relative to ``root`` (the working directory), with ``/``; absolute when it
    is not below it."""
    root = os.path.abspath(root or os.getcwd())
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, root)
    except ValueError:  # another drive (Windows)
        return absolute.replace(os.sep, "/")
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return absolute.replace(os.sep, "/")
    return relative.replace(os.sep, "/")


def fingerprint(code: str, relative: str, scope: str, line_hash: str) -> str:
    key = "\0".join((VERSION, code, relative, scope, line_hash))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
