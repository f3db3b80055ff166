"""What the import forms tell before anything starts: the columns of data rows and frames
(required or optional, with their meaning), a sample file to download in each format, and a
preview of a file's first records with the detected format, columns and per-row problems.
Reads only: nothing is stored or written."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any

from dashboard.bulk.formats import format_detect
from dashboard.bulk.readers import count_records, read_records
from dashboard.bulk.records import RecordError, convert_record, import_options
from dashboard.bulk.upload import upload_check

from .records import RECORD_TYPES

PREVIEW_ROWS = 10
# Counting every record of a large file would read all of it inside the request.
COUNT_LIMIT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Column:
    name: str
    need: str  # when it is required
    meaning: str
    example: Any

    @property
    def required(self) -> bool:
        return self.need.startswith("required")


COLUMNS = {
    "data_rows": (
        Column(
            "global_key",
            "required as the key (the default key)",
            "your unique name for the row, across the whole installation",
            "cam-0001",
        ),
        Column(
            "row_data",
            "optional (without it, a new row holds only its fields)",
            "the item: an image, video or audio URI, or a text",
            "https://example.com/cam/0001.jpg",
        ),
        Column("id", "optional (the key with key=id)", "the data row id", "0001"),
        Column(
            "metadata",
            "optional",
            "an object of your fields (a JSON object in a CSV cell)",
            {"split": "train"},
        ),
        Column(
            "attachments",
            "optional",
            'a list of {"type", "value"} (JSON in a CSV cell)',
            [{"type": "TEXT", "value": "taken at noon"}],
        ),
    ),
    "frames": (
        Column(
            "id",
            "required as the key (the default key)",
            "the frame id (derived from the first source URI when empty)",
            "cam-0001",
        ),
        Column(
            "sources",
            "required for new frames",
            'a list of {"uri", "id", "timestamp", "preview"} (JSON in a CSV cell)',
            [{"uri": "s3://bucket/cam/0001.jpg"}],
        ),
        Column("global_key", "optional (the key with key=global_key)", "unique key", "k-0001"),
        Column("meta", "optional", "an object of your fields", {"split": "train"}),
        Column(
            "rois",
            "optional",
            'annotations: [{"label": [...], "confidence", "bbox" or "poly"}]',
            [{"label": ["car"], "bbox": [10, 20, 30, 40]}],
        ),
        Column("attachments", "optional", 'a list of {"type", "value"}', []),
    ),
}


def import_columns(record_type: str) -> tuple[Column, ...]:
    return COLUMNS[record_type]


def import_sample(record_type: str, fmt: str) -> bytes:
    """A small file of the record type in the format, importable as it is."""
    first = {c.name: c.example for c in COLUMNS[record_type]}
    second = {
        name: (f"{value}-2" if isinstance(value, str) else value) for name, value in first.items()
    }
    if record_type == "data_rows":
        first.pop("id"), second.pop("id")
        second["row_data"] = "https://example.com/cam/0002.jpg"
    else:
        second["sources"] = [{"uri": "s3://bucket/cam/0002.jpg"}]
    records = [first, second]
    if fmt == "json":
        return (json.dumps(records, indent=2) + "\n").encode()
    if fmt == "ndjson":
        return "".join(json.dumps(r) + "\n" for r in records).encode()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = list(first)
    writer.writerow(names)
    for record in records:
        writer.writerow(
            [
                json.dumps(record[n]) if isinstance(record[n], dict | list) else record[n]
                for n in names
            ]
        )
    return out.getvalue().encode()


@dataclass
class Preview:
    """A file's first records as the import would read them."""

    format: str
    mode: str
    key: str
    unknown: str
    columns: list[dict]
    rows: list[dict]
    total: int | None
    problems: int


def _needed(record_type: str, mode: str, key: str) -> set[str]:
    """The columns every record needs, as the import checks them: a data row its key (a new
    row without row_data is a metadata-only record; an id is derived from row_data when
    missing); a new frame its sources, a frame to match its key (an id is derived from its
    first source URI when missing)."""
    if key == "id":
        return {"sources"} if record_type == "frames" and mode == "create" else set()
    if record_type == "frames" and mode == "create":
        return {"sources"}
    return {key}


def import_preview(
    record_type: str,
    *,
    fileobj: IO[bytes],
    filename: str | None,
    size: int,
    format: str | None = None,
    mode: str | None = None,
    key: str | None = None,
    on_error: str | None = None,
    unknown: str | None = None,
) -> Preview:
    """The first records of an upload, checked as the import will check them (an unusable
    file or option → `Invalid`, as when starting the import). Writes nothing."""
    kind = RECORD_TYPES[record_type]
    fmt = format_detect(format=format, filename=filename)
    options = import_options(
        kind, format=fmt, mode=mode, key=key, on_error=on_error, unknown=unknown
    )
    upload_check(fileobj, size=size, fmt=fmt, record_type=kind, unknown=options.unknown)
    fileobj.seek(0)
    needed = _needed(record_type, options.mode, options.key)
    names: list[str] = []
    rows = []
    for raw in islice(read_records(fileobj, fmt), PREVIEW_ROWS):
        data = raw.data if isinstance(raw.data, dict) else {}
        for name in data:
            if name not in names:
                names.append(name)
        problem = raw.error
        if problem is None:
            try:
                convert_record(kind, raw.data, from_text=raw.from_text, unknown=options.unknown)
            except RecordError as exc:
                problem = exc.message
        if problem is None:
            missing = [n for n in sorted(needed) if data.get(n) in (None, "")]
            if missing:
                problem = f"{', '.join(missing)}: missing"
        rows.append({"row": raw.index + 1, "data": data, "problem": problem})
        if raw.fatal:
            break
    for row in rows:
        row["cells"] = [_cell(row["data"].get(name)) for name in names]
    total = None
    if size <= COUNT_LIMIT_BYTES:
        fileobj.seek(0)
        total = count_records(fileobj, fmt)
    fileobj.seek(0)
    columns = [
        {
            "name": name,
            "known": kind.field(name) is not None,
            "needed": name in needed,
        }
        for name in names
    ]
    return Preview(
        format=fmt,
        mode=options.mode,
        key=options.key,
        unknown=options.unknown,
        columns=columns,
        rows=rows,
        total=total,
        problems=sum(1 for r in rows if r["problem"]),
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"
