"""Build hook only: everything else is in pyproject.toml.

The rule pages are written in docs/rules/ (the one copy anyone edits); a built
distribution carries a copy of them as flake8_flask_ctx/rule_docs/, so that
``flask-ctx rule FCX201`` and SARIF's rule help work from a wheel or a git install.
An editable install reads docs/rules/ directly (flake8_flask_ctx/ruledocs.py).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DOCS = Path(__file__).resolve().parent / "docs" / "rules"


class BuildPyWithRuleDocs(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode if hasattr(self, "editable_mode") else False:
            return
        target = Path(self.build_lib) / "flake8_flask_ctx" / "rule_docs"
        target.mkdir(parents=True, exist_ok=True)
        for page in sorted(DOCS.glob("*.md")):
            self.copy_file(str(page), str(target / page.name))


setup(cmdclass={"build_py": BuildPyWithRuleDocs})
