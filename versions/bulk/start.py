"""Starting bulk work on data rows and frames in a named target (a dataset's current draft, or a
version): the import, update_rows and delete_rows jobs. One service per verb, called alike by
the API, the pages, the admin and the management commands."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dashboard.bulk.upload import upload_accept
from dashboard.errors import Invalid
from dashboard.jobs.services import job_create
from dashboard.models import Job

from ..drafts import version_ensure_draft
from ..metadata_schema import dataset_metadata_schema
from ..models import Dataset, DatasetVersion
from .chunks import filter_validate, update_set_validate
from .records import RECORD_TYPES

MAX_DELETE_IDS = 1_000_000


def rows_import_start(
    *,
    record_type: str,
    dataset: Dataset | None = None,
    version: DatasetVersion | None = None,
    merge: str | None = None,
    # A dataset without a metadata schema gets the one its first records suggest.
    infer_schema: bool = False,
    user=None,
    **upload: Any,
) -> Job:
    """Start an import into a named target — the current draft of `dataset` (a new draft when
    it has none) or `version` (a draft) — from one bulk input: `upload` is the keywords of
    `upload_accept` (the file or records and the options). The one service behind the API, the
    pages, the admin and `import_rows`. `merge` ("replace": `frames_add`'s rule) is how frame
    records meet existing frames (see `FrameWriter`)."""
    with transaction.atomic():
        had_draft = version is not None or dataset_has_draft(dataset=dataset)
        version = target_draft(dataset=dataset, version=version, user=user)
        accepted = upload_accept(RECORD_TYPES[record_type], **upload)
        return job_create(
            kind="import",
            params={
                "record_type": record_type,
                "dataset_id": version.dataset_id,
                "version_id": version.pk,
                "path": accepted.path,
                **({"infer_schema": True} if infer_schema else {}),
                **accepted.options.as_params(),
                **({"merge": merge} if merge else {}),
                # The import opened this draft: if it writes nothing, it takes it away again.
                **({} if had_draft else {"opened_draft": True}),
            },
            user=user,
            total=accepted.total,
        )


@transaction.atomic
def rows_update_start(
    *,
    filter: Any,
    set: Any,
    dataset: Dataset | None = None,
    version: DatasetVersion | None = None,
    user=None,
) -> Job:
    """Every data row of the target (see `target_draft`) matching `filter` gets the values of
    `set` (a job)."""
    version = target_draft(dataset=dataset, version=version, user=user)
    if filter is None:
        filter = {}
    schema = dataset_metadata_schema(version.dataset_id)
    filter_validate(filter, schema=schema)
    set = update_set_validate(set, schema)
    return job_create(
        kind="update_rows",
        params={"version_id": version.pk, "filter": filter, "set": set},
        user=user,
    )


@transaction.atomic
def rows_delete_start(
    *,
    dataset: Dataset | None = None,
    version: DatasetVersion | None = None,
    filter: Any = None,
    ids: Any = None,
    user=None,
) -> Job:
    """Delete every data row of the target (see `target_draft`) matching `filter`, or the
    listed `ids` (a job)."""
    version = target_draft(dataset=dataset, version=version, user=user)
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
        filter_validate(filter, schema=dataset_metadata_schema(version.dataset_id))
        params["filter"] = filter
    return job_create(kind="delete_rows", params=params, user=user, total=total)


def target_draft(
    *, dataset: Dataset | None = None, version: DatasetVersion | None = None, user=None
) -> DatasetVersion:
    """The named target of bulk work, which must be a draft: `version`, or the current draft of
    `dataset` (see `data_rows_version_for_writing`). Inside the caller's transaction, so a
    refusal after it rolls a new draft back."""
    if (dataset is None) == (version is None):
        raise TypeError("Name one target: dataset or version.")
    if version is None:
        version = data_rows_version_for_writing(dataset=dataset, user=user)
    version_ensure_draft(version)
    return version


def dataset_has_draft(*, dataset: Dataset | None) -> bool:
    from ..selectors import version_list

    return dataset is not None and version_list(dataset=dataset, only_draft=True).exists()


def new_draft_name(*, dataset: Dataset) -> str:
    """`draft`, or `draft 2`, `draft 3`, … when a version already has that name."""
    from ..services.versions import version_name_taken

    name, number = "draft", 1
    while version_name_taken(dataset_id=dataset.pk, name=name) is not None:
        number += 1
        name = f"draft {number}"
    return name


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
    name = new_draft_name(dataset=dataset)
    return version_create(dataset=dataset, name=name, parent=parent, user=user)[0]


def opened_draft_drop(*, job: Job) -> bool:
    """An import that opened a new draft and wrote nothing into it (it failed, was cancelled,
    or every row failed) takes the draft away again: no empty draft is left behind. Kept
    when anything else uses it (a frame written, another unfinished job aimed at it)."""
    if not (job.params or {}).get("opened_draft"):
        return False
    from ..services import version_remove

    with transaction.atomic():
        version = (
            DatasetVersion.objects.select_for_update()
            .filter(pk=job.params.get("version_id"), removed=False)
            .first()
        )
        if version is None or version.is_published or version.entries.exists():
            return False
        if version.metadata or version.children.exists():
            return False
        others = (
            Job.objects.filter(params__version_id=version.pk)
            .exclude(pk=job.pk)
            .exclude(status__in=Job.ENDED)
        )
        if others.exists():
            return False
        version_remove(version=version)
    return True
