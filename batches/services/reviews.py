"""Writes of the review loop: reserve the next label to review, accept, reject (the row is
re-queued for one more label, with the rejected annotation as its template and the reason
shown to whoever labels it next), and the bulk decision. Each decision is one conditional
UPDATE, so two reviewers deciding the same label at once leave exactly one decision.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from dashboard.errors import ApplicationError, Conflict, Invalid, NotFound
from dashboard.events import event_record
from dashboard.roles import Role, user_has_role

from ..models import REVIEW_REASON_MAX_LENGTH, REWORK_SORT, Label, Project, QueueEntry
from .agreement import agreement_refresh
from .rollups import RollupDelta
from .serving import db_time, serving_db, serving_transaction

LABEL_ID_LIMIT = 2**63  # label ids are bigints
REVIEW_BULK_MAX = 1000  # labels in one bulk decision

_LABEL = Label._meta.db_table
_QUEUE = QueueEntry._meta.db_table
# A label another reviewer may take: awaiting review, not the caller's, not held (or expired).
_TAKEABLE = (
    "l.status = 'pending_review' AND l.author_id <> %(user)s "
    "AND (l.review_reserved_by_id IS NULL OR l.review_reserved_until < %(now)s)"
)


@functools.cache
def _review_next_sql(*, postgres: bool) -> str:
    """Reserve one label: the caller's own reservation if they still hold one, else the oldest
    takeable label of an escalated row (few: found through `queueentry_escalated`), else the
    oldest takeable label (`label_project_status`). PostgreSQL locks what it picks and skips
    what other reviewers are taking at this moment."""
    lock = " FOR UPDATE OF l SKIP LOCKED" if postgres else ""
    return f"""
        UPDATE {_LABEL}
        SET review_reserved_by_id = %(user)s, review_reserved_until = %(until)s
        WHERE id = COALESCE(
            (SELECT l.id FROM {_LABEL} AS l WHERE l.project_id = %(project)s
               AND l.review_reserved_by_id = %(user)s AND l.status = 'pending_review'
               {"FOR UPDATE OF l" if postgres else ""}),
            (SELECT l.id FROM {_QUEUE} AS q, {_LABEL} AS l
               WHERE q.project_id = %(project)s AND q.escalated
                 AND l.project_id = q.project_id AND l.data_row_id = q.data_row_id
                 AND {_TAKEABLE}
               ORDER BY l.id LIMIT 1{lock}),
            (SELECT l.id FROM {_LABEL} AS l WHERE l.project_id = %(project)s AND {_TAKEABLE}
               ORDER BY l.id LIMIT 1{lock}))
        RETURNING id
    """


def review_next(*, project: Project, user) -> Label | None:
    """Reserve the next label for `user` to review (escalated rows first, then oldest; never
    their own), or renew the one they hold; None when nothing is left. One reservation per
    reviewer per project (a unique index): if two of their requests race, the loser renews
    the winner's reservation."""
    db, now = serving_db(), timezone.now()
    until = now + timedelta(seconds=project.reservation_seconds)
    params = {
        "project": project.pk,
        "user": user.pk,
        "now": db_time(db, now),
        "until": db_time(db, until),
    }
    sql = _review_next_sql(postgres=db.vendor == "postgresql")
    for _attempt in range(3):
        try:
            with serving_transaction(db), db.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            break
        except IntegrityError:
            continue  # the same reviewer reserved concurrently: renew that one instead
    else:
        raise Conflict("Too many simultaneous requests for the next label; try again.")
    if row is None:
        return None
    return Label.objects.select_related("author", "batch", "data_row", "reviewer").get(pk=row[0])


def label_id_check(label_id: Any) -> int:
    """A label id from a URL or a body (a 404 for anything that cannot be one)."""
    try:
        value = int(label_id)
    except (TypeError, ValueError):
        value = None
    if value is None or isinstance(label_id, bool) or not 0 < value < LABEL_ID_LIMIT:
        raise NotFound(f"No label {label_id!r} in this project.")
    return value


