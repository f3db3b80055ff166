"""Pages: project list and page (batch table, inline priority, up/down with and without htmx,
queue preview), create-batch form, from-dataset job with live progress, confirmations that say
what will happen, and the labeling page."""

import pytest

from batches.models import Batch, Label, QueueEntry
from batches.services import batch_create, label_submit, queue_next
from dashboard.models import Job
from versions.services import dataset_create, frames_add, version_create

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def two_batches(project, make_rows):
    rows = make_rows(4)
    a, _ = batch_create(
        project=project, name="alpha", data_rows=[r.pk for r in rows[:2]], priority=1
    )
    b, _ = batch_create(
        project=project, name="beta", data_rows=[r.pk for r in rows[2:]], priority=2
    )
    return a, b


def test_project_list_links_and_create(client, manager, viewer):
    client.force_login(manager)
    response = client.post("/projects/", {"name": "New one", "label_classes": "car, bus"})
    project_url = response["Location"]
    page = client.get(project_url).content.decode()
    assert "New one" in page and "car, bus" in page
    assert "New one" in client.get("/projects/").content.decode()
    client.force_login(viewer)
    assert "New project" not in client.get("/projects/").content.decode()
    client.post("/projects/", {"name": "no"})
    assert "no" not in [p.name for p in Batch.objects.none()]


def test_project_page_shows_batches_progress_and_preview(client, viewer, project, two_batches):
    client.force_login(viewer)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "alpha" in html and "beta" in html and "<progress" in html
    assert "k-r-00000" in html  # preview
    assert "Delete labels" not in html  # viewers see no manager actions
    partial = client.get(f"/projects/{project.pk}/", HTTP_HX_TARGET="queue-preview", **HTMX)
    assert partial.content.decode().lstrip().startswith('<div id="queue-preview"')
    assert client.get("/projects/nope/").status_code == 404


