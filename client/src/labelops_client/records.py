"""ORM-style records in bulk (the Batch Operations seed): `Dataset`, its `data_rows`
collection (bulk create/upsert/sync, find, update, delete, export, import) and `DataRow`."""

from __future__ import annotations

import inspect
import json
import os
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from .client import Resource, Task, parse_time
from .errors import InvalidInput, NotFound

ROW_FIELDS = ("id", "global_key", "row_data", "metadata", "attachments")
FILTER_FIELDS = ("id", "global_key", "row_data", "created_at", "updated_at", "metadata")
SETTABLE = ("row_data", "attachments")  # `save()` sends these as they are; others are metadata


class DataRow:
    """A data row (`.uid`, `.global_key`, `.row_data`, `.metadata`, `.attachments`,
    `.created_at`); metadata fields read and write as attributes too (`row.age`,
    `row.age = 31`), and `save()` / `delete()` act on the one record, as ORM records do."""

    def __init__(self, body: dict, rows: DataRows | None = None) -> None:
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "_rows", rows)
        object.__setattr__(self, "_changed", {})

    uid = property(lambda self: self.body["id"])
    id = uid
    global_key = property(lambda self: self.body.get("global_key"))
    row_data = property(lambda self: self.body.get("row_data"))
    metadata = property(lambda self: self.body.get("metadata") or {})
    attachments = property(lambda self: self.body.get("attachments") or [])

    @property
    def created_at(self) -> datetime | None:
        return parse_time(self.body.get("created_at"))

    @property
    def updated_at(self) -> datetime | None:
        return parse_time(self.body.get("updated_at"))

    def __getattr__(self, name: str) -> Any:
        metadata = self.__dict__.get("body", {}).get("metadata") or {}
        if name in metadata:
            return metadata[name]
        raise AttributeError(name)

    def __getitem__(self, name: str) -> Any:
        """`record["name"]`: a field of the flat record (`model_dump()`)."""
        return self.model_dump()[name]

    def __setattr__(self, name: str, value: Any) -> None:
        """`row.field = value`: row_data and attachments as they are, anything else a metadata
        field (sent by `save()`); id, global_key and the times cannot change."""
        if name in ("uid", "id", "global_key", "created_at", "updated_at", "metadata"):
            raise AttributeError(f"{name} cannot be set on a saved record.")
        if name in SETTABLE:
            self.body[name] = value
            self._changed[name] = value
            return
        metadata = self.body.setdefault("metadata", {})
        metadata[name] = value
        self._changed.setdefault("metadata", {})[name] = value

    def _collection(self) -> DataRows:
        if self._rows is None:
            raise InvalidInput("This record belongs to no dataset's data_rows.", status=400)
        return self._rows

    def save(self) -> DataRow:
        """The ORM's `record.save()`: the fields set since it was read, written to this row
        (metadata merged key by key, a field set to None removed); a no-op when none were."""
        if self._changed:
            rows = self._collection()
            result = rows.update({"id__in": [self.uid]}, dict(self._changed))
            if result.errors:
                raise InvalidInput(result.errors[0].get("message", "not saved"), status=400)
            object.__setattr__(self, "_changed", {})
        return self

    def delete(self) -> None:
        """The ORM's `record.delete()`: delete this row."""
        result = self._collection().delete(ids=[self.uid])
        if result.errors:
            raise InvalidInput(result.errors[0].get("message", "not deleted"), status=400)

    def model_dump(self) -> dict:
        """The row as a flat dict (the ORM's `model_dump()`): fields, then metadata."""
        flat = {k: v for k, v in self.body.items() if k != "metadata"}
        return {**flat, **self.metadata}

    def __repr__(self) -> str:
        return f"<DataRow {self.uid} {self.global_key!r}>"


