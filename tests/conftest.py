"""Suite-wide rules: no float may touch a Decimal (design.md §3)."""

from __future__ import annotations

import decimal

import pytest

# Any implicit float→Decimal mix raises, in every thread the tests start.
decimal.DefaultContext.traps[decimal.FloatOperation] = True
decimal.getcontext().traps[decimal.FloatOperation] = True


@pytest.fixture(autouse=True)
def _float_operation_trap() -> None:
    decimal.getcontext().traps[decimal.FloatOperation] = True
