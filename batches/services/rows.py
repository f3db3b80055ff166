"""Row lists of the batch verbs: keys or ids resolved to data rows (unknown ones and repeats
become failed rows), failed rows as clients see them, and a job that keeps its row list."""

from __future__ import annotations

from dashboard.bulk.records import row_failure
from dashboard.jobs.services import job_create
from dashboard.models import Job
from versions.models import DataRow

from ..models import JobInput

LOOKUP_CHUNK = 10_000


def failed_row(*, index: int | None, data_row: str | None, global_key: str | None, reason: str):
    """A row a verb could not take, with its 0-based index in the input."""
    return {"index": index, "data_row": data_row, "global_key": global_key, "reason": reason}


def failure_type(reason: str) -> str:
    """The row failure's `error_type` for a failed row's reason."""
    if reason == "unknown" or reason.startswith("not in"):
        return "not_found"
    if reason.startswith("duplicate"):
        return "duplicate"
    if "already" in reason:
        return "already_queued"
    return "row"


def rows_resolve(*, field: str, values: list[str], offset: int = 0) -> tuple[list[str], list[dict]]:
    """The chunk function of every row list (the create-batches job calls it per chunk): map
    the input to data row ids in input order; unknown ones and repeats become failed
    rows (with their 0-based `index` in the input, counted from `offset`)."""
    column = "global_key" if field == "global_keys" else "id"
    known: dict[str, str] = {}
    for start in range(0, len(values), LOOKUP_CHUNK):
        part = values[start : start + LOOKUP_CHUNK]
        known.update(DataRow.objects.filter(**{f"{column}__in": part}).values_list(column, "id"))
    ids, failed, seen = [], [], set()
    for i, value in enumerate(values):
        row_id = known.get(value)
        gk = value if column == "global_key" else None
        if row_id is None:
            failed.append(
                failed_row(
                    index=offset + i,
                    data_row=None if gk else value,
                    global_key=gk,
                    reason="unknown",
                )
            )
        elif row_id in seen:
            failed.append(
                failed_row(
                    index=offset + i, data_row=row_id, global_key=gk, reason="duplicate in input"
                )
            )
        else:
            seen.add(row_id)
            ids.append(row_id)
    return ids, failed


def failed_without_index(failed: list[dict]) -> list[dict]:
    """Failed rows as the API answers them at once: the Labelbox shape `{data_row, global_key,
    reason}` and beside it the one row-failure shape of every answer, `{index, key, input,
    message, error_type, code}` (as `jobs/{id}/errors/` items)."""
    answered = []
    for f in failed:
        key = f["global_key"] or f["data_row"] or ""
        shape = row_failure(
            index=f["index"],
            key=key,
            input=key,
            message=f["reason"],
            error_type=failure_type(f["reason"]),
        )
        answered.append({**shape, **{k: f[k] for k in ("data_row", "global_key", "reason")}})
    return answered


def job_create_with_rows(*, kind: str, params: dict, rows: list, user, total: int) -> Job:
    """A job whose (validated) row list is kept beside it, in `JobInput`, not in its params."""
    job = job_create(kind=kind, params=params, user=user, total=total)
    JobInput.objects.create(job=job, rows=rows)
    return job
