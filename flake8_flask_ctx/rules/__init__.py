"""The rule registry: one ``Rule`` per code, in code order, each in the module named by its code.

This is the one table of codes, titles, messages, levels and offered fixes: the flake8
plugin, the CLI, SARIF's rule list, the README's rule list and the docs tests all read it.
"""

from __future__ import annotations

from ..analysis import ModuleAnalysis
from ..findings import Finding
from . import (
    fcx100_request_in_worker,
    fcx101_app_in_worker,
    fcx102_proxy_passed,
    fcx103_import_time,
    fcx104_unserializable_argument,
    fcx105_unawaited_task,
    fcx200_copy_outside_request,
    fcx201_shared_copy,
    fcx202_fresh_g,
    fcx203_late_body_read,
    fcx204_stale_pool_context,
    fcx205_shared_context,
    fcx300_internals,
    fcx301_private_internals,
    fcx400_streams,
    fcx401_session_write_in_stream,
    fcx402_session_read_in_stream,
    fcx500_thread_locals,
)
from .base import FixKind, Level, Rule

RULES: tuple[Rule, ...] = (
    fcx100_request_in_worker.RULE,
    fcx101_app_in_worker.RULE,
    fcx102_proxy_passed.RULE,
    fcx103_import_time.RULE,
    fcx104_unserializable_argument.RULE,
    fcx105_unawaited_task.RULE,
    fcx200_copy_outside_request.RULE,
    fcx201_shared_copy.RULE,
    fcx202_fresh_g.RULE,
    fcx203_late_body_read.RULE,
    fcx204_stale_pool_context.RULE,
    fcx205_shared_context.RULE,
    fcx300_internals.RULE,
    fcx301_private_internals.RULE,
    fcx400_streams.RULE,
    fcx401_session_write_in_stream.RULE,
    fcx402_session_read_in_stream.RULE,
    fcx500_thread_locals.RULE,
)
RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_CODE", "FixKind", "Level", "Rule", "run_rules"]


def run_rules(analysis: ModuleAnalysis) -> list[Finding]:
    findings = [f for rule in RULES for f in rule.check(analysis)]
    return sorted(set(findings), key=Finding.sort_key)
