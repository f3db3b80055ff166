"""The events the batches services record (`dashboard.events.object_event`, `event_record`, in
the change's transaction): one call per change, whatever the number of rows it touches."""

from __future__ import annotations

from typing import Any

from dashboard.events import CURRENT_ACTOR, event_record, object_event

from .models import Batch, Project, QueueEntry


def project_event(type: str, project: Project, **data: Any) -> None:
    object_event(type, project, "project", project=project.pk, data={"name": project.name, **data})


def label_submitted_event(*, project_id: str, label_id, batch_id, data_row_id, actor) -> None:
    """`label.submitted`: the label with its batch and data row (ordinary and gold rows alike).
    On PostgreSQL the serving statement of an ordinary submit writes the same event in its own
    SQL (`services/serving.py`, from `event_columns`)."""
    event_record(
        type="label.submitted",
        actor=actor,
        project=project_id,
        object_type="label",
        object_id=label_id,
        data={"label": label_id, "batch": batch_id, "data_row": data_row_id},
    )


def batch_event(type: str, batch: Batch, actor=CURRENT_ACTOR, **data: Any) -> None:
    """An event about a batch: its project and dataset (a deleted batch's too), its name."""
    object_event(
        type,
        batch,
        "batch",
        actor=actor,
        project=batch.project_id,
        dataset=batch.dataset_id,
        data={"batch": batch.pk, "name": batch.name, **data},
    )


def batch_completed_check(batch_id: str, *, actor=CURRENT_ACTOR) -> None:
    """Record `batch.completed` if every row of the batch is done now (called after a row became
    done or rows left, in that transaction); a batch left without rows is not completed. Two
    index probes; when nothing queued is left, the batch row is locked before the final look,
    so two concurrent last submits cannot both miss it."""
    # Its gold rows never become done (nor count in its progress): they never hold it back.
    live = QueueEntry.objects.filter(
        batch_id=batch_id, state__in=["queued", "reserved"], gold=False
    )
    if live.filter(state="queued").exists():
        return  # rows wait to be served: their submits will look again
    # The lock first, the look in a statement of its own (a snapshot taken after the lock).
    batch = (
        Batch.objects.select_for_update(no_key=True)
        .filter(pk=batch_id)
        .only("id", "name", "project_id", "dataset_id", "size")
        .first()
    )
    if batch is None or not batch.size or live.exists():
        return  # gone, emptied (no row left to be done), or rows still to label
    batch_event("batch.completed", batch, actor=actor, size=batch.size)