@dataclass
class BulkResult:
    """What a bulk write did: counts and the per-row `errors` `[{index, key, message, …}]`."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    errors: list[dict] = field(default_factory=list)
    task: Task | None = None
    _loader: Callable[[], list[DataRow]] | None = field(default=None, repr=False)
    _records: list[DataRow] | None = field(default=None, repr=False)

    @property
    def records(self) -> list[DataRow]:
        """The written records, read back in the input's order (the ORM's `bulk_create`
        returns them); a failed record is not among them. Read on first use."""
        if self._records is None:
            self._records = self._loader() if self._loader else []
        return self._records

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[DataRow]:
        return iter(self.records)

    def __getitem__(self, index: int) -> DataRow:
        return self.records[index]

    def __bool__(self) -> bool:
        return True

    @classmethod
    def of(cls, task: Task) -> BulkResult:
        task.wait_till_done()
        counts = task.counts
        errors = task.errors() if counts.get("failed") or task.status != "succeeded" else []
        return cls(
            **{k: int(counts.get(k, 0)) for k in ("created", "updated", "unchanged", "deleted")},
            failed=int(counts.get("failed", 0)),
            errors=errors,
            task=task,
        )


class DataRows:
    """`dataset.data_rows`: the dataset's records, written and read in bulk."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.client = dataset.client
        self.path = f"datasets/{dataset.uid}/data-rows/"

    def _import(self, records: Iterable[dict], **options: str) -> BulkResult:
        sent = [as_record(r) for r in records]
        if options.get("key") is None:
            options.pop("key", None)
            if any(not r.get("global_key") for r in sent):
                options["key"] = "id"  # records without a global_key: by (given/derived) id
        body = {"records": sent}
        task = Task(self.client, self.client.post(self.path + "import/", body, **options).json())
        result = BulkResult.of(task)
        result._loader = lambda: self._read_back(sent, result.errors)
        return self._finish(result, options.get("on_error"))

    def _read_back(self, sent: list[dict], errors: list[dict]) -> list[DataRow]:
        """The rows of the records that did not fail, in their order (by id, global_key or
        row_data, whichever the record has), read 100 at a time."""
        failed = {e.get("index") for e in errors}
        wanted = [(i, r) for i, r in enumerate(sent) if i not in failed]
        found: dict[tuple[str, str], DataRow] = {}
        for name in ("id", "global_key", "row_data"):
            values = list(dict.fromkeys(r[name] for _, r in wanted if r.get(name)))
            for start in range(0, len(values), 100):
                chunk = values[start : start + 100]
                for row in self.find_by(**{f"{name}__in": chunk}):
                    found.setdefault((name, row.body.get(name)), row)
        rows = []
        for _, record in wanted:
            for name in ("id", "global_key", "row_data"):
                if record.get(name) and (name, record[name]) in found:
                    rows.append(found[(name, record[name])])
                    break
        return rows

    @staticmethod
    def _finish(result: BulkResult, on_error: str | None) -> BulkResult:
        if on_error == "atomic" and (result.failed or result.errors):
            raise InvalidInput(
                f"{result.failed or len(result.errors)} row(s) failed; nothing was written.",
                status=400,
                body={"errors": result.errors, "code": "invalid"},
            )
        return result

    def bulk_create(self, records: Iterable[dict], on_error: str = "continue") -> BulkResult:
        """The ORM's `Model.bulk_create(records)`: create every record (an existing key is a
        row error); `on_error="atomic"` writes nothing if any row fails (raises). Records may
        be flat (`{"name": …, "age": …}`: fields other than id, global_key, row_data,
        metadata and attachments are metadata fields). The result counts what was done and,
        as the ORM's list of created records, iterates the rows written (`len(result)`)."""
        return self._import(records, mode="create", on_error=on_error, key=None)

    def upsert(
        self, records: Iterable[dict], key: str = "global_key", on_error: str = "continue"
    ) -> BulkResult:
        """The seed's upsert pattern: create or update each record by `key`."""
        return self._import(records, mode="upsert", key=key, on_error=on_error)

    def sync(
        self, records: Iterable[dict], key: str = "global_key", on_error: str = "continue"
    ) -> BulkResult:
        """The seed's "Sync from External Source": upsert the records, delete the rest."""
        return self._import(records, mode="sync", key=key, on_error=on_error)

    def find_by(self, **lookups: Any) -> Iterator[DataRow]:
        """The ORM's `Model.find_by(**lookups)`: the API's filter lookups
        (`metadata__age__lt=30`, `global_key__in=[…]`), a lazy iterator. A lookup on a
        record's own field (`status="pending"`, `age__lt=30`) is one on its metadata."""
        params = {_filter_name(k): _query_value(v) for k, v in lookups.items()}
        return (DataRow(row, self) for row in self.client.paginate(self.path, params))

    def create(self, **fields: Any) -> DataRow:
        """The ORM's `Model.create(**fields)`: one record (`id`, `global_key`, `row_data`,
        `attachments`, `metadata`; any other field is a metadata field). Raises
        `InvalidInput` naming the reason when the server refuses it."""
        record = as_record(fields)
        record.setdefault("id", "r-" + uuid.uuid4().hex)  # to read the row back
        result = self._import([record], mode="create", key="id")
        if result.errors or result.failed:
            message = result.errors[0].get("message") if result.errors else "not created"
            raise InvalidInput(message, status=400, body={"errors": result.errors})
        return self.get(record["id"])

    def get(self, uid: str) -> DataRow:
        """One record by its id."""
        found = self.first(id=uid)
        if found is None:
            raise NotFound(f"No data row {uid!r} in this dataset.", status=404)
        return found

    def all(self) -> list[DataRow]:
        """The ORM's `Model.all()`."""
        return list(self.find_by())

    def first(self, **lookups: Any) -> DataRow | None:
        """The ORM's `Model.first(**lookups)`."""
        return next(iter(self.find_by(**lookups)), None)

    def update(self, filter: dict, set: dict) -> BulkResult:  # noqa: A002 (the API's names)
        """The seed's "Conditional Batch Update": `set` on every row matching `filter`."""
        task = Task(
            self.client,
            self.client.post(self.path + "update/", {"filter": filter, "set": set}).json(),
        )
        return BulkResult.of(task)

    def delete(self, filter: dict | None = None, ids: list[str] | None = None) -> BulkResult:  # noqa: A002
        """The seed's "Delete by Criteria": rows matching `filter`, or by `ids`."""
        body = {"ids": list(ids)} if ids is not None else {"filter": filter or {}}
        return BulkResult.of(
            Task(self.client, self.client.post(self.path + "delete/", body).json())
        )

    def export(self, format: str = "ndjson") -> Iterator[Any]:  # noqa: A002
        """Every record, streamed: dicts for ndjson and json, CSV lines (header first) for
        csv."""
        lines = self.client.stream_lines(self.path + "export/", {"format": format})
        if format == "ndjson":
            return (json.loads(line) for line in lines)
        if format == "json":
            return _json_array_records(lines)
        return lines

    def import_file(
        self,
        path: str | os.PathLike,
        mode: str = "create",
        key: str = "global_key",
        on_error: str = "continue",
        format: str | None = None,  # noqa: A002
    ) -> BulkResult:
        """Import a CSV, JSON or NDJSON file, streamed from disk (the seed's "Import from
        CSV/JSON"); the format comes from the name unless given."""
        params = {"mode": mode, "key": key, "on_error": on_error}
        if format:
            params["format"] = format
        with open(path, "rb") as fileobj:
            response = self.client.upload(
                self.path + "import/", fileobj, os.path.basename(path), params
            )
        return self._finish(BulkResult.of(Task(self.client, response.json())), on_error)


