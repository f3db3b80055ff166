"""JSON text for bulk work: orjson's speed with exactly the results of the standard `json`.

orjson parses and writes most JSON 5-15x faster than `json`, but differs at the edges: it
refuses NaN, lone surrogates and numbers past 64 bits (or reads the latter as floats), writes
non-ASCII characters unescaped and small floats in another notation. Whatever it could read or
write differently goes to `json`, so values, stored text and content hashes stay the same.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# An integer of 19+ digits may lie outside 64 bits, where orjson gives a float (json an int).
_DIGITS_ONLY = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))  # digit → "0", others " "
_LONG_NUMBER = b"0" * 19
_SORTED = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def loads(data: bytes) -> Any:
    """`json.loads(data.decode("utf-8"))`, or its ValueError / UnicodeDecodeError."""
    if _LONG_NUMBER not in data.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # json says why, in its own words (or reads what orjson refuses)
    return json.loads(data.decode("utf-8"))


def loads_text(text: str) -> Any:
    """`json.loads(text)`, or its ValueError."""
    try:
        return loads(text.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates
        return json.loads(text)


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
