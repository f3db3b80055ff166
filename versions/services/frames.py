"""Frame verbs on one draft: add (overwrite by id), update (merge), delete, `frames_bulk`
batching, and large add requests started as import jobs. Each checks its input's shape, then
writes through the bulk engine's set-based writer, the one frame-write path."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from dashboard.bulk.records import Outcome, Record, RowError
from dashboard.errors import ApplicationError, Invalid, NotFound

from ..bulk.chunks import delete_ids_chunk, ids_present
from ..bulk.records import FrameWriter, error_message
from ..drafts import version_ensure_draft, version_lock_draft
from ..models import DatasetVersion

FRAME_KEYS = ("sources", "meta", "rois", "attachments")
CONTAINERS = {"sources": list, "meta": dict, "rois": list, "attachments": list}
LEAVE_OUT = {"sources", "meta", "rois", "attachments", "global_key"}


def _failure(error: RowError) -> dict:
    """A frame's row failure: the one shape (`{index, key, input, message, error_type, code}`)
    with the seed's names beside it (`frame` = input, `error` = message)."""
    return {**error.as_failure(), "frame": error.input, "error": error.message}


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


def frame_records(*, frames: Any, without: set[str] = frozenset()) -> tuple[list[Record], list]:
    """The frames of a JSON body as records for `FrameWriter` and the failures of frames whose
    shape is wrong. Frames of one id (given, or derived from the first source) are all kept:
    the writer uses the first and reports each later one (`duplicate`), as an import does."""
    if not isinstance(frames, list):
        raise Invalid("Must be a list of frames.", field="frames")
    failed: list[dict] = []
    records: list[Record] = []
    for index, frame in enumerate(frames):
        try:
            values = _frame_values(frame, without=without)
        except ApplicationError as exc:
            key = frame.get("id") if isinstance(frame, dict) else None
            error = RowError(
                index, error_message(exc), key=key if isinstance(key, str) else "", input=frame
            )
            failed.append(_failure(error))
            continue
        records.append(Record(index, values, frame))
    return records, failed


def _write(version: DatasetVersion, frames: Any, *, merge: str, without=frozenset()) -> tuple:
    version = version_lock_draft(version)
    writer = FrameWriter({"version_id": version.pk, "merge": merge}, shape="frames")
    records, failed = frame_records(frames=frames, without=without)
    outcome = writer.write(records, mode="upsert", key="id") if records else Outcome()
    failed += [_failure(error) for error in outcome.errors]
    failed.sort(key=lambda f: f["index"])
    written = sum(outcome.counts.get(name, 0) for name in ("created", "updated", "unchanged"))
    return written, failed


@transaction.atomic
def frames_add(*, version: DatasetVersion, frames: list[Any]) -> dict[str, Any]:
    """Add frames (an existing id is overwritten: the frame is what is given). Returns
    `{added, failed: [row failure]}`; good frames are kept when others fail. A frame whose id
    an earlier frame of the call has is a failure (`duplicate`): the first one is used."""
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


MAX_DELETE_IDS = 100_000


@transaction.atomic
def frames_delete(
    *, version: DatasetVersion, ids: list[str], delete_sources: bool = False
) -> dict[str, Any]:
    """Delete frames from a draft: a tombstone per id, so ancestors' frames stay untouched
    (the bulk delete's rule). Every id must be a frame of the version: unknown ids are a
    `NotFound` naming `ids` (listed in `missing`) and nothing is deleted. A data row that
    carries labels is not deleted, and a repeated id is deleted once: each a row failure. With
    `delete_sources`, the deleted rows' source records go too (those no version still holds:
    see `writes.delete_staged`). Returns `{deleted, sources_deleted, failed: [row failure]}`."""
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise Invalid("Must be a list of frame ids.", field="ids")
    if len(ids) > MAX_DELETE_IDS:
        raise Invalid(
            f"At most {MAX_DELETE_IDS:,} ids per request; got {len(ids):,} "
            "(delete more through datasets/{id}/data-rows/delete/, a job).",
            field="ids",
        )
    if not isinstance(delete_sources, bool):
        raise Invalid("Must be true or false.", field="delete_sources")
    version = version_lock_draft(version)
    present = ids_present(version, ids)
    missing = [i for i in dict.fromkeys(ids) if i not in present]
    if missing:
        shown = ", ".join(repr(i) for i in missing[:5]) + (", …" if len(missing) > 5 else "")
        raise NotFound(
            f"{len(missing):,} of the ids are not frames of this version ({shown}); "
            "nothing was deleted.",
            field="ids",
            extra={"missing": missing[:1000]},
        )
    outcome = delete_ids_chunk(version.pk, ids, offset=0, delete_sources=delete_sources)
    return {
        "deleted": outcome.counts.get("deleted", 0),
        "sources_deleted": outcome.counts.get("sources_deleted", 0),
        "failed": [_failure(error) for error in outcome.errors],
    }


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

    def delete_frame(self, frame: dict | str, delete_sources: bool = False) -> None:
        """Queue a delete (an unknown id makes the flush raise `Invalid`, as `frames_delete`)."""
        op = "delete_sources" if delete_sources else "delete"
        self._queue(op, frame["id"] if isinstance(frame, dict) else frame)

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
                    result = frames_delete(
                        version=self.version, ids=run, delete_sources=kind == "delete_sources"
                    )
                    self.written += result["deleted"]
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
    fields ignored, each frame replacing the one of its id as `frames_add` does). The job
    reports what `frames_add` answers: frames of the wrong shape, and each later frame of an id
    already given (`duplicate`; the first one is used), in the same row-failure shape."""
    from ..bulk.start import rows_import_start

    version_ensure_draft(version)
    if not isinstance(frames, list):
        raise Invalid("Must be a list of frames.", field="frames")
    return rows_import_start(
        version=version,
        record_type="frames",
        records=frames,
        mode="upsert",
        key="id",
        unknown="ignore",
        merge="replace",
        user=user,
    )
