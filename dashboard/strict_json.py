"""Reading JSON that users send: standard JSON only, so bad input is a clear error and never
a crash or a value the database refuses. orjson refuses NaN/Infinity, numbers beyond a
double, control characters and nesting deeper than 1,024 levels (Python's json would recurse
until RecursionError); on top of that, strings may not hold NUL (PostgreSQL refuses it)."""

from __future__ import annotations

import json
from typing import Any

import orjson

NUL_ESCAPE = b"\\u0000"


def json_parse(data: str | bytes) -> Any:
    """Parse JSON text; a `json.JSONDecodeError` (a ValueError) says what is wrong and where."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise json.JSONDecodeError(_reason(exc), exc.doc, exc.pos) from None
    if NUL_ESCAPE in raw and _has_nul(value):
        raise json.JSONDecodeError("text may not contain NUL characters (\\u0000)", "", 0)
    return value


def _reason(exc: orjson.JSONDecodeError) -> str:
    message = exc.msg
    if exc.doc[exc.pos : exc.pos + 9].lstrip("-").startswith(("NaN", "Infinity")):
        return "NaN and Infinity are not JSON numbers"
    if "depth limit" in message:
        return "nested too deeply (more than 1,024 levels)"
    if "infinity" in message:
        return "a number is out of range"
    return message


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False
