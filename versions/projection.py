"""Field projection for frames: `id`, `sources.uri`, `sources.0.uri`, `sources.*.uri`, `meta.x`.

A path walks dicts by key and lists by index; `*` (or a key applied to a list) takes every
element. The result keeps the frame's shape with only the projected parts.
"""

from __future__ import annotations

import re
from typing import Any

from dashboard.errors import Invalid

_MISSING = object()
_INDEX = re.compile(r"-?[0-9]{1,9}")  # ASCII digits only: `int` refuses '²', which isdigit passes


def parse_projection(value: str | list[str] | None) -> list[list[str]] | None:
    """`"id,sources.uri"` or a list → path segments; None/empty → no projection."""
    if not value:
        return None
    items = value.split(",") if isinstance(value, str) else value
    paths = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        segments = item.split(".")
        if any(not s for s in segments):
            raise Invalid(f"Bad projection path {item!r}.", field="projection")
        paths.append(segments)
    return paths or None


def _take(value: Any, segments: list[str]) -> Any:
    if not segments:
        return value
    head, rest = segments[0], segments[1:]
    if isinstance(value, list):
        if head == "*":
            return [_take(item, rest) for item in value]
        if _INDEX.fullmatch(head):
            index = int(head)
            if -len(value) <= index < len(value):
                return [_take(value[index], rest)]
            return _MISSING
        # A key applied to a list means "this key of every element".
        return [_take(item, segments) for item in value]
    if isinstance(value, dict) and head in value:
        inner = _take(value[head], rest)
        return _MISSING if inner is _MISSING else {head: inner}
    return _MISSING


def _merge(a: Any, b: Any) -> Any:
    if a is _MISSING:
        return b
    if b is _MISSING:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = _merge(out.get(key, _MISSING), value)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [_merge(x, y) for x, y in zip(a, b, strict=True)]
    return b


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not _MISSING}
    if isinstance(value, list):
        return [_clean(v) for v in value if v is not _MISSING]
    return value


def project(frame: dict[str, Any], paths: list[list[str]] | None) -> dict[str, Any]:
    if not paths:
        return frame
    result: Any = {}
    for segments in paths:
        result = _merge(result, _take(frame, segments))
    return _clean(result) if isinstance(result, dict) else {}
