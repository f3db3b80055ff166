"""Taking a bulk input in, in one step (`upload_accept`): the options, the format, the size
limit, early checks that answer 400 before a job exists (empty file, not UTF-8, bad CSV header,
unknown columns), and spooling to storage for the job to read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage

from dashboard.errors import Invalid
from dashboard.ids import new_id

from .formats import format_detect
from .readers import BOM, csv_header
from .records import ImportOptions, RecordType, check_columns, import_options

DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024**3


def max_upload_bytes() -> int:
    """The upload limit: settings.BULK_MAX_UPLOAD_BYTES, 2 GiB by default."""
    return int(getattr(settings, "BULK_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def _sniff_encoding(head: bytes) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise Invalid(
            "The file is not UTF-8 (it looks like UTF-16 or binary): save it as UTF-8.",
            field="file",
        )


def upload_check(
    fileobj: IO[bytes], *, size: int, fmt: str, record_type: RecordType, unknown: str
) -> None:
    """Refuse what cannot be imported at all, before anything is stored."""
    limit = max_upload_bytes()
    if size > limit:
        raise Invalid(
            f"The file is {size} bytes; the limit is {limit} bytes (BULK_MAX_UPLOAD_BYTES).",
            field="file",
        )
    fileobj.seek(0)
    head = fileobj.read(4096)
    if not head.strip() or head.strip() == BOM:
        raise Invalid("The file is empty.", field="file")
    _sniff_encoding(head)
    if fmt == "csv":
        fileobj.seek(0)
        try:
            header = csv_header(fileobj)
        except ValueError as exc:  # larger than BULK_MAX_RECORD_BYTES
            raise Invalid(str(exc), field="file") from None
        if not header:
            raise Invalid("The CSV file has no header row.", field="file")
        check_columns(record_type, [h.strip() for h in header], unknown=unknown)
    fileobj.seek(0)


def spool_file(fileobj: IO[bytes], *, fmt: str) -> str:
    """Store an uploaded file under MEDIA_ROOT for the job; returns its storage path."""
    fileobj.seek(0)
    return default_storage.save(f"uploads/import-{new_id()}.{fmt}", File(fileobj))


def spool_records(records: list[Any]) -> str:
    """Store a JSON array body as NDJSON (one record a line) for the job."""
    if not isinstance(records, list):
        raise Invalid("Send a JSON array of records, or upload a file.", field="file")
    if not records:
        raise Invalid("The list of records is empty.", field="file")
    body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    return default_storage.save(f"uploads/import-{new_id()}.ndjson", ContentFile(body.encode()))


def spool_path(path: str, *, fmt: str) -> str:
    """Copy a local file (the CLI) into storage for the job."""
    with open(path, "rb") as source:
        return default_storage.save(f"uploads/import-{new_id()}.{fmt}", File(source))


@dataclass(frozen=True)
class Accepted:
    """A bulk input taken in: where it is spooled, the validated options, and its record count
    when known (a JSON array)."""

    path: str
    options: ImportOptions
    total: int | None = None


def upload_accept(
    record_type: RecordType,
    *,
    fileobj: IO[bytes] | None = None,
    filename: str | None = None,
    size: int | None = None,
    local_path: str | None = None,
    records: list[Any] | None = None,
    format: str | None = None,
    mode: str | None = None,
    key: str | None = None,
    on_error: str | None = None,
    unknown: str | None = None,
) -> Accepted:
    """Check and spool one bulk input: an uploaded file (`fileobj`, `filename`, `size`), a
    local file (`local_path`: the CLI) or a JSON array (`records`, read as NDJSON). Bad
    options or an unusable input → `Invalid` naming it, before anything is stored."""
    if records is not None:
        options = import_options(
            record_type, format="ndjson", mode=mode, key=key, on_error=on_error, unknown=unknown
        )
        return Accepted(spool_records(records), options, len(records))
    if fileobj is None and local_path is None:
        raise Invalid("Upload a file (field 'file') or send a JSON array.", field="file")
    fmt = format_detect(format=format, filename=filename or local_path)
    options = import_options(
        record_type, format=fmt, mode=mode, key=key, on_error=on_error, unknown=unknown
    )
    if local_path is not None:
        with open(local_path, "rb") as handle:
            handle.seek(0, 2)
            upload_check(
                handle,
                size=handle.tell(),
                fmt=fmt,
                record_type=record_type,
                unknown=options.unknown,
            )
        return Accepted(spool_path(local_path, fmt=fmt), options)
    upload_check(fileobj, size=size or 0, fmt=fmt, record_type=record_type, unknown=options.unknown)
    return Accepted(spool_file(fileobj, fmt=fmt), options)
