"""The project's canonical URLs, read from ``[project.urls]`` in ``pyproject.toml``.

``pyproject.toml`` is the one place they are written: SARIF's ``helpUri``, the links in the
rule docs ``flask-ctx rule`` prints and the README all point below ``Documentation``. A
fork changes the URLs there and nothing else. They are read from the source tree when
running from a checkout (editable installs), else from the installed distribution's
metadata (built from the same table), else from the fallback below.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Optional
from urllib.parse import urljoin

DISTRIBUTION = "flake8-flask-ctx"
# only used when neither a checkout nor installed metadata is at hand (a vendored copy)
FALLBACK_HOMEPAGE = "https://github.com/flake8-flask-ctx/flake8-flask-ctx"
FALLBACK_URLS = {
    "Homepage": FALLBACK_HOMEPAGE,
    "Documentation": f"{FALLBACK_HOMEPAGE}/blob/main/README.md",
}


def _from_checkout() -> Optional[dict[str, str]]:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if not pyproject.is_file():
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - 3.9/3.10
        import tomli as tomllib
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, ValueError):
        return None
    if project.get("name") != DISTRIBUTION or not isinstance(project.get("urls"), dict):
        return None
    return {str(k): str(v) for k, v in project["urls"].items()}


def _from_metadata() -> Optional[dict[str, str]]:
    try:
        from importlib.metadata import PackageNotFoundError, metadata
    except ImportError:  # pragma: no cover
        return None
    try:
        entries = metadata(DISTRIBUTION).get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    urls = {}
    for entry in entries:
        label, _, url = entry.partition(",")
        if url.strip():
            urls[label.strip()] = url.strip()
    return urls or None


@lru_cache(maxsize=1)
def project_urls() -> dict[str, str]:
    return _from_checkout() or _from_metadata() or dict(FALLBACK_URLS)


def documentation_url() -> str:
    urls = project_urls()
    return urls.get("Documentation") or urls.get("Homepage") or FALLBACK_URLS["Documentation"]


def docs_url(relative: str) -> str:
    """A page of the repository, as the README links it (``docs/rules/FCX100.md``)."""
    return urljoin(documentation_url(), relative)


def rule_url(code: str) -> str:
    return docs_url(f"docs/rules/{code}.md")
