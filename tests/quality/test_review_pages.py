"""The review page (plain forms, no JS needed), the rework note on the labeling page, the
review share on the project pages, and the admin's review actions (labels stay view-only)."""

import pytest
from django.test import Client

from batches.models import Label, Project, QueueEntry
from dashboard.roles import Role

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def review_url(project) -> str:
    return f"/projects/{project.pk}/review/"


def test_the_review_page_takes_accepts_and_rejects(reviewer, project, labelled):
    client = signed_in(reviewer)
    page = client.get(review_url(project))
    assert page.status_code == 200
    assert b"Take the next label" in page.content
    shown = client.post(review_url(project), {"action": "next"})
    text = shown.content.decode()
    first = labelled[0]
    assert f'name="label" value="{first.pk}"' in text
    assert "lab0" in text and "&quot;car&quot;" in text
    assert 'aria-keyshortcuts="A"' in text and "review-keys.js" in text
    # A GET shows the held label again.
    assert f'value="{first.pk}"' in client.get(review_url(project)).content.decode()

    accepted = client.post(review_url(project), {"action": "accept", "label": first.pk})
    assert Label.objects.get(pk=first.pk).status == "accepted"
    assert f'value="{labelled[1].pk}"' in accepted.content.decode()  # the next one

    refused = client.post(review_url(project), {"action": "reject", "label": labelled[1].pk})
    assert "A rejection needs a reason." in refused.content.decode()
    assert Label.objects.get(pk=labelled[1].pk).status == "pending_review"

    client.post(
        review_url(project),
        {"action": "reject", "label": labelled[1].pk, "reason": "box too loose", "priority": "3"},
    )
    rejected = Label.objects.get(pk=labelled[1].pk)
    assert (rejected.status, rejected.reason, rejected.reviewer) == (
        "rejected",
        "box too loose",
        reviewer,
    )
    assert QueueEntry.objects.get(data_row_id=rejected.data_row_id).sort_priority == 3


def test_the_review_page_refuses_bad_input_without_a_500(reviewer, project, labelled):
    client = signed_in(reviewer)
    for data in (
        {"action": "explode"},
        {"action": "accept"},
        {"action": "accept", "label": "nope"},
        {"action": "reject", "label": labelled[0].pk, "reason": "x", "priority": "2e40"},
        {"action": "reject", "label": labelled[0].pk, "reason": "x" * 2001},
    ):
        response = client.post(review_url(project), data)
        assert response.status_code == 200, data
        assert b'class="msg msg-error"' in response.content, data
    assert Label.objects.get(pk=labelled[0].pk).status == "pending_review"


def test_reviewing_ones_own_label_on_the_page_is_refused(project, labelled, labelers):
    from dashboard.roles import user_set_role

    user_set_role(user=labelers[0], role=Role.REVIEWER)
    client = signed_in(labelers[0])
    response = client.post(review_url(project), {"action": "accept", "label": labelled[0].pk})
    assert "your own label" in response.content.decode()
    assert Label.objects.get(pk=labelled[0].pk).status == "pending_review"


def test_the_review_page_is_for_reviewers(labeler, project):
    assert signed_in(labeler).get(review_url(project)).status_code == 403
    anonymous = Client().get(review_url(project))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_project_page_links_the_review_page_for_reviewers(reviewer, labeler, project):
    assert (
        review_url(project).encode() in signed_in(reviewer).get(f"/projects/{project.pk}/").content
    )
    assert (
        review_url(project).encode()
        not in signed_in(labeler).get(f"/projects/{project.pk}/").content
    )


def test_the_labeling_page_shows_the_rework_note(reviewer, project, labelled, labelers):
    from batches.services import label_reject

    label_reject(project=project, label_id=labelled[0].pk, user=reviewer, reason="wrong car")
    client = signed_in(labelers[0])
    taken = client.post(f"/projects/{project.pk}/label/", {"action": "next"}, follow=True)
    page = taken.content.decode()  # the POST reserves, then redirects to the page showing it
    assert 'id="rework-note"' in page and "wrong car" in page and "reviewer" in page
    assert "pre-filled from the rejected label" in page
    assert "&quot;car&quot;" in page  # the rejected annotation is the template
    # The held row shows the note on a plain GET too.
    assert "wrong car" in client.get(f"/projects/{project.pk}/label/").content.decode()


def test_a_project_is_created_with_a_review_share_on_the_page(manager):
    client = signed_in(manager)
    client.post("/projects/", {"name": "reviewed", "review_percentage": "0.3"})
    assert Project.objects.get(name="reviewed").review_percentage == 0.3
    client.post("/projects/", {"name": "too much", "review_percentage": "3"})
    assert not Project.objects.filter(name="too much").exists()


# --- Admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_manager(db):
    return UserFactory(username="boss", role=Role.MANAGER, is_staff=True, is_superuser=True)


