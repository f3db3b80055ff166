"""Streaming exports: records → CSV, JSON (one array) or NDJSON text, a block at a time, with
the same field set the import reads (dict and list fields as JSON in CSV cells). CSV text cells
that a spreadsheet would run as a formula get a leading `'` (`csv_cells`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from .csv_cells import csv_escape
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
    if isinstance(value, int | float):
        return str(value)  # a number, also to a spreadsheet: `-2` stays `-2`
    return csv_escape(str(value))


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
    header = [csv_escape(name) for name in fields]
    blocks = _blocks(records)
    first = next(blocks, [])
    yield _csv_lines([header, *([_cell(r.get(f)) for f in fields] for r in first)])
    for block in blocks:
        yield _csv_lines([[_cell(r.get(f)) for f in fields] for r in block])


def _csv_lines(rows: list[list[str]]) -> str:
    """CSV text of the rows, each ending with \n. The csv module quotes a cell for the
    characters of its line terminator only: a row with a carriage return in a cell is written
    by a \r\n writer (so that cell is quoted and reads back) and then ends with \n too."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue()
    if "\r" not in text:
        return text
    lines = []
    for row in rows:
        buffer = io.StringIO()
        has_cr = any("\r" in cell for cell in row)
        csv.writer(buffer, lineterminator="\r\n" if has_cr else "\n").writerow(row)
        line = buffer.getvalue()
        lines.append(line[:-2] + "\n" if has_cr else line)
    return "".join(lines)


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
