"""JSON that users send, read strictly, and JSON text written exactly as the standard `json` does.

Reading: standard JSON only, so bad input is a clear error and never a crash or a value the
database refuses. orjson refuses NaN/Infinity, numbers beyond a double, control characters and
nesting deeper than 1,024 levels (Python's json would recurse until RecursionError); on top of
that, strings may not hold NUL (PostgreSQL refuses it). `json_parse` serves request bodies and
form fields; `loads` (bulk records) also keeps integers past 64 bits exact, which orjson reads
as floats. Writing: `dumps_sorted` is orjson's speed with exactly `json.dumps`'s text (stored
text and content hashes stay the same); values orjson writes otherwise go through `json`.
"""

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


# An integer of 19+ digits may lie outside 64 bits, where orjson gives a float (json an int).
_DIGITS_ONLY = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))  # digit → "0", others " "
_LONG_NUMBER = b"0" * 19
_SORTED = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def loads(data: bytes) -> Any:
    """The value of UTF-8 JSON text, or a ValueError saying what is wrong and where."""
    value = json_parse(data)
    if _LONG_NUMBER in data.translate(_DIGITS_ONLY):
        return json.loads(data)  # valid and at most 1,024 levels deep: read exact integers
    return value


def loads_text(text: str) -> Any:
    """`loads` of a str."""
    return loads(text.encode("utf-8", "surrogatepass"))


def dumps_sorted(value: Any) -> str:
    """Exactly `json.dumps(value, sort_keys=True, separators=(",", ":"))`."""
    try:
        out = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # ints past 64 bits, non-string keys, other types
        return _SORTED.encode(value)
    # What json.dumps(ensure_ascii=True) may write otherwise: non-ASCII and DEL (escaped),
    # floats below 1e-4 (`1e-05` vs `0.00001`, `1e-07` vs `1e-7`), NaN/Infinity (orjson: null).
    if out.isascii() and not (b"e-" in out or b".0000" in out or b"null" in out or b"\x7f" in out):
        return out.decode("ascii")
    return _SORTED.encode(value)
