"""Job kinds of bulk work on data rows and frames: import, update_rows, delete_rows.

Each chunk's writes, counts, errors and checkpoint commit together, so a retried task resumes
after the last committed chunk (see `dashboard.jobs.runner`)."""

from __future__ import annotations

from dashboard.bulk.engine import book_outcome, run_import
from dashboard.bulk.records import ImportOptions
from dashboard.jobs.registry import job_kind
from dashboard.jobs.runner import JobRun

from ..copy_on_write import effective_entries
from ..job_names import IMPORT_COUNTS, import_results, import_title, version_results
from ..selectors import version_get
from .chunks import delete_filter_chunk, delete_ids_chunk, update_chunk
from .records import RECORD_TYPES
from .start import opened_draft_drop

ROWS_CHUNK = 5000


@job_kind(
    "import",
    label="Import records",
    title=import_title,
    target="version_id",
    results=import_results,
    counts=IMPORT_COUNTS,
)
def import_records(run: JobRun) -> dict:
    params = run.params
    options = ImportOptions(
        format=params["format"],
        mode=params["mode"],
        key=params["key"],
        on_error=params["on_error"],
        unknown=params.get("unknown", "reject"),
    )
    try:
        result = run_import(
            run,
            record_type=RECORD_TYPES[params["record_type"]],
            options=options,
            path=params["path"],
        )
    except Exception:
        opened_draft_drop(job=run.job)  # failed or cancelled: no empty draft stays behind
        raise
    result = {**result, "version_id": params["version_id"], "record_type": params["record_type"]}
    if opened_draft_drop(job=run.job):
        result["draft_removed"] = True  # every row failed: the draft it opened is gone again
    return result


@job_kind(
    "add_frames",
    label="Add frames to a version",
    title=lambda refs: f"Add frames to {refs['version_id']}",
    target="version_id",
    results=import_results,
    counts=IMPORT_COUNTS,
)
def add_frames(run: JobRun) -> dict:
    """An `add_frames` job queued before large add-frames requests became imports: its spooled
    NDJSON of frames is imported as `frames_add` writes (upsert by id, replacing frames)."""
    run.params["merge"] = "replace"  # read by the writer (in memory; the stored params stay)
    options = ImportOptions(format="ndjson", mode="upsert", key="id", unknown="ignore")
    result = run_import(
        run, record_type=RECORD_TYPES["frames"], options=options, path=run.params["path"]
    )
    return {**result, "version_id": run.params["version_id"], "record_type": "frames"}


def _matching_total(run: JobRun) -> None:
    from ..metadata_schema import dataset_metadata_schema
    from .chunks import filter_validate

    if run.job.progress_total is None:
        version = version_get(version_id=run.params["version_id"])
        run.set_total(
            effective_entries(version)
            .filter(
                filter_validate(
                    run.params["filter"], schema=dataset_metadata_schema(version.dataset_id)
                )
            )
            .count()
        )


@job_kind(
    "update_rows",
    label="Update data rows by filter",
    title=lambda refs: f"Update data rows of {refs['version_id']}",
    target="version_id",
    results=version_results,
    counts={"updated": "updated", "unchanged": "unchanged", "failed": "failed"},
)
def update_rows(run: JobRun) -> dict:
    _matching_total(run)
    after = run.checkpoint.get("after", "")
    while True:
        with run.chunk() as chunk:
            outcome, seen, after = update_chunk(
                run.params["version_id"],
                run.params["filter"],
                run.params["set"],
                after=after,
                limit=ROWS_CHUNK,
            )
            book_outcome(chunk, outcome)
            chunk.done = seen
            chunk.checkpoint = {"after": after}
        if seen < ROWS_CHUNK:
            break
    return {"counts": run.job.counts, "version_id": run.params["version_id"]}


@job_kind(
    "delete_rows",
    label="Delete data rows",
    title=lambda refs: f"Delete data rows of {refs['version_id']}",
    target="version_id",
    results=version_results,
    counts={"deleted": "deleted", "failed": "failed"},
)
def delete_rows(run: JobRun) -> dict:
    params = run.params
    if "ids" in params:
        ids = params["ids"]
        offset = run.checkpoint.get("offset", 0)
        while offset < len(ids):
            part = ids[offset : offset + ROWS_CHUNK]
            with run.chunk() as chunk:
                book_outcome(chunk, delete_ids_chunk(params["version_id"], part, offset=offset))
                offset += len(part)
                chunk.done = len(part)
                chunk.checkpoint = {"offset": offset}
    else:
        _matching_total(run)
        after = run.checkpoint.get("after", "")
        while True:
            with run.chunk() as chunk:
                outcome, seen, after = delete_filter_chunk(
                    params["version_id"], params["filter"], after=after, limit=ROWS_CHUNK
                )
                book_outcome(chunk, outcome)
                chunk.done = seen
                chunk.checkpoint = {"after": after}
            if seen < ROWS_CHUNK:
                break
    return {"counts": run.job.counts, "version_id": params["version_id"]}
