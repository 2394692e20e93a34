"""The rule docs (docs/rules/*.md) and the README's rule list stay true to the code.

1. every code in ``CODES`` has its page, with the title from ``CODES`` and every section,
   an entry in the index, and a ``### FCXnnn: title`` section in the README linking to it;
2. every ``FCXnnn`` mentioned in the README or the rule docs exists in ``CODES``;
3. every python code block in the rule docs and in the README's rules region parses;
4. each page's "Example" blocks get at least one finding of that page's code from the
   engine, and its "Fix" blocks get none (so the examples are complete modules); the
   README's short examples, completed with the imports they leave out, get their code on
   the line marked ``# FCXnnn`` (bad) and none of it (good). A rule that exists only where
   threads inherit the starting code's context (``Rule.inherited_contexts``, Python 3.14t)
   has its examples checked with that setting on (``thread-inherit-context``).
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from flake8_flask_ctx.rules import RULES_BY_CODE as CODES
from flake8_flask_ctx.engine import check_source
from flake8_flask_ctx.options import Options

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "rules"
INDEX = DOCS / "README.md"
README = ROOT / "README.md"
START, END = "<!-- rules:start -->", "<!-- rules:end -->"
CODE_REF = re.compile(r"FCX\d{3}")
SECTIONS = ("What it finds", "Why it breaks", "Example", "Fix", "Autofix", "Fix safety", "Not reported")
PYTHON = {"python", "py", "python3"}


@dataclass(frozen=True)
class Block:
    section: str  # the enclosing "## " heading ("" before the first one)
    lang: str
    code: str
    line: int  # 1-based line of the first code line in the markdown file

    def where(self, path: Path) -> str:
        return f"{path.relative_to(ROOT)}:{self.line} (section {self.section!r})"


def blocks(text: str, first_line: int = 1) -> list[Block]:
    """Fenced code blocks with the ``## `` section each sits in (indented fences included)."""
    found: list[Block] = []
    section, fence, lang, start, body = "", None, "", 0, []
    for number, line in enumerate(text.splitlines(), start=first_line):
        stripped = line.lstrip()
        if fence is None:
            if stripped.startswith("```"):
                fence = line[: len(line) - len(stripped)] + re.match(r"`+", stripped).group(0)
                lang, start, body = stripped.strip("`").strip().split(" ")[0].lower(), number + 1, []
            elif line.startswith("## "):
                section = line[3:].strip()
        elif stripped.startswith(fence.lstrip()) and not stripped.strip("`").strip():
            found.append(Block(section, lang, textwrap.dedent("\n".join(body)) + "\n", start))
            fence = None
        else:
            body.append(line)
    assert fence is None, f"unclosed code fence opened before line {start}"
    return found


def headings(text: str) -> list[str]:
    """The ``## `` headings outside code blocks, in order."""
    out, in_fence = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.startswith("## "):
            out.append(line[3:].strip())
    return out


def readme_region() -> tuple[str, int]:
    """The README text between the rules markers, and the line it starts on."""
    text = README.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, "README needs one pair of rules markers"
    head, rest = text.split(START, 1)
    region = rest.split(END, 1)[0]
    return region, head.count("\n") + 1


def doc_path(code: str) -> Path:
    return DOCS / f"{code}.md"


def rule_docs() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


# --- 1. every code is documented ---------------------------------------------------------


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_page_with_all_sections(code: str) -> None:
    path = doc_path(code)
    assert path.is_file(), f"missing {path.relative_to(ROOT)}"
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first == f"# {code}: {CODES[code].title}", f"{path.name}: title line is {first!r}"
    found = headings(text)
    missing = [s for s in SECTIONS if s not in found]
    assert not missing, f"{path.name}: missing sections {missing}"
    order = [s for s in found if s in SECTIONS]
    assert order == list(SECTIONS), f"{path.name}: sections out of order: {order}"


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_readme_section_and_index_entry(code: str) -> None:
    region, _ = readme_region()
    heading = f"### {code}: {CODES[code].title}"
    assert re.search(rf"^{re.escape(heading)}\s*$", region, re.M), f"README rules region lacks {heading!r}"
    section = region.split(heading, 1)[1].split("\n### ", 1)[0]
    assert f"docs/rules/{code}.md" in section, f"README section {code} does not link its page"
    index = INDEX.read_text(encoding="utf-8")
    assert f"({code}.md)" in index, f"{INDEX.relative_to(ROOT)} does not link {code}.md"


def test_no_page_for_an_unknown_code() -> None:
    stray = [p.name for p in DOCS.glob("FCX*.md") if p.stem not in CODES]
    assert not stray, f"pages for codes not in CODES: {stray}"


# --- 2. no mention of a code that does not exist -----------------------------------------


