"""Reads on projects, batches, the queue and labels (lists, one object, the queue preview)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from dashboard.errors import Invalid, NotFound

from .models import Batch, Label, Project, QueueEntry

MAX_PREVIEW = 1000


def project_list() -> QuerySet[Project]:
    return Project.objects.annotate(batch_count=Count("batches")).order_by("-created_at", "-id")


def project_get(*, project_id: Any) -> Project:
    project = Project.objects.filter(pk=str(project_id)).first()
    if project is None:
        raise NotFound(f"No project with id {project_id!r}.")
    return project


def batch_list(*, project: Project) -> QuerySet[Batch]:
    """The project's batches with `labelled_count` (rows with every label they need) and
    `labels_total` (labels written), counted through the (batch, state) index."""
    return (
        Batch.objects.filter(project=project)
        .annotate(
            labelled_count=Count(
                "queue_entries", filter=Q(queue_entries__state=QueueEntry.State.DONE)
            ),
        )
        .select_related("created_by")
    )


def batch_in_serving_order(*, project: Project) -> list[Batch]:
    from .services.priorities import _batch_order_key

    return sorted(batch_list(project=project), key=_batch_order_key)


def batch_get(*, project: Project, batch_id: Any) -> Batch:
    batch = batch_list(project=project).filter(pk=str(batch_id)).first()
    if batch is None:
        raise NotFound(f"No batch with id {batch_id!r} in project {project.name!r}.")
    return batch


def batch_labels_count(*, batch: Batch) -> int:
    return Label.objects.filter(batch=batch).count()


def batch_progress(batch: Batch) -> int:
    """Percent of the batch's rows that have every label they need."""
    labelled = getattr(batch, "labelled_count", None)
    if labelled is None:
        labelled = batch.queue_entries.filter(state=QueueEntry.State.DONE).count()
    return int(100 * labelled / batch.size) if batch.size else 0


def queue_preview(*, project: Project, limit: Any = 10) -> list[QueueEntry]:
    """The next `limit` rows in serving order (rows held by a live reservation are skipped,
    as `next` skips them)."""
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        raise Invalid("Must be a whole number.", field="limit") from None
    if not 1 <= limit <= MAX_PREVIEW:
        raise Invalid(f"Must be between 1 and {MAX_PREVIEW}.", field="limit")
    now = timezone.now()
    return list(
        QueueEntry.objects.filter(project=project)
        .exclude(state=QueueEntry.State.DONE)
        .filter(Q(state=QueueEntry.State.QUEUED) | Q(reserved_until__lt=now))
        .select_related("data_row", "batch")
        .order_by("sort_priority", "id")[:limit]
    )


def queue_counts(*, project: Project) -> dict[str, int]:
    counts = dict(
        QueueEntry.objects.filter(project=project)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    return {state: counts.get(state, 0) for state in QueueEntry.State.values}


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
    (consensus) is not published, so no labeler reads another's label through the version."""
    done = QueueEntry.objects.filter(
        project_id=OuterRef("project_id"),
        data_row_id=OuterRef("data_row_id"),
        state=QueueEntry.State.DONE,
    )
    return Label.objects.filter(project=project, data_row__dataset_id=dataset_id).filter(
        Exists(done)
    )
