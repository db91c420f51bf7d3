"""Time-ordered ids (UUIDv7): valid RFC 9562 layout, ordered by millisecond, unique."""

from __future__ import annotations

import pytest

from releve.services import ids
from releve.services.ids import time_ordered_id


def test_layout_is_a_version_7_rfc_uuid_carrying_the_wall_clock_millisecond(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ids.time, "time_ns", lambda: 1_767_225_600_123_456_789)
    made = time_ordered_id()
    assert (made.version, made.variant) == (7, "specified in RFC 4122")
    assert made.int >> 80 == 1_767_225_600_123  # 2026-01-01T00:00:00.123Z in ms
    assert str(made).startswith("019b76da-a87b-7")


def test_ids_of_a_later_millisecond_sort_after(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(1_767_225_600_000_000_000, 1_767_225_601_000_000_000, 1_000_000))
    monkeypatch.setattr(ids.time, "time_ns", lambda: next(clock))
    made = [time_ordered_id() for _ in range(500)]
    assert made == sorted(made)
    assert [m.bytes for m in made] == sorted(m.bytes for m in made)  # as stored (16 bytes)


def test_ids_of_one_millisecond_are_unique_and_use_74_random_bits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ids.time, "time_ns", lambda: 1_767_225_600_000_000_000)
    made = {time_ordered_id() for _ in range(20_000)}
    assert len(made) == 20_000
    rand_a = {(m.int >> 64) & 0xFFF for m in made}
    low_12 = {m.int & 0xFFF for m in made}
    assert len(rand_a) > 4000 and len(low_12) > 4000  # both fields vary (4,096 values each)
    assert any(((m.int >> 64) & 0xFFF) != (m.int & 0xFFF) for m in made)  # not one copied