@pytest.mark.parametrize("path", [README, *rule_docs()], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_mentioned_code_exists(path: Path) -> None:
    unknown = sorted(set(CODE_REF.findall(path.read_text(encoding="utf-8"))) - set(CODES))
    assert not unknown, f"{path.relative_to(ROOT)} mentions unknown codes {unknown}"


# --- 3. every python block parses --------------------------------------------------------


def python_blocks() -> list[tuple[Path, Block]]:
    out = [(p, b) for p in rule_docs() for b in blocks(p.read_text(encoding="utf-8"))]
    region, first_line = readme_region()
    out += [(README, b) for b in blocks(region, first_line)]
    return [(p, b) for p, b in out if b.lang in PYTHON]


@pytest.mark.parametrize("path,block", python_blocks(),
                         ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else str(v.line))
def test_python_blocks_parse(path: Path, block: Block) -> None:
    try:
        ast.parse(block.code)
    except SyntaxError as exc:
        pytest.fail(f"{block.where(path)} does not parse: {exc}")


# --- 4. the examples are honest ----------------------------------------------------------


def options_for(code: str) -> Options:
    """The settings a code's examples are checked with: inherited thread contexts for the
    rules that only report there (``Rule.inherited_contexts``), the defaults otherwise."""
    return Options(thread_inherit_context=CODES[code].inherited_contexts)


def section_blocks(code: str, section: str) -> list[Block]:
    text = doc_path(code).read_text(encoding="utf-8")
    return [b for b in blocks(text) if b.section == section and b.lang in PYTHON]


@pytest.mark.parametrize("code", sorted(CODES))
def test_example_is_reported(code: str) -> None:
    examples = section_blocks(code, "Example")
    assert examples, f"{code}.md has no python block under 'Example'"
    for block in examples:
        codes = [f.code for f in check_source(block.code, options_for(code))]
        assert code in codes, f"{block.where(doc_path(code))}: engine reports {codes}, not {code}"


@pytest.mark.parametrize("code", sorted(CODES))
def test_fix_is_clean(code: str) -> None:
    fixes = section_blocks(code, "Fix")
    assert fixes, f"{code}.md has no python block under 'Fix'"
    for block in fixes:
        findings = [f for f in check_source(block.code, options_for(code)) if f.code == code]
        assert not findings, f"{block.where(doc_path(code))}: still reported: {[f.message for f in findings]}"


# The README's examples leave out the imports and the app; this is what they assume.
README_PREAMBLE = """\
import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from multiprocessing.dummy import Pool

from celery import shared_task
from flask import Flask, Response, copy_current_request_context, current_app, g, request, session, stream_with_context
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
mail = Mail(app)
db = SQLAlchemy(app)
data = threading.local()
"""


def readme_examples() -> list[tuple[str, list[Block]]]:
    region, first_line = readme_region()
    parts = re.split(r"^(### (FCX\d{3}):.*)$", region, flags=re.M)
    out, line = [], first_line + parts[0].count("\n")
    for heading, code, body in zip(parts[1::3], parts[2::3], parts[3::3]):
        out.append((code, [b for b in blocks(body, line) if b.lang in PYTHON]))
        line += heading.count("\n") + body.count("\n")
    return out


def test_readme_sections_follow_codes_order() -> None:
    assert [code for code, _ in readme_examples()] == list(CODES)


@pytest.mark.parametrize("code,examples", [pytest.param(c, e, id=c) for c, e in readme_examples()])
def test_readme_examples_are_honest(code: str, examples: list[Block]) -> None:
    assert len(examples) == 2, f"README section {code} needs one bad and one good python example"
    bad, good = examples
    for block in examples:
        lines = len(block.code.strip().splitlines())
        assert 3 <= lines <= 10, f"{block.where(README)}: {lines} lines, keep README examples to 3-10"
    offset = README_PREAMBLE.count("\n")
    marked = {n for n, line in enumerate(bad.code.splitlines(), start=1) if f"# {code}" in line}
    assert marked, f"README {code}: the bad example marks no line with '# {code}'"
    options = options_for(code)
    reported = {f.line - offset for f in check_source(README_PREAMBLE + bad.code, options) if f.code == code}
    assert reported == marked, f"README {code}: reported on lines {sorted(reported)}, marked {sorted(marked)}"
    still = [f.message for f in check_source(README_PREAMBLE + good.code, options) if f.code == code]
    assert not still, f"README {code}: the good example is still reported: {still}"


# --- 5. every link between the docs resolves -----------------------------------------------

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(markdown: str) -> set[str]:
    """Explicit ``<a id=...>`` anchors and GitHub's slugs of the headings."""
    found = set(re.findall(r'<a id="([^"]+)"></a>', markdown))
    for heading in re.findall(r"^#+ (.+)$", markdown, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def markdown_files() -> list[Path]:
    return [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").rglob("*.md")),
            *sorted((ROOT / "fixtures").rglob("*.md")), ROOT / "benchmarks" / "README.md"]


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked.read_text(encoding="utf-8")):
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: links that do not resolve: {broken}"
