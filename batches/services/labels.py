"""Writes on the queue by labelers: take the next row, submit a label, skip a row; and
`label_create` for labels recorded without a reservation (demo data, imports)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.errors import Conflict, Invalid, NotFound
from dashboard.events import event_columns, event_written

from ..events import batch_completed_check, label_submitted_event
from ..models import Label, Project, QueueEntry, review_chosen
from .agreement import agreement_refresh
from .gold import gold_next, gold_skip, gold_submit
from .rollups import RollupDelta, day_of, hour_of
from .serving import (
    db_time,
    label_event_insert,
    label_insert,
    loaded,
    reserve,
    served_entry,
    serving_db,
    serving_transaction,
    skip_release,
)

ENTRY_ID_LIMIT = 2**63  # queue entry ids are bigints


def queue_next(*, project: Project, user) -> QueueEntry | None:
    """Reserve the next row for `user`, or renew the reservation they still hold.

    One statement on PostgreSQL: `UPDATE … WHERE id = COALESCE(the caller's reservation,
    the first row they may take)`, the latter `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent
    labelers never wait for or take the same row; it returns the answer joined with the data
    row and batch. A unique index allows one reservation per labeler: if two of their requests
    race, the loser retries and renews the winner's reservation.
    """
    if project.gold_percentage > 0:
        gold = gold_next(project=project, user=user)
        if gold is not None:
            return gold
    db = serving_db()
    for _attempt in range(3):
        try:
            with serving_transaction(db):
                return reserve(db, project=project, user=user)
        except IntegrityError:
            continue  # the same labeler reserved concurrently: renew that one instead
    raise Conflict("Too many simultaneous requests for the next row; try again.")


def _entry_id(entry_id: Any) -> int:
    try:
        value = int(entry_id)
    except (TypeError, ValueError):
        value = None
    if value is None or not -ENTRY_ID_LIMIT <= value < ENTRY_ID_LIMIT:
        raise NotFound(f"No queue entry {entry_id!r} in this project.")
    return value


def _not_held(*, project: Project, entry_id: int) -> Exception:
    """Why a write on a held entry found nothing: 404 unknown entry, else 409 not yours."""
    if not QueueEntry.objects.filter(pk=entry_id, project=project).exists():
        return NotFound(f"No queue entry {entry_id!r} in this project.")
    return Conflict(
        "You do not hold a reservation on this row (it expired and was taken, or was "
        "never yours): take the next row."
    )


def _label_conflict(exc: IntegrityError) -> Conflict | None:
    message = str(exc)
    if "queueentry_labels_within_required" in message:
        return Conflict("This row already has all the labels it needs.")
    # PostgreSQL names the constraint, SQLite its columns.
    if "label_once_per_author" in message or f"{Label._meta.db_table}.author_id" in message:
        return Conflict("You have already labelled this row.")
    return None


def _check_annotation_size(annotation: Any) -> None:
    """An annotation is at most `LABEL_MAX_ANNOTATION_BYTES` of compact UTF-8 JSON (the
    request that carried it is bounded already: encoding it once is cheap)."""
    limit = django_settings.LABEL_MAX_ANNOTATION_BYTES
    text = json.dumps(annotation, separators=(",", ":"), ensure_ascii=False)
    # Characters ≤ bytes ≤ 4 × characters: encode only when the length cannot decide.
    if len(text) > limit or (4 * len(text) > limit and len(text.encode()) > limit):
        raise Invalid(
            f"An annotation is at most {limit} bytes of JSON (LABEL_MAX_ANNOTATION_BYTES).",
            field="annotation",
        )


def _check_classes(*, project: Project, annotation: dict) -> None:
    """The label names only classes of the project's ontology (when it has one). The door
    has checked the shape: a JSON object whose `classes` is a list of strings."""
    classes = annotation.get("classes") or []
    unknown = [c for c in classes if project.label_classes and c not in project.label_classes]
    if unknown:
        raise Invalid(
            f"Not label classes of this project: {', '.join(unknown)}.", field="annotation"
        )


def _status_of(project: Project):
    """The status of a new label on a row not escalated: `pending_review` on the project's
    review share of rows (`review_chosen`), else `submitted`. A fixed answer when the share is
    0 or 1, else a function of the data row id."""
    share = project.review_percentage or 0
    if share <= 0:
        return Label.Status.SUBMITTED.value
    if share >= 1:
        return Label.Status.PENDING_REVIEW.value

    def status(data_row_id: str) -> str:
        chosen = review_chosen(project_id=project.pk, data_row_id=data_row_id, share=share)
        return (Label.Status.PENDING_REVIEW if chosen else Label.Status.SUBMITTED).value

    return status


def _status_now(label_id: int) -> str:
    """A label's status as stored (escalation may have changed it since it was inserted)."""
    return Label.objects.filter(pk=label_id).values_list("status", flat=True).first()


def _label_record(
    *, project: Project, entry_id: int, author, annotation: dict, held: bool
) -> Label:
    """Record `author`'s label on the entry and count it (with `held`, only on the entry they
    hold, whose reservation ends), with its `label.submitted` event (and `batch.completed` when
    it was the batch's last row) in the same transaction. One statement on PostgreSQL (two
    with a review share strictly between 0 and 1: the row's id is read first), and the
    event's."""
    _check_annotation_size(annotation)
    db, now = serving_db(), timezone.now()
    params = {
        "entry": entry_id,
        "project": project.pk,
        "user": author.pk,
        "annotation": Label._meta.get_field("annotation").get_db_prep_value(annotation, db),
        "now": db_time(db, now),
    }
    status = _status_of(project)
    if callable(status) and db.vendor == "postgresql":
        # The entry's data row never changes: reading it first keeps the write one statement.
        row_id = (
            QueueEntry.objects.filter(pk=entry_id, project=project)
            .values_list("data_row_id", flat=True)
            .first()
        )
        status = status(row_id) if row_id is not None else Label.Status.SUBMITTED.value
    params["status"] = Label.Status.SUBMITTED.value if callable(status) else status
    status = status if callable(status) else None
    rollup = RollupDelta(project.pk)
    try:
        with transaction.atomic(using=db.alias):
            row = None
            if db.vendor == "postgresql":
                # The row's first counted label has nothing to agree with: one statement with
                # its event (the common case: every row without consensus).
                row = _first_label_with_event(
                    db, params, held=held, author=author, rollup=rollup, now=now
                )
            recorded = row is not None
            if row is None:
                # A later label of a consensus row: its agreement (and escalation) is written
                # in the same transaction as the label.
                with db.cursor() as cursor:
                    row = label_insert(cursor, params, held=held, status=status)
                if row is not None:
                    rollup.label(author_id=author.pk, created_at=now, status=row[3], seconds=row[4])
                    agreement_refresh(
                        project=project, data_row_id=row[2], arrived=True, rollup=rollup
                    )
                    if project.agreement_threshold is not None:
                        row = (*row[:3], _status_now(row[0]), *row[4:])
            if row is not None and not recorded:  # a row's later label, or SQLite
                label_id, batch_id, row_id = row[:3]
                label_submitted_event(
                    project_id=project.pk,
                    label_id=label_id,
                    batch_id=batch_id,
                    data_row_id=row_id,
                    actor=author,
                )
                # The labeler rollups (services/rollups.py): after the progress counters and
                # before the batch row, as for a row's first label (`_first_label_with_event`).
                rollup.flush()
                batch_completed_check(batch_id, actor=author)
    except IntegrityError as exc:
        conflict = _label_conflict(exc)
        if conflict is None:
            raise
        raise conflict from None
    if row is None:
        # Not an ordinary row the caller holds: perhaps a gold row they hold.
        if held:
            gold = gold_submit(
                project=project, entry_id=entry_id, user=author, annotation=annotation
            )
            if gold is not None:
                return gold
        raise _not_held(project=project, entry_id=entry_id)
    label_id, batch_id, row_id, label_status, seconds = row
    label = loaded(
        db,
        Label,
        id=label_id,
        project_id=project.pk,
        batch_id=batch_id,
        data_row_id=row_id,
        author_id=author.pk,
        annotation=annotation,
        status=label_status,
        seconds=None if seconds is None else float(seconds),
        reviewer_id=None,
        decision="",
        reason="",
        reviewed_at=None,
        created_at=now,
    )
    label.project, label.author = project, author
    return label


def _first_label_with_event(
    db, params: dict, *, held: bool, author, rollup: RollupDelta, now
) -> tuple | None:
    """PostgreSQL: a row's first counted label, its `label.submitted` event and the look for
    `batch.completed` in one statement; then the labeler rollups; the lock-and-look of
    `batch_completed_check` only when no row of the batch is left queued (its last rows).
    None: not a row's first label.

    Lock order, the same on every path: the batch's progress counters (the label's and the
    queue entry's triggers, at the end of the label's statement), then the rollup rows (a
    later label flushes other labelers' rows too, with their agreement), then the batch row.
    Counting the rollups inside the label's statement took them before the counters, and
    concurrent labelers deadlocked."""
    event = event_columns(type="label.submitted", actor=author, project=params["project"])
    with db.cursor() as cursor:
        row = label_event_insert(cursor, params, held=held, event=event)
    if row is None:
        return None
    event_written(fanout=event["fanout"])
    rollup.label(author_id=author.pk, created_at=now, status=row[3], seconds=row[4])
    rollup.flush()
    if not row[5]:
        batch_completed_check(row[1], actor=author)
    return row[:5]


def label_create(*, entry: QueueEntry, author, annotation: dict) -> Label:
    """Record `author`'s label for the entry's row (demo data, imports); no reservation needed."""
    return _label_record(
        project=entry.project, entry_id=entry.pk, author=author, annotation=annotation, held=False
    )


def label_submit(*, project: Project, entry_id: Any, user, annotation: dict) -> Label:
    """Submit the caller's label for a row they hold (even past its expiry, as long as nobody
    took it); the reservation ends. 400 bad annotation, 404 unknown entry, 409 not held."""
    _check_classes(project=project, annotation=annotation)
    return _label_record(
        project=project, entry_id=_entry_id(entry_id), author=user, annotation=annotation, held=True
    )


def queue_skip(*, project: Project, entry_id: Any, user) -> QueueEntry:
    """Pass on a held row: it returns to the queue and is never served to this labeler again."""
    db, entry_id = serving_db(), _entry_id(entry_id)
    params = {"entry": entry_id, "project": project.pk, "user": user.pk}
    now = timezone.now()
    params["now"], params["hour"] = db_time(db, now), db_time(db, hour_of(now))
    params["day"] = db_time(db, day_of(now))
    with serving_transaction(db), db.cursor() as cursor:
        row = skip_release(cursor, params)
    if row is None:
        gold = gold_skip(project=project, entry_id=entry_id, user=user)
        if gold is not None:
            return gold
        raise _not_held(project=project, entry_id=entry_id)
    state = QueueEntry.State.QUEUED
    return served_entry(db, row, project=project, state=state, user=None, until=None)
