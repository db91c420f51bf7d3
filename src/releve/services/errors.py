"""Errors the services raise; entrypoints map them (404, 422, ...). No HTTP here."""

from __future__ import annotations

from typing import Any

from releve.domain.errors import DomainError


class NotFound(DomainError):
    """The resource does not exist in this organization (another tenant's is not found either)."""

    def __init__(self, resource: str) -> None:
        super().__init__(f"{resource} not found", code=f"{resource}_not_found")
        self.resource = resource


class ValidationFailed(DomainError):
    """Input broke one or more rules; `error_details` maps field → list of snake_case codes.

    For batches the keys are the indexes: {"0": {"timestamp": ["invalid_format"]}}.
    """

    code = "validation_errors"

    def __init__(self, error_details: dict[str, Any]) -> None:
        super().__init__(f"validation failed: {error_details}")
        self.error_details = error_details

    @classmethod
    def one(cls, field: str, code: str) -> ValidationFailed:
        return cls({field: [code]})


class StoreConflict(Exception):
    """A concurrent transaction wrote the same unique key first; the use case may retry."""
