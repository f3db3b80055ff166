"""Reads on projects, batches, the queue and labels: lists, one object, the serving order and
the queue preview, and the dataset rows and versions the create-batch verbs choose from."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from dashboard.errors import NotFound
from dashboard.list_controls import bounded_choices
from versions.copy_on_write import effective_entries
from versions.media import frame_media, media_kind
from versions.models import DataRow, Dataset, DatasetVersion
from versions.selectors import frames_page, version_for_reading

from .models import (
    NO_PRIORITY_SORT,
    AgreementBucket,
    Batch,
    BatchProgress,
    Label,
    Project,
    QueueEntry,
    Skip,
    batch_sort_value,
)

MAX_PREVIEW = 1000
# What reading a version's frames needs of it (never its metadata).
READ_FIELDS = ("name", "status", "parent", "dataset")


PROJECT_SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "name": ("name", "id"),
    "batches": ("-batch_count", "name", "id"),
}


def project_list(*, q: str = "", sort: str = "newest") -> QuerySet[Project]:
    """Projects whose name or description contains `q` (any case), in a `PROJECT_SORTS` order."""
    projects = Project.objects.annotate(batch_count=Count("batches"))
    if q:
        projects = projects.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return projects.order_by(*PROJECT_SORTS.get(sort, PROJECT_SORTS["newest"]))


def project_get(*, project_id: Any) -> Project:
    project = Project.objects.filter(pk=str(project_id)).first()
    if project is None:
        raise NotFound(f"No project with id {project_id!r}.")
    return project


def batch_list(*, project: Project) -> QuerySet[Batch]:
    """The project's batches with `labelled_count` (rows with every label they need, gold rows
    aside) and `gold_count`, read from the counters the database keeps (`BatchProgress`) and
    the few gold rows: no count over the batches' rows."""
    return (
        Batch.objects.filter(project=project)
        .annotate(
            labelled_count=Coalesce(Subquery(_progress_sum("done")), 0),
            agreement_rows=Subquery(_bucket_sum("rows")),
            agreement_total=Subquery(_bucket_sum("total")),
            gold_count=Coalesce(Subquery(_gold_rows()), 0),
        )
        .select_related("created_by")
    )


def _progress_sum(field: str):
    """The sum of a batch's progress counters' `field` (a subquery of `batch_list`)."""
    return (
        BatchProgress.objects.filter(batch_id=OuterRef("pk"))
        .values("batch_id")
        .annotate(s=Sum(field))
        .values("s")
    )


def _bucket_sum(field: str):
    """The sum of a batch's agreement buckets' `field` (a subquery of `batch_list`)."""
    return (
        AgreementBucket.objects.filter(batch_id=OuterRef("pk"))
        .values("batch_id")
        .annotate(s=Sum(field))
        .values("s")
    )


def _gold_rows():
    """A batch's gold rows (a subquery of `batch_list`, through `queueentry_batch_gold`)."""
    return (
        QueueEntry.objects.filter(batch_id=OuterRef("pk"), gold=True)
        .values("batch_id")
        .annotate(n=Count("id"))
        .values("n")
    )


def batch_order_key(batch: Batch) -> tuple:
    """How batches are served: by priority (none last), then oldest first."""
    return (batch_sort_value(batch.priority), batch.created_at, batch.pk)


BATCH_SORTS = {
    "serving": "serving order",
    "name": "name",
    "newest": "newest",
    "size": "largest",
}


def batch_in_serving_order(
    *, project: Project, q: str = "", sort: str = "serving"
) -> QuerySet[Batch]:
    """The project's batches in serving order — priority (none last), then oldest first, as
    `batch_order_key` — or by name, newest first, largest first; those whose name contains `q`
    (any case) when given. Ordered in the database, so pages of it stay cheap."""
    batches = batch_list(project=project)
    if q:
        batches = batches.filter(name__icontains=q)
    if sort == "name":
        return batches.order_by("name", "id")
    if sort == "newest":
        return batches.order_by("-created_at", "-id")
    if sort == "size":
        return batches.order_by("-size", "name", "id")
    serving = Coalesce("priority", Value(NO_PRIORITY_SORT), output_field=BigIntegerField())
    return batches.annotate(serving=serving).order_by("serving", "created_at", "id")


def batch_get(*, project: Project, batch_id: Any) -> Batch:
    batch = batch_list(project=project).filter(pk=str(batch_id)).first()
    if batch is None:
        raise NotFound(f"No batch with id {batch_id!r} in project {project.name!r}.")
    return batch


def batch_ref(*, project: Project, batch_id: Any) -> Batch:
    """One batch of the project, without the counts `batch_get` adds (404 if unknown)."""
    batch = Batch.objects.filter(project=project, pk=str(batch_id)).first()
    if batch is None:
        raise NotFound(f"No batch with id {batch_id!r} in project {project.name!r}.")
    return batch


