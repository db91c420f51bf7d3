"""One reading of current usage per page: `with one_reading(): …` around a page render.

The portal shows a subscription's usage in several sections (summary, budget, wallet balance),
each asking `CurrentUsageService.current_usage`. Inside the block, the first answer for a
(organization, customer, subscription) is kept and given to the others: the sections agree
(one reading, not several taken milliseconds apart) and the aggregates are read once. Use it
only around read-only renders; nothing outlives the block (a context variable, so concurrent
requests never share a reading).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from releve.services.usage import CustomerUsage

Reading = dict[tuple[UUID, str, str], "CustomerUsage"]
_READING: ContextVar[Reading | None] = ContextVar("current_usage_reading", default=None)


@contextmanager
def one_reading() -> Iterator[None]:
    token = _READING.set({})
    try:
        yield
    finally:
        _READING.reset(token)


def page_reading() -> Reading | None:
    """The readings of the current block, or None outside one (then nothing is kept)."""
    return _READING.get()
