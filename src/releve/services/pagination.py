"""Page/per_page pagination with Lago's `meta` block."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from releve.services.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.page < 1:
            errors["page"] = ["value_is_invalid"]
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            errors["per_page"] = ["value_is_invalid"]
        if errors:
            raise ValidationFailed(errors)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    request: PageRequest
    total_count: int

    @property
    def total_pages(self) -> int:
        return -(-self.total_count // self.request.per_page)

    def meta(self) -> dict[str, int | None]:
        """Lago's meta: all zero when empty, next/prev null at the ends."""
        if self.total_count == 0:
            return {
                "current_page": 0,
                "next_page": None,
                "prev_page": None,
                "total_pages": 0,
                "total_count": 0,
            }
        page = self.request.page
        return {
            "current_page": page,
            "next_page": page + 1 if page < self.total_pages else None,
            "prev_page": page - 1 if page > 1 else None,
            "total_pages": self.total_pages,
            "total_count": self.total_count,
        }
