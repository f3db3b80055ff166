"""Reads of the quality loop: the labels list (a labeler sees their own), what a reviewer is
shown for a label or a row, a batch's progress by review state, and the rework note.

`row_agreement` and `row_gold` are the agreement and gold answers of a row (None until the
agreement and gold-row features fill them in).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum

from dashboard.errors import NotFound
from dashboard.roles import Role, user_has_role

from .models import Batch, BatchProgress, GoldRow, Label, Project, QueueEntry

# The `BatchProgress` counts a batch's progress is read from.
PROGRESS_COUNTS = ("submitted", "pending_review", "accepted", "rejected", "done", "in_review")
MAX_OTHER_LABELS = 100  # other labels shown beside a label under review (consensus ≤ 100)


def labels_query(*, project: Project) -> QuerySet[Label]:
    """The project's labels with what their API shape shows (author, reviewer)."""
    return Label.objects.filter(project=project).select_related("author", "reviewer")


def label_list(
    *,
    project: Project,
    user,
    status: str | None = None,
    author: str | None = None,
    batch_id: str | None = None,
    data_row: str | None = None,
) -> QuerySet[Label]:
    """The project's labels, filtered; a labeler (below reviewer) sees only their own.
    `author` is a user id or a username (a 404 naming it when there is no such user)."""
    labels = labels_query(project=project)
    if not user_has_role(user, Role.REVIEWER):
        labels = labels.filter(author_id=user.pk)
    if status:
        labels = labels.filter(status=status)
    if author:
        users = get_user_model().objects.filter(username=author)
        if author.isdigit() and len(author) < 19:
            users = get_user_model().objects.filter(Q(pk=int(author)) | Q(username=author))
        found = list(users.values_list("pk", flat=True)[:2])
        if not found:
            raise NotFound(f"No user {author!r}.", field="author")
        labels = labels.filter(author_id__in=found)
    if batch_id:
        labels = labels.filter(batch_id=batch_id)
    if data_row:
        labels = labels.filter(data_row_id=data_row)
    return labels


def label_get(*, project: Project, label_id: Any) -> Label:
    from .services.reviews import label_id_check

    label = labels_query(project=project).filter(pk=label_id_check(label_id)).first()
    if label is None:
        raise NotFound(f"No label {label_id!r} in this project.")
    return label


def row_agreement(*, project: Project, data_row_id: str) -> float | None:
    """The agreement of the row's counted labels, as kept current on every label write."""
    return (
        QueueEntry.objects.filter(project=project, data_row_id=data_row_id)
        .values_list("agreement", flat=True)
        .first()
    )


def row_gold(*, project: Project, data_row_id: str) -> dict | None:
    """The row's gold answer `{annotation, created_at}`, for reviewers; None if not gold."""
    gold = (
        GoldRow.objects.filter(project=project, data_row_id=data_row_id)
        .only("annotation", "created_at")
        .first()
    )
    return None if gold is None else {"annotation": gold.annotation, "created_at": gold.created_at}


def counted_labels(*, project: Project, data_row_id: str) -> QuerySet[Label]:
    """The row's labels that count (not rejected), oldest first."""
    return (
        labels_query(project=project)
        .filter(data_row_id=data_row_id)
        .exclude(status=Label.Status.REJECTED)
        .order_by("id")
    )


def review_item(label: Label) -> dict[str, Any]:
    """What a reviewer is shown for a label: its row and batch, the row's other counted
    labels, the row's agreement, and when the reservation ends."""
    project = label.project
    others = counted_labels(project=project, data_row_id=label.data_row_id).exclude(pk=label.pk)
    return {
        "label": label,
        "data_row": label.data_row,
        "batch": label.batch,
        "other_labels": list(others[:MAX_OTHER_LABELS]),
        "agreement": row_agreement(project=project, data_row_id=label.data_row_id),
        "expires_at": label.review_reserved_until,
    }


def review_held(*, project: Project, user) -> Label | None:
    """The label `user` holds for review in the project (a page's GET shows it)."""
    return (
        labels_query(project=project)
        .filter(review_reserved_by=user, status=Label.Status.PENDING_REVIEW)
        .first()
    )


def row_state(entry: QueueEntry, *, pending: bool) -> str:
    """queued | reserved | in_review (every label given, some await review) | done."""
    if entry.state == QueueEntry.State.DONE:
        return "in_review" if pending else "done"
    return entry.state


