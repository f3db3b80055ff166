"""`remove-queued` never pulls a row from under a labeler: a row held by a live reservation
stays (the answer counts it as `held`) until the reservation ends; a later call removes it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import Batch, Label, QueueEntry, Skip
from batches.services import batch_create, queue_next, queue_skip

from ..conftest import token_client

pytestmark = pytest.mark.django_db


def test_a_held_row_stays_its_labeler_submits_and_a_later_remove_takes_the_rest(
    manager_api, project, make_rows, labelers
):
    rows = make_rows(4)
    batch, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    base = f"/api/v1/projects/{project.pk}/"
    # labeler 0 skips a row (their skip goes with the removed row), then holds the next one.
    skipped = queue_next(project=project, user=labelers[0])
    queue_skip(project=project, entry_id=skipped.pk, user=labelers[0])
    held = token_client(labelers[0]).post(base + "queue/next/").json()
    # labeler 1 holds a row whose reservation has expired: nobody is protected by it.
    expired = queue_next(project=project, user=labelers[1])
    QueueEntry.objects.filter(pk=expired.pk).update(
        reserved_until=timezone.now() - timedelta(seconds=1)
    )

    response = manager_api.post(base + f"batches/{batch.pk}/remove-queued/")
    assert response.status_code == 200
    assert response.json() == {"removed": 3, "held": 1}
    assert list(QueueEntry.objects.values_list("pk", flat=True)) == [held["entry"]]
    assert Batch.objects.get(pk=batch.pk).size == 1
    assert not Skip.objects.exists()

    submit = token_client(labelers[0]).post(
        base + f"queue/{held['entry']}/submit/", {"annotation": {"classes": ["car"]}}, format="json"
    )
    assert submit.status_code == 201, submit.content
    assert Label.objects.count() == 1
    # Labelled now: a second removal keeps it.
    again = manager_api.post(base + f"batches/{batch.pk}/remove-queued/")
    assert again.json() == {"removed": 0, "held": 0}
    assert QueueEntry.objects.count() == 1


def test_after_the_reservation_expires_a_second_remove_takes_the_row(
    manager_api, project, make_rows, labelers
):
    rows = make_rows(2)
    batch, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    entry = queue_next(project=project, user=labelers[0])
    url = f"/api/v1/projects/{project.pk}/batches/{batch.pk}/remove-queued/"
    assert manager_api.post(url).json() == {"removed": 1, "held": 1}
    QueueEntry.objects.filter(pk=entry.pk).update(
        reserved_until=timezone.now() - timedelta(seconds=1)
    )
    assert manager_api.post(url).json() == {"removed": 1, "held": 0}
    assert not QueueEntry.objects.exists() and Batch.objects.get(pk=batch.pk).size == 0
    late = token_client(labelers[0]).post(
        f"/api/v1/projects/{project.pk}/queue/{entry.pk}/submit/",
        {"annotation": {}},
        format="json",
    )
    assert late.status_code == 404


def test_the_page_says_how_many_rows_were_held(client, manager, project, make_rows, labelers):
    rows = make_rows(2)
    batch, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    queue_next(project=project, user=labelers[0])
    client.force_login(manager)
    response = client.post(f"/projects/{project.pk}/batches/{batch.pk}/remove-queued/", follow=True)
    text = response.content.decode()
    assert "1 row removed; 1 held by a labeler stays until the reservation ends" in text


@pytest.mark.django_db(transaction=True)
def test_labelers_racing_removals_never_lose_a_held_row(postgres_only, project, make_rows):
    """PostgreSQL: labelers take and submit rows while the manager removes queued rows over and
    over; every row served by `next` is submitted successfully, the rest is removed."""
    import threading
    import time

    from django.db import connection

    from batches.services import batch_remove_queued_data_rows, label_submit
    from dashboard.roles import Role

    from ..factories import UserFactory

    rows = make_rows(400)
    batch, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    users = [UserFactory(username=f"racer{i}", role=Role.LABELER) for i in range(6)]
    problems: list[str] = []
    submitted: list[int] = []
    stop = threading.Event()
    start = threading.Barrier(len(users) + 1)

    def label(user):
        try:
            start.wait()
            while not stop.is_set():
                entry = queue_next(project=project, user=user)
                if entry is None:
                    return
                time.sleep(0.002)
                label_submit(project=project, entry_id=entry.pk, user=user, annotation={})
                submitted.append(entry.pk)
        except Exception as exc:  # noqa: BLE001 - report every failure of a worker thread
            problems.append(repr(exc))
        finally:
            connection.close()

    def remove():
        try:
            start.wait()
            deadline = time.monotonic() + 10
            while len(submitted) < 20 and time.monotonic() < deadline:
                time.sleep(0.001)  # remove while the labelers are in full swing
            for _ in range(20):
                batch_remove_queued_data_rows(batch=batch)
                time.sleep(0.005)
        except Exception as exc:  # noqa: BLE001
            problems.append(repr(exc))
        finally:
            stop.set()
            connection.close()

    threads = [threading.Thread(target=label, args=(u,)) for u in users]
    threads.append(threading.Thread(target=remove))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert problems == [], "\n".join(problems)
    assert submitted, "the labelers got no row before the removals"
    assert batch_remove_queued_data_rows(batch=batch) == {"removed": 0, "held": 0}
    left = set(QueueEntry.objects.filter(batch=batch).values_list("pk", flat=True))
    assert left == set(submitted)
    assert Label.objects.filter(batch=batch).count() == len(submitted)
    assert Batch.objects.get(pk=batch.pk).size == len(left)
