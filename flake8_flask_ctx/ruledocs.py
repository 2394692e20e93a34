"""The rule pages (``docs/rules/FCXnnn.md``) at run time: ``flask-ctx rule`` prints them,
SARIF carries them as each rule's help.

The pages live in ``docs/rules/`` of the repository, the one copy anyone edits; a built
distribution carries a copy of them as ``flake8_flask_ctx/rule_docs/`` (``setup.py``'s
``build_py``). Relative links in a page (``../runtime-facts.md#case-5``, ``FCX100.md``) are
made absolute against the page's URL (``project.rule_url``), so they work in a terminal
and in a code scanning alert.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Optional
from urllib.parse import urljoin

from .urls import rule_url
from .rules import RULES_BY_CODE

_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def docs_dir() -> Optional[Path]:
    here = Path(__file__).resolve().parent
    for candidate in (here / "rule_docs", here.parent / "docs" / "rules"):
        if (candidate / "README.md").is_file() or any(candidate.glob("FCX*.md")):
            return candidate
    return None


@lru_cache(maxsize=None)
def page(code: str) -> Optional[str]:
    """The rule's page as written, or None when the docs are not installed."""
    directory = docs_dir()
    if directory is None:
        return None
    path = directory / f"{code}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _chunks(markdown_text: str) -> list[tuple[bool, str]]:
    """``(is code, text)`` pieces: fenced code blocks apart from the prose around them."""
    chunks: list[tuple[bool, list[str]]] = []
    fence = False
    for line in markdown_text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            chunks.append((True, [line]) if not fence else (True, []))
            if fence:
                chunks[-2][1].append(line)
                chunks.pop()
            fence = not fence
            continue
        if not chunks or chunks[-1][0] != fence:
            chunks.append((fence, []))
        chunks[-1][1].append(line)
    return [(code, "".join(lines)) for code, lines in chunks]


def absolute_links(markdown: str, base_url: str) -> str:
    """Relative link targets resolved against ``base_url``; code blocks left alone."""
    return "".join(text if code else _LINK.sub(lambda m: _resolve(m, base_url), text)
                   for code, text in _chunks(markdown))


def _resolve(match: "re.Match[str]", base_url: str) -> str:
    bang, text, target = match.groups()
    if _SCHEME.match(target) or target.startswith("#"):
        target = target if not target.startswith("#") else base_url + target
    else:
        target = urljoin(base_url, target)
    return f"{bang}[{text}]({target})"


def markdown(code: str) -> str:
    """The page with absolute links; the rule's title and message when no page is installed."""
    text = page(code)
    url = rule_url(code)
    if text is None:
        rule = RULES_BY_CODE[code]
        return f"# {code}: {rule.title}\n\n{code} {rule.template}\n\nFull page: {url}\n"
    return absolute_links(text, url)


def to_text(markdown_text: str) -> str:
    """Plain text for SARIF's ``help.text``: links become ``text (URL)``, emphasis and
    heading marks go, code blocks are indented."""
    out = []
    for code, text in _chunks(markdown_text):
        if code:
            out.extend("    " + line for line in text.splitlines() if not line.lstrip().startswith("```"))
            continue
        text = _LINK.sub(lambda m: m.group(2) if m.group(2) == m.group(3) else f"{m.group(2)} ({m.group(3)})", text)
        text = re.sub(r"^#+\s*", "", text, flags=re.M)
        text = re.sub(r"\*\*([^*]+)\*\*", r"\1", text)
        out.extend(text.splitlines())
    return "\n".join(out).strip() + "\n"


def first_paragraph(markdown_text: str, section: str = "What it finds") -> str:
    """The first paragraph of a ``## section`` (SARIF's ``fullDescription``), as text."""
    lines = markdown_text.splitlines()
    try:
        start = lines.index(f"## {section}") + 1
    except ValueError:
        return ""
    paragraph: list[str] = []
    for line in lines[start:]:
        if line.startswith("#"):
            break
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    return to_text(" ".join(paragraph)).strip()


def terminal_page(code: str) -> str:
    """What ``flask-ctx rule CODE`` prints: the page, then where it is online."""
    return markdown(code).rstrip("\n") + f"\n\n{rule_url(code)}\n"
