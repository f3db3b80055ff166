"""The batch page and the labeling page's reads: facts and consensus in words, progress by
state, rows by state, labels for managers only, the removal preview, roles and 404s; the
labeling page's item, today's counter, the redirect after a submit and the refusal's 400."""

import pytest

from batches.models import Batch, QueueEntry
from batches.selectors import batch_removal_preview, batch_state_counts, labeler_today
from batches.services import batch_create, label_submit, queue_next, queue_skip

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(project, make_rows):
    rows = make_rows(6)
    batch, _ = batch_create(
        project=project,
        name="b",
        data_rows=[r.pk for r in rows],
        priority=4,
    )
    return batch


@pytest.mark.parametrize(
    ("consensus", "text"),
    [
        ({"number_of_labels": 2, "coverage_percentage": 0.25}, "2 labels on 25% of rows"),
        ({"number_of_labels": 3, "coverage_percentage": 1}, "3 labels on every row"),
        ({"number_of_labels": 2, "coverage_percentage": 0.1}, "2 labels on 10% of rows"),
        (None, ""),
    ],
)
def test_consensus_in_words(consensus, text):
    assert Batch(consensus_settings=consensus).consensus_text == text


def test_state_counts_and_the_removal_preview(batch, labelers, project):
    first = queue_next(project=project, user=labelers[0])
    label_submit(project=project, entry_id=first.pk, user=labelers[0], annotation={})
    queue_next(project=project, user=labelers[1])
    counts = batch_state_counts(batch=batch)
    assert sum(counts.values()) == 6 and counts["reserved"] == 1
    assert batch_removal_preview(batch=batch) == {"removable": 4, "held": 1, "kept": 1, "after": 2}


def test_the_batch_page_by_role(client, manager, viewer, batch, labelers, project):
    entry = queue_next(project=project, user=labelers[0])
    label_submit(project=project, entry_id=entry.pk, user=labelers[0], annotation={"x": 1})
    url = f"/projects/{project.pk}/batches/{batch.pk}/"
    client.force_login(viewer)
    page = client.get(url).content.decode()
    assert "none: one label per row" in page and "Showing 1–6 of 6 rows." in page
    assert "Latest labels" not in page and "remove-queued" not in page
    client.force_login(manager)
    page = client.get(url).content.decode()
    assert "Latest labels" in page and "by lab0" in page
    queued = client.get(url + "?state=done").content.decode()
    assert (
        "Showing 1–1 of 1 done row." in queued or "of 1 done row" in queued or "done row" in queued
    )
    assert client.get(f"/projects/{project.pk}/batches/nope/").status_code == 404


def test_removing_queued_rows_confirms_first(client, manager, batch, project):
    client.force_login(manager)
    url = f"/projects/{project.pk}/batches/{batch.pk}/remove-queued/"
    confirm = client.get(url).content.decode()
    assert "6 rows without labels" in confirm
    assert QueueEntry.objects.filter(batch=batch).count() == 6  # a GET changes nothing
    done = client.post(url)
    assert done.status_code == 302 and done.url.endswith(f"/batches/{batch.pk}/")
    assert not QueueEntry.objects.filter(batch=batch).exists()


def test_the_labeling_page_counts_today_and_redirects_after_a_submit(
    client, labelers, batch, project
):
    user = labelers[0]
    client.force_login(user)
    url = f"/projects/{project.pk}/label/"
    assert client.post(url, {"action": "next"}).status_code == 302
    entry = QueueEntry.objects.get(reserved_by=user)
    page = client.get(url).content.decode()
    assert entry.data_row.global_key in page and "Today: <strong>0</strong> labels" in page
    submitted = client.post(url, {"action": "submit", "entry": entry.pk, "classes": ["car"]})
    assert submitted.status_code == 302
    following = QueueEntry.objects.get(reserved_by=user)  # the next row, reserved at once
    assert following.pk != entry.pk
    refused = client.post(url, {"action": "submit", "entry": following.pk, "annotation": "[1]"})
    assert refused.status_code == 400 and following.data_row.global_key in refused.content.decode()
    queue_skip(project=project, entry_id=following.pk, user=user)
    assert labeler_today(project=project, user=user) == {"labels": 1, "skips": 1}


def test_the_labeling_page_shows_the_rows_media(client, labelers, project, make_rows):
    rows = make_rows(1, prefix="m")
    batch_create(project=project, name="m", data_rows=[rows[0].pk])
    client.force_login(labelers[0])
    client.post(f"/projects/{project.pk}/label/", {"action": "next"})
    page = client.get(f"/projects/{project.pk}/label/").content.decode()
    # A row without a frame shows its row data: an s3 URI the browser cannot open.
    assert "s3://bucket/m/0.jpg" in page and "a storage URI the browser cannot open" in page


def test_the_policy_lets_the_browser_load_row_media(client, manager):
    client.force_login(manager)
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https: http:" in policy
    assert "media-src 'self' data: https: http:" in policy
    assert "script-src 'self'" in policy
