"""Lists of data rows given as text or an uploaded file: one global key or id per line, CSV
(column `global_key`, `data_row` or `id`, else the first), a JSON array or NDJSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from dashboard.errors import Invalid
from dashboard.strict_json import json_parse

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
COLUMNS = ("global_key", "data_row", "id")


def _value(item: Any, *, field: str, where: str) -> str:
    if isinstance(item, str):
        return item.strip()
    if isinstance(item, dict):
        for column in COLUMNS:
            if isinstance(item.get(column), str):
                return item[column].strip()
    raise Invalid(f"{where}: expected a string or an object with global_key / id.", field=field)


def rows_from_text(text: str, *, fmt: str = "", field: str = "file") -> list[str]:
    """Parse a row list; `fmt` is csv, json, ndjson or txt (guessed when empty)."""
    text = text.lstrip("\ufeff")
    stripped = text.strip()
    if not fmt:
        if stripped.startswith("["):
            fmt = "json"
        elif stripped.startswith("{"):
            fmt = "ndjson"
        elif "," in stripped.splitlines()[0] if stripped else False:
            fmt = "csv"
        else:
            fmt = "txt"
    if fmt == "json":
        try:
            data = json_parse(text)
        except json.JSONDecodeError as exc:
            raise Invalid(f"Malformed JSON: {exc}", field=field) from None
        if not isinstance(data, list):
            raise Invalid("Expected a JSON array.", field=field)
        return [_value(item, field=field, where=f"Item {i}") for i, item in enumerate(data)]
    if fmt == "ndjson":
        values = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json_parse(line)
            except json.JSONDecodeError as exc:
                raise Invalid(f"Line {n}: malformed JSON: {exc}", field=field) from None
            values.append(_value(item, field=field, where=f"Line {n}"))
        return values
    if fmt == "csv":
        reader = csv.reader(io.StringIO(text))
        rows = [r for r in reader if any(c.strip() for c in r)]
        if not rows:
            return []
        header = [c.strip().lower() for c in rows[0]]
        column = next((header.index(c) for c in COLUMNS if c in header), None)
        body = rows[1:] if column is not None else rows
        column = column or 0
        return [r[column].strip() for r in body if len(r) > column and r[column].strip()]
    if fmt == "txt":
        return [line.strip() for line in text.splitlines() if line.strip()]
    raise Invalid("Unknown format: use csv, json, ndjson or txt.", field="format")


def rows_from_upload(upload, *, fmt: str = "", field: str = "file") -> list[str]:
    if upload.size > MAX_UPLOAD_BYTES:
        raise Invalid(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB.", field=field)
    if not fmt:
        name = (upload.name or "").lower()
        fmt = next((ext for ext in ("ndjson", "json", "csv", "txt") if name.endswith(ext)), "")
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("The file must be UTF-8 text.", field=field) from None
    return rows_from_text(text, fmt=fmt, field=field)