def row_detail(*, project: Project, data_row_id: Any) -> dict[str, Any]:
    """A row of the project as a reviewer sees it: its labels side by side (rejected ones
    included, with their review), its state, agreement, escalation and gold answer."""
    entry = (
        QueueEntry.objects.filter(project=project, data_row_id=str(data_row_id))
        .select_related("data_row", "batch")
        .first()
    )
    if entry is None:
        raise NotFound(f"No data row {data_row_id!r} in this project's batches.")
    labels = list(
        labels_query(project=project).filter(data_row_id=entry.data_row_id).order_by("id")[:1000]
    )
    pending = any(label.status == Label.Status.PENDING_REVIEW for label in labels)
    return {
        "data_row": entry.data_row,
        "batch": entry.batch,
        "state": row_state(entry, pending=pending),
        "labels_required": entry.labels_required,
        "labels": labels,
        "agreement": row_agreement(project=project, data_row_id=entry.data_row_id),
        "escalated": entry.escalated,
        "gold": row_gold(project=project, data_row_id=entry.data_row_id),
    }


def batch_progress_counts(batch: Batch) -> dict[str, int]:
    """`{rows, done, labels, pending_review, accepted, rejected}`: rows are done when they
    have every label they need and none awaits review. Read from the batch's annotations
    (`with_review_counts`) when a list prepared them, else counted now."""
    counts = getattr(batch, "review_counts", None)
    if counts is None:
        counts = review_counts([batch])[batch.pk]
    return counts


def review_counts(batches) -> dict[str, dict[str, int]]:
    """`batch_progress_counts` for many batches, from the counters the database keeps
    (`BatchProgress`, a few rows per batch) and the batches' gold rows (`gold_rows_of`)."""
    ids = [b.pk for b in batches]
    kept = {
        line.pop("batch_id"): line
        for line in BatchProgress.objects.filter(batch_id__in=ids)
        .values("batch_id")
        .annotate(**{name: Sum(name) for name in PROGRESS_COUNTS})
        .order_by()
    }
    gold = gold_rows_of(ids)
    gold_labels = gold_labels_of([b for b in ids if gold.get(b)])
    result = {}
    for batch in batches:
        counts = {name: kept.get(batch.pk, {}).get(name) or 0 for name in PROGRESS_COUNTS}
        for name, n in gold_labels.get(batch.pk, {}).items():
            counts[name] -= n
        labels = ("submitted", "pending_review", "accepted", "rejected")
        result[batch.pk] = {
            "rows": batch.size - gold.get(batch.pk, 0),
            "done": counts["done"] - counts["in_review"],
            "labels": sum(counts[name] for name in labels),
            "pending_review": counts["pending_review"],
            "accepted": counts["accepted"],
            "rejected": counts["rejected"],
        }
    return result


def gold_rows_of(batch_ids) -> dict[str, int]:
    """Per batch: its gold rows, which never become done and do not count in progress
    (counted through the partial index `queueentry_batch_gold`: gold rows are few)."""
    return dict(
        QueueEntry.objects.filter(batch_id__in=batch_ids, gold=True)
        .values_list("batch_id")
        .annotate(n=Count("id"))
        .values_list("batch_id", "n")
    )


def gold_labels_of(batch_ids) -> dict[str, dict[str, int]]:
    """Per batch with gold rows: the labels on them by status (a gold row does not count in
    its batch's progress, its labels neither). No query without gold rows."""
    if not batch_ids:
        return {}
    rows = QueueEntry.objects.filter(batch_id__in=batch_ids, gold=True).values("data_row_id")
    result: dict[str, dict[str, int]] = {}
    for batch_id, status, n in (
        Label.objects.filter(batch_id__in=batch_ids, data_row_id__in=rows)
        .values_list("batch_id", "status")
        .annotate(n=Count("id"))
        .values_list("batch_id", "status", "n")
        .order_by()
    ):
        result.setdefault(batch_id, {})[status] = n
    return result


def with_review_counts(batches) -> list:
    """The batches (a page of them), each with its `review_counts`."""
    batches = list(batches)
    counts = review_counts(batches)
    for batch in batches:
        batch.review_counts = counts[batch.pk]
    return batches


def rework_note(entry: QueueEntry | None) -> dict[str, Any] | None:
    """`{label, reason, reviewer: {id, username}}` for a row re-queued for rework, else None."""
    if entry is None or not entry.rework_label_id:
        return None
    label = (
        Label.objects.filter(pk=entry.rework_label_id)
        .select_related("reviewer")
        .only("id", "reason", "reviewer__id", "reviewer__username")
        .first()
    )
    if label is None:
        return None
    reviewer = label.reviewer
    return {
        "label": label.pk,
        "reason": label.reason,
        "reviewer": None
        if reviewer is None
        else {"id": reviewer.pk, "username": reviewer.get_username()},
    }
