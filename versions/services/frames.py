"""Frame verbs on one draft: add (overwrite by id), update (merge), delete, `frames_bulk`
batching, and large add requests started as import jobs. Each checks its input's shape, then
writes through the bulk engine's set-based writer, the one frame-write path."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from dashboard.bulk.records import Outcome, Record, RowError
from dashboard.errors import ApplicationError, Invalid

from ..bulk.chunks import delete_ids_chunk
from ..bulk.records import FrameWriter, error_message
from ..drafts import version_ensure_draft, version_lock_draft
from ..models import DatasetVersion

FRAME_KEYS = ("sources", "meta", "rois", "attachments")
CONTAINERS = {"sources": list, "meta": dict, "rois": list, "attachments": list}
LEAVE_OUT = {"sources", "meta", "rois", "attachments", "global_key"}


def _failure(error: RowError) -> dict:
    return {
        "frame": error.input,
        "error": error.message,
        "error_type": error.error_type,
        "index": error.index,
    }


def _frame_values(frame: Any, *, without: set[str] = frozenset()) -> dict[str, Any]:
    """A frame of a JSON body as record values: id and global_key strings, the content fields
    of the right type (their content is checked by the writer), nulls and unknown keys left
    out, `without` fields dropped. `Invalid` naming the field otherwise."""
    if not isinstance(frame, dict):
        raise Invalid("A frame must be an object.", field="frame")
    values: dict[str, Any] = {}
    for name in ("id", "global_key"):
        value = frame.get(name)
        if value in (None, "") or name in without:
            continue
        if not isinstance(value, str):
            raise Invalid("Must be a string.", field=name)
        if name == "global_key" and len(value) > 255:
            raise Invalid("Must be a string of at most 255 characters.", field="global_key")
        values[name] = value
    for name, kind in CONTAINERS.items():
        value = frame.get(name)
        if value is None or name in without:
            continue
        if not isinstance(value, kind):
            raise Invalid(f"Must be {'an object' if kind is dict else 'a list'}.", field=name)
        values[name] = value
    return values


def frame_records(
    *, writer: FrameWriter, frames: Any, without: set[str] = frozenset()
) -> tuple[list[Record], list[dict]]:
    """The frames of a JSON body as records for `FrameWriter` (a later frame with the same id,
    given or derived from its first source, replaces an earlier one) and the failures of
    frames whose shape is wrong."""
    if not isinstance(frames, list):
        raise Invalid("Must be a list of frames.", field="frames")
    failed: list[dict] = []
    by_id: dict[Any, Record] = {}
    for index, frame in enumerate(frames):
        try:
            values = _frame_values(frame, without=without)
        except ApplicationError as exc:
            failed.append(_failure(RowError(index, error_message(exc), input=frame)))
            continue
        key = writer.key_of(values, "id") or ("#", index)
        by_id.pop(key, None)
        by_id[key] = Record(index, values, frame)
    return list(by_id.values()), failed


def _write(version: DatasetVersion, frames: Any, *, merge: str, without=frozenset()) -> tuple:
    version = version_lock_draft(version)
    writer = FrameWriter({"version_id": version.pk, "merge": merge}, shape="frames")
    records, failed = frame_records(writer=writer, frames=frames, without=without)
    outcome = writer.write(records, mode="upsert", key="id") if records else Outcome()
    failed += [_failure(error) for error in outcome.errors]
    failed.sort(key=lambda f: f["index"])
    written = sum(outcome.counts.get(name, 0) for name in ("created", "updated", "unchanged"))
    return written, failed


@transaction.atomic
def frames_add(*, version: DatasetVersion, frames: list[Any]) -> dict[str, Any]:
    """Add frames (an existing id is overwritten: the frame is what is given). Returns
    `{added, failed: [{frame, error, error_type, index}]}`; good frames are kept when others
    fail."""
    added, failed = _write(version, frames, merge="replace")
    return {"added": added, "failed": failed}


@transaction.atomic
def frames_update(
    *, version: DatasetVersion, frames: list[Any], without_fields: list[str] | None = None
) -> dict[str, Any]:
    """Update frames by id, merging: given fields are set (dicts merged key by key), fields
    left out — or listed in `without_fields` — keep their value. A frame without id, or with
    an id the version lacks, is created."""
    if without_fields is not None and (
        not isinstance(without_fields, list) or not all(isinstance(f, str) for f in without_fields)
    ):
        raise Invalid("Must be a list of field names.", field="without_fields")
    without = set(without_fields or [])
    if not without <= LEAVE_OUT:
        raise Invalid(
            "Only sources, meta, rois, attachments and global_key can be left out.",
            field="without_fields",
        )
    updated, failed = _write(version, frames, merge="deep", without=without)
    return {"updated": updated, "failed": failed}


@transaction.atomic
def frames_delete(*, version: DatasetVersion, ids: list[str]) -> dict[str, Any]:
    """Delete frames from a draft: a tombstone per id, so ancestors' frames stay untouched
    (the bulk delete's rule). A data row that carries labels is not deleted. Returns
    `{deleted: how many of the ids the version had and lost, failed: [{id, reason}]}`."""
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise Invalid("Must be a list of frame ids.", field="ids")
    unique = list(dict.fromkeys(ids))
    outcome = delete_ids_chunk(version_lock_draft(version).pk, unique, offset=0)
    failed = [
        {"id": error.key, "reason": error.message}
        for error in outcome.errors
        if error.error_type == "in_use"
    ]
    return {"deleted": outcome.counts.get("deleted", 0), "failed": failed}


class FrameBulk:
    """Collects add / update / delete operations and writes them every `flush_threshold`
    operations and on exit (the seed's BulkContext). `failed` gathers every failure."""

    def __init__(self, version: DatasetVersion, flush_threshold: int = 1000):
        if flush_threshold < 1:
            raise Invalid("Must be at least 1.", field="flush_threshold")
        self.version = version
        self.flush_threshold = flush_threshold
        self.failed: list[dict] = []
        self.written = 0
        self._ops: list[tuple[str, Any]] = []

    def add_frame(self, frame: dict) -> None:
        self._queue("add", frame)

    def update_frame(self, frame: dict) -> None:
        self._queue("update", frame)

    def delete_frame(self, frame: dict | str) -> None:
        self._queue("delete", frame["id"] if isinstance(frame, dict) else frame)

    def _queue(self, op: str, item: Any) -> None:
        self._ops.append((op, item))
        if len(self._ops) >= self.flush_threshold:
            self.flush()

    def flush(self) -> None:
        """Write the pending operations in order, runs of the same kind together."""
        ops, self._ops = self._ops, []
        run: list[Any] = []
        kind = None
        for op, item in [*ops, (None, None)]:
            if op != kind and run:
                if kind == "add":
                    result = frames_add(version=self.version, frames=run)
                    self.written += result["added"]
                elif kind == "update":
                    result = frames_update(version=self.version, frames=run)
                    self.written += result["updated"]
                else:
                    result = frames_delete(version=self.version, ids=run)
                    self.written += result["deleted"]
                    result["failed"] = [
                        {"frame": {"id": f["id"]}, "error": f["reason"], "error_type": "in_use"}
                        for f in result["failed"]
                    ]
                self.failed += result["failed"]
                run = []
            kind = op
            run.append(item)


@contextmanager
def frames_bulk(*, version: DatasetVersion, flush_threshold: int = 1000) -> Iterator[FrameBulk]:
    """`with frames_bulk(version=v, flush_threshold=500) as bulk: bulk.add_frame(f)`"""
    version_ensure_draft(version)
    bulk = FrameBulk(version, flush_threshold)
    yield bulk
    bulk.flush()


# ---------------------------------------------------------------- large requests as jobs

FRAMES_SYNC_LIMIT = 5000  # more frames in one request → a background job


def frames_add_start(*, version: DatasetVersion, frames: list[Any], user=None):
    """A large add-frames request as the `import` job of frame records (upsert by id, unknown
    fields ignored, each frame replacing the one of its id as `frames_add` does)."""
    from ..bulk.start import rows_import_start

    version_ensure_draft(version)
    writer = FrameWriter({"version_id": version.pk}, shape="frames")
    records, failed = frame_records(writer=writer, frames=frames)
    # A later frame of the same id replaces an earlier one, as in `frames_add`; frames of the
    # wrong shape go to the job as they are, which reports them as row errors.
    kept = {record.index for record in records} | {f["index"] for f in failed}
    body = [frame for index, frame in enumerate(frames) if index in kept]
    return rows_import_start(
        version=version,
        record_type="frames",
        records=body,
        mode="upsert",
        key="id",
        unknown="ignore",
        merge="replace",
        user=user,
    )
