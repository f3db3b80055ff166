"""PostgreSQL: 16+ labelers work one queue at the same time until it is empty — no row held by
two labelers at once, no labeler served a row twice, every row gets exactly its labels."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from batches.models import Label, QueueEntry
from batches.services import batch_create, label_submit, queue_next
from dashboard.roles import Role

from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 16


def test_sixteen_labelers_empty_the_queue_without_collisions(postgres_only, project, make_rows):
    rows = make_rows(240)
    batch, failed = batch_create(
        project=project,
        name="crowd",
        data_rows=[r.pk for r in rows],
        consensus_settings={"number_of_labels": 3, "coverage_percentage": 0.5},
    )
    assert not failed
    users = [UserFactory(username=f"crowd{i}", role=Role.LABELER) for i in range(THREADS)]
    guard = threading.Lock()
    holders: dict[int, int] = {}  # entry id → user id holding it right now
    served: list[tuple[int, int]] = []
    problems: list[str] = []
    start = threading.Barrier(THREADS)

    def open_for(user):
        return (
            QueueEntry.objects.filter(batch=batch)
            .exclude(state="done")
            .exclude(data_row__labels__author=user)
        )

    def work(user):
        try:
            start.wait()
            while True:
                entry = queue_next(project=project, user=user)
                if entry is None:
                    # Nothing free right now; rows others hold may still need this labeler.
                    if not open_for(user).exists():
                        return
                    time.sleep(0.005)
                    continue
                with guard:
                    if entry.pk in holders:
                        problems.append(f"{entry.pk} held by {holders[entry.pk]} and {user.pk}")
                    holders[entry.pk] = user.pk
                    served.append((entry.pk, user.pk))
                time.sleep(0.001)  # hold it a moment: a second holder would show up here
                with guard:
                    holders.pop(entry.pk, None)
                label_submit(
                    project=project, entry_id=entry.pk, user=user, annotation={"by": user.pk}
                )
        except Exception as exc:  # noqa: BLE001 - report every failure of a worker thread
            problems.append(repr(exc))
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, users))

    assert problems == []
    assert len(served) == len(set(served)), "a labeler was served a row twice"
    entries = list(QueueEntry.objects.filter(batch=batch))
    assert all(e.state == "done" and e.labels_count == e.labels_required for e in entries)
    per_row = Counter(Label.objects.filter(batch=batch).values_list("data_row_id", flat=True))
    assert per_row == {e.data_row_id: e.labels_required for e in entries}
    assert sum(per_row.values()) == len(served)
    assert len({u for _, u in served}) > 1
