"""Labelbox-style projects and batches (the Batch seed): `Project`, `Batch`, `ExportTask`
and its buffered stream."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from typing import Any

from .client import Client, Resource, Task
from .errors import Conflict, LabelopsError


def row_ids(data_rows: Sequence[Any] | None) -> list[str] | None:
    """Data row ids from ids or objects with `.uid`."""
    if data_rows is None:
        return None
    return [getattr(row, "uid", row) for row in data_rows]


def selection(global_keys: Sequence[str] | None, data_rows: Sequence[Any] | None) -> dict:
    body: dict[str, Any] = {}
    if global_keys is not None:
        body["global_keys"] = list(global_keys)
    if data_rows is not None:
        body["data_rows"] = row_ids(data_rows)
    return body


def batch_settings(priority: int | None, consensus_settings: dict | None) -> dict:
    """What every way of making batches sends besides the rows: the priority, and the
    consensus settings when given."""
    settings: dict[str, Any] = {"priority": priority}
    if consensus_settings is not None:
        settings["consensus_settings"] = consensus_settings
    return settings


class Project(Resource):
    """A labeling project (Labelbox `Project`)."""

    @property
    def path(self) -> str:
        return f"projects/{self.uid}/"

    def create_batch(
        self,
        name: str,
        global_keys: Sequence[str] | None = None,
        data_rows: Sequence[Any] | None = None,
        priority: int | None = None,
        consensus_settings: dict | None = None,
    ) -> Batch:
        """Labelbox `project.create_batch`: the batch, with `batch.failed_data_rows`."""
        body = {
            "name": name,
            **selection(global_keys, data_rows),
            **batch_settings(priority, consensus_settings),
        }
        return Batch(self.client, self.client.post(self.path + "batches/", body).json())

    def create_batches(
        self,
        name_prefix: str,
        global_keys: Sequence[str] | None = None,
        data_rows: Sequence[Any] | None = None,
        priority: int | None = None,
        consensus_settings: dict | None = None,
    ) -> Task:
        """Labelbox `project.create_batches`: a `Task` whose result lists the batches."""
        body = {
            "name_prefix": name_prefix,
            **selection(global_keys, data_rows),
            **batch_settings(priority, consensus_settings),
        }
        return Task(self.client, self.client.post(self.path + "batches/bulk/", body).json())

    def create_batches_from_dataset(
        self,
        name_prefix: str,
        dataset_id: str,
        priority: int | None = None,
        consensus_settings: dict | None = None,
        version_id: str | None = None,
    ) -> Task:
        """Labelbox `project.create_batches_from_dataset`."""
        body = {
            "name_prefix": name_prefix,
            "dataset_id": dataset_id,
            **batch_settings(priority, consensus_settings),
        }
        if version_id is not None:
            body["version_id"] = version_id
        response = self.client.post(self.path + "batches/from-dataset/", body)
        return Task(self.client, response.json())

    def batches(self) -> Iterator[Batch]:
        """Labelbox `project.batches()`: a lazy iterator of `Batch`."""
        return (Batch(self.client, b) for b in self.client.paginate(self.path + "batches/"))

    def export(self, params: dict | None = None, filters: dict | None = None) -> ExportTask:
        """Labelbox `project.export(params, filters)`: an `ExportTask` (NDJSON file job).
        `filters` other than empty are refused: the API filters by `batch_ids` only."""
        if filters:
            raise ValueError("Only params['batch_ids'] selects rows; filters must be empty.")
        keys = ("batch_ids", "attachments", "metadata_fields", "data_row_details", "labels")
        body = {k: v for k, v in (params or {}).items() if k in keys}
        unknown = set(params or {}) - set(keys)
        if unknown:
            raise ValueError(f"Unknown export params: {', '.join(sorted(unknown))}.")
        return ExportTask(self.client, self.client.post(self.path + "export/", body).json())

    def export_stream(self, batch_ids: Sequence[str] | None = None, **flags: bool) -> Iterator:
        """The same export as NDJSON lines streamed straight from the server (no job)."""
        params: dict[str, Any] = {k: str(v).lower() for k, v in flags.items()}
        if batch_ids:
            params["batch_ids"] = ",".join(batch_ids)
        for line in self.client.stream_lines(self.path + "export/stream/", params):
            yield json.loads(line)

    def update_data_row_labeling_priority(
        self,
        priority: int | None,
        global_keys: Sequence[str] | None = None,
        data_rows: Sequence[Any] | None = None,
    ) -> Task | None:
        """Labelbox `project.update_data_row_labeling_priority`: a `Task` when the server
        runs it as a job, else None (done)."""
        items = [{"global_key": k, "priority": priority} for k in global_keys or []]
        items += [{"data_row": i, "priority": priority} for i in row_ids(data_rows) or []]
        response = self.client.post(self.path + "priorities/", items)  # API.md: a bare array
        return Task(self.client, response.json()) if response.status_code == 202 else None

    def __repr__(self) -> str:
        return f"<Project {self.uid} {self.name!r}>"


class Batch(Resource):
    """A batch of a project (Labelbox `Batch`)."""

    size = property(lambda self: self.body.get("size"))
    priority = property(lambda self: self.body.get("priority"))
    consensus_settings = property(lambda self: self.body.get("consensus_settings"))
    failed_data_rows = property(lambda self: self.body.get("failed_data_rows", []))
    project_id = property(lambda self: self.body["project"])

    @property
    def path(self) -> str:
        return f"projects/{self.project_id}/batches/{self.uid}/"

    def project(self) -> Project:
        """Labelbox `batch.project()`."""
        return self.client.get_project(self.project_id)

    def remove_queued_data_rows(self) -> None:
        """Labelbox `batch.remove_queued_data_rows()`."""
        self.client.post(self.path + "remove-queued/")

    def delete_labels(self, set_labels_as_template: bool = False) -> None:
        """Labelbox `batch.delete_labels(set_labels_as_template)`: waits for the job; a job
        that did not succeed raises `LabelopsError` (its body is the job)."""
        body = {"set_labels_as_template": set_labels_as_template}
        response = self.client.post(self.path + "delete-labels/", body)
        if response.status_code == 202:
            task = Task(self.client, response.json()).wait_till_done()
            if task.status != "succeeded":
                error = task.body.get("error") or "see the job"
                raise LabelopsError(
                    f"Deleting the labels of batch {self.uid} {task.status}: {error}",
                    body=task.body,
                )

    def delete(self) -> None:
        """Labelbox `batch.delete()`: `Conflict` while labels exist."""
        self.client.request("DELETE", self.path)

    def __repr__(self) -> str:
        return f"<Batch {self.uid} {self.name!r} size={self.size}>"


class StreamType(Enum):
    """Labelbox `StreamType`: an export has one stream, its result."""

    RESULT = "RESULT"
    ERRORS = "ERRORS"


class BufferedJsonConverterOutput:
    """One exported line (Labelbox `BufferedJsonConverterOutput`): `.json` is the record."""

    def __init__(self, line: str) -> None:
        self.json: dict = json.loads(line)

    def __repr__(self) -> str:
        return f"BufferedJsonConverterOutput({self.json!r})"


class BufferedStream:
    """The lines of an export file, read lazily from the server."""

    def __init__(self, client: Client, path: str | None) -> None:
        self.client = client
        self.path = path

    def __iter__(self) -> Iterator[BufferedJsonConverterOutput]:
        if self.path is None:
            return
        for line in self.client.stream_lines(self.path):
            yield BufferedJsonConverterOutput(line)

    def start(self, stream_handler: Callable[[BufferedJsonConverterOutput], Any]) -> None:
        """Call `stream_handler` with each line, as Labelbox's `.start(stream_handler=…)`."""
        for output in self:
            stream_handler(output)


class ExportTask(Task):
    """An export job (Labelbox `ExportTask`): wait, then `get_buffered_stream()`."""

    def get_buffered_stream(self, stream_type: StreamType = StreamType.RESULT) -> BufferedStream:
        self.wait_till_done()
        if self.status != "succeeded":
            raise Conflict(f"Export {self.uid} ended {self.status}.", status=409, body=self.body)
        if stream_type is StreamType.ERRORS:
            return BufferedStream(self.client, None)
        return BufferedStream(self.client, f"jobs/{self.uid}/file/")

    @property
    def has_errors(self) -> bool:
        return bool(self.body.get("errors_count"))
