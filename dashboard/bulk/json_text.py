"""JSON text for bulk work: orjson's speed, the strict reading of every user input
(`dashboard.strict_json`: no NaN/Infinity, numbers within range, nesting limited, no NUL), and
exactly the text the standard `json` writes.

orjson reads integers past 64 bits as floats: those records are read again by `json` so the
integers stay exact. It writes non-ASCII characters unescaped and small floats in another
notation: such values are written by `json`, so stored text and content hashes stay the same.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from dashboard.strict_json import json_parse

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
