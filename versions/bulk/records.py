"""Data rows and frames as bulk record types: import (create / upsert / sync), update and delete
by filter, export — set-based, on the copy-on-write storage of `versions/services.py`.

A chunk is classified in Python (keys resolved, content built and hashed exactly as
`frames_add` does, unchanged rows skipped), then written set-based through a temp staging table:
PostgreSQL loads it with `COPY`, SQLite with `executemany`, and the same
`INSERT … ON CONFLICT` / `UPDATE … FROM` statements write data rows, shared revisions and the
version's entries on both. Deleting writes tombstones (or drops the draft's own entries when the
version has no ancestors), like `frames_delete`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from dashboard import strict_json
from dashboard.bulk import staging
from dashboard.bulk.fields import Field
from dashboard.bulk.records import Outcome, Record, RecordError, RecordType, RowError
from dashboard.errors import ApplicationError, Invalid

from ..copy_on_write import (
    effective_entries,
    iter_revision_ids,
    nearest_revision_ids,
    version_chain,
)
from ..drafts import version_lock_draft
from ..frames import FRAME_ID_RE, check_metadata_keys, content_hash, frame_content, frame_id_for_uri
from ..models import DataRow, Dataset, DatasetVersion, FrameEntry, FrameRevision

LOOKUP_BATCH = 5000

DATA_ROW_FIELDS = (
    Field("id", "str", max_length=64),
    Field("global_key", "str", max_length=255),
    Field("row_data", "str"),
    Field("metadata", "dict", default=dict),
    Field("attachments", "list", default=list),
)
FRAME_FIELDS = (
    Field("id", "str", max_length=64),
    Field("global_key", "str", max_length=255),
    Field("sources", "list"),
    Field("meta", "dict", default=dict),
    Field("rois", "list", default=list),
    Field("attachments", "list", default=list),
)


def _batches(items: list, size: int = LOOKUP_BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _message(exc: ApplicationError) -> str:
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


# ---------------------------------------------------------------- the target version


def data_rows_version_for_writing(*, dataset: Dataset, user=None) -> DatasetVersion:
    """The current draft of the dataset; without one, a new draft named `draft` (child of the
    latest published version, or a root when there is none)."""
    from ..selectors import version_list
    from ..services import version_create

    draft = version_list(dataset=dataset, only_draft=True).first()
    if draft is not None:
        return draft
    parent = (
        version_list(dataset=dataset, only_published=True).order_by("-published_at", "-id").first()
    )
    return version_create(dataset=dataset, name="draft", parent=parent, user=user)[0]


def _touch(version: DatasetVersion) -> None:
    DatasetVersion.objects.filter(pk=version.pk).update(updated_at=timezone.now())


# ---------------------------------------------------------------- set-based writes

STAGE = "bulk_stage_rows"
STAGE_COLUMNS = [
    ("id", "text"),
    ("global_key", "text"),
    ("row_data", "text"),
    ("content", "json"),
    ("hash", "text"),
    ("source_uris", "text"),
    ("new_row", "bool"),
    ("row_changed", "bool"),
]
IDS = "bulk_stage_ids"


def _now_param():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def canonical_json(content: dict) -> str:
    """The text `frames.content_hash` hashes; stored as is (any JSON text reads back alike)."""
    return strict_json.dumps_sorted(content)


def write_frames(version: DatasetVersion, items: list[tuple]) -> None:
    """Write (id, global_key, row_data, content, hash, new_row, row_changed, text) items: data rows
    inserted or updated, revisions shared by (row, hash), the version's entries pointed at them.
    Unchanged entries are not rewritten (`IS DISTINCT FROM`)."""
    if not items:
        return
    items = sorted(items, key=itemgetter(0))  # id order: each index is written front to back
    staging.temp_table(STAGE, STAGE_COLUMNS)
    staging.load(STAGE, [c for c, _ in STAGE_COLUMNS], map(_stage_row, items))
    rows, revisions, entries = (
        DataRow._meta.db_table,
        FrameRevision._meta.db_table,
        FrameEntry._meta.db_table,
    )
    now = _now_param()
    with connection.cursor() as cursor:
        if any(item[5] for item in items):
            cursor.execute(
                f"INSERT INTO {rows} (id, dataset_id, global_key, row_data, created_at, updated_at)"
                f" SELECT id, %s, global_key, row_data, %s, %s FROM {STAGE} WHERE new_row"
                " ON CONFLICT (id) DO NOTHING",
                [version.dataset_id, now, now],
            )
        if any(item[6] for item in items):
            cursor.execute(
                f"UPDATE {rows} SET row_data = s.row_data, global_key = s.global_key,"
                f" updated_at = %s FROM {STAGE} s WHERE {rows}.id = s.id AND s.row_changed",
                [now],
            )
        cursor.execute(
            f"INSERT INTO {revisions} (data_row_id, content, content_hash, source_uris, created_at)"
            f" SELECT id, content, hash, source_uris, %s FROM {STAGE} WHERE true"
            " ON CONFLICT (data_row_id, content_hash) DO NOTHING",
            [now],
        )
        cursor.execute(
            f"INSERT INTO {entries} (version_id, data_row_id, revision_id)"
            f" SELECT %s, s.id, r.id FROM {STAGE} s JOIN {revisions} r"
            "  ON r.data_row_id = s.id AND r.content_hash = s.hash WHERE true"
            " ON CONFLICT (version_id, data_row_id)"
            " DO UPDATE SET revision_id = excluded.revision_id"
            f" WHERE {entries}.revision_id IS DISTINCT FROM excluded.revision_id",
            [version.pk],
        )
        staging.empty(STAGE)


def _stage_row(item: tuple) -> tuple:
    frame_id, gk, row_data, content, h, new_row, row_changed, text = item
    uris = "\n".join(s["uri"] for s in content["sources"])
    return (
        frame_id, gk, row_data, text or canonical_json(content), h, f"\n{uris}\n", new_row,
        row_changed,
    )  # fmt: skip


def _label_relations() -> list[tuple[str, str]]:
    """(table, data-row column) of other apps' labels on data rows, found through the model
    graph so this app needs not import them."""
    found = []
    for relation in DataRow._meta.related_objects:
        if relation.related_model._meta.app_label == "versions":
            continue
        if relation.get_accessor_name() == "labels":
            found.append((relation.related_model._meta.db_table, relation.field.column))
    return found


def delete_staged(version: DatasetVersion) -> tuple[int, list[str]]:
    """Delete from the version the frames whose ids are in the ids staging table, except rows
    that carry labels. Returns (deleted, refused ids)."""
    entries = FrameEntry._meta.db_table
    refused: list[str] = []
    with connection.cursor() as cursor:
        for table, column in _label_relations():
            cursor.execute(f"SELECT DISTINCT b.id FROM {IDS} b JOIN {table} l ON l.{column} = b.id")
            refused += [row[0] for row in cursor.fetchall()]
            cursor.execute(f"DELETE FROM {IDS} WHERE id IN (SELECT {column} FROM {table})")
        cursor.execute(f"SELECT COUNT(*) FROM {IDS}")
        deleted = int(cursor.fetchone()[0])
        if len(version_chain(version)) == 1:
            cursor.execute(
                f"DELETE FROM {entries} WHERE version_id = %s"
                f" AND data_row_id IN (SELECT id FROM {IDS})",
                [version.pk],
            )
        else:
            cursor.execute(
                f"INSERT INTO {entries} (version_id, data_row_id, revision_id)"
                f" SELECT %s, id, NULL FROM {IDS} WHERE true"
                " ON CONFLICT (version_id, data_row_id) DO UPDATE SET revision_id = NULL",
                [version.pk],
            )
        cursor.execute(f"DELETE FROM {IDS}")
    return deleted, sorted(set(refused))


def _delete_staged_into(
    version: DatasetVersion, outcome: Outcome, *, positions: dict[str, int] | None = None
) -> None:
    """Delete the staged ids (see `delete_staged`) and record the result in `outcome`: the
    count, and a row error per refused id (with its input position when known)."""
    deleted, refused = delete_staged(version)
    outcome.count("deleted", deleted)
    for row_id in refused:
        outcome.errors.append(
            RowError(
                positions[row_id] if positions else None,
                "Not deleted: the data row has labels.",
                key=row_id,
                input=row_id if positions else None,
                error_type="in_use",
            )
        )
    if deleted:
        _touch(version)


def _stage_ids_from_sql(sql: str, params: list) -> None:
    staging.temp_table(IDS, [("id", "text")])
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {IDS} (id) {sql}", params)


def _stage_ids(ids: list[str]) -> None:
    staging.temp_table(IDS, [("id", "text")])
    staging.load(IDS, ["id"], ((i,) for i in ids))


def _fail(
    outcome: Outcome, record: Record, key: str, message: str, error_type: str = "validation"
) -> None:
    outcome.errors.append(
        RowError(
            record.index,
            message,
            key=str(record.values.get(key) or ""),
            input=record.raw,
            error_type=error_type,
        )
    )


def _new_data_row_content(values: dict[str, Any]) -> dict:
    """`frame_content` of a new data row, without its checks that converted values always
    pass (row_data a string, metadata a dict, attachments a list)."""
    if not values.get("row_data"):
        raise RecordError("row_data: this field is required to create a data row.")
    meta = values.get("metadata") or {}
    try:
        check_metadata_keys(meta, field="meta")
    except ApplicationError as exc:
        raise RecordError(_message(exc)) from None
    return {
        "sources": [{"id": "default", "uri": values["row_data"]}],
        "meta": meta,
        "rois": [],
        "attachments": values.get("attachments") or [],
    }


def _owners(global_keys: list[str]) -> dict[str, tuple[str, str]]:
    """global_key → (data row id, dataset id) of the rows that hold these keys."""
    found = staging.select_in(
        f"SELECT global_key, id, dataset_id FROM {DataRow._meta.db_table} WHERE global_key {{in}}",
        global_keys,
    )
    return {gk: (pk, ds) for gk, pk, ds in found}


def _rows(ids: list[str]) -> dict[str, tuple[str, str | None, str]]:
    """id → (dataset id, global_key, row_data) of the data rows that exist."""
    found = staging.select_in(
        f"SELECT id, dataset_id, global_key, row_data FROM {DataRow._meta.db_table}"
        " WHERE id {in}",
        ids,
    )
    return {pk: (ds, gk, row_data) for pk, ds, gk, row_data in found}


def _revisions(revision_ids: list[int]) -> dict[int, tuple[str, dict]]:
    """revision id → (content hash, content)."""
    found = staging.select_in(
        f"SELECT id, content_hash, content FROM {FrameRevision._meta.db_table} WHERE id {{in}}",
        revision_ids,
    )
    return {
        pk: (h, strict_json.loads_text(content) if isinstance(content, str) else content)
        for pk, h, content in found
    }


# ---------------------------------------------------------------- the chunk writer


class FrameWriter:
    """Writes data-row or frame records into one draft version (see `dashboard.bulk`)."""

    def __init__(self, params: dict[str, Any], *, shape: str):
        self.version_id = params["version_id"]
        self.shape = shape
        self._dataset_id: str | None = None

    @property
    def dataset_id(self) -> str:
        if self._dataset_id is None:
            self._dataset_id = (
                DatasetVersion.objects.filter(pk=self.version_id)
                .values_list("dataset_id", flat=True)
                .first()
            )
            if self._dataset_id is None:
                raise Invalid(f"No version with id {self.version_id!r}.", field="version")
        return self._dataset_id

    # -- shape

    def uri(self, values: dict[str, Any]) -> str | None:
        if self.shape == "data_rows":
            return values.get("row_data") or None
        sources = values.get("sources")
        if isinstance(sources, list) and sources and isinstance(sources[0], dict):
            uri = sources[0].get("uri")
            return uri if isinstance(uri, str) and uri else None
        return None

    def key_of(self, values: dict[str, Any], key: str) -> str | None:
        if key == "global_key":
            return values.get("global_key") or None
        if values.get("id"):
            return values["id"]
        uri = self.uri(values)
        return frame_id_for_uri(dataset_id=self.dataset_id, uri=uri) if uri else None

    def content(self, values: dict[str, Any], base: dict | None) -> dict:
        """The frame content the record asks for: given fields replace, others keep their
        value (or take their default for a new row). Validated like `frames_add`."""
        if self.shape == "data_rows" and base is None:
            return _new_data_row_content(values)
        if self.shape == "data_rows":
            sources = list(base.get("sources") or [])
            if "row_data" in values and (not sources or sources[0]["uri"] != values["row_data"]):
                first = {"id": sources[0]["id"]} if sources else {}
                sources[:1] = [{**first, "uri": values["row_data"]}]
            frame = {
                "sources": sources,
                "meta": values.get("metadata", base.get("meta") or {}),
                "rois": base.get("rois") or [],
                "attachments": values.get("attachments", base.get("attachments") or []),
            }
        else:
            fields = ("sources", "meta", "rois", "attachments")
            if base is None:
                if not values.get("sources"):
                    raise RecordError("sources: this field is required to create a frame.")
                frame = {f: values[f] for f in fields if f in values}
            else:
                frame = {f: values.get(f, base.get(f)) for f in fields}
        try:
            return frame_content(frame)
        except ApplicationError as exc:
            raise RecordError(_message(exc)) from None

    # -- import

    def write(self, records: list[Record], *, mode: str, key: str) -> Outcome:
        version = version_lock_draft(self.version_id)
        outcome = Outcome()
        owner_of = _owners([gk for r in records if (gk := r.values.get("global_key"))])
        plan = self._plan(records, key, owner_of, outcome)
        ids = list(dict.fromkeys(frame_id for _, frame_id in plan))
        rows = _rows(ids)
        current = nearest_revision_ids(version_chain(version), ids)
        revisions = _revisions(list(current.values()))
        items = self._classify(
            plan, mode, key, outcome, dataset_id=version.dataset_id, owner_of=owner_of,
            rows=rows, current=current, revisions=revisions,
        )  # fmt: skip
        write_frames(version, items)
        if items:
            _touch(version)
        return outcome

    def _id_of(self, values: dict[str, Any]) -> str | None:
        """The given id, or the one derived from the first source URI."""
        if values.get("id"):
            return values["id"]
        uri = self.uri(values)
        return frame_id_for_uri(dataset_id=self.dataset_id, uri=uri) if uri else None

    def _plan(self, records, key, owner_of, outcome) -> list[tuple[Record, str]]:
        """Each record's data row id (by its global_key's owner, given, or derived)."""
        plan = []
        for record in records:
            values = record.values
            if key == "global_key":
                gk = values.get("global_key")
                if not gk:
                    _fail(outcome, record, key, "global_key: required when importing with "
                          "key=global_key.")  # fmt: skip
                    continue
                owner = owner_of.get(gk)
                frame_id = owner[0] if owner else self._id_of(values)
                if owner and values.get("id") and values["id"] != owner[0]:
                    _fail(
                        outcome, record, key,
                        f"global_key {gk!r} belongs to data row {owner[0]!r}, "
                        f"not {values['id']!r}.",
                    )  # fmt: skip
                    continue
            else:
                frame_id = self._id_of(values)
            if not frame_id:
                need = "row_data" if self.shape == "data_rows" else "sources"
                _fail(outcome, record, key, f"id: give an id, or {need} to derive it from.")
                continue
            if not FRAME_ID_RE.match(frame_id):
                _fail(outcome, record, key, "id: 1-64 letters, digits, '_', '.', ':' or '-'.")
                continue
            plan.append((record, frame_id))
        return plan

    def _classify(
        self, plan, mode, key, outcome, *, dataset_id, owner_of, rows, current, revisions
    ) -> list[tuple]:
        """Items to write for the planned records (created / updated); unchanged rows and
        row errors are counted in `outcome`."""
        claimed_ids: dict[str, int] = {}
        claimed_keys: dict[str, str] = {}
        created = updated = unchanged = 0
        items = []
        for record, frame_id in plan:
            values = record.values
            row = rows.get(frame_id)
            gk = values.get("global_key")
            if row is not None and row[0] != dataset_id:
                _fail(outcome, record, key, f"Data row {frame_id!r} belongs to another dataset.",
                      "register")  # fmt: skip
                continue
            if frame_id in claimed_ids:
                first = claimed_ids[frame_id]
                _fail(
                    outcome, record, key,
                    f"Records {first} and {record.index} are the same data row {frame_id!r}; "
                    f"record {first} is used.",
                    "duplicate",
                )  # fmt: skip
                continue
            if gk:
                owner = owner_of.get(gk)
                if owner is not None and owner[0] != frame_id:
                    _fail(
                        outcome, record, key,
                        f"global_key {gk!r} is already used by data row {owner[0]!r}.",
                        "register",
                    )  # fmt: skip
                    continue
                if claimed_keys.get(gk, frame_id) != frame_id:
                    _fail(
                        outcome, record, key,
                        f"global_key {gk!r} is given to two data rows in this file.",
                        "duplicate",
                    )  # fmt: skip
                    continue
            if key == "global_key" and row is not None and row[1] and row[1] != gk:
                _fail(
                    outcome, record, key,
                    f"Data row {frame_id!r} already has global_key {row[1]!r}.",
                    "register",
                )  # fmt: skip
                continue
            present = frame_id in current
            if mode == "create" and present:
                _fail(outcome, record, key, f"already exists (data row {frame_id!r}).", "exists")
                continue
            base = revisions[current[frame_id]] if present else None
            try:
                content = self.content(values, base[1] if base else None)
            except RecordError as exc:
                _fail(outcome, record, key, exc.message, exc.error_type)
                continue
            text = canonical_json(content)
            h = hashlib.sha256(text.encode()).hexdigest()  # == frames.content_hash(content)
            row_data = content["sources"][0]["uri"]
            final_key = gk or (row[1] if row else None)
            row_changed = row is not None and (row[2] != row_data or row[1] != final_key)
            claimed_ids[frame_id] = record.index
            if gk:
                claimed_keys[gk] = frame_id
            if present and base[0] == h and not row_changed:
                unchanged += 1
                continue
            if present:
                updated += 1
            else:
                created += 1
            items.append(
                (frame_id, final_key, row_data, content, h, row is None, row_changed, text)
            )
        for name, n in (("created", created), ("updated", updated), ("unchanged", unchanged)):
            if n:
                outcome.count(name, n)
        return items

    def delete_missing(self, keys_table: str, *, key: str) -> Outcome:
        version = version_lock_draft(self.version_id)
        entries = FrameEntry._meta.db_table
        if key == "global_key":
            missing = (
                f"NOT EXISTS (SELECT 1 FROM {keys_table} k JOIN {DataRow._meta.db_table} d"
                f" ON d.global_key = k.key WHERE d.id = {entries}.data_row_id)"
            )
        else:
            missing = (
                f"NOT EXISTS (SELECT 1 FROM {keys_table} k WHERE k.key = {entries}.data_row_id)"
            )
        sql, params = (
            effective_entries(version).extra(where=[missing]).values("data_row_id").query
        ).sql_with_params()
        _stage_ids_from_sql(sql, list(params))
        outcome = Outcome()
        _delete_staged_into(version, outcome)
        return outcome


def data_row_writer(params: dict[str, Any]) -> FrameWriter:
    return FrameWriter(params, shape="data_rows")


def frame_writer(params: dict[str, Any]) -> FrameWriter:
    return FrameWriter(params, shape="frames")


DATA_ROWS = RecordType(
    name="data_rows",
    label="data rows",
    fields=DATA_ROW_FIELDS,
    keys=("global_key", "id"),
    default_key="global_key",
    writer=data_row_writer,
    key_fields=("id", "global_key", "row_data"),
)
FRAMES = RecordType(
    name="frames",
    label="frames",
    fields=FRAME_FIELDS,
    keys=("id", "global_key"),
    default_key="id",
    writer=frame_writer,
    key_fields=("id", "global_key", "sources"),
)
RECORD_TYPES = {DATA_ROWS.name: DATA_ROWS, FRAMES.name: FRAMES}


# ---------------------------------------------------------------- update and delete by filter

SETTABLE = ("row_data", "metadata", "attachments")


def update_set_validate(values: Any) -> dict[str, Any]:
    """`set` of a bulk update: row_data, metadata (merged key by key; null removes a key),
    attachments (replaced). Unique fields cannot be set on many rows."""
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
    if "attachments" in values and not isinstance(values["attachments"], list):
        raise Invalid("attachments must be a list of {type, value}.", field="set")
    return values


def filter_validate(filters: Any, *, field: str = "filter") -> Q:
    from ..row_filter import row_filter_q

    if not isinstance(filters, dict):
        raise Invalid(
            'Must be an object of lookups, e.g. {"metadata__split": "train"}.', field=field
        )
    return row_filter_q(filters)


def updated_content(content: dict, values: dict[str, Any]) -> dict:
    new = dict(content)
    if "metadata" in values:
        meta = {**(content.get("meta") or {}), **values["metadata"]}
        new["meta"] = {k: v for k, v in meta.items() if v is not None}
    if "attachments" in values:
        new["attachments"] = values["attachments"]
    if "row_data" in values:
        sources = list(content["sources"])
        if sources[0]["uri"] != values["row_data"]:
            sources[0] = {"id": sources[0]["id"], "uri": values["row_data"]}
        new["sources"] = sources
    return frame_content(new)


def update_chunk(version_id: str, filters: dict, values: dict, *, after: str, limit: int):
    """Update the next `limit` matching rows after `after` (id order). Returns
    (Outcome, rows seen, last id)."""
    version = version_lock_draft(version_id)
    entries = list(
        data_rows_of_version(version)
        .filter(filter_validate(filters), data_row_id__gt=after)
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
    for row_id, gk, row_data, content, old_hash in entries:
        try:
            new = updated_content(content, values)
        except ApplicationError as exc:
            outcome.errors.append(
                RowError(None, _message(exc), key=row_id, input=values, error_type="validation")
            )
            continue
        h = content_hash(new)
        new_row_data = new["sources"][0]["uri"]
        if h == old_hash and new_row_data == row_data:
            outcome.count("unchanged")
            continue
        outcome.count("updated")
        items.append((row_id, gk, new_row_data, new, h, False, new_row_data != row_data, None))
    write_frames(version, items)
    if items:
        _touch(version)
    return outcome, len(entries), entries[-1][0] if entries else after


def delete_filter_chunk(version_id: str, filters: dict, *, after: str, limit: int):
    """Delete the next `limit` matching rows after `after`. Returns (Outcome, seen, last id)."""
    version = version_lock_draft(version_id)
    ids = list(
        data_rows_of_version(version)
        .filter(filter_validate(filters), data_row_id__gt=after)
        .order_by("data_row_id")
        .values_list("data_row_id", flat=True)[:limit]
    )
    outcome = Outcome()
    if ids:
        _stage_ids(ids)
        _delete_staged_into(version, outcome)
    return outcome, len(ids), ids[-1] if ids else after


def delete_ids_chunk(version_id: str, ids: list[str], *, offset: int) -> Outcome:
    """Delete the listed ids (a slice of the input starting at `offset`)."""
    version = version_lock_draft(version_id)
    outcome = Outcome()
    present: set[str] = set()
    for part in _batches(list(dict.fromkeys(ids))):
        present.update(row_id for row_id, _ in iter_revision_ids(version, ids=part))
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
        _stage_ids(sorted(present))
        _delete_staged_into(version, outcome, positions=seen)
    return outcome


def data_rows_of_version(version: DatasetVersion):
    return effective_entries(version)


# ---------------------------------------------------------------- export


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
