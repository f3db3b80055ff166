"""Admin actions on batches: remove queued rows, delete labels (plain / as templates), export."""

import pytest

from batches.models import Batch, Label, QueueEntry
from batches.services import batch_create, label_submit, queue_next
from dashboard.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, manager):
    manager.is_staff = manager.is_superuser = True
    manager.save()
    client.force_login(manager)
    return client


@pytest.fixture
def labelled(project, make_rows, labelers):
    rows = make_rows(3)
    batch, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    entry = queue_next(project=project, user=labelers[0])
    label_submit(project=project, entry_id=entry.pk, user=labelers[0], annotation={"x": 1})
    return batch


def act(client, action, batch):
    return client.post(
        "/admin/batches/batch/",
        {"action": action, "_selected_action": [batch.pk]},
        follow=True,
    )


def test_remove_queued_rows_action(admin_client, labelled):
    response = act(admin_client, "remove_queued_rows", labelled)
    assert "2 rows removed" in response.content.decode()
    assert QueueEntry.objects.count() == 1


@pytest.mark.parametrize(
    "action,template", [("delete_labels", None), ("delete_labels_as_templates", {"x": 1})]
)
def test_delete_labels_actions(admin_client, labelled, action, template):
    response = act(admin_client, action, labelled)
    assert "1 labels deleted, 1 rows re-queued" in response.content.decode()
    assert not Label.objects.exists()
    assert QueueEntry.objects.get(data_row_id="r-00000").template == template


def test_export_action_starts_a_job(admin_client, labelled, run_jobs):
    with run_jobs():
        response = act(admin_client, "export", labelled)
    job = Job.objects.get(kind="export_batches")
    assert job.pk in response.content.decode()
    job.refresh_from_db()
    assert job.status == "succeeded" and job.result["rows"] == 3


def test_admin_pages_load(admin_client, labelled):
    for path in ["batches/batch/", "batches/queueentry/", "batches/label/", "batches/project/"]:
        assert admin_client.get(f"/admin/{path}?q=r-0").status_code == 200
    assert admin_client.get(f"/admin/batches/batch/{labelled.pk}/change/").status_code == 200
    assert Batch.objects.count() == 1
