"""Data rows and frames as bulk record types (fields, keys) and their chunk writer: a chunk is
classified in Python (keys resolved, content built, validated and hashed, unchanged rows
skipped), then written by `writes`. The one frame-write path: imports, `frames_add` and
`frames_update` (so every door of those verbs) write through `FrameWriter`; deletes of every
door go through `writes.delete_staged`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from dashboard.bulk.fields import Field
from dashboard.bulk.records import Outcome, Record, RecordError, RecordType, RowError
from dashboard.errors import ApplicationError, Invalid

from ..copy_on_write import effective_entries, nearest_revision_ids, version_chain
from ..drafts import version_lock_draft
from ..frames import (
    FRAME_ID_RE,
    check_metadata_keys,
    frame_content,
    frame_id_for_uri,
    merge_content,
)
from ..metadata_schema import (
    MetadataSchema,
    dataset_metadata_schema,
    metadata_merge,
    schema_infer,
    without_nulls,
)
from ..models import DataRow, DatasetVersion, FrameEntry
from . import writes
from .writes import (
    canonical_json,
    delete_staged_into,
    key_owners,
    revisions_found,
    rows_found,
    stage_ids_from_sql,
)

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


def error_message(exc: ApplicationError) -> str:
    """An application error as one row-error message, `field: message`."""
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


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
    pass (row_data a string, metadata a dict, attachments a list); the metadata is checked
    against the schema by the caller. Without row_data the row has no source: a metadata-only
    record (its id given, as the client does for the ORM seed's flat records)."""
    meta = values.get("metadata") or {}
    try:
        check_metadata_keys(meta, field="meta")
    except ApplicationError as exc:
        raise RecordError(error_message(exc)) from None
    return {
        "sources": [{"id": "default", "uri": values["row_data"]}] if values.get("row_data") else [],
        "meta": meta,
        "rois": [],
        "attachments": values.get("attachments") or [],
    }


def first_uri(content: dict) -> str:
    """A data row's row_data: its first source's URI, "" for a metadata-only row."""
    sources = content.get("sources") or []
    return sources[0]["uri"] if sources else ""


def row_data_sources(sources: list[dict], values: dict[str, Any]) -> list[dict]:
    """The sources after a write that gives `row_data`: the first source's URI replaced (a
    metadata-only row gains one). An empty row_data (a blank CSV cell) changes nothing."""
    uri = values.get("row_data")
    if not uri:
        return list(sources)
    if sources and sources[0]["uri"] == uri:
        return list(sources)
    first = {"id": sources[0]["id"]} if sources else {"id": "default"}
    return [{**first, "uri": uri}, *sources[1:]]


# ---------------------------------------------------------------- the chunk writer


