"""Serving: next reserves with an expiry, renews the caller's live reservation, expired ones
return, two labelers never hold one row, nobody gets a row twice, consensus, submit and skip."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import Label, QueueEntry, Skip
from batches.services import batch_create, label_submit, queue_next, queue_skip
from dashboard.errors import Conflict, Invalid, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(project, make_rows):
    rows = make_rows(3)
    batch, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    return batch


def test_next_reserves_the_head_with_an_expiry(project, queue, labelers):
    project.reservation_seconds = 60
    project.save()
    before = timezone.now()
    entry = queue_next(project=project, user=labelers[0])
    assert entry.data_row_id == "r-00000" and entry.state == "reserved"
    assert entry.reserved_by == labelers[0]
    assert before + timedelta(seconds=59) < entry.reserved_until < before + timedelta(seconds=62)


def test_two_labelers_get_different_rows(project, queue, labelers):
    a = queue_next(project=project, user=labelers[0])
    b = queue_next(project=project, user=labelers[1])
    assert a.pk != b.pk


def test_next_again_returns_the_held_row_with_a_fresh_expiry(project, queue, labelers):
    first = queue_next(project=project, user=labelers[0])
    QueueEntry.objects.filter(pk=first.pk).update(
        reserved_until=timezone.now() + timedelta(seconds=5)
    )
    again = queue_next(project=project, user=labelers[0])
    assert again.pk == first.pk
    assert again.reserved_until > timezone.now() + timedelta(seconds=500)


def test_expired_reservations_return_to_the_queue(project, queue, labelers):
    held = queue_next(project=project, user=labelers[0])
    QueueEntry.objects.filter(pk=held.pk).update(
        reserved_until=timezone.now() - timedelta(seconds=1)
    )
    taken = queue_next(project=project, user=labelers[1])
    assert taken.pk == held.pk and taken.reserved_by == labelers[1]
    with pytest.raises(Conflict):  # the first labeler lost it
        label_submit(project=project, entry_id=held.pk, user=labelers[0], annotation={})


def test_submit_creates_the_label_and_finishes_the_row(project, queue, labelers):
    entry = queue_next(project=project, user=labelers[0])
    label = label_submit(
        project=project, entry_id=entry.pk, user=labelers[0], annotation={"classes": ["car"]}
    )
    assert label.annotation == {"classes": ["car"]} and label.batch_id == queue.pk
    entry.refresh_from_db()
    assert entry.state == "done" and entry.labels_count == 1 and entry.reserved_by is None
    nxt = queue_next(project=project, user=labelers[0])
    assert nxt.data_row_id == "r-00001"


def test_a_labeler_never_gets_a_row_twice(project, make_rows, labelers):
    rows = make_rows(2)
    batch_create(
        project=project,
        name="c",
        data_rows=[r.pk for r in rows],
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 1},
    )
    first = queue_next(project=project, user=labelers[0])
    label_submit(project=project, entry_id=first.pk, user=labelers[0], annotation={})
    second = queue_next(project=project, user=labelers[0])
    assert second.pk != first.pk
    queue_skip(project=project, entry_id=second.pk, user=labelers[0])
    assert queue_next(project=project, user=labelers[0]) is None
    # The others still get both: the labelled row needs a second label, the skipped one two.
    other = queue_next(project=project, user=labelers[1])
    assert other.pk == first.pk


def test_consensus_rows_need_labels_from_different_labelers(project, make_rows, labelers):
    rows = make_rows(1)
    batch_create(
        project=project,
        name="c",
        data_rows=[rows[0].pk],
        consensus_settings={"number_of_labels": 3, "coverage_percentage": 1.0},
    )
    for i, user in enumerate(labelers):
        entry = queue_next(project=project, user=user)
        assert entry is not None and entry.labels_count == i
        label_submit(project=project, entry_id=entry.pk, user=user, annotation={"n": i})
    entry = QueueEntry.objects.get()
    assert entry.state == "done" and entry.labels_count == 3
    assert Label.objects.filter(data_row=rows[0]).values("author").distinct().count() == 3
    assert queue_next(project=project, user=labelers[0]) is None


def test_consensus_share_is_reproducible_and_close_to_the_coverage(project, make_rows):
    rows = make_rows(400)
    batch, _ = batch_create(
        project=project,
        name="c",
        data_rows=[r.pk for r in rows],
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 0.25},
    )
    from batches.services import consensus_covers

    chosen = set(
        QueueEntry.objects.filter(batch=batch, labels_required=2).values_list(
            "data_row_id", flat=True
        )
    )
    assert chosen == {
        r.pk for r in rows if consensus_covers(batch_id=batch.pk, data_row_id=r.pk, coverage=0.25)
    }
    assert 60 <= len(chosen) <= 140
    assert QueueEntry.objects.filter(batch=batch, labels_required=1).count() == 400 - len(chosen)


def test_skip_releases_the_row_to_others(project, queue, labelers):
    entry = queue_next(project=project, user=labelers[0])
    queue_skip(project=project, entry_id=entry.pk, user=labelers[0])
    entry.refresh_from_db()
    assert entry.state == "queued" and entry.reserved_by is None
    assert Skip.objects.filter(user=labelers[0], data_row_id=entry.data_row_id).exists()
    assert queue_next(project=project, user=labelers[1]).pk == entry.pk
    assert queue_next(project=project, user=labelers[0]).pk != entry.pk


def test_an_empty_queue_gives_none(project, labelers):
    assert queue_next(project=project, user=labelers[0]) is None


def test_submit_errors(project, queue, labelers):
    entry = queue_next(project=project, user=labelers[0])
    with pytest.raises(NotFound):
        label_submit(project=project, entry_id=999999, user=labelers[0], annotation={})
    with pytest.raises(NotFound):
        label_submit(project=project, entry_id="x", user=labelers[0], annotation={})
    with pytest.raises(Conflict):
        label_submit(project=project, entry_id=entry.pk, user=labelers[1], annotation={})
    with pytest.raises(Invalid, match="bus"):
        label_submit(
            project=project, entry_id=entry.pk, user=labelers[0], annotation={"classes": ["bus"]}
        )
    with pytest.raises(Conflict):
        queue_skip(project=project, entry_id=entry.pk, user=labelers[1])
    assert not Label.objects.exists()


def test_a_lapsed_reservation_nobody_took_is_still_the_labelers(project, queue, labelers):
    held = queue_next(project=project, user=labelers[0])
    QueueEntry.objects.filter(pk=held.pk).update(
        reserved_until=timezone.now() - timedelta(seconds=1)
    )
    label = label_submit(project=project, entry_id=held.pk, user=labelers[0], annotation={})
    assert label.data_row_id == held.data_row_id
    assert QueueEntry.objects.get(pk=held.pk).state == "done"


def test_next_answers_with_the_row_and_batch_and_reads_other_fields_on_demand(
    project, queue, labelers
):
    entry = queue_next(project=project, user=labelers[0])
    assert entry.data_row.row_data == "s3://bucket/r/0.jpg" and entry.batch.name == "b"
    stored = QueueEntry.objects.get(pk=entry.pk)
    assert entry.created_at == stored.created_at  # not sent back by next: loaded when read
    assert entry.data_row.dataset_id == stored.data_row.dataset_id


def test_skip_answers_with_the_row_back_in_the_queue(project, queue, labelers):
    held = queue_next(project=project, user=labelers[0])
    skipped = queue_skip(project=project, entry_id=held.pk, user=labelers[0])
    assert (skipped.pk, skipped.state, skipped.reserved_by) == (held.pk, "queued", None)
    assert skipped.data_row.global_key == "k-r-00000" and skipped.batch.name == "b"
    with pytest.raises(Conflict):  # not held any more
        queue_skip(project=project, entry_id=held.pk, user=labelers[0])
    assert Skip.objects.count() == 1


def test_entry_ids_out_of_range_are_unknown(project, queue, labelers):
    for entry_id in (2**63, -(2**63) - 1, "1e3", None):
        with pytest.raises(NotFound):
            label_submit(project=project, entry_id=entry_id, user=labelers[0], annotation={})
        with pytest.raises(NotFound):
            queue_skip(project=project, entry_id=entry_id, user=labelers[0])


def test_label_create_refuses_a_second_label_by_one_author_and_one_too_many(
    project, make_rows, labelers
):
    from batches.services import label_create

    rows = make_rows(1)
    batch_create(project=project, name="c", data_rows=[rows[0].pk])
    entry = QueueEntry.objects.get()
    label_create(entry=entry, author=labelers[0], annotation={"n": 1})
    with pytest.raises(Conflict, match="all the labels"):
        label_create(entry=entry, author=labelers[1], annotation={})
    QueueEntry.objects.filter(pk=entry.pk).update(labels_required=2, state="queued")
    with pytest.raises(Conflict, match="already labelled"):
        label_create(entry=entry, author=labelers[0], annotation={})
    assert Label.objects.count() == 1
    assert QueueEntry.objects.get().labels_count == 1
