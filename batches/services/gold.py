"""Gold rows: rows of the project's batches with a known answer. Managers set and remove them;
each labeler is served each gold row at most once, mixed into their `next` answers at the
project's `gold_percentage` (indistinguishable from other rows); each label on a gold row gets
its similarity to the answer (`gold_score`). A gold row never becomes done and does not count
in batch progress: its queue entry is flagged `gold`, which the serving order skips."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.errors import Conflict, NotFound
from versions.models import DataRow

from ..events import label_submitted_event
from ..models import Batch, GoldRow, GoldServing, Label, Project, QueueEntry, Skip, review_chosen
from ..similarity import similarity
from .rollups import RollupDelta
from .rows import failed_row, failed_without_index
from .serving import loaded, serving_db

# `gold_percentage` draws: replaced in tests for reproducible mixes.
draw = random.random


# --- Managers: set and remove gold rows -----------------------------------------------------


def _score_labels(
    *, project: Project, data_row_id: str, annotation: dict, rollup: RollupDelta
) -> None:
    """Every label on the row gets its similarity to the gold answer."""
    labels = list(
        Label.objects.filter(project=project, data_row_id=data_row_id).only(
            "id", "annotation", "gold_score", "author_id", "created_at"
        )
    )
    for label in labels:
        score = similarity(label.annotation, annotation)
        rollup.score(
            author_id=label.author_id,
            created_at=label.created_at,
            field="gold_score",
            old=label.gold_score,
            new=score,
        )
        label.gold_score = score
    Label.objects.bulk_update(labels, ["gold_score"])


@transaction.atomic
def gold_set(*, project: Project, rows: list[dict], user=None) -> dict:
    """Make rows gold with their answers (`rows`: `{data_row | global_key, annotation}`, checked
    by the door: one of the two keys, an annotation object within the size limit). Rows already
    gold get the new answer; the labels on every row given are (re)scored. Unknown rows, rows
    in none of the project's batches and classes outside the ontology come back in `failed`;
    the others are set. A labeler holding one of these rows loses that reservation."""
    keys = [r["global_key"] for r in rows if r.get("global_key") is not None]
    by_key = dict(DataRow.objects.filter(global_key__in=keys).values_list("global_key", "id"))
    wanted: dict[str, dict] = {}
    place: dict[str, tuple[int, str | None]] = {}  # row -> (its last index, its global key)
    failed = []
    for i, item in enumerate(rows):
        gk = item.get("global_key")
        row_id = item.get("data_row") if gk is None else by_key.get(gk)
        annotation = item["annotation"]
        classes = annotation.get("classes") or []
        unknown = [c for c in classes if project.label_classes and c not in project.label_classes]
        if row_id is None:
            failed.append(failed_row(index=i, data_row=None, global_key=gk, reason="unknown"))
        elif unknown:
            failed.append(
                failed_row(
                    index=i,
                    data_row=row_id,
                    global_key=gk,
                    reason=f"not label classes of this project: {', '.join(unknown[:5])}",
                )
            )
        else:
            wanted[row_id] = annotation  # the last item for a row wins
            place[row_id] = (i, gk)
    entries = {
        e.data_row_id: e
        for e in QueueEntry.objects.select_for_update()
        .filter(project=project, data_row_id__in=list(wanted))
        .only("id", "data_row_id", "state", "gold")
    }
    outside = [r for r in wanted if r not in entries]
    known = set(DataRow.objects.filter(pk__in=outside).values_list("id", flat=True))
    for row_id in outside:
        index, gk = place[row_id]
        failed.append(
            failed_row(
                index=index,
                data_row=row_id,
                global_key=gk,
                reason="not in a batch of this project" if row_id in known else "unknown",
            )
        )
        del wanted[row_id]
    rollup = RollupDelta(project.pk)
    existing = {
        g.data_row_id: g
        for g in GoldRow.objects.select_for_update().filter(
            project=project, data_row_id__in=list(wanted)
        )
    }
    for row_id, annotation in wanted.items():
        gold = existing.get(row_id)
        if gold is None:
            GoldRow.objects.create(
                project=project, data_row_id=row_id, annotation=annotation, created_by=user
            )
        elif gold.annotation != annotation:
            gold.annotation = annotation
            gold.save(update_fields=["annotation", "updated_at"])
        _score_labels(project=project, data_row_id=row_id, annotation=annotation, rollup=rollup)
    QueueEntry.objects.filter(project=project, data_row_id__in=list(wanted)).update(gold=True)
    # A labeler holding one of them loses it (gold rows are served by gold reservations only).
    QueueEntry.objects.filter(
        project=project, data_row_id__in=list(wanted), state=QueueEntry.State.RESERVED
    ).update(state=QueueEntry.State.QUEUED, reserved_by=None, reserved_until=None)
    rollup.flush()
    failed.sort(key=lambda f: (f["index"] is None, f["index"] or 0))
    return {"set": len(wanted), "failed": failed_without_index(failed)}


@transaction.atomic
def gold_delete(*, project: Project, data_row_id: Any) -> None:
    """The row stops being gold: it is served by the queue order again; its labels keep their
    scores; a labeler holding it as a gold row loses that reservation. 404 if it is not gold."""
    deleted, _ = GoldRow.objects.filter(project=project, data_row_id=str(data_row_id)).delete()
    if not deleted:
        raise NotFound(f"Data row {data_row_id!r} is not a gold row of this project.")
    QueueEntry.objects.filter(project=project, data_row_id=str(data_row_id)).update(gold=False)
    GoldServing.objects.filter(
        project=project, data_row_id=str(data_row_id), state=GoldServing.State.RESERVED
    ).delete()


# --- Labelers: gold rows served, submitted and skipped -----------------------------------------


def _entry_for(db, *, project: Project, serving: GoldServing, user) -> QueueEntry:
    """The row's queue entry as `next` answers it: reserved for `user` until the gold
    reservation's expiry, and shown as a row of its batch that nobody has labelled yet (the
    labels it needs under the batch's consensus, none counted, no template, no rework note):
    its own counts (frozen when it became gold, perhaps all its labels) would tell it apart."""
    entry = (
        QueueEntry.objects.filter(project=project, data_row_id=serving.data_row_id)
        .select_related("data_row", "batch")
        .only(
            "id",
            "batch_id",
            "data_row_id",
            "sort_priority",
            "labels_required",
            "data_row__id",
            "data_row__global_key",
            "data_row__row_data",
            "batch__id",
            "batch__name",
            "batch__project_id",
        )
        .first()
    )
    if entry is None:  # the row left the project meanwhile
        return None
    served = loaded(
        db,
        QueueEntry,
        id=entry.pk,
        project_id=project.pk,
        batch_id=entry.batch_id,
        data_row_id=entry.data_row_id,
        state=QueueEntry.State.RESERVED,
        sort_priority=entry.sort_priority,
        labels_required=entry.labels_required,
        labels_count=0,
        reserved_by_id=user.pk,
        reserved_until=serving.reserved_until,
        template=None,
        rework_label_id=None,
    )
    served.project, served.reserved_by = project, user
    served.data_row = entry.data_row
    served.batch = loaded(
        db, Batch, id=entry.batch_id, project_id=project.pk, name=entry.batch.name
    )
    return served


def gold_held(*, project: Project, user) -> GoldServing | None:
    return GoldServing.objects.filter(
        project=project, user=user, state=GoldServing.State.RESERVED
    ).first()


def _next_gold_row(*, project: Project, user) -> str | None:
    """The first gold row (oldest first) this labeler has never been served, labelled or
    skipped."""
    return (
        GoldRow.objects.filter(project=project)
        .exclude(
            data_row_id__in=GoldServing.objects.filter(project=project, user=user).values(
                "data_row_id"
            )
        )
        .exclude(
            data_row_id__in=Label.objects.filter(project=project, author=user)
            .exclude(status=Label.Status.REJECTED)
            .filter(data_row_id__in=GoldRow.objects.filter(project=project).values("data_row_id"))
            .values("data_row_id")
        )
        .exclude(
            data_row_id__in=Skip.objects.filter(
                project=project,
                user=user,
                data_row_id__in=GoldRow.objects.filter(project=project).values("data_row_id"),
            ).values("data_row_id")
        )
        .order_by("id")
        .values_list("data_row_id", flat=True)
        .first()
    )


def gold_next(*, project: Project, user) -> QueueEntry | None:
    """`next`'s gold step (only when the project's `gold_percentage` > 0): the gold row the
    labeler holds, renewed; else, unless they hold an ordinary row, with probability
    `gold_percentage` a gold row they have never been served. None: serve the queue order."""
    db, now = serving_db(), timezone.now()
    until = now + timedelta(seconds=project.reservation_seconds)
    held = gold_held(project=project, user=user)
    if held is not None:
        GoldServing.objects.filter(pk=held.pk).update(reserved_until=until)
        held.reserved_until = until
        return _entry_for(db, project=project, serving=held, user=user)
    if QueueEntry.objects.filter(
        project=project, state=QueueEntry.State.RESERVED, reserved_by=user
    ).exists():
        return None  # `next` renews the ordinary row they hold
    if draw() >= project.gold_percentage:
        return None
    row_id = _next_gold_row(project=project, user=user)
    if row_id is None:
        return None
    try:
        with transaction.atomic():
            serving = GoldServing.objects.create(
                project=project, data_row_id=row_id, user=user, served_at=now, reserved_until=until
            )
    except IntegrityError:
        # A second tab of the same labeler won the race: answer with what they hold now.
        held = gold_held(project=project, user=user)
        if held is None:
            raise Conflict("Too many simultaneous requests for the next row; try again.") from None
        serving = held
    return _entry_for(db, project=project, serving=serving, user=user)


def _held_gold(*, project: Project, entry_id: int, user) -> GoldServing | None:
    """The caller's gold reservation of the entry's row (locked), or None."""
    row_id = (
        QueueEntry.objects.filter(pk=entry_id, project=project, gold=True)
        .values_list("data_row_id", flat=True)
        .first()
    )
    if row_id is None:
        return None
    return (
        GoldServing.objects.select_for_update()
        .filter(project=project, data_row_id=row_id, user=user, state=GoldServing.State.RESERVED)
        .first()
    )


def _status_of(*, project: Project, data_row_id: str) -> str:
    """A gold row's label awaits review as any label of the row would (`review_chosen` on the
    project's `review_percentage`): its status must not tell the labeler it was gold."""
    share = project.review_percentage or 0
    chosen = review_chosen(project_id=project.pk, data_row_id=data_row_id, share=share)
    return (Label.Status.PENDING_REVIEW if chosen else Label.Status.SUBMITTED).value


