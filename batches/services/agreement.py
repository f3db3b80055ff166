"""Agreement kept current: when a row's counted (not rejected) labels change, its agreement
and each label's agreement are recomputed from those labels, in the caller's transaction, and a
consensus row whose last required label leaves it below the project's threshold is escalated.

Every write that adds, rejects or deletes labels calls `agreement_refresh` (submit, reject,
delete-labels): pages and endpoints then read the stored values, never recount similarity.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F, Sum

from ..models import AgreementBucket, Batch, Label, Project, QueueEntry
from ..similarity import HISTOGRAM_BUCKETS, histogram_bucket, similarity
from .rollups import RollupDelta


def _bucket_moves(*, project_id: str, batch_id: str, old: float | None, new: float | None):
    """A row's agreement went from `old` to `new`: move it between its batch's buckets. The
    bucket rows are updated in bucket order, so two writers never lock them crosswise."""
    moves: dict[int, tuple[int, float]] = {}
    if old is not None:
        b = histogram_bucket(old)
        moves[b] = (moves.get(b, (0, 0.0))[0] - 1, moves.get(b, (0, 0.0))[1] - old)
    if new is not None:
        b = histogram_bucket(new)
        moves[b] = (moves.get(b, (0, 0.0))[0] + 1, moves.get(b, (0, 0.0))[1] + new)
    for bucket in sorted(moves):
        rows, total = moves[bucket]
        if rows == 0 and total == 0:
            continue
        scope = AgreementBucket.objects.filter(batch_id=batch_id, bucket=bucket)
        if not scope.update(rows=F("rows") + rows, total=F("total") + total):
            AgreementBucket.objects.bulk_create(
                [
                    AgreementBucket(project_id=project_id, batch_id=batch_id, bucket=b)
                    for b in range(HISTOGRAM_BUCKETS)
                ],
                ignore_conflicts=True,
            )
            scope.update(rows=F("rows") + rows, total=F("total") + total)


def agreement_buckets_recount(*, batch: Batch) -> None:
    """Count the batch's buckets again from its rows (after a bulk change of their agreement,
    such as deleting the batch's labels): one grouped read of the batch, on a write."""
    with transaction.atomic():
        counted = {
            int(line["bucket"]): line
            for line in QueueEntry.objects.filter(batch=batch, agreement__isnull=False)
            .annotate(bucket=_bucket_expression())
            .values("bucket")
            .annotate(rows=Count("id"), total=Sum("agreement"))
        }
        AgreementBucket.objects.filter(batch=batch).delete()
        AgreementBucket.objects.bulk_create(
            [
                AgreementBucket(
                    project_id=batch.project_id,
                    batch=batch,
                    bucket=b,
                    rows=counted.get(b, {}).get("rows", 0),
                    total=counted.get(b, {}).get("total") or 0.0,
                )
                for b in range(HISTOGRAM_BUCKETS)
            ]
        )


def _bucket_expression():
    from django.db.models import FloatField, Value
    from django.db.models.functions import Floor, Least

    return Least(
        Floor(F("agreement") * HISTOGRAM_BUCKETS + 1e-9),
        Value(HISTOGRAM_BUCKETS - 1.0),
        output_field=FloatField(),
    )


def _label_agreements(annotations: list) -> tuple[list[float | None], float | None]:
    """Each label's mean similarity to the others, and the row's mean over all pairs."""
    n = len(annotations)
    if n < 2:
        return [None] * n, None
    sums = [0.0] * n
    total = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            value = similarity(annotations[i], annotations[j])
            sums[i] += value
            sums[j] += value
            total += value
    return [s / (n - 1) for s in sums], total / (n * (n - 1) / 2)


def agreement_refresh(
    *, project: Project, data_row_id: str, arrived: bool = False, rollup: RollupDelta | None = None
) -> None:
    """Recompute the agreement of the project's row `data_row_id` and of its counted labels.

    With `arrived` (a label was just submitted), a consensus row that now has every label it
    needs and whose agreement is below `project.agreement_threshold` is escalated: all its
    counted labels await review (`pending_review`), and the review queue serves it first.
    Runs in the caller's transaction (it opens one if there is none); the row is locked first,
    so concurrent submits on one row recompute one after the other. The labels' changes go
    into `rollup` (flushed by the caller), or are flushed here without one."""
    flush = rollup is None
    rollup = RollupDelta(project.pk) if rollup is None else rollup
    with transaction.atomic():
        entry = (
            QueueEntry.objects.select_for_update()
            .filter(project=project, data_row_id=data_row_id)
            .only("id", "batch_id", "labels_required", "agreement", "escalated", "gold")
            .first()
        )
        if entry is None or entry.gold:
            return  # gold rows are scored against their answer, not among labelers
        labels = list(
            Label.objects.filter(project=project, data_row_id=data_row_id)
            .exclude(status=Label.Status.REJECTED)
            .only("id", "annotation", "agreement", "status", "author_id", "created_at")
            .order_by("id")
        )
        per_label, row = _label_agreements([label.annotation for label in labels])
        changed = []
        for label, value in zip(labels, per_label, strict=True):
            if label.agreement != value:
                rollup.score(
                    author_id=label.author_id,
                    created_at=label.created_at,
                    field="agreement",
                    old=label.agreement,
                    new=value,
                )
                label.agreement = value
                changed.append(label)
        if changed:
            Label.objects.bulk_update(changed, ["agreement"])
        updates: dict = {}
        if entry.agreement != row:
            updates["agreement"] = row
            _bucket_moves(
                project_id=project.pk, batch_id=entry.batch_id, old=entry.agreement, new=row
            )
        threshold = project.agreement_threshold
        if (
            arrived
            and threshold is not None
            and row is not None
            and entry.labels_required >= 2
            and len(labels) >= entry.labels_required
            and row < threshold
            and not entry.escalated
        ):
            updates["escalated"] = True
            # Locked first: a reviewer accepting one of them meanwhile is counted once.
            escalated = list(
                Label.objects.select_for_update()
                .filter(pk__in=[label.pk for label in labels], status=Label.Status.SUBMITTED)
                .values_list("pk", "author_id", "created_at")
            )
            Label.objects.filter(pk__in=[pk for pk, *_ in escalated]).update(
                status=Label.Status.PENDING_REVIEW
            )
            for _pk, author_id, created_at in escalated:
                rollup.status(
                    author_id=author_id,
                    created_at=created_at,
                    old=Label.Status.SUBMITTED,
                    new=Label.Status.PENDING_REVIEW,
                )
        if updates:
            QueueEntry.objects.filter(pk=entry.pk).update(**updates)
        if flush:
            rollup.flush()
