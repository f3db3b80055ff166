"""PostgreSQL: what serving costs — one statement per next; per submit one statement with its
`label.submitted` event (issue 17: in the same transaction) and the index probe for
`batch.completed`, in one short transaction; and a plan that reads one label and skip index
entry per row it passes, not all of the labeler's labels."""

import pytest
from django.db import connection
from django.utils import timezone

from batches.models import QueueEntry
from batches.services import batch_create, label_submit, queue_next
from batches.services.serving import next_sql

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def subscriptions_read(monkeypatch):
    """The webhook subscriptions read now, and not again during the test (they are read at most
    once a second: under load that read could fall inside a measured submit)."""
    from dashboard import events

    monkeypatch.setattr(events, "SUBSCRIPTIONS_TTL", 3600.0)
    events.webhooks_changed()
    events.subscribed(type="label.submitted", project="")


@pytest.fixture
def queue(postgres_only, project, make_rows):
    rows = make_rows(20)
    batch_create(
        project=project,
        name="b",
        data_rows=[r.pk for r in rows],
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 1},
    )
    return project


# BEGIN, the label statement (with its event and the look for rows still queued), the labeler
# rollups (after the progress counters the statement's triggers write: one lock order), COMMIT
SUBMIT_QUERIES = 4


def test_next_is_one_statement_and_submit_one_short_transaction(
    queue, labelers, django_assert_num_queries
):
    user = labelers[0]
    for _ in range(2):  # a statement is prepared on its second use in a connection
        entry = queue_next(project=queue, user=user)
        label_submit(project=queue, entry_id=entry.pk, user=user, annotation={})
    with django_assert_num_queries(1):
        entry = queue_next(project=queue, user=user)
    with django_assert_num_queries(SUBMIT_QUERIES):
        label_submit(project=queue, entry_id=entry.pk, user=user, annotation={"ok": 1})
    assert QueueEntry.objects.get(pk=entry.pk).labels_count == 1


def test_a_connection_used_once_pays_no_extra_round_trip(
    queue, labelers, django_assert_num_queries
):
    connection.close()  # a new connection, as a request with CONN_MAX_AGE=0 gets
    with django_assert_num_queries(1):
        entry = queue_next(project=queue, user=labelers[0])
    with django_assert_num_queries(SUBMIT_QUERIES):
        label_submit(project=queue, entry_id=entry.pk, user=labelers[0], annotation={})


def test_next_probes_labels_and_skips_row_by_row(queue, labelers):
    user = labelers[0]
    for _ in range(5):
        entry = queue_next(project=queue, user=user)
        label_submit(project=queue, entry_id=entry.pk, user=user, annotation={})
    now = timezone.now()
    params = {"project": queue.pk, "user": user.pk, "now": now, "until": now}
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {next_sql(postgres=True)}", params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "queueentry_serving_order" in plan
    assert "Anti Join" not in plan and "Materialize" not in plan
    assert plan.count("SubPlan") >= 2  # one probe of labels, one of skips, per row passed
    # The label probe (rejected labels excluded) is answered by the partial unique index.
    assert "label_once_per_author" in plan


def test_a_batch_last_submit_records_batch_completed_in_its_transaction(
    postgres_only, project, make_rows, labelers, django_assert_max_num_queries
):
    """Only where nothing is left queued does a submit lock the batch and look again."""
    from dashboard.models import Event

    rows = make_rows(2)
    batch_create(project=project, name="tail", data_rows=[r.pk for r in rows])
    first = queue_next(project=project, user=labelers[0])
    second = queue_next(project=project, user=labelers[1])
    label_submit(project=project, entry_id=first.pk, user=labelers[0], annotation={})
    assert not Event.objects.filter(type="batch.completed").exists()  # a row still held
    # + the probe again, the lock, the look, the event (+ PREPARE: the statement's second use)
    with django_assert_max_num_queries(SUBMIT_QUERIES + 5):
        label = label_submit(project=project, entry_id=second.pk, user=labelers[1], annotation={})
    completed = Event.objects.get(type="batch.completed")
    assert completed.data["size"] == 2 and completed.actor_user_id == labelers[1].pk
    submitted = Event.objects.filter(type="label.submitted").order_by("id")
    assert [e.object_id for e in submitted][-1] == str(label.pk)
    assert submitted.last().data == {
        "label": label.pk,
        "batch": label.batch_id,
        "data_row": label.data_row_id,
    }
