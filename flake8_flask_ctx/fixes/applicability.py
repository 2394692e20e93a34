"""Whether a fix keeps behaviour, as ruff puts it: safe fixes are applied by default, unsafe
ones only with ``--unsafe-fixes``.

A fix is *safe* when it is proven to keep behaviour on every path: the worker gets the values
it would have computed with the request (what its author meant), evaluated where nothing
else can change them; evaluating them early cannot raise, block, loop or consume anything;
no exception moves from the worker into the view; and nothing outside the fix sees a
changed signature. Anything the fixer can do but cannot prove is *unsafe*, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Applicability:
    safe: bool
    reason: str = ""  # why the fix is unsafe ("" when it is safe)

    def __and__(self, other: "Applicability") -> "Applicability":
        """Both parts of one fix: unsafe if either is, with the first reason."""
        if not self.safe:
            return self
        return other

    @property
    def label(self) -> str:
        return "safe" if self.safe else "unsafe"


SAFE = Applicability(True)


def unsafe(reason: str) -> Applicability:
    return Applicability(False, reason)


def combine(parts) -> Applicability:
    result = SAFE
    for part in parts:
        result = result & part
    return result
