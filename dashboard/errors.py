"""The business layer's errors: services raise these, the API and UI translate them.

`Invalid` is a 400 naming a field, `NotFound` a 404, `Conflict` a 409 with the current state.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status_code = 400
    code = "invalid"  # stable and machine-readable, beside the message

    def __init__(
        self, message: str, *, field: str | None = None, extra: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}

    def as_data(self) -> dict[str, Any]:
        """The DRF-shaped body, `{field: [message]}` or `{"detail": message, **extra}`, with
        the error's `code`."""
        if self.field:
            return {self.field: [self.message], **self.extra, "code": self.code}
        return {"detail": self.message, **self.extra, "code": self.code}


class Invalid(ApplicationError):
    status_code = 400


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"


INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def json_integer(value: Any) -> int | None:
    """`value` as an int if it is a JSON integer, else None. JSON (and its schema) does not
    tell 46 from 46.0: a number with no fractional part is an integer; a boolean is not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def validate_int32(value: Any, *, field: str, allow_none: bool = True) -> int | None:
    """Return `value` as a 32-bit signed int, or raise `Invalid` naming `field`."""
    if value is None:
        if allow_none:
            return None
        raise Invalid("This field may not be null.", field=field)
    if json_integer(value) is None:
        raise Invalid("Must be an integer or null.", field=field)
    value = json_integer(value)
    if not INT32_MIN <= value <= INT32_MAX:
        raise Invalid(
            f"Must be a whole number from {INT32_MIN:,} to {INT32_MAX:,} (32-bit); got {value}.",
            field=field,
        )
    return value
