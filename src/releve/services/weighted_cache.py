"""A thread-safe cache bounded by the weight of its entries, not their number."""

from __future__ import annotations

import threading
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class WeightedCache(Generic[V]):
    """A cache of states that evicts its oldest entries past `budget` units of weight (~one
    small object each: a row version, an entry of a unique-count or percentile core), so a few
    huge states cannot hold gigabytes; a lock keeps the running weight exact across threads."""

    def __init__(self, budget: int) -> None:
        self._items: dict[Any, tuple[V, int]] = {}
        self._weight = 0
        self._budget = budget
        self._lock = threading.Lock()

    def resize(self, budget: int) -> None:
        """A new budget; the oldest entries past it are evicted at once."""
        with self._lock:
            self._budget = budget
            self._evict()

    def get(self, key: Any) -> V | None:
        item = self._items.get(key)
        return None if item is None else item[0]

    def __contains__(self, key: Any) -> bool:
        return key in self._items

    def put(self, key: Any, value: V, weight: int) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            self._weight += weight - (0 if old is None else old[1])
            self._items[key] = (value, weight)
            self._evict()

    def _evict(self) -> None:
        while self._weight > self._budget and len(self._items) > 1:
            self._weight -= self._items.pop(next(iter(self._items)))[1]
