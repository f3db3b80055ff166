"""File formats of bulk import and export: detection from `?format=` or the file name, and
what a download is served as."""

from __future__ import annotations

from dashboard.errors import Invalid

FORMATS = ("csv", "json", "ndjson")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ndjson": "application/x-ndjson",
}
EXTENSIONS = {".csv": "csv", ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson"}


def format_detect(*, format: str | None = None, filename: str | None = None) -> str:
    """`?format=` wins; else the file name's extension; else `Invalid` naming `format`."""
    if format:
        value = format.strip().lower()
        if value == "jsonl":
            value = "ndjson"
        if value not in FORMATS:
            raise Invalid(f"Unknown format {format!r}: use csv, json or ndjson.", field="format")
        return value
    if filename:
        lowered = filename.lower()
        for extension, value in EXTENSIONS.items():
            if lowered.endswith(extension):
                return value
    raise Invalid(
        "Say which format the file is in: ?format=csv|json|ndjson, or a file name ending in "
        ".csv, .json or .ndjson.",
        field="format",
    )
