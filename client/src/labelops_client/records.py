"""ORM-style records in bulk (the Batch Operations seed): `Dataset`, its `data_rows`
collection (bulk create/upsert/sync, find, update, delete, export, import) and `DataRow`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .client import Resource, Task, parse_time
from .errors import InvalidInput


class DataRow:
    """A data row (`.uid`, `.global_key`, `.row_data`, `.metadata`, `.attachments`,
    `.created_at`); metadata fields read as attributes too (`row.age`), as ORM records do."""

    def __init__(self, body: dict) -> None:
        self.body = body

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
        body = {"records": list(records)}
        task = Task(self.client, self.client.post(self.path + "import/", body, **options).json())
        return self._finish(BulkResult.of(task), options.get("on_error"))

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
        row error); `on_error="atomic"` writes nothing if any row fails (raises)."""
        return self._import(records, mode="create", on_error=on_error)

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
        (`metadata__age__lt=30`, `global_key__in=[…]`), a lazy iterator."""
        params = {
            k: ",".join(map(str, v)) if isinstance(v, list | tuple) else v
            for k, v in lookups.items()
        }
        return (DataRow(row) for row in self.client.paginate(self.path, params))

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
        """Every record, streamed: dicts for ndjson, CSV lines (header first) for csv."""
        lines = self.client.stream_lines(self.path + "export/", {"format": format})
        if format == "ndjson":
            return (json.loads(line) for line in lines)
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


class Dataset(Resource):
    """A dataset (`.uid`, `.name`, `.tags`) with its `data_rows`."""

    tags = property(lambda self: self.body.get("tags", []))

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
