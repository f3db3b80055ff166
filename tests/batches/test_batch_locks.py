"""PostgreSQL: renaming or re-prioritising a batch, and reordering batches, never deadlock with
a label being submitted on one of the batch's rows at the same moment (the submit holds its
queue row and checks the batch key with FOR KEY SHARE; the edit locks the batch, then updates
its queue rows)."""

import threading
import time

import pytest
from django.db import connection, transaction

from batches.models import Batch, Label, QueueEntry
from batches.services import batch_create, batch_update, batches_reorder

from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("edit", ["update", "reorder"])
def test_a_batch_edit_waits_for_a_submit_instead_of_deadlocking(
    postgres_only, project, make_rows, edit
):
    rows = make_rows(2)
    batch, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    entry = QueueEntry.objects.filter(batch=batch).order_by("id").first()
    author = UserFactory(username="submitter")
    row_locked, problems = threading.Event(), []

    def submit():
        try:
            with transaction.atomic():
                # As the submit statement does: the queue row first, then the label, whose
                # foreign key checks the batch with FOR KEY SHARE (at commit: deferred).
                QueueEntry.objects.select_for_update().get(pk=entry.pk)
                row_locked.set()
                time.sleep(0.5)  # the edit takes the batch lock meanwhile
                Label.objects.create(
                    project=project,
                    batch_id=batch.pk,
                    data_row_id=entry.data_row_id,
                    author=author,
                    annotation={},
                )
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        except Exception as exc:  # noqa: BLE001 - reported below
            problems.append(f"submit: {exc!r}")
        finally:
            connection.close()

    def change():
        try:
            row_locked.wait(5)
            if edit == "update":
                batch_update(batch=batch, priority=7)
            else:
                batches_reorder(project=project, batch_ids=[batch.pk])
        except Exception as exc:  # noqa: BLE001 - reported below
            problems.append(f"edit: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit), threading.Thread(target=change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert problems == []
    assert Label.objects.filter(batch=batch).count() == 1
    expected = 7 if edit == "update" else 1
    assert Batch.objects.get(pk=batch.pk).priority == expected
    assert set(QueueEntry.objects.filter(batch=batch).values_list("sort_priority", flat=True)) == {
        expected
    }
