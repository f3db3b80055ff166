"""Streaming exports: records → CSV, JSON (one array) or NDJSON text, a block at a time, with
the same field set the import reads (dict and list fields as JSON in CSV cells)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from .formats import CONTENT_TYPES

BLOCK = 1000  # records per yielded piece


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return _dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def export_stream(records: Iterable[dict], *, fmt: str, fields: list[str]) -> Iterator[str]:
    """Text pieces of the export; memory stays flat whatever the number of records."""
    if fmt == "csv":
        yield from _csv(records, fields)
    elif fmt == "json":
        yield from _json(records, fields)
    elif fmt == "ndjson":
        yield from _ndjson(records, fields)
    else:
        raise ValueError(f"unknown format {fmt!r}")


def _blocks(records: Iterable[dict]) -> Iterator[list[dict]]:
    block: list[dict] = []
    for record in records:
        block.append(record)
        if len(block) >= BLOCK:
            yield block
            block = []
    if block:
        yield block


def _csv(records, fields):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    for block in _blocks(records):
        writer.writerows([_cell(r.get(f)) for f in fields] for r in block)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _ndjson(records, fields):
    for block in _blocks(records):
        yield "".join(_dumps({f: r.get(f) for f in fields}) + "\n" for r in block)


def _json(records, fields):
    yield "["
    first = True
    for block in _blocks(records):
        body = ",\n".join(_dumps({f: r.get(f) for f in fields}) for r in block)
        yield ("\n" if first else ",\n") + body
        first = False
    yield "\n]\n"


def export_filename(stem: str, fmt: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem).strip("-") or "export"
    return f"{safe}.{fmt}"


def content_type(fmt: str) -> str:
    return CONTENT_TYPES[fmt]
