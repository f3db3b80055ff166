"""Starting bulk work on data rows and frames: validate the request, spool the input, create the
job (import, update_rows, delete_rows) — and stream exports. Used alike by the API, the pages,
the admin and the management commands."""

from __future__ import annotations

from typing import IO, Any

from dashboard.bulk.formats import format_detect
from dashboard.bulk.records import import_options
from dashboard.bulk.upload import spool_file, spool_path, spool_records, upload_check
from dashboard.errors import Invalid
from dashboard.jobs.services import job_create
from dashboard.models import Job

from ..drafts import version_ensure_draft
from ..models import Dataset, DatasetVersion
from .chunks import filter_validate, update_set_validate
from .records import RECORD_TYPES

MAX_DELETE_IDS = 1_000_000


def rows_import_start(
    *,
    version: DatasetVersion,
    record_type: str,
    fileobj: IO[bytes] | None = None,
    filename: str | None = None,
    size: int | None = None,
    local_path: str | None = None,
    records: list[Any] | None = None,
    format: str | None = None,
    mode: str | None = None,
    key: str | None = None,
    on_error: str | None = None,
    unknown: str | None = None,
    merge: str | None = None,
    user=None,
) -> Job:
    """Check and spool one bulk input (an uploaded file, a local file or a JSON array), then
    start the `import` job. Bad options or an unusable file → `Invalid` naming it. `merge`
    ("replace": `frames_add`'s rule) is how frame records meet existing frames (see
    `FrameWriter`)."""
    version_ensure_draft(version)
    rtype = RECORD_TYPES[record_type]
    if records is not None:
        options = import_options(
            rtype, format="ndjson", mode=mode, key=key, on_error=on_error, unknown=unknown
        )
        path = spool_records(records)
        total = len(records)
    else:
        if fileobj is None and local_path is None:
            raise Invalid("Upload a file (field 'file') or send a JSON array.", field="file")
        fmt = format_detect(format=format, filename=filename or local_path)
        options = import_options(
            rtype, format=fmt, mode=mode, key=key, on_error=on_error, unknown=unknown
        )
        if local_path is not None:
            with open(local_path, "rb") as handle:
                handle.seek(0, 2)
                upload_check(
                    handle, size=handle.tell(), fmt=fmt, record_type=rtype, unknown=options.unknown
                )
            path = spool_path(local_path, fmt=fmt)
        else:
            upload_check(
                fileobj, size=size or 0, fmt=fmt, record_type=rtype, unknown=options.unknown
            )
            path = spool_file(fileobj, fmt=fmt)
        total = None
    return job_create(
        kind="import",
        params={
            "record_type": record_type,
            "dataset_id": version.dataset_id,
            "version_id": version.pk,
            "path": path,
            **options.as_params(),
            **({"merge": merge} if merge else {}),
        },
        user=user,
        total=total,
    )


def rows_update_start(*, version: DatasetVersion, filter: Any, set: Any, user=None) -> Job:
    """Every data row matching `filter` gets the values of `set` (a job)."""
    version_ensure_draft(version)
    if filter is None:
        filter = {}
    filter_validate(filter)
    update_set_validate(set)
    return job_create(
        kind="update_rows",
        params={"version_id": version.pk, "filter": filter, "set": set},
        user=user,
    )


def rows_delete_start(
    *, version: DatasetVersion, filter: Any = None, ids: Any = None, user=None
) -> Job:
    """Delete every data row matching `filter`, or the listed `ids` (a job)."""
    version_ensure_draft(version)
    if (filter is None) == (ids is None):
        raise Invalid("Give exactly one of filter or ids.", field="filter")
    params: dict[str, Any] = {"version_id": version.pk}
    total = None
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
            raise Invalid("Must be a list of data row ids.", field="ids")
        if not ids:
            raise Invalid("The list of ids is empty.", field="ids")
        if len(ids) > MAX_DELETE_IDS:
            raise Invalid(f"At most {MAX_DELETE_IDS} ids at a time.", field="ids")
        params["ids"] = ids
        total = len(ids)
    else:
        if not filter:
            raise Invalid(
                "An empty filter would delete every row; give at least one lookup.",
                field="filter",
            )
        filter_validate(filter)
        params["filter"] = filter
    return job_create(kind="delete_rows", params=params, user=user, total=total)


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