def _json_array_records(lines: Iterable[str]) -> Iterator[Any]:
    """The items of a streamed JSON array, decoded as their lines arrive (the server writes
    one record a line; any layout is read)."""
    decoder = json.JSONDecoder()
    buffer = ""
    for line in lines:
        buffer += line + "\n"
        while True:
            buffer = buffer.lstrip(" \t\r\n,[")
            if not buffer or buffer.startswith("]"):
                break
            try:
                item, end = decoder.raw_decode(buffer)
            except json.JSONDecodeError:
                break  # the item goes on in the next lines
            yield item
            buffer = buffer[end:]
    if buffer.strip(" \t\r\n]"):
        raise json.JSONDecodeError("Truncated JSON array", buffer, 0)


def as_record(fields: dict) -> dict:
    """A record as the API takes it: a flat ORM record's own fields (anything but id,
    global_key, row_data, metadata and attachments) under `metadata`. A record with neither
    id, global_key nor row_data (a metadata-only record the server cannot key) gets an id."""
    if not isinstance(fields, dict):
        return fields  # the server names what is wrong with it
    record: dict[str, Any] = {}
    metadata = fields.get("metadata")
    extra = {k: v for k, v in fields.items() if k not in ROW_FIELDS}
    for name in ROW_FIELDS:
        if name in fields and name != "metadata":
            record[name] = fields[name]
    if isinstance(metadata, dict):
        record["metadata"] = {**metadata, **extra}
    elif metadata is not None:
        record["metadata"] = metadata  # not an object: the server names the field
    elif extra:
        record["metadata"] = extra
    if not any(record.get(k) for k in ("id", "global_key", "row_data")):
        record["id"] = "r-" + uuid.uuid4().hex
    return record


def _filter_name(lookup: str) -> str:
    """A lookup on a record's own (metadata) field as the API's `metadata__…` filter."""
    return lookup if lookup.split("__")[0] in FILTER_FIELDS else f"metadata__{lookup}"


def _query_value(value: Any) -> str:
    """A filter value as the query string reads it (JSON literals for booleans, numbers and
    null; a list for `__in`)."""
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return str(value)


