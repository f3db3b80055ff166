"""Batch progress kept by the database (`BatchProgress`, `QueueEntry.pending_labels`): after
submits, skips, reviews, rework, escalation, gold rows and their labels, deleted labels,
removed rows, deleted data rows and deleted batches, the counts the batches list shows equal
a direct recount; the backfill recounts a database whose counters are missing or wrong; many
labelers submitting into one batch at once leave exact counts (PostgreSQL)."""

import threading

import pytest
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Sum

from batches.models import Batch, BatchProgress, Label, QueueEntry
from batches.progress_triggers import PROGRESS_SHARDS
from batches.review_selectors import review_counts
from batches.selectors import batch_list, queue_counts
from batches.services import (
    batch_create,
    batch_delete,
    batch_delete_labels,
    batch_remove_queued_data_rows,
    gold_delete,
    gold_set,
    label_accept,
    label_reject,
    label_submit,
    queue_next,
    queue_skip,
)
from batches.services.progress import batch_progress_recount
from dashboard.roles import Role

from ..factories import ProjectFactory, UserFactory
from .quality_fixtures import *  # noqa: F403  (the fixtures)
from .quality_fixtures import make_rows

CAR, PERSON = {"classes": ["car"]}, {"classes": ["person"]}


def recount(batch: Batch) -> dict[str, int]:
    """The batch's progress counted directly from its rows and labels (as the batches list
    counted it before the counters)."""
    entries = QueueEntry.objects.filter(batch=batch)
    done = entries.filter(state="done", gold=False)
    pending_rows = (
        Label.objects.filter(batch=batch, status="pending_review")
        .filter(
            Exists(
                done.filter(project_id=OuterRef("project_id"), data_row_id=OuterRef("data_row_id"))
            )
        )
        .values("data_row_id")
        .distinct()
        .count()
    )
    # A gold row does not count in its batch's progress, its labels neither.
    gold_rows = entries.filter(gold=True).values("data_row_id")
    by_status = dict(
        Label.objects.filter(batch=batch)
        .exclude(data_row_id__in=gold_rows)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    batch.refresh_from_db()
    return {
        "rows": batch.size - entries.filter(gold=True).count(),
        "done": done.count() - pending_rows,
        "labels": sum(by_status.values()),
        "pending_review": by_status.get("pending_review", 0),
        "accepted": by_status.get("accepted", 0),
        "rejected": by_status.get("rejected", 0),
    }


def assert_exact(*batches: Batch) -> None:
    """The counters' answer equals the recount, in the list and for one batch, and the
    project's rows by state (the project page); the kept pending counts equal each row's
    labels awaiting review."""
    for batch in batches:
        listed = batch_list(project=batch.project).get(pk=batch.pk)
        direct = recount(batch)
        assert review_counts([listed])[batch.pk] == direct, batch.name
        done = QueueEntry.objects.filter(batch=batch, state="done", gold=False).count()
        assert listed.labelled_count == done
    project = batches[0].project
    by_state = dict(
        QueueEntry.objects.filter(project=project).values_list("state").annotate(n=Count("id"))
    )
    assert queue_counts(project=project) == {
        state: by_state.get(state, 0) for state in ("queued", "reserved", "done")
    }
    pending = dict(
        Label.objects.filter(status="pending_review")
        .values_list("data_row_id")
        .annotate(n=Count("id"))
    )
    kept = dict(
        QueueEntry.objects.filter(pending_labels__gt=0).values_list("data_row_id", "pending_labels")
    )
    assert kept == pending


def consensus_done(batch: Batch) -> int:
    return QueueEntry.objects.filter(batch=batch, state="done", gold=False).count()


def take_and_submit(project, user, annotation=CAR):
    entry = queue_next(project=project, user=user)
    assert entry is not None
    return label_submit(project=project, entry_id=entry.pk, user=user, annotation=annotation)


@pytest.fixture
def crew(db):
    return [UserFactory(username=f"pc{i}", role=Role.LABELER) for i in range(4)]


@pytest.fixture
def boss(db):
    return UserFactory(username="pc-boss", role=Role.MANAGER)


def test_counts_follow_every_write(crew, reviewer, boss):
    # A fixed id: the review share's choice of rows (a hash of the project and row ids) is
    # the same on every run, some rows' labels await review and others' are final.
    qproject = ProjectFactory(
        id="progress-counters",
        label_classes=["car", "person"],
        review_percentage=0.5,
        agreement_threshold=0.9,
    )
    rows = make_rows(18, "pc")
    consensus, _ = batch_create(
        project=qproject,
        name="consensus",
        data_rows=[r.pk for r in rows[:6]],
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 1},
    )
    plain, _ = batch_create(project=qproject, name="plain", data_rows=[r.pk for r in rows[6:]])
    assert_exact(consensus, plain)

    # Submits (some await review), disagreeing consensus labels (escalated), a skip.
    for i in range(4):
        take_and_submit(qproject, crew[0], CAR)
        take_and_submit(qproject, crew[1], PERSON if i % 2 else CAR)
    entry = queue_next(project=qproject, user=crew[2])
    queue_skip(project=qproject, entry_id=entry.pk, user=crew[2])
    for _ in range(3):
        take_and_submit(qproject, crew[3])
    assert_exact(consensus, plain)
    # The disagreeing rows were escalated: done, but in review (not counted done).
    assert QueueEntry.objects.filter(batch=consensus, escalated=True, state="done").exists()
    assert recount(consensus)["done"] < consensus_done(consensus)

    # Reviews: accept, reject (rework), the rework label, a manager sending an accepted back.
    pending = list(Label.objects.filter(status="pending_review").order_by("id"))
    submitted = Label.objects.filter(status="submitted").order_by("id").first()
    label_accept(project=qproject, label_id=pending[0].pk, user=reviewer)
    label_reject(project=qproject, label_id=pending[1].pk, user=reviewer, reason="no")
    label_reject(project=qproject, label_id=submitted.pk, user=reviewer, reason="again")
    assert_exact(consensus, plain)
    take_and_submit(qproject, crew[2], CAR)
    label_reject(project=qproject, label_id=pending[0].pk, user=boss, reason="sent back")
    assert_exact(consensus, plain)

    # Gold rows: one done, one not; labels on them; one stops being gold.
    done_row = QueueEntry.objects.filter(batch=plain, state="done").first().data_row_id
    open_row = QueueEntry.objects.filter(batch=plain).exclude(state="done").first().data_row_id
    gold_set(
        project=qproject,
        rows=[{"data_row": done_row, "annotation": CAR}, {"data_row": open_row, "annotation": CAR}],
    )
    assert_exact(consensus, plain)
    qproject.gold_percentage = 1
    qproject.save()
    take_and_submit(qproject, crew[0])
    take_and_submit(qproject, crew[1])
    assert_exact(consensus, plain)
    gold_delete(project=qproject, data_row_id=done_row)
    qproject.gold_percentage = 0
    qproject.save()
    assert_exact(consensus, plain)

    # Removed rows, a deleted data row, deleted labels, a deleted batch.
    batch_remove_queued_data_rows(batch=plain)
    assert_exact(consensus, plain)
    labelled = Label.objects.filter(batch=consensus, status="pending_review").first()
    labelled.data_row.delete()
    assert_exact(consensus, plain)
    batch_delete_labels(batch=consensus)
    assert_exact(consensus, plain)
    batch_delete(batch=consensus)
    assert not BatchProgress.objects.filter(batch_id=consensus.pk).exists()
    assert_exact(plain)