def batch_state_counts(*, batch: Batch) -> dict[str, int]:
    """The batch's rows by queue state, counted through the (batch, state) index; a reserved
    row whose reservation ran out counts as queued (it is served again)."""
    entries = QueueEntry.objects.filter(batch=batch)
    counts = dict(entries.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    expired = entries.filter(
        state=QueueEntry.State.RESERVED, reserved_until__lt=timezone.now()
    ).count()
    counts = {state: counts.get(state, 0) for state in QueueEntry.State.values}
    counts["queued"] += expired
    counts["reserved"] -= expired
    return counts


def batch_removal_preview(*, batch: Batch) -> dict[str, int]:
    """What removing the batch's queued rows would do now: rows without labels that leave,
    unlabelled rows a labeler holds (they stay until the reservation ends), rows that stay."""
    unlabelled = QueueEntry.objects.filter(batch=batch, labels_count=0)
    free = Q(state=QueueEntry.State.QUEUED) | Q(reserved_until__lt=timezone.now())
    removable = unlabelled.filter(free).count()
    held = unlabelled.count() - removable
    kept = batch.size - removable - held
    return {"removable": removable, "held": held, "kept": kept, "after": batch.size - removable}


BATCH_ROW_STATES = ("queued", "reserved", "done")


def batch_rows(*, batch: Batch, state: str = "") -> QuerySet[QueueEntry]:
    """The batch's rows in the order they joined it (with their data row), one state or all."""
    rows = QueueEntry.objects.filter(batch=batch).select_related("data_row").order_by("id")
    if state in BATCH_ROW_STATES:
        rows = rows.filter(state=state)
    return rows


def frame_versions(*, batch: Batch, rows) -> dict[str, DatasetVersion]:
    """{dataset id: the version whose frame pages the batch's rows link to}: the batch's own
    version, else each dataset's current one (one lookup per dataset on the page)."""
    dataset_ids = {entry.data_row.dataset_id for entry in rows}
    found: dict[str, DatasetVersion] = {}
    if batch.version_id and batch.version is not None:
        found[batch.version.dataset_id] = batch.version
    for dataset_id in dataset_ids - found.keys():
        version = version_for_reading(dataset=Dataset(pk=dataset_id), only=READ_FIELDS)
        if version is not None:
            found[dataset_id] = version
    return found


def batch_recent_labels(*, batch: Batch, limit: int = 20) -> list[Label]:
    return list(
        Label.objects.filter(batch=batch)
        .select_related("author", "data_row")
        .order_by("-id")[:limit]
    )


def batch_labels_count(*, batch: Batch) -> int:
    return Label.objects.filter(batch=batch).count()


def batch_labelled_rows_count(*, batch: Batch) -> int:
    """Rows of the batch with at least one label (what deleting its labels re-queues)."""
    return QueueEntry.objects.filter(batch=batch, labels_count__gt=0).count()


def batch_progress(batch: Batch) -> int:
    """Percent of the batch's rows that have every label they need."""
    labelled = getattr(batch, "labelled_count", None)
    if labelled is None:
        labelled = batch.queue_entries.filter(state=QueueEntry.State.DONE).count()
    rows = batch_rows_counted(batch)
    return int(100 * labelled / rows) if rows else 0


def batch_rows_counted(batch: Batch) -> int:
    """The batch's rows that count in its progress: gold rows never become done."""
    gold = getattr(batch, "gold_count", None)
    if gold is None:
        gold = QueueEntry.objects.filter(batch=batch, gold=True).count()
    return batch.size - gold


def queue_preview(*, project: Project, limit: int = 10) -> list[QueueEntry]:
    """The next `limit` (≤ MAX_PREVIEW, checked by the door) rows in serving order (rows held
    by a live reservation are skipped, as `next` skips them)."""
    now = timezone.now()
    return list(
        QueueEntry.objects.filter(project=project, gold=False)
        .exclude(state=QueueEntry.State.DONE)
        .filter(Q(state=QueueEntry.State.QUEUED) | Q(reserved_until__lt=now))
        .select_related("data_row", "batch")
        .order_by("sort_priority", "id")[:limit]
    )


def queue_counts(*, project: Project) -> dict[str, int]:
    """The project's rows by queue state: done ones from the batches' progress counters,
    the others (what is left to label) counted through the serving index, which holds only
    them."""
    counts = dict(
        QueueEntry.objects.filter(project=project)
        .exclude(state=QueueEntry.State.DONE)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    done = BatchProgress.objects.filter(batch__project=project).aggregate(
        done=Sum("done"), gold=Sum("done_gold")
    )
    counts[QueueEntry.State.DONE] = (done["done"] or 0) + (done["gold"] or 0)
    return {state: counts.get(state, 0) for state in QueueEntry.State.values}


def reservation_held(*, project: Project, user) -> QueueEntry | None:
    """The row `user` holds by a live reservation in the project, with its data row and batch."""
    return (
        QueueEntry.objects.filter(
            project=project,
            state=QueueEntry.State.RESERVED,
            reserved_by=user,
            reserved_until__gte=timezone.now(),
        )
        .select_related("data_row", "batch")
        .first()
    )


def label_item(*, entry: QueueEntry) -> dict[str, Any]:
    """What the labeling page shows of a row: its frame (sources, meta, attachments) as the
    batch's version holds it (else the dataset's current version), each source with how a
    browser shows it; a row without a frame shows its row data (a URI or the text itself)."""
    row = entry.data_row
    version = entry.batch.version if entry.batch.version_id else None
    if version is None:
        version = version_for_reading(dataset=Dataset(pk=row.dataset_id), only=READ_FIELDS)
    frame: dict[str, Any] = {}
    if version is not None:
        frames, _ = frames_page(version=version, ids=[row.pk], limit=1)
        frame = frames[0] if frames else {}
    media = frame_media(frame)
    if not media and row.row_data:
        media = [
            {
                "name": "row data",
                "uri": row.row_data,
                "kind": media_kind(row.row_data),
                "preview": None,
            }
        ]
    meta = frame.get("meta") if isinstance(frame.get("meta"), dict) else {}
    attachments = frame.get("attachments") if isinstance(frame.get("attachments"), list) else []
    return {"version": version, "media": media, "meta": meta, "attachments": attachments}


def labeler_today(*, project: Project, user) -> dict[str, int]:
    """What `user` did in the project since midnight (server time): labels and skips."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "labels": Label.objects.filter(project=project, author=user, created_at__gte=start).count(),
        "skips": Skip.objects.filter(project=project, user=user, created_at__gte=start).count(),
    }


CHOICES_SEARCH_MAX_LENGTH = 255  # characters of the dataset select's name search


def dataset_choices(*, name: str = "", chosen: str = "") -> tuple[list[Dataset], bool]:
    """The datasets a batch can be made from, by name: a bounded share (those whose name
    contains `name`, when given) and the chosen one; and whether more were left out."""
    datasets = Dataset.objects.order_by("name").only("name")
    found, more = bounded_choices(datasets.filter(name__icontains=name) if name else datasets)
    if chosen and all(d.pk != chosen for d in found):
        found += list(datasets.filter(pk=chosen)[:1])
    return found, more


def version_choices(*, dataset_id: str, chosen: str = "") -> tuple[list[DatasetVersion], bool]:
    """A dataset's versions to choose from, newest change first (not their metadata): a
    bounded share and the chosen one; and whether older ones were left out."""
    versions = (
        DatasetVersion.objects.filter(dataset_id=dataset_id, removed=False)
        .only("name", "status")
        .order_by("-updated_at")
    )
    return bounded_choices(versions, chosen=chosen)


def label_list(*, project: Project) -> QuerySet[Label]:
    return Label.objects.filter(project=project).select_related("author", "batch")


def entry_labelled_by(*, user) -> Exists:
    return Exists(
        Label.objects.filter(
            project_id=OuterRef("project_id"), data_row_id=OuterRef("data_row_id"), author=user
        )
    )


def labels_to_publish(*, project: Project, dataset_id: str) -> QuerySet[Label]:
    """The project's labels on the dataset's rows that are done: a row still being labelled
    (consensus) is not published, so no labeler reads another's label through the version;
    nor is a row with a label awaiting review, nor a rejected label."""
    done = QueueEntry.objects.filter(
        project_id=OuterRef("project_id"),
        data_row_id=OuterRef("data_row_id"),
        state=QueueEntry.State.DONE,
    )
    in_review = Label.objects.filter(
        project_id=OuterRef("project_id"),
        data_row_id=OuterRef("data_row_id"),
        status=Label.Status.PENDING_REVIEW,
    )
    return (
        Label.objects.filter(project=project, data_row__dataset_id=dataset_id)
        .filter(status__in=[Label.Status.SUBMITTED, Label.Status.ACCEPTED])
        .filter(Exists(done))
        .exclude(Exists(in_review))
    )


def dataset_rows_outside(*, project: Project, dataset: Dataset, version: DatasetVersion | None):
    """Ids of the dataset's (or version's) rows not already in the project, in id order."""
    if version is not None:
        rows = DataRow.objects.filter(pk__in=effective_entries(version).values("data_row_id"))
    else:
        rows = DataRow.objects.filter(dataset=dataset)
    in_project = QueueEntry.objects.filter(project=project, data_row_id=OuterRef("pk"))
    return rows.exclude(Exists(in_project)).order_by("id").values_list("id", flat=True)