def _refusal(*, project: Project, label_id: int, user, decision: str) -> ApplicationError:
    """Why a decision found nothing to change: 404 unknown, 409 own or already decided."""
    label = Label.objects.filter(pk=label_id, project=project).only("author_id", "status").first()
    if label is None:
        return NotFound(f"No label {label_id!r} in this project.")
    if label.author_id == user.pk:
        return Conflict("You cannot review your own label.", extra={"status": label.status})
    return Conflict(
        f"This label is already {label.status}: it cannot be {decision}ed.",
        extra={"status": label.status},
    )


def _decide(
    *,
    project: Project,
    label_id: Any,
    user,
    decision: str,
    reason: str = "",
    priority: int | None = None,
    rollup: RollupDelta | None = None,
) -> Label:
    label_id = label_id_check(label_id)
    flush = rollup is None
    rollup = RollupDelta(project.pk) if rollup is None else rollup
    allowed = [Label.Status.SUBMITTED, Label.Status.PENDING_REVIEW]
    if decision == Label.Decision.REJECT and user_has_role(user, Role.MANAGER):
        allowed.append(Label.Status.ACCEPTED)  # a manager sends any finished label back
    status = Label.Status.ACCEPTED if decision == Label.Decision.ACCEPT else Label.Status.REJECTED
    now = timezone.now()
    with transaction.atomic():
        # The row's queue entry first, as a submit takes it (it then rewrites the labels'
        # agreement), and as the decision's trigger does (it moves the entry's count of
        # labels awaiting review): a decision and a submit on one row never wait on each
        # other crosswise.
        row_id = (
            Label.objects.filter(pk=label_id, project=project)
            .values_list("data_row_id", flat=True)
            .first()
        )
        if row_id is not None:
            list(
                QueueEntry.objects.select_for_update()
                .filter(project=project, data_row_id=row_id)
                .values_list("id", flat=True)
            )
        # The label's status before (locked: the rollups move it from there).
        before = (
            Label.objects.select_for_update()
            .filter(pk=label_id, project=project)
            .values_list("status", "author_id", "created_at")
            .first()
        )
        decided = (
            Label.objects.filter(pk=label_id, project=project, status__in=allowed)
            .exclude(author_id=user.pk)
            .update(
                status=status,
                reviewer=user,
                decision=decision,
                reason=reason,
                reviewed_at=now,
                review_reserved_by=None,
                review_reserved_until=None,
            )
        )
        if not decided:
            raise _refusal(project=project, label_id=label_id, user=user, decision=decision)
        label = Label.objects.select_related("author", "batch", "data_row", "reviewer").get(
            pk=label_id
        )
        rollup.status(author_id=before[1], created_at=before[2], old=before[0], new=status)
        if status == Label.Status.REJECTED:
            _requeue(label=label, priority=priority)
            # The row's counted labels changed: its agreement follows, in this transaction.
            agreement_refresh(project=project, data_row_id=label.data_row_id, rollup=rollup)
        data = {
            "data_row": label.data_row_id,
            "batch": label.batch_id,
            "author": label.author.get_username(),
        }
        if status == Label.Status.REJECTED:
            data["reason"] = reason
        event_record(
            type=f"label.{status}",
            actor=user,
            project=project.pk,
            object_type="label",
            object_id=str(label.pk),
            data=data,
        )
        if flush:
            rollup.flush()
    return label