class FrameWriter:
    """Writes data-row or frame records into one draft version (see `dashboard.bulk`)."""

    def __init__(self, params: dict[str, Any], *, shape: str):
        self.version_id = params["version_id"]
        self.shape = shape
        # How a frame record meets the frame it changes: "fields" (an import: given fields
        # replace, others keep their value), "replace" (`frames_add`: the record is the whole
        # frame) or "deep" (`frames_update`: `merge_content`, meta merged key by key).
        self.merge = params.get("merge", "fields")
        self._dataset_id: str | None = None
        self._schema: MetadataSchema | None = None
        # `?infer_schema=true`: a dataset without a schema gets one from the first chunk.
        self.infer_schema = bool(params.get("infer_schema"))
        self.meta_field = "metadata" if shape == "data_rows" else "meta"

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

    @property
    def schema(self) -> MetadataSchema:
        """The dataset's metadata schema, compiled once per writer (once per import)."""
        if self._schema is None:
            self._schema = dataset_metadata_schema(self.dataset_id)
        return self._schema

    def _infer_schema(self, records: list[Record]) -> None:
        """Give the dataset, which has no schema yet, the one its records' metadata suggests
        (`schema_infer`; in the chunk's transaction, so a rolled-back import sets none)."""
        from ..models import Dataset
        from ..services.datasets import dataset_set_metadata_schema

        given = (r.values.get(self.meta_field) for r in records)
        fields = schema_infer(meta for meta in given if isinstance(meta, dict))
        if fields:
            dataset = Dataset.objects.get(pk=self.dataset_id)
            self._schema = MetadataSchema(
                dataset_set_metadata_schema(dataset=dataset, fields=fields).metadata_schema
            )

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
        value (or take their default for a new row), and a data row's given metadata merges
        key by key (a null removes the key); see `merge` for frames. The metadata is converted
        and checked against the dataset's schema; the whole validated by `frame_content`."""
        name = self.meta_field
        try:
            if name in values:
                given = values[name]
                clean = self.schema.clean(given, prefix=name)
                if clean is not given:
                    values = {**values, name: clean}
            frame = self._frame(values, base)
            frame["meta"] = self.schema.complete(frame.get("meta") or {}, prefix=name)
            # A data row may have no source; so may a frame that is such a row (changed
            # through the frames door) as long as no source was given.
            sourceless = self.shape == "data_rows" or (
                base is not None and not base.get("sources") and "sources" not in values
            )
            return frame_content(frame, sources_required=not sourceless)
        except ApplicationError as exc:
            raise RecordError(error_message(exc)) from None

    def _frame(self, values: dict[str, Any], base: dict | None) -> dict:
        if self.shape == "data_rows" and base is None:
            given = values.get("metadata")
            return _new_data_row_content(
                {**values, "metadata": without_nulls(given)} if given else values
            )
        if self.shape == "data_rows":
            sources = list(base.get("sources") or [])
            sources = row_data_sources(sources, values)
            meta = base.get("meta") or {}
            return {
                "sources": sources,
                "meta": metadata_merge(meta, values["metadata"]) if "metadata" in values else meta,
                "rois": base.get("rois") or [],
                "attachments": values.get("attachments", base.get("attachments") or []),
            }
        fields = ("sources", "meta", "rois", "attachments")
        if base is None or self.merge == "replace":
            if not values.get("sources"):
                raise RecordError("sources: this field is required to create a frame.")
            frame = {f: values[f] for f in fields if f in values}
            return frame
        if self.merge == "deep":
            return merge_content(base, values)
        # A frame import gives whole fields, meta too (as `frames_add`; PATCH merges).
        return {f: values.get(f, base.get(f)) for f in fields}

    # -- import

    def write(self, records: list[Record], *, mode: str, key: str) -> Outcome:
        version = version_lock_draft(self.version_id)
        if self.infer_schema and not self.schema:
            self._infer_schema(records)
        outcome = Outcome()
        owner_of = key_owners([gk for r in records if (gk := r.values.get("global_key"))])
        plan = self._plan(records, key, owner_of, outcome)
        ids = list(dict.fromkeys(frame_id for _, frame_id in plan))
        rows = rows_found(ids)
        current = nearest_revision_ids(version_chain(version), ids)
        revisions = revisions_found(list(current.values()))
        items = self._classify(
            plan, mode, key, outcome, dataset_id=version.dataset_id, owner_of=owner_of,
            rows=rows, current=current, revisions=revisions,
        )  # fmt: skip
        replaced = {i[0]: revisions[current[i[0]]][1] for i in items if i[0] in current}
        writes.write_frames_counted(version, items, replaced)
        return outcome

    def _id_of(self, values: dict[str, Any]) -> str | None:
        """The given id, or the one derived from the first source URI; a data row without
        row_data (a metadata-only record) derives it from its global_key."""
        if values.get("id"):
            return values["id"]
        uri = self.uri(values)
        if not uri and self.shape == "data_rows" and values.get("global_key"):
            uri = "global_key\x00" + values["global_key"]
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
                need = "row_data or global_key" if self.shape == "data_rows" else "sources"
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
            row_data = first_uri(content)
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
        stage_ids_from_sql(sql, list(params))
        outcome = Outcome()
        delete_staged_into(version, outcome)
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
    dotted="metadata",
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