def gold_submit(*, project: Project, entry_id: int, user, annotation: dict) -> Label | None:
    """Submit on a gold row the caller holds: the label is recorded with its `gold_score`,
    `seconds` and the status a label of the row gets (`_status_of`); the row is not counted
    (it never becomes done). None: no such gold reservation (the caller answers 404/409 as
    for any entry)."""
    with transaction.atomic():
        serving = _held_gold(project=project, entry_id=entry_id, user=user)
        if serving is None:
            return None
        gold = GoldRow.objects.filter(project=project, data_row_id=serving.data_row_id).first()
        entry = QueueEntry.objects.only("batch_id").get(pk=entry_id)
        now = timezone.now()
        try:
            with transaction.atomic():
                label = Label.objects.create(
                    project=project,
                    batch_id=entry.batch_id,
                    data_row_id=serving.data_row_id,
                    author=user,
                    annotation=annotation,
                    status=_status_of(project=project, data_row_id=serving.data_row_id),
                    seconds=max((now - serving.served_at).total_seconds(), 0.0),
                    gold_score=None if gold is None else similarity(annotation, gold.annotation),
                )
        except IntegrityError:
            raise Conflict("You have already labelled this row.") from None
        GoldServing.objects.filter(pk=serving.pk).update(
            state=GoldServing.State.LABELLED, reserved_until=None
        )
        label_submitted_event(
            project_id=project.pk,
            label_id=label.pk,
            batch_id=entry.batch_id,
            data_row_id=serving.data_row_id,
            actor=user,
        )
        rollup = RollupDelta(project.pk)
        rollup.label(
            author_id=user.pk,
            created_at=label.created_at,
            status=label.status,
            seconds=label.seconds,
            gold_score=label.gold_score,
        )
        rollup.flush()
    label.project, label.author = project, user
    return label


def gold_skip(*, project: Project, entry_id: int, user) -> QueueEntry | None:
    """Skip a gold row the caller holds: never served to them again. None: not held."""
    db = serving_db()
    with transaction.atomic():
        serving = _held_gold(project=project, entry_id=entry_id, user=user)
        if serving is None:
            return None
        GoldServing.objects.filter(pk=serving.pk).update(
            state=GoldServing.State.SKIPPED, reserved_until=None
        )
    entry = _entry_for(db, project=project, serving=serving, user=user)
    if entry is not None:
        entry.state = QueueEntry.State.QUEUED
        entry.reserved_by_id = entry.reserved_until = entry.reserved_by = None
    return entry


def gold_reservation_held(*, project: Project, user) -> QueueEntry | None:
    """The gold row `user` holds by a live reservation, as `next` answered it (the labeling
    page shows it like any held row)."""
    held = gold_held(project=project, user=user)
    if held is None or held.reserved_until is None or held.reserved_until < timezone.now():
        return None
    return _entry_for(serving_db(), project=project, serving=held, user=user)
