"""Domain errors: a stable snake_case `code` (as in Lago's `error_details`) and no HTTP status.

Entrypoints map these to responses; the domain never knows about HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule was broken. `code` is machine-readable, the message is for people."""

    code: str = "invalid_value"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        if code is not None:
            self.code = code