def _requeue(*, label: Label, priority: int | None) -> None:
    """The rejected label no longer counts: its row waits for one more label, served before
    every other row (or at `priority`, the row's override from now on), pre-filled with the
    rejected annotation, with a note naming the label (its reason and reviewer)."""
    changes: dict[str, Any] = {
        "labels_count": Case(When(labels_count__gt=0, then=F("labels_count") - 1), default=0),
        "state": Case(
            When(state=QueueEntry.State.DONE, then=Value(QueueEntry.State.QUEUED.value)),
            default=F("state"),
        ),
        "template": label.annotation,
        "rework_label": label,
        "sort_priority": REWORK_SORT if priority is None else priority,
    }
    if priority is not None:
        changes["priority_override"] = priority
    # A gold row is not re-queued: each labeler is served it once, through gold reservations.
    QueueEntry.objects.filter(
        project_id=label.project_id, data_row_id=label.data_row_id, gold=False
    ).update(**changes)


def reason_check(reason: Any, *, required: bool) -> str:
    """A rejection's reason: required, trimmed, bounded."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if required and not reason:
        raise Invalid("A rejection needs a reason.", field="reason")
    if len(reason) > REVIEW_REASON_MAX_LENGTH:
        raise Invalid(f"At most {REVIEW_REASON_MAX_LENGTH} characters.", field="reason")
    return reason


def label_accept(
    *, project: Project, label_id: Any, user, rollup: RollupDelta | None = None
) -> Label:
    """Accept a label awaiting review (or a submitted one). 404 unknown; 409 one's own label
    or one already accepted or rejected. (`rollup`: a bulk decision's, flushed by it.)"""
    return _decide(
        project=project,
        label_id=label_id,
        user=user,
        decision=Label.Decision.ACCEPT,
        rollup=rollup,
    )


def label_reject(
    *,
    project: Project,
    label_id: Any,
    user,
    reason: str,
    priority: int | None = None,
    rollup: RollupDelta | None = None,
) -> Label:
    """Reject a label with a reason (400 without one): the row is re-queued for one more
    label (see `_requeue`). A manager may also send back an accepted label. 404 unknown; 409
    one's own label or one already decided."""
    return _decide(
        project=project,
        label_id=label_id,
        user=user,
        decision=Label.Decision.REJECT,
        reason=reason_check(reason, required=True),
        priority=priority,
        rollup=rollup,
    )


def labels_review(
    *, project: Project, label_ids: list[Any], decision: str, user, reason: str = ""
) -> dict[str, Any]:
    """Accept or reject many labels (≤ REVIEW_BULK_MAX): each is decided as alone would be,
    those refused are listed `{label, reason}` (`label` as given: the id's JSON type kept).
    → `{accepted|rejected: n, failed: […]}`."""
    if decision not in Label.Decision.values:
        raise Invalid("Must be accept or reject.", field="decision")
    reason = reason_check(reason, required=decision == Label.Decision.REJECT)
    if not isinstance(label_ids, list) or not label_ids:
        raise Invalid("Give a non-empty list of label ids.", field="label_ids")
    if len(label_ids) > REVIEW_BULK_MAX:
        raise Invalid(
            f"At most {REVIEW_BULK_MAX} labels at once; got {len(label_ids)}.", field="label_ids"
        )
    done, failed = 0, []
    # One rollup for the whole decision, flushed last (cells in key order: two bulk decisions
    # never lock them crosswise). A refused label changes nothing before it is refused.
    rollup = RollupDelta(project.pk)
    given: dict[str, Any] = {}  # each label once; a refusal names it as it was given
    for label_id in label_ids:
        given.setdefault(str(label_id), label_id)
    with transaction.atomic():
        for label_id, as_given in given.items():
            try:
                with transaction.atomic():
                    if decision == Label.Decision.ACCEPT:
                        label_accept(project=project, label_id=label_id, user=user, rollup=rollup)
                    else:
                        label_reject(
                            project=project,
                            label_id=label_id,
                            user=user,
                            reason=reason,
                            rollup=rollup,
                        )
            except ApplicationError as exc:
                failed.append({"label": as_given, "reason": exc.message})
                continue
            done += 1
        rollup.flush()
    key = "accepted" if decision == Label.Decision.ACCEPT else "rejected"
    return {key: done, "failed": failed}
