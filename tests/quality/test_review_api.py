"""The review loop over REST: the review queue (escalated rows first, then oldest; never one's
own; one reservation per reviewer), accept, reject with rework, bulk review, a manager's send
back, and the refusals with API.md's codes (400 without a reason, 404, 409 own / decided)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import REWORK_SORT, Label, QueueEntry
from batches.services import label_accept, queue_next
from dashboard.models import Event
from dashboard.roles import Role

from ..conftest import token_client
from ..factories import UserFactory
from .conftest import label_next, url

pytestmark = pytest.mark.django_db


def test_submitted_labels_of_a_reviewed_project_await_review(labelled):
    assert {label.status for label in labelled} == {"pending_review"}
    assert set(Label.objects.values_list("status", flat=True)) == {"pending_review"}


def test_review_next_serves_the_oldest_label_with_its_row(reviewer_api, project, labelled):
    response = reviewer_api.post(url(project, "review/next/"))
    assert response.status_code == 200, response.content
    body = response.json()
    first = labelled[0]
    assert body["label"]["id"] == first.pk
    assert body["label"]["status"] == "pending_review"
    assert body["label"]["author"] == {"id": first.author.pk, "username": "lab0"}
    assert body["data_row"] == {
        "id": first.data_row_id,
        "global_key": f"k-{first.data_row_id}",
        "row_data": f"s3://bucket/r/{int(first.data_row_id[2:])}.jpg",
    }
    assert body["batch"]["name"] == "b"
    assert body["other_labels"] == [] and body["agreement"] is None
    assert body["expires_at"]


def test_review_next_renews_the_held_label(reviewer_api, reviewer, project, labelled):
    first = reviewer_api.post(url(project, "review/next/")).json()
    again = reviewer_api.post(url(project, "review/next/")).json()
    assert again["label"]["id"] == first["label"]["id"]
    assert Label.objects.filter(review_reserved_by=reviewer).count() == 1


def test_two_reviewers_get_different_labels(reviewer_api, project, labelled):
    other = token_client(UserFactory(username="rev2", role=Role.REVIEWER))
    a = reviewer_api.post(url(project, "review/next/")).json()["label"]["id"]
    b = other.post(url(project, "review/next/")).json()["label"]["id"]
    assert a != b


def test_an_expired_review_reservation_goes_to_another_reviewer(
    reviewer_api, reviewer, project, labelled
):
    held = reviewer_api.post(url(project, "review/next/")).json()["label"]["id"]
    Label.objects.filter(pk=held).update(review_reserved_until=timezone.now() - timedelta(1))
    other = token_client(UserFactory(username="rev2", role=Role.REVIEWER))
    assert other.post(url(project, "review/next/")).json()["label"]["id"] == held


def test_review_next_never_serves_ones_own_labels(project, labelled, labelers):
    """A reviewer who labels too: lab0 made labels 0 and 2, so is served 1 and then 3."""
    from dashboard.roles import user_set_role

    user_set_role(user=labelers[0], role=Role.REVIEWER)
    client = token_client(labelers[0])
    seen = []
    for _ in range(3):
        response = client.post(url(project, "review/next/"))
        if response.status_code == 204:
            break
        label_id = response.json()["label"]["id"]
        seen.append(label_id)
        assert client.post(url(project, f"labels/{label_id}/accept/")).status_code == 200
    assert seen == [labelled[1].pk, labelled[3].pk]


def test_review_next_serves_escalated_rows_first(reviewer_api, project, labelled):
    QueueEntry.objects.filter(data_row_id=labelled[2].data_row_id).update(escalated=True)
    body = reviewer_api.post(url(project, "review/next/")).json()
    assert body["label"]["id"] == labelled[2].pk


def test_review_next_is_204_when_nothing_awaits(reviewer_api, project, batch):
    assert reviewer_api.post(url(project, "review/next/")).status_code == 204


def test_accept(reviewer_api, reviewer, project, labelled):
    label = labelled[0]
    response = reviewer_api.post(url(project, f"labels/{label.pk}/accept/"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "accepted"
    assert body["review"]["reviewer"] == {"id": reviewer.pk, "username": "reviewer"}
    assert body["review"]["decision"] == "accept" and body["review"]["reason"] == ""
    assert body["review"]["at"]
    event = Event.objects.get(type="label.accepted")
    assert event.object_id == str(label.pk) and event.project == project.pk
    assert event.actor_username == "reviewer"


def test_reject_requeues_the_row_first_with_the_rejected_annotation(
    reviewer_api, project, labelled, labelers
):
    label = labelled[1]  # lab1's label on the second row
    response = reviewer_api.post(
        url(project, f"labels/{label.pk}/reject/"), {"reason": "wrong class"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "rejected"
    assert body["review"]["decision"] == "reject" and body["review"]["reason"] == "wrong class"
    entry = QueueEntry.objects.get(data_row_id=label.data_row_id)
    assert (entry.state, entry.labels_count, entry.sort_priority) == ("queued", 0, REWORK_SORT)
    assert entry.template == label.annotation and entry.rework_label_id == label.pk
    event = Event.objects.get(type="label.rejected")
    assert event.data["reason"] == "wrong class"
    # The rejected label's author is served the row again, first, with the note.
    client = token_client(labelers[1])
    served = client.post(url(project, "queue/next/")).json()
    assert served["data_row"]["id"] == label.data_row_id
    assert served["template"] == label.annotation
    assert served["priority"] is None
    assert served["rework"] == {
        "label": label.pk,
        "reason": "wrong class",
        "reviewer": {"id": event.actor_user_id, "username": "reviewer"},
    }
    again = client.post(
        url(project, f"queue/{served['entry']}/submit/"),
        {"annotation": {"classes": ["person"]}},
        format="json",
    )
    assert again.status_code == 201, again.content
    entry.refresh_from_db()
    assert (entry.state, entry.labels_count, entry.template, entry.rework_label_id) == (
        "done",
        1,
        None,
        None,
    )
    assert again.json()["status"] == "pending_review"


def test_reject_at_a_priority(reviewer_api, project, labelled):
    label = labelled[0]
    response = reviewer_api.post(
        url(project, f"labels/{label.pk}/reject/"), {"reason": "r", "priority": 7}, format="json"
    )
    assert response.status_code == 200
    entry = QueueEntry.objects.get(data_row_id=label.data_row_id)
    assert (entry.sort_priority, entry.priority_override) == (7, 7)


def test_the_rework_row_is_served_before_every_other_row(reviewer_api, project, batch, labelers):
    label = label_next(project, labelers[0])  # the first row; three rows stay queued
    QueueEntry.objects.filter(batch=batch).update(sort_priority=1)
    reviewer_api.post(url(project, f"labels/{label.pk}/reject/"), {"reason": "x"}, format="json")
    other = UserFactory(username="fresh", role=Role.LABELER)
    assert queue_next(project=project, user=other).data_row_id == label.data_row_id


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": 3}])
def test_reject_without_a_reason_is_400(reviewer_api, project, labelled, body):
    response = reviewer_api.post(
        url(project, f"labels/{labelled[0].pk}/reject/"), body, format="json"
    )
    assert response.status_code == 400 and "reason" in response.json()
    assert Label.objects.get(pk=labelled[0].pk).status == "pending_review"


def test_reject_refuses_a_bad_priority_and_unknown_fields(reviewer_api, project, labelled):
    path = url(project, f"labels/{labelled[0].pk}/reject/")
    bad = reviewer_api.post(path, {"reason": "r", "priority": 2**40}, format="json")
    assert bad.status_code == 400 and "priority" in bad.json()
    unknown = reviewer_api.post(path, {"reason": "r", "extra": 1}, format="json")
    assert unknown.status_code == 400
    assert reviewer_api.post(path, {"reason": "x" * 2001}, format="json").json()["reason"]


def test_reviewing_ones_own_label_is_409(project, labelled, labelers):
    from dashboard.roles import user_set_role

    user_set_role(user=labelers[0], role=Role.REVIEWER)
    client = token_client(labelers[0])
    own = labelled[0]
    for verb, body in (("accept", {}), ("reject", {"reason": "mine"})):
        response = client.post(url(project, f"labels/{own.pk}/{verb}/"), body, format="json")
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "conflict"
    assert Label.objects.get(pk=own.pk).status == "pending_review"


def test_a_decided_label_is_409(reviewer_api, project, labelled):
    path = url(project, f"labels/{labelled[0].pk}/")
    assert reviewer_api.post(path + "accept/").status_code == 200
    assert reviewer_api.post(path + "accept/").status_code == 409
    refused = reviewer_api.post(path + "reject/", {"reason": "late"}, format="json")
    assert refused.status_code == 409 and refused.json()["status"] == "accepted"
    path = url(project, f"labels/{labelled[1].pk}/")
    assert reviewer_api.post(path + "reject/", {"reason": "no"}, format="json").status_code == 200
    assert reviewer_api.post(path + "accept/").status_code == 409
    assert (
        reviewer_api.post(path + "reject/", {"reason": "again"}, format="json").status_code == 409
    )


@pytest.mark.parametrize("label_id", ["999999", "abc", "-1", "99999999999999999999999"])
def test_unknown_label_is_404(reviewer_api, project, labelled, label_id):
    assert reviewer_api.post(url(project, f"labels/{label_id}/accept/")).status_code == 404


def test_a_label_of_another_project_is_404(reviewer_api, labelled):
    from ..factories import ProjectFactory

    other = ProjectFactory()
    assert reviewer_api.post(url(other, f"labels/{labelled[0].pk}/accept/")).status_code == 404


def test_a_manager_sends_back_a_submitted_or_accepted_label(manager_api, reviewer, labelled):
    project = labelled[0].project
    project.review_percentage = 0
    project.save()
    Label.objects.filter(pk=labelled[0].pk).update(status="submitted")
    back = manager_api.post(
        url(project, f"labels/{labelled[0].pk}/reject/"), {"reason": "redo"}, format="json"
    )
    assert back.status_code == 200 and back.json()["status"] == "rejected"
    label_accept(project=project, label_id=labelled[1].pk, user=reviewer)
    back = manager_api.post(
        url(project, f"labels/{labelled[1].pk}/reject/"), {"reason": "redo"}, format="json"
    )
    assert back.status_code == 200 and back.json()["status"] == "rejected"
    # A reviewer may not send back an accepted label.
    label_accept(project=project, label_id=labelled[2].pk, user=reviewer)
    refused = token_client(reviewer).post(
        url(project, f"labels/{labelled[2].pk}/reject/"), {"reason": "redo"}, format="json"
    )
    assert refused.status_code == 409


def test_bulk_review(reviewer_api, project, labelled):
    ids = [label.pk for label in labelled[:3]]
    response = reviewer_api.post(
        url(project, "labels/review/"),
        {"label_ids": [*ids, 999999, "nope"], "decision": "accept"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 3
    assert [f["label"] for f in body["failed"]] == [999999, "nope"]  # as given
    again = reviewer_api.post(
        url(project, "labels/review/"),
        {"label_ids": [ids[0], labelled[3].pk], "decision": "reject", "reason": "bad"},
        format="json",
    )
    assert again.json()["rejected"] == 1
    assert again.json()["failed"][0]["label"] == ids[0]
    assert "accepted" in again.json()["failed"][0]["reason"]
    assert Label.objects.get(pk=labelled[3].pk).status == "rejected"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"label_ids": [1], "decision": "reject"}, "reason"),
        ({"label_ids": [1], "decision": "reject", "reason": " "}, "reason"),
        ({"label_ids": [], "decision": "accept"}, "label_ids"),
        ({"label_ids": [True], "decision": "accept"}, "label_ids"),
        ({"label_ids": list(range(1, 1002)), "decision": "accept"}, "label_ids"),
        ({"label_ids": [1], "decision": "maybe"}, "decision"),
        ({"label_ids": [1]}, "decision"),
    ],
)
def test_bulk_review_refuses_bad_input(reviewer_api, project, body, field):
    response = reviewer_api.post(url(project, "labels/review/"), body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content


def test_labelers_and_viewers_cannot_review(labeler_api, viewer_api, project, labelled):
    for client in (labeler_api, viewer_api):
        assert client.post(url(project, "review/next/")).status_code == 403
        path = url(project, f"labels/{labelled[0].pk}/accept/")
        assert client.post(path).status_code == 403


def test_a_manager_reviews_too(manager_api, project, labelled):
    assert manager_api.post(url(project, "review/next/")).status_code == 200


def test_rows_are_done_only_when_every_reviewed_label_is_accepted(
    reviewer_api, viewer_api, project, batch, labelled
):
    progress = viewer_api.get(url(project, f"batches/{batch.pk}/")).json()["progress"]
    assert progress == {
        "rows": 4,
        "done": 0,
        "labels": 4,
        "pending_review": 4,
        "accepted": 0,
        "rejected": 0,
    }
    reviewer_api.post(url(project, f"labels/{labelled[0].pk}/accept/"))
    reviewer_api.post(
        url(project, f"labels/{labelled[1].pk}/reject/"), {"reason": "r"}, format="json"
    )
    listed = viewer_api.get(url(project, "batches/")).json()["results"][0]["progress"]
    assert listed == {
        "rows": 4,
        "done": 1,
        "labels": 4,
        "pending_review": 2,
        "accepted": 1,
        "rejected": 1,
    }


def test_row_detail(reviewer_api, project, labelled):
    row = labelled[1].data_row_id
    reviewer_api.post(
        url(project, f"labels/{labelled[1].pk}/reject/"), {"reason": "r"}, format="json"
    )
    body = reviewer_api.get(url(project, f"rows/{row}/")).json()
    assert body["data_row"]["id"] == row and body["batch"]["name"] == "b"
    assert body["state"] == "queued" and body["labels_required"] == 1
    assert [label["status"] for label in body["labels"]] == ["rejected"]
    assert body["agreement"] is None and body["escalated"] is False and body["gold"] is None
    first = reviewer_api.get(url(project, f"rows/{labelled[0].data_row_id}/")).json()
    assert first["state"] == "in_review"
    assert reviewer_api.get(url(project, "rows/nope/")).status_code == 404


def test_row_detail_is_for_reviewers(labeler_api, project, labelled):
    assert labeler_api.get(url(project, f"rows/{labelled[0].data_row_id}/")).status_code == 403


def test_review_percentage_is_a_project_setting(manager_api, project):
    path = url(project, "")
    assert manager_api.get(path).json()["review_percentage"] == 1
    ok = manager_api.patch(path, {"review_percentage": 0.25}, format="json")
    assert ok.status_code == 200 and ok.json()["review_percentage"] == 0.25
    for bad in (1.5, -0.1, "0.5", True, None):
        refused = manager_api.patch(path, {"review_percentage": bad}, format="json")
        assert refused.status_code == 400 and "review_percentage" in refused.json(), bad
    created = manager_api.post("/api/v1/projects/", {"name": "p2"}, format="json").json()
    assert created["review_percentage"] == 0


def test_review_percentage_chooses_rows_reproducibly(project, make_rows, labelers):
    from batches.models import review_chosen
    from batches.services import batch_create

    project.review_percentage = 0.5
    project.save()
    rows = make_rows(40, prefix="s")
    batch_create(project=project, name="half", data_rows=[r.pk for r in rows])
    labels = [label_next(project, labelers[0]) for _ in rows]
    chosen = {
        label.data_row_id: label.status == "pending_review"
        for label in Label.objects.filter(pk__in=[label.pk for label in labels])
    }
    assert chosen == {
        r.pk: review_chosen(project_id=project.pk, data_row_id=r.pk, share=0.5) for r in rows
    }
    assert 5 < sum(chosen.values()) < 35  # about half
    assert {label.status for label in labels} == {"pending_review", "submitted"}


def test_a_project_without_review_submits_final_labels(labelers, make_rows):
    from batches.services import batch_create

    from ..factories import ProjectFactory

    project = ProjectFactory()
    rows = make_rows(1, prefix="n")
    batch, _ = batch_create(project=project, name="n", data_rows=[rows[0].pk])
    label = label_next(project, labelers[0])
    assert label.status == "submitted"
    assert QueueEntry.objects.get(batch=batch).state == "done"


def test_seconds_run_from_serving_to_submit(labeler_api, project, batch):
    served = labeler_api.post(url(project, "queue/next/")).json()
    QueueEntry.objects.filter(pk=served["entry"]).update(
        reserved_at=timezone.now() - timedelta(seconds=42)
    )
    # Asking again renews the reservation but keeps when it was served.
    assert labeler_api.post(url(project, "queue/next/")).json()["entry"] == served["entry"]
    label = labeler_api.post(
        url(project, f"queue/{served['entry']}/submit/"), {"annotation": {}}, format="json"
    ).json()
    assert 42 <= label["seconds"] < 60
    assert Label.objects.get(pk=label["id"]).seconds == pytest.approx(label["seconds"])


def test_labels_list(reviewer_api, project, labelled, labelers, batch):
    reviewer_api.post(url(project, f"labels/{labelled[0].pk}/accept/"))
    everything = reviewer_api.get(url(project, "labels/")).json()
    assert [label["id"] for label in everything["results"]] == [lb.pk for lb in labelled]
    assert set(everything) >= {"next", "previous", "results"}
    first = everything["results"][0]
    assert set(first) == {
        "id",
        "project",
        "batch",
        "data_row",
        "author",
        "annotation",
        "status",
        "seconds",
        "review",
        "gold_score",
        "created_at",
    }

    def ids(query):
        response = reviewer_api.get(url(project, f"labels/?{query}"))
        assert response.status_code == 200, response.content
        return [label["id"] for label in response.json()["results"]]

    assert ids("status=accepted") == [labelled[0].pk]
    assert ids("status=pending_review") == [lb.pk for lb in labelled[1:]]
    assert ids("author=lab1") == [labelled[1].pk, labelled[3].pk]
    assert ids(f"author={labelers[0].pk}") == [labelled[0].pk, labelled[2].pk]
    assert ids(f"batch_id={batch.pk}") == [lb.pk for lb in labelled]
    assert ids("batch_id=other") == []
    assert ids(f"data_row={labelled[2].data_row_id}") == [labelled[2].pk]
    assert ids("page_size=2") == [labelled[0].pk, labelled[1].pk]
    assert reviewer_api.get(url(project, "labels/?status=nope")).status_code == 400
    response = reviewer_api.get(url(project, "labels/?author=nobody"))
    assert response.status_code == 404
    assert response.json()["author"] == ["No user 'nobody'."]


def test_a_labeler_lists_only_their_own_labels(project, labelled, labelers):
    client = token_client(labelers[1])
    listed = client.get(url(project, "labels/")).json()["results"]
    assert [label["id"] for label in listed] == [labelled[1].pk, labelled[3].pk]
    assert client.get(url(project, "labels/?author=lab0")).json()["results"] == []


def test_viewers_do_not_list_labels(viewer_api, project, labelled):
    assert viewer_api.get(url(project, "labels/")).status_code == 403


def test_the_labels_list_costs_the_same_queries_for_1_or_50_labels(
    reviewer_api, project, make_rows, labelers, django_assert_max_num_queries
):
    from batches.services import batch_create

    rows = make_rows(50, prefix="q")
    batch_create(project=project, name="many", data_rows=[r.pk for r in rows])
    label_next(project, labelers[0])
    with django_assert_max_num_queries(6) as one:
        assert len(reviewer_api.get(url(project, "labels/")).json()["results"]) == 1
    for i in range(49):
        label = label_next(project, labelers[i % 3])
        if i % 2:
            label_accept(project=project, label_id=label.pk, user=labelers[(i + 1) % 3])
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(reviewer_api.get(url(project, "labels/")).json()["results"]) == 50


def test_deleting_a_batchs_labels_clears_rejected_rows_too(
    reviewer_api, manager_api, project, batch, labelled, run_jobs
):
    reviewer_api.post(
        url(project, f"labels/{labelled[0].pk}/reject/"), {"reason": "r"}, format="json"
    )
    with run_jobs():
        response = manager_api.post(
            url(project, f"batches/{batch.pk}/delete-labels/"), format="json"
        )
    assert response.status_code == 202
    assert not Label.objects.exists()
    entry = QueueEntry.objects.get(data_row_id=labelled[0].data_row_id)
    assert (entry.labels_count, entry.rework_label_id, entry.state) == (0, None, "queued")
    assert manager_api.delete(url(project, f"batches/{batch.pk}/")).status_code == 204
