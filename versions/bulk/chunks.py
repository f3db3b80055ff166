"""Update and delete by filter or by ids, a chunk at a time (the `update_rows` and
`delete_rows` jobs): each chunk locks the draft, writes set-based and returns its `Outcome`."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from dashboard.bulk.records import Outcome, RowError
from dashboard.errors import ApplicationError, Invalid

from ..copy_on_write import effective_entries, iter_revision_ids
from ..drafts import version_lock_draft
from ..frames import check_metadata_keys, content_hash, frame_content
from ..metadata_schema import MetadataSchema, dataset_metadata_schema
from ..models import DatasetVersion
from . import writes
from .records import error_message, first_uri, row_data_sources
from .writes import batches, delete_staged_into, stage_ids

SETTABLE = ("row_data", "metadata", "attachments")


def update_set_validate(values: Any, schema: MetadataSchema | None = None) -> dict[str, Any]:
    """`set` of a bulk update: row_data, metadata (merged key by key; null removes a key;
    converted and checked against the dataset's `schema`), attachments (replaced). Unique
    fields cannot be set on many rows."""
    if not isinstance(values, dict) or not values:
        raise Invalid('Give the values to set, e.g. {"metadata": {"split": "val"}}.', field="set")
    for name in values:
        if name in ("id", "global_key"):
            raise Invalid(f"{name} is unique and cannot be set on many rows.", field="set")
        if name not in SETTABLE:
            raise Invalid(
                f"Unknown field {name!r}: set row_data, metadata or attachments.", field="set"
            )
    if "row_data" in values and (not isinstance(values["row_data"], str) or not values["row_data"]):
        raise Invalid("row_data must be a non-empty string.", field="set")
    if "metadata" in values:
        if not isinstance(values["metadata"], dict):
            raise Invalid("metadata must be an object.", field="set")
        check_metadata_keys(values["metadata"], field="set")
        if schema:
            values = {**values, "metadata": schema.set_values(values["metadata"], field="set")}
    if "attachments" in values and not isinstance(values["attachments"], list):
        raise Invalid("attachments must be a list of {type, value}.", field="set")
    return values


def filter_validate(
    filters: Any, *, field: str = "filter", schema: MetadataSchema | None = None
) -> Q:
    from ..row_filter import row_filter_q

    if not isinstance(filters, dict):
        raise Invalid(
            'Must be an object of lookups, e.g. {"metadata__split": "train"}.', field=field
        )
    return row_filter_q(filters, schema=schema)


def _typed_filter(filters: dict, version: DatasetVersion) -> Q:
    return filter_validate(filters, schema=dataset_metadata_schema(version.dataset_id))


def updated_content(content: dict, values: dict[str, Any], schema: MetadataSchema | None = None):
    new = dict(content)
    if "metadata" in values:
        meta = {**(content.get("meta") or {}), **values["metadata"]}
        new["meta"] = {k: v for k, v in meta.items() if v is not None}
        if schema:  # a key removed by `set` takes its default again
            new["meta"] = schema.complete(new["meta"], prefix="metadata")
    if "attachments" in values:
        new["attachments"] = values["attachments"]
    if "row_data" in values:
        new["sources"] = row_data_sources(content.get("sources") or [], values)
    return frame_content(new, sources_required=False)


def update_chunk(version_id: str, filters: dict, values: dict, *, after: str, limit: int):
    """Update the next `limit` matching rows after `after` (id order). Returns
    (Outcome, rows seen, last id)."""
    version = version_lock_draft(version_id)
    entries = list(
        data_rows_of_version(version)
        .filter(_typed_filter(filters, version), data_row_id__gt=after)
        .order_by("data_row_id")
        .values_list(
            "data_row_id",
            "data_row__global_key",
            "data_row__row_data",
            "revision__content",
            "revision__content_hash",
        )[:limit]
    )
    outcome = Outcome()
    items = []
    schema = dataset_metadata_schema(version.dataset_id)
    for row_id, gk, row_data, content, old_hash in entries:
        try:
            new = updated_content(content, values, schema)
        except ApplicationError as exc:
            outcome.errors.append(
                RowError(
                    None, error_message(exc), key=row_id, input=values, error_type="validation"
                )
            )
            continue
        h = content_hash(new)
        new_row_data = first_uri(new)
        if h == old_hash and new_row_data == row_data:
            outcome.count("unchanged")
            continue
        outcome.count("updated")
        items.append((row_id, gk, new_row_data, new, h, False, new_row_data != row_data, None))
    replaced = {row_id: content for row_id, _, _, content, _ in entries}
    writes.write_frames_counted(version, items, replaced)
    return outcome, len(entries), entries[-1][0] if entries else after


def delete_filter_chunk(version_id: str, filters: dict, *, after: str, limit: int):
    """Delete the next `limit` matching rows after `after`. Returns (Outcome, seen, last id)."""
    version = version_lock_draft(version_id)
    ids = list(
        data_rows_of_version(version)
        .filter(_typed_filter(filters, version), data_row_id__gt=after)
        .order_by("data_row_id")
        .values_list("data_row_id", flat=True)[:limit]
    )
    outcome = Outcome()
    if ids:
        stage_ids(ids)
        delete_staged_into(version, outcome)
    return outcome, len(ids), ids[-1] if ids else after


def ids_present(version: DatasetVersion, ids: list[str]) -> set[str]:
    """Those of `ids` that are frames of the version."""
    present: set[str] = set()
    for part in batches(list(dict.fromkeys(ids))):
        present.update(row_id for row_id, _ in iter_revision_ids(version, ids=part))
    return present


def delete_ids_chunk(
    version_id: str, ids: list[str], *, offset: int, delete_sources: bool = False
) -> Outcome:
    """Delete the listed ids (a slice of the input starting at `offset`): an id the version
    lacks is a row error `not_found`, a repeated one `duplicate`."""
    version = version_lock_draft(version_id)
    outcome = Outcome()
    present = ids_present(version, ids)
    seen: dict[str, int] = {}
    for position, row_id in enumerate(ids):
        index = offset + position
        if row_id in seen:
            outcome.errors.append(
                RowError(
                    index,
                    f"Duplicate id: also at index {seen[row_id]}.",
                    key=row_id,
                    input=row_id,
                    error_type="duplicate",
                )
            )
        elif row_id not in present:
            outcome.errors.append(
                RowError(
                    index,
                    f"No data row {row_id!r} in this version.",
                    key=row_id,
                    input=row_id,
                    error_type="not_found",
                )
            )
        seen.setdefault(row_id, index)
    if present:
        stage_ids(sorted(present))
        delete_staged_into(version, outcome, positions=seen, delete_sources=delete_sources)
    return outcome


def data_rows_of_version(version: DatasetVersion):
    return effective_entries(version)