def test_inline_priority_and_reorder_with_and_without_htmx(client, manager, project, two_batches):
    a, b = two_batches
    client.force_login(manager)
    response = client.post(
        f"/projects/{project.pk}/batches/{a.pk}/priority/", {"priority": "5"}, **HTMX
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "queue-changed"
    assert response.content.decode().lstrip().startswith('<div id="batch-table"')
    a.refresh_from_db()
    assert a.priority == 5
    bad = client.post(
        f"/projects/{project.pk}/batches/{a.pk}/priority/", {"priority": "9999999999"}, **HTMX
    )
    assert "32-bit" in bad.content.decode()
    # No JS: a plain form post redirects back to the page.
    moved = client.post(f"/projects/{project.pk}/batches/{a.pk}/move/", {"direction": "up"})
    assert moved.status_code == 302
    order = [
        e.batch.name
        for e in QueueEntry.objects.select_related("batch").order_by("sort_priority", "id")
    ]
    assert order[0] == "alpha"


def test_viewer_cannot_post_priority(client, viewer, project, two_batches):
    client.force_login(viewer)
    a, _ = two_batches
    assert (
        client.post(
            f"/projects/{project.pk}/batches/{a.pk}/priority/", {"priority": "1"}
        ).status_code
        == 403
    )


def test_create_batch_form_shows_failed_rows(client, manager, project, make_rows):
    make_rows(2)
    client.force_login(manager)
    assert client.get(f"/projects/{project.pk}/batches/new/").status_code == 200
    response = client.post(
        f"/projects/{project.pk}/batches/new/",
        {"name": "pasted", "kind": "global_keys", "rows": "k-r-00000\nk-r-00001\nghost\n"},
    )
    html = response.content.decode()
    assert "1 row failed" in html and "ghost" in html
    assert Batch.objects.get(name="pasted").size == 2
    error = client.post(
        f"/projects/{project.pk}/batches/new/", {"name": "x", "rows": "a", "priority": "z"}
    )
    assert "priority" in error.content.decode()


def test_from_dataset_form_starts_a_job_with_live_progress(client, manager, project):
    dataset, _ = dataset_create(name="ds")
    v1, _ = version_create(dataset=dataset, name="v1")
    frames_add(
        version=v1, frames=[{"id": f"f{i}", "sources": [{"uri": f"s3://x/{i}"}]} for i in range(3)]
    )
    client.force_login(manager)
    versions = client.get(
        f"/projects/{project.pk}/batches/from-dataset/?dataset_id={dataset.pk}", **HTMX
    )
    assert "v1" in versions.content.decode()
    response = client.post(
        f"/projects/{project.pk}/batches/from-dataset/",
        {"name_prefix": "ds-", "dataset_id": dataset.pk, "version_id": ""},
    )
    job = Job.objects.get(kind="create_batches_from_dataset")
    html = response.content.decode()
    assert f'id="job-{job.pk}"' in html and "job-progress" in html
    error = client.post(
        f"/projects/{project.pk}/batches/from-dataset/", {"name_prefix": "x", "dataset_id": "nope"}
    )
    assert "No dataset" in error.content.decode()


def test_confirmations_state_what_will_happen(client, manager, project, two_batches, labelers):
    a, b = two_batches
    entry = queue_next(project=project, user=labelers[0])
    label_submit(project=project, entry_id=entry.pk, user=labelers[0], annotation={})
    client.force_login(manager)
    page = client.get(f"/projects/{project.pk}/batches/{a.pk}/delete/").content.decode()
    assert "1 label" in page and "cannot be deleted" in page
    refused = client.post(f"/projects/{project.pk}/batches/{a.pk}/delete/")
    assert refused.status_code == 409 and Batch.objects.filter(pk=a.pk).exists()
    confirm = client.get(f"/projects/{project.pk}/batches/{a.pk}/delete-labels/").content.decode()
    assert "1 label</strong> will be deleted" in confirm and "1 row</strong> re-queued" in confirm
    client.post(
        f"/projects/{project.pk}/batches/{a.pk}/delete-labels/", {"set_labels_as_template": "on"}
    )
    assert not Label.objects.exists()
    assert QueueEntry.objects.get(pk=entry.pk).template == {}
    empty = client.get(f"/projects/{project.pk}/batches/{b.pk}/delete/").content.decode()
    assert "2 queue entries" in empty
    client.post(f"/projects/{project.pk}/batches/{b.pk}/delete/")
    assert not Batch.objects.filter(pk=b.pk).exists()


def test_labeling_page_next_submit_skip(client, labelers, project, two_batches):
    client.force_login(labelers[0])
    page = client.get(f"/projects/{project.pk}/label/").content.decode()
    assert "Take the next row" in page
    taken = client.post(f"/projects/{project.pk}/label/", {"action": "next"})
    assert taken.status_code == 302  # the page that shows the row held: a reload is harmless
    shown = client.get(taken.url).content.decode()
    entry = QueueEntry.objects.get(reserved_by=labelers[0])
    assert entry.data_row.global_key in shown and 'value="car"' in shown
    assert (
        entry.data_row.global_key in client.get(f"/projects/{project.pk}/label/").content.decode()
    )
    client.post(
        f"/projects/{project.pk}/label/",
        {"action": "submit", "entry": entry.pk, "annotation": '{"note": 1}', "classes": ["car"]},
    )
    label = Label.objects.get()
    assert label.annotation == {"note": 1, "classes": ["car"]}
    nxt = QueueEntry.objects.get(reserved_by=labelers[0])
    bad = client.post(
        f"/projects/{project.pk}/label/",
        {"action": "submit", "entry": nxt.pk, "annotation": "{oops"},
    )
    assert "Malformed JSON" in bad.content.decode()
    client.post(f"/projects/{project.pk}/label/", {"action": "skip", "entry": nxt.pk})
    assert QueueEntry.objects.get(pk=nxt.pk).state == "queued"


def test_viewers_cannot_label(client, viewer, project):
    client.force_login(viewer)
    assert client.get(f"/projects/{project.pk}/label/").status_code == 403
