"""The rule registry: one ``Rule`` per code, in code order, each in the module named by its code.

This is the one table of codes, titles, messages, levels and offered fixes: the flake8
plugin, the CLI, SARIF's rule list, the README's rule list and the docs tests all read it.

``CODES`` is known without importing any rule: a rule's code is its module's name. The
rules themselves (``RULES``, ``RULES_BY_CODE``, ``run_rules``) are imported on first use,
because their checks import libcst (~0.15 s): a CLI run whose files all come from the
result cache or fail the prefilter never pays for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..findings import Finding
from .base import FixKind, Level, Rule

if TYPE_CHECKING:
    from ..analysis import ModuleAnalysis

MODULES: tuple[str, ...] = (
    "fcx100_request_in_worker",
    "fcx101_app_in_worker",
    "fcx102_proxy_passed",
    "fcx103_import_time",
    "fcx104_unserializable_argument",
    "fcx105_unawaited_task",
    "fcx200_copy_outside_request",
    "fcx201_shared_copy",
    "fcx202_fresh_g",
    "fcx203_late_body_read",
    "fcx204_stale_pool_context",
    "fcx205_shared_context",
    "fcx300_internals",
    "fcx301_private_internals",
    "fcx400_streams",
    "fcx401_session_write_in_stream",
    "fcx402_session_read_in_stream",
    "fcx500_thread_locals",
)
CODES: tuple[str, ...] = tuple(module.split("_", 1)[0].upper() for module in MODULES)

__all__ = ["CODES", "MODULES", "RULES", "RULES_BY_CODE", "FixKind", "Level", "Rule", "run_rules"]


def __getattr__(name: str) -> Any:
    """``RULES`` and ``RULES_BY_CODE``, made on first use (PEP 562)."""
    if name not in ("RULES", "RULES_BY_CODE"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _load()
    return globals()[name]


def _load() -> tuple[Rule, ...]:
    if "RULES" not in globals():
        rules = tuple(importlib.import_module(f"{__name__}.{module}").RULE for module in MODULES)
        globals().update(RULES=rules, RULES_BY_CODE={rule.code: rule for rule in rules})
    return globals()["RULES"]


def run_rules(analysis: "ModuleAnalysis") -> list[Finding]:
    findings = [f for rule in _load() for f in rule.check(analysis)]
    return sorted(set(findings), key=Finding.sort_key)
