"""Errors that services raise; the API layer turns them into JSON responses with a status.

Services stay free of HTTP types, but their failures carry what a caller needs: a message for a
person, a machine code, and for conflicts the current state of the object.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.errors = errors or {}


class NotFoundError(ServiceError):
    status = 404
    code = "not_found"


class ForbiddenError(ServiceError):
    status = 403
    code = "forbidden"


class ConflictError(ServiceError):
    """A stale write: the object changed since the caller read it (``current`` is its state)."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, *, current: Any = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.current = current
