"""Export of a version's data rows or frames as records (the fields the import reads), and the
streamed export in CSV, JSON or NDJSON with an optional projection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q

from dashboard.bulk.export import export_stream
from dashboard.bulk.formats import format_detect

from ..copy_on_write import effective_entries, iter_revision_ids
from ..models import DataRow, DatasetVersion, FrameRevision
from .records import RECORD_TYPES


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
                    "row_data": content["sources"][0]["uri"],
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
    return fmt, export_stream(records, fmt=fmt, fields=fields)