def test_the_backfill_recounts_missing_or_wrong_counters(qproject, crew, reviewer):
    qproject.review_percentage = 1
    qproject.save()
    rows = make_rows(5, "bf")
    batch, _ = batch_create(project=qproject, name="bf", data_rows=[r.pk for r in rows])
    for user in crew[:3]:
        take_and_submit(qproject, user)
    label_accept(project=qproject, label_id=Label.objects.first().pk, user=reviewer)
    batch_list(project=qproject).count()  # PostgreSQL: the deferred counts are written
    BatchProgress.objects.all().delete()
    QueueEntry.objects.update(pending_labels=0)
    batch_progress_recount()
    assert_exact(batch)
    BatchProgress.objects.filter(batch=batch).update(done=99, submitted=7)
    batch_progress_recount(batch_id=batch.pk)
    assert BatchProgress.objects.filter(batch=batch).count() == shards()
    assert BatchProgress.objects.filter(batch=batch).exclude(shard=0).filter(done=0).count() == (
        shards() - 1
    )
    assert_exact(batch)


def shards() -> int:
    """A batch's counter rows: one per shard on PostgreSQL, made with the batch."""
    return PROGRESS_SHARDS if connection.vendor == "postgresql" else 1


def test_a_new_batch_has_its_shard_rows_on_postgresql(postgres_only, qproject):
    rows = make_rows(2, "sh")
    batch, _ = batch_create(project=qproject, name="sh", data_rows=[r.pk for r in rows])
    shards_made = BatchProgress.objects.filter(batch=batch).values_list("shard", flat=True)
    assert sorted(shards_made) == list(range(PROGRESS_SHARDS))


@pytest.mark.django_db(transaction=True)
def test_labelers_submitting_into_one_batch_at_once_leave_exact_counts(postgres_only, qproject):
    qproject.review_percentage = 0.5
    qproject.save()
    rows = make_rows(48, "many")
    batch, _ = batch_create(
        project=qproject,
        name="many",
        data_rows=[r.pk for r in rows],
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 0.5},
    )
    users = [UserFactory(username=f"many{i}", role=Role.LABELER) for i in range(8)]
    start = threading.Barrier(len(users))
    errors = []

    def work(user):
        try:
            start.wait()
            while (entry := queue_next(project=qproject, user=user)) is not None:
                label_submit(project=qproject, entry_id=entry.pk, user=user, annotation=CAR)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert QueueEntry.objects.filter(batch=batch).exclude(state="done").count() == 0
    assert_exact(batch)
    kept = BatchProgress.objects.filter(batch=batch).aggregate(s=Sum("submitted"))["s"]
    assert kept + recount(batch)["pending_review"] == Label.objects.filter(batch=batch).count()