class Dataset(Resource):
    """A dataset (`.uid`, `.name`, `.tags`) with its `data_rows`. Its API fields read as a
    dict's too (`dataset["id"]`, `dataset.get("tags")`), as ClearML scripts read them."""

    tags = property(lambda self: self.body.get("tags", []))

    def __getitem__(self, key: str) -> Any:
        return self.body[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)

    @property
    def data_rows(self) -> DataRows:
        return DataRows(self)

    def get_metadata_schema(self) -> list[dict]:
        """The dataset's typed metadata fields (`GET datasets/{id}/metadata-schema/`)."""
        return self.client.get(f"datasets/{self.uid}/metadata-schema/")["fields"]

    def set_metadata_schema(self, fields: list[dict]) -> list[dict]:
        """The ORM model's typed fields and defaults (`PUT datasets/{id}/metadata-schema/`)."""
        path = f"datasets/{self.uid}/metadata-schema/"
        return self.client.request("PUT", path, json={"fields": fields}).json()["fields"]

    def delete(self) -> None:
        self.client.request("DELETE", f"datasets/{self.uid}/")

    def __repr__(self) -> str:
        return f"<Dataset {self.uid} {self.name!r}>"


SCHEMA_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "datetime": "datetime",
}


def _type_name(annotation: Any) -> tuple[str | None, bool]:
    """(schema type, optional) of a field's annotation: `str`, `int | None`, "float"…; a type
    the schema has no name for gives None (the field stays free-form)."""
    if isinstance(annotation, str):
        parts = [p.strip() for p in annotation.split("|")]
    else:
        args = typing.get_args(annotation)
        is_union = args and typing.get_origin(annotation) in (typing.Union, types.UnionType)
        parts = [getattr(a, "__name__", str(a)) for a in (args if is_union else (annotation,))]
    optional = "None" in parts or "NoneType" in parts
    names = [p.removeprefix("Optional[").removesuffix("]") for p in parts]
    names = [n for n in names if n not in ("None", "NoneType")]
    return (SCHEMA_TYPES.get(names[0]) if len(names) == 1 else None), optional


class BaseModel:
    """An ORM model class (the seed's `BaseModel`): its annotated fields are the dataset's
    typed metadata fields (a class value is the field's default; a field without one is
    required), set by `client.model(table_name)` (the seed's `@airtable_model`). The class
    then speaks for the dataset's `data_rows`: `Task.bulk_create([...])`, `Task.create(...)`,
    `Task.all()`, `Task.first(...)`, `Task.find_by(...)`, `Task.upsert(...)`."""

    dataset: ClassVar[Dataset | None] = None

    @classmethod
    def metadata_fields(cls) -> list[dict]:
        """The metadata schema fields the class's annotations and defaults describe."""
        fields = []
        for name, annotation in inspect.get_annotations(cls).items():
            if name.startswith("_") or name in ROW_FIELDS or name == "dataset":
                continue
            kind, optional = _type_name(annotation)
            if kind is None:
                continue
            spec: dict[str, Any] = {"name": name, "type": kind}
            default = cls.__dict__.get(name, inspect.Parameter.empty)
            if default is not inspect.Parameter.empty and default is not None:
                spec["default"] = default
            elif default is inspect.Parameter.empty and not optional:
                spec["required"] = True
            fields.append(spec)
        return fields

    @classmethod
    def rows(cls) -> DataRows:
        if cls.dataset is None:
            raise InvalidInput(
                f"{cls.__name__} is bound to no dataset: decorate it with client.model(name).",
                status=400,
            )
        return cls.dataset.data_rows

    @classmethod
    def bulk_create(cls, records: Iterable[dict], on_error: str = "continue") -> BulkResult:
        """The ORM's `Model.bulk_create(records)` (see `DataRows.bulk_create`)."""
        return cls.rows().bulk_create(records, on_error=on_error)

    @classmethod
    def upsert(cls, records: Iterable[dict], key: str = "global_key") -> BulkResult:
        return cls.rows().upsert(records, key=key)

    @classmethod
    def create(cls, **fields: Any) -> DataRow:
        """The ORM's `Model.create(**fields)`."""
        return cls.rows().create(**fields)

    @classmethod
    def all(cls) -> list[DataRow]:
        """The ORM's `Model.all()`."""
        return cls.rows().all()

    @classmethod
    def first(cls, **lookups: Any) -> DataRow | None:
        """The ORM's `Model.first(**lookups)`."""
        return cls.rows().first(**lookups)

    @classmethod
    def find_by(cls, **lookups: Any) -> Iterator[DataRow]:
        """The ORM's `Model.find_by(**lookups)`."""
        return cls.rows().find_by(**lookups)


def model(client: Any, table_name: str, description: str = "") -> Callable[[type], type]:
    """The seed's `@airtable_model(table_name=...)`: a decorator binding a `BaseModel`
    subclass to the dataset named `table_name` (created if missing) and setting that
    dataset's metadata schema from the class's typed fields and defaults."""

    def bind(cls: type) -> type:
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            raise TypeError("client.model(...) decorates a labelops_client.BaseModel subclass.")
        dataset = client.create_dataset(table_name, description=description)
        dataset.set_metadata_schema(cls.metadata_fields())
        cls.dataset = dataset
        return cls

    return bind