def test_the_admin_accepts_the_selected_labels(admin_manager, project, labelled):
    client = signed_in(admin_manager)
    response = client.post(
        "/admin/batches/label/",
        {"action": "accept_labels", "_selected_action": [labelled[0].pk, labelled[1].pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "2 labels accepted" in response.content.decode()
    assert set(Label.objects.filter(status="accepted").values_list("id", flat=True)) == {
        labelled[0].pk,
        labelled[1].pk,
    }


def test_the_admin_rejects_with_a_reason(admin_manager, project, labelled):
    client = signed_in(admin_manager)
    selected = {"action": "reject_labels", "_selected_action": [labelled[2].pk]}
    form = client.post("/admin/batches/label/", selected)
    assert form.status_code == 200 and b"Reject 1 label" in form.content
    missing = client.post("/admin/batches/label/", {**selected, "apply": "1", "reason": ""})
    assert b"This field is required" in missing.content
    assert Label.objects.get(pk=labelled[2].pk).status == "pending_review"
    done = client.post(
        "/admin/batches/label/", {**selected, "apply": "1", "reason": "redo it"}, follow=True
    )
    assert "1 labels rejected" in done.content.decode()
    label = Label.objects.get(pk=labelled[2].pk)
    assert (label.status, label.reason) == ("rejected", "redo it")
    assert QueueEntry.objects.get(data_row_id=label.data_row_id).rework_label_id == label.pk


def test_the_admin_reports_refusals_per_label(admin_manager, project, labelled):
    client = signed_in(admin_manager)
    client.post(
        "/admin/batches/label/", {"action": "accept_labels", "_selected_action": [labelled[0].pk]}
    )
    again = client.post(
        "/admin/batches/label/",
        {"action": "accept_labels", "_selected_action": [labelled[0].pk]},
        follow=True,
    )
    assert "already accepted" in again.content.decode()


def test_labels_stay_view_only_in_the_admin(admin_manager, project, labelled):
    client = signed_in(admin_manager)
    change = client.get(f"/admin/batches/label/{labelled[0].pk}/change/")
    assert change.status_code == 200 and b'name="status"' not in change.content
    assert client.get("/admin/batches/label/add/").status_code == 403
    posted = client.post(f"/admin/batches/label/{labelled[0].pk}/change/", {"status": "accepted"})
    assert posted.status_code == 403
    assert Label.objects.get(pk=labelled[0].pk).status == "pending_review"


def test_the_admin_edits_the_review_share_within_bounds(admin_manager, project):
    client = signed_in(admin_manager)
    path = f"/admin/batches/project/{project.pk}/change/"
    form = {
        "name": project.name,
        "description": "",
        "label_classes": '["car", "person"]',
        "reservation_seconds": 600,
        "review_percentage": "0.4",
        "batches-TOTAL_FORMS": "0",
        "batches-INITIAL_FORMS": "0",
        "batches-MIN_NUM_FORMS": "0",
        "batches-MAX_NUM_FORMS": "1000",
    }
    assert client.post(path, form).status_code == 302
    project.refresh_from_db()
    assert project.review_percentage == 0.4
    refused = client.post(path, {**form, "review_percentage": "1.5"})
    assert refused.status_code == 200 and b"review_percentage" in refused.content
    project.refresh_from_db()
    assert project.review_percentage == 0.4


def test_every_review_door_records_its_label_events(
    reviewer, reviewer_api, admin_manager, project, labelled
):
    """label.accepted / label.rejected (with the reason) from the page, the admin's actions and
    the bulk API alike: one event per decided label, naming the reviewer, the project and the
    ids a consumer needs."""
    from dashboard.models import Event

    from .conftest import url

    page = signed_in(reviewer)
    page.post(review_url(project), {"action": "next"})
    page.post(review_url(project), {"action": "accept", "label": labelled[0].pk})
    page.post(review_url(project), {"action": "reject", "label": labelled[1].pk, "reason": "r1"})
    admin = signed_in(admin_manager)
    admin.post(
        "/admin/batches/label/",
        {"action": "reject_labels", "_selected_action": [labelled[2].pk], "apply": "1"}
        | {"reason": "r2"},
    )
    bulk = reviewer_api.post(
        url(project, "labels/review/"),
        {"label_ids": [labelled[3].pk], "decision": "accept"},
        format="json",
    )
    assert bulk.status_code == 200, bulk.content
    recorded = {
        e.object_id: (e.type, e.actor_username, e.project, e.data.get("reason"))
        for e in Event.objects.filter(type__in=["label.accepted", "label.rejected"])
    }
    assert recorded == {
        str(labelled[0].pk): ("label.accepted", "reviewer", project.pk, None),
        str(labelled[1].pk): ("label.rejected", "reviewer", project.pk, "r1"),
        str(labelled[2].pk): ("label.rejected", "boss", project.pk, "r2"),
        str(labelled[3].pk): ("label.accepted", "reviewer", project.pk, None),
    }
    event = Event.objects.get(object_id=str(labelled[2].pk), type="label.rejected")
    assert event.data["batch"] == labelled[2].batch_id
    assert event.data["data_row"] == labelled[2].data_row_id
