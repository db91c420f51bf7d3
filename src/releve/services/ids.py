"""Time-ordered ids for rows written in bulk (RFC 9562 UUIDv7: 48 bits of Unix milliseconds of
the wall clock, then 74 random bits).

Why: a table keyed by random UUIDs (v4) puts each new row on a random page of its primary-key
index (and of every index on a column holding such ids), so a batch of 1,000 events dirtied
~1,000 index pages, each written to the log at the commit; ids that grow with time append at
the index's right edge. The wall clock, not the services' injected one: the id's time is only
where the row goes in the index (a frozen test clock would give no order), never business time.
Unique by their 74 random bits per millisecond; never used as secrets.
"""

from __future__ import annotations

import os
import time
from uuid import UUID

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0x2 << 62


def time_ordered_id() -> UUID:
    """A new UUIDv7: ids made in a later millisecond sort after."""
    ms = (time.time_ns() // 1_000_000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")  # 80 random bits; 74 are kept
    rand_a = (rand >> 62) & 0xFFF  # 12 bits after the version
    rand_b = rand & ((1 << 62) - 1)  # 62 bits after the variant
    return UUID(int=(ms << 80) | _VERSION_7 | (rand_a << 64) | _VARIANT_RFC | rand_b)
