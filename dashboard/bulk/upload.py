"""Taking a bulk input in: the size limit, early checks that answer 400 before a job exists
(empty file, not UTF-8, bad CSV header), and spooling to storage for the job to read."""

from __future__ import annotations

import json
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage

from dashboard.errors import Invalid
from dashboard.ids import new_id

from .readers import BOM, csv_header
from .records import RecordType, check_columns

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
