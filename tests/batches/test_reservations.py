"""One live reservation per labeler: renewals, expiry, and racing requests from one labeler."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from batches.models import QueueEntry
from batches.services import batch_create, queue_next

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(project, make_rows):
    rows = make_rows(5)
    batch_create(project=project, name="b", data_rows=[r.id for r in rows], priority=1)
    return project


def test_next_twice_renews_the_same_row_with_a_fresh_expiry(queue, labelers):
    first = queue_next(project=queue, user=labelers[0])
    second = queue_next(project=queue, user=labelers[0])
    assert second.pk == first.pk and second.reserved_until >= first.reserved_until
    assert second.data_row.global_key == first.data_row.global_key
    assert second.batch.name == "b"
    assert QueueEntry.objects.filter(state="reserved").count() == 1


def test_an_expired_reservation_is_released_when_its_labeler_asks_again(queue, labelers):
    first = queue_next(project=queue, user=labelers[0])
    QueueEntry.objects.filter(pk=first.pk).update(
        reserved_until=timezone.now() - timedelta(seconds=1)
    )
    other = queue_next(project=queue, user=labelers[1])
    assert other.pk == first.pk  # an expired reservation is up for grabs
    again = queue_next(project=queue, user=labelers[0])
    assert again.pk != first.pk
    held = QueueEntry.objects.filter(state="reserved").values_list("reserved_by_id", flat=True)
    assert sorted(held) == sorted([labelers[0].pk, labelers[1].pk])


def test_expired_reservation_of_the_asker_goes_back_to_the_queue(queue, labelers):
    first = queue_next(project=queue, user=labelers[0])
    QueueEntry.objects.filter(pk=first.pk).update(
        reserved_until=timezone.now() - timedelta(seconds=1)
    )
    again = queue_next(project=queue, user=labelers[0])
    assert again.pk == first.pk  # released, then the head of the queue again: same row
    assert QueueEntry.objects.filter(state="reserved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_requests_of_one_labeler_get_one_row(postgres_only, project, make_rows, labelers):
    rows = make_rows(20)
    batch_create(project=project, name="b", data_rows=[r.id for r in rows], priority=1)
    user, results, errors = labelers[0], [], []
    barrier = threading.Barrier(8)

    def ask():
        try:
            barrier.wait()
            results.append(queue_next(project=project, user=user).pk)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(results)) == 1 and len(results) == 8
    assert QueueEntry.objects.filter(state="reserved", reserved_by=user).count() == 1
