"""Export of a version's data rows or frames as records (the fields the import reads), and the
streamed export in CSV, JSON or NDJSON with an optional projection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import chain, islice
from typing import Any

from django.db.models import Q

from dashboard.bulk.export import export_stream
from dashboard.bulk.formats import format_detect

from ..copy_on_write import effective_entries, iter_revision_ids
from ..metadata_schema import MetadataSchema, dataset_metadata_schema, text_needs_quotes
from ..models import DataRow, DatasetVersion, FrameRevision
from .records import RECORD_TYPES, first_uri


def export_records(
    version: DatasetVersion, *, shape: str, q: Q | None = None, window: int = 2000
) -> Iterator[dict[str, Any]]:
    """The version's frames as data-row or frame records (the fields the import reads), in id
    order, a window at a time; `q` (a `row_filter_q`) narrows them."""
    q = q if q else None
    after = ""
    while True:
        if q is None:
            pairs = []
            for pair in iter_revision_ids(version, after=after, window=window):
                pairs.append(pair)
                if len(pairs) >= window:
                    break
        else:
            pairs = list(
                effective_entries(version)
                .filter(q, data_row_id__gt=after)
                .order_by("data_row_id")
                .values_list("data_row_id", "revision_id")[:window]
            )
        if not pairs:
            return
        contents = dict(
            FrameRevision.objects.filter(pk__in=[r for _, r in pairs]).values_list("pk", "content")
        )
        keys = dict(
            DataRow.objects.filter(pk__in=[d for d, _ in pairs]).values_list("pk", "global_key")
        )
        for row_id, revision_id in pairs:
            content = contents[revision_id]
            if shape == "data_rows":
                yield {
                    "id": row_id,
                    "global_key": keys.get(row_id),
                    "row_data": first_uri(content),
                    "metadata": content.get("meta") or {},
                    "attachments": content.get("attachments") or [],
                }
            else:
                yield {
                    "id": row_id,
                    "global_key": keys.get(row_id),
                    "sources": content.get("sources") or [],
                    "meta": content.get("meta") or {},
                    "rois": content.get("rois") or [],
                    "attachments": content.get("attachments") or [],
                }
        after = pairs[-1][0]
        if len(pairs) < window:
            return


def rows_export(
    *,
    version: DatasetVersion | None,
    record_type: str,
    format: str | None,
    q=None,
    projection: list[list[str]] | None = None,
) -> tuple[str, Iterator[str]]:
    """(format, text pieces) of the version's data rows or frames, optionally filtered (`q`
    from `row_filter_q`) and projected; an empty export when the dataset has no version yet.
    Without a projection the fields are exactly those the import reads."""
    from ..projection import project

    fmt = format_detect(format=format or "ndjson")
    fields = RECORD_TYPES[record_type].field_names
    records = export_records(version, shape=record_type, q=q) if version is not None else iter(())
    if projection:
        fields = list(dict.fromkeys(path[0] for path in projection))
        records = (project(r, projection) for r in records)
    elif fmt == "csv" and record_type == "data_rows":
        schema = dataset_metadata_schema(version.dataset_id) if version is not None else None
        fields, records = metadata_columns(records, fields, schema)
    return fmt, export_stream(records, fmt=fmt, fields=fields)


SCAN_ROWS = 1000  # the rows whose metadata keys become columns (with the schema's fields)…
MAX_KEY_COLUMNS = 200  # …at most this many; other keys stay in the `metadata` column


def metadata_columns(
    records: Iterator[dict], fields: list[str], schema: MetadataSchema | None
) -> tuple[list[str], Iterator[dict]]:
    """CSV columns `metadata.<key>`: one per field of the schema (in its order), then one per
    other key met in the first SCAN_ROWS rows (in the order met), at most MAX_KEY_COLUMNS in
    all. The header is written before the rows stream, so keys that only later rows have —
    or past the limit — stay in the `metadata` column as JSON: nothing is lost, and the
    import reads both. Free-form text that would read back as another JSON value (`28`,
    `true`, `""`) is written JSON-quoted."""
    head = list(islice(records, SCAN_ROWS))
    typed = schema.fields if schema else {}
    keys = dict.fromkeys(list(typed)[:MAX_KEY_COLUMNS])
    for record in head:
        for key in record.get("metadata") or ():
            if len(keys) >= MAX_KEY_COLUMNS:
                break
            keys.setdefault(key)
    at = fields.index("metadata")
    columns = [*fields[:at], *(f"metadata.{k}" for k in keys), *fields[at:]]

    def flat(record: dict) -> dict:
        meta = record.get("metadata") or {}
        out = {**record, "metadata": None}
        rest = {}
        for key, value in meta.items():
            if key not in keys:
                rest[key] = value
            elif isinstance(value, str) and key not in typed and text_needs_quotes(value):
                out[f"metadata.{key}"] = json.dumps(value, ensure_ascii=False)
            else:
                out[f"metadata.{key}"] = value
        if rest:
            out["metadata"] = rest
        return out

    return columns, (flat(r) for r in chain(head, records))
