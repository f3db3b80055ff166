"""Errors as exceptions: every non-2xx answer raises a `LabelopsError` subclass carrying the
status, the error body and its machine-readable `code`."""

from __future__ import annotations

from typing import Any


class LabelopsError(Exception):
    """An error answer from the server (or a usage error the client refuses to send)."""

    def __init__(self, message: str, *, status: int = 0, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.code: str | None = body.get("code") if isinstance(body, dict) else None


class InvalidInput(LabelopsError, ValueError):
    """400: the input was refused (the body names the field)."""


class NotFound(LabelopsError, LookupError):
    """404: no such object."""


class Conflict(LabelopsError, ValueError):
    """409: conflicts with the current state (the seeds raise ValueError here)."""


class PermissionDenied(LabelopsError):
    """401 (no or a bad token) or 403 (the wrong role)."""


class TaskTimeout(LabelopsError, TimeoutError):
    """A task did not end within `wait_till_done(timeout_seconds)`."""


BY_STATUS: dict[int, type[LabelopsError]] = {
    400: InvalidInput,
    401: PermissionDenied,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
}


def error_for(status: int, body: Any) -> LabelopsError:
    cls = BY_STATUS.get(status, LabelopsError)
    if isinstance(body, dict):
        message = body.get("detail") or "; ".join(
            f"{k}: {v}" for k, v in body.items() if k != "code"
        )
    else:
        message = str(body)[:500]
    return cls(f"HTTP {status}: {message}", status=status, body=body)
