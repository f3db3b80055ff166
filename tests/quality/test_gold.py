"""Gold rows: set / list / remove (roles, bad input), served to each labeler at most once at
`gold_percentage`, indistinguishable (their labels' status too), scored, never done, not in
batch progress (their labels neither)."""

import pytest

from batches.models import GoldServing, Label, QueueEntry
from batches.services import batch_create, gold
from batches.services import gold_set as set_gold
from batches.services.labels import label_submit, queue_next, queue_skip
from dashboard.errors import Conflict
from dashboard.roles import Role

from ..conftest import token_client
from ..factories import UserFactory
from .quality_fixtures import *  # noqa: F403  (the fixtures)
from .quality_fixtures import label_next, make_rows, url

pytestmark = pytest.mark.django_db(transaction=True)

CAR = {"classes": ["car"]}


@pytest.fixture
def rows(qproject):
    rows = make_rows(4)
    batch_create(project=qproject, name="b", data_rows=[r.pk for r in rows])
    return rows


def test_put_get_delete(manager_api, reviewer_api, qproject, rows):
    answer = manager_api.put(
        url(qproject, "gold/"),
        {
            "rows": [
                {"data_row": rows[0].pk, "annotation": CAR},
                {"global_key": rows[1].global_key, "annotation": {"classes": []}},
                {"global_key": "nope", "annotation": CAR},
                {"data_row": rows[2].pk, "annotation": {"classes": ["tree"]}},
            ]
        },
        format="json",
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["set"] == 2
    assert body["failed"][0] == {
        "data_row": None,
        "global_key": "nope",
        "reason": "unknown",
        # the one row-failure shape beside the Labelbox one
        "index": 2,
        "key": "nope",
        "input": "nope",
        "message": "unknown",
        "error_type": "not_found",
        "code": "not_found",
    }
    assert body["failed"][1]["data_row"] == rows[2].pk
    assert "not label classes" in body["failed"][1]["reason"]
    listed = reviewer_api.get(url(qproject, "gold/")).json()
    assert [g["data_row"] for g in listed["results"]] == [rows[0].pk, rows[1].pk]
    assert listed["results"][0]["annotation"] == CAR
    assert listed["results"][1]["global_key"] == rows[1].global_key
    assert QueueEntry.objects.filter(gold=True).count() == 2
    assert manager_api.delete(url(qproject, f"gold/{rows[0].pk}/")).status_code == 204
    assert manager_api.delete(url(qproject, f"gold/{rows[0].pk}/")).status_code == 404
    assert QueueEntry.objects.filter(gold=True).count() == 1


def test_rows_outside_the_project_fail(manager_api, qproject, rows):
    (outside,) = make_rows(1, prefix="x")
    body = manager_api.put(
        url(qproject, "gold/"),
        {"rows": [{"data_row": outside.pk, "annotation": CAR}]},
        format="json",
    ).json()
    assert body["set"] == 0
    [failure] = body["failed"]
    assert failure["data_row"] == outside.pk and failure["global_key"] is None
    assert failure["reason"] == "not in a batch of this project"
    assert (failure["index"], failure["key"], failure["code"]) == (0, outside.pk, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"rows": "x"},
        {"rows": [{"annotation": CAR}]},
        {"rows": [{"data_row": "r-00000", "global_key": "k", "annotation": CAR}]},
        {"rows": [{"data_row": "r-00000"}]},
        {"rows": [{"data_row": "r-00000", "annotation": []}]},
        {"rows": [{"data_row": "r-00000", "annotation": {"classes": "car"}}]},
        {"rows": [{"data_row": "r-00000", "annotation": CAR, "extra": 1}]},
        {"rows": [{"data_row": "x" * 1000, "annotation": CAR}]},
        {"rows": [3]},
    ],
)
def test_bad_bodies_are_400_naming_rows(manager_api, qproject, rows, body):
    answer = manager_api.put(url(qproject, "gold/"), body, format="json")
    assert answer.status_code == 400 and "rows" in answer.json()


def test_too_many_rows(manager_api, qproject, settings):
    items = [{"data_row": f"r{i}", "annotation": {}} for i in range(10_001)]
    answer = manager_api.put(url(qproject, "gold/"), {"rows": items}, format="json")
    assert answer.status_code == 400 and "10000" in answer.json()["rows"][0]


def test_roles(labeler_api, viewer_api, reviewer_api, qproject, rows):
    assert labeler_api.get(url(qproject, "gold/")).status_code == 403
    assert viewer_api.get(url(qproject, "gold/")).status_code == 403
    assert reviewer_api.get(url(qproject, "gold/")).status_code == 200
    body = {"rows": [{"data_row": rows[0].pk, "annotation": CAR}]}
    assert reviewer_api.put(url(qproject, "gold/"), body, format="json").status_code == 403
    assert labeler_api.delete(url(qproject, f"gold/{rows[0].pk}/")).status_code == 403


def test_gold_rows_are_served_once_each_scored_and_never_done(qproject, qlabelers, rows):
    set_gold(project=qproject, rows=[{"data_row": rows[3].pk, "annotation": CAR}])
    qproject.gold_percentage = 1
    qproject.save()
    for user in qlabelers[:3]:
        entry = queue_next(project=qproject, user=user)
        assert entry.data_row_id == rows[3].pk  # gold first at 1
        assert entry.template is None and entry.state == QueueEntry.State.RESERVED
        again = queue_next(project=qproject, user=user)
        assert again.pk == entry.pk and again.reserved_until >= entry.reserved_until
        annotation = CAR if user is not qlabelers[2] else {"classes": ["person"]}
        label = label_submit(project=qproject, entry_id=entry.pk, user=user, annotation=annotation)
        assert label.seconds is not None and label.seconds >= 0
        # Never again: the next row is an ordinary one.
        assert queue_next(project=qproject, user=user).data_row_id != rows[3].pk
    scores = dict(
        Label.objects.filter(data_row_id=rows[3].pk).values_list("author_id", "gold_score")
    )
    assert scores == {qlabelers[0].pk: 1.0, qlabelers[1].pk: 1.0, qlabelers[2].pk: 0.0}
    gold_entry = QueueEntry.objects.get(data_row_id=rows[3].pk)
    assert gold_entry.state == QueueEntry.State.QUEUED and gold_entry.labels_count == 0


def test_gold_percentage_zero_never_serves_gold(qproject, qlabelers, rows):
    set_gold(project=qproject, rows=[{"data_row": rows[0].pk, "annotation": CAR}])
    served = []
    while (entry := queue_next(project=qproject, user=qlabelers[0])) is not None:
        served.append(entry.data_row_id)
        label_submit(project=qproject, entry_id=entry.pk, user=qlabelers[0], annotation=CAR)
    assert served == [rows[1].pk, rows[2].pk, rows[3].pk]


def test_gold_percentage_mixes_gold_in(qproject, qlabelers, monkeypatch):
    rows = make_rows(12, prefix="m")
    batch_create(project=qproject, name="m", data_rows=[r.pk for r in rows])
    set_gold(project=qproject, rows=[{"data_row": r.pk, "annotation": CAR} for r in rows[:2]])
    qproject.gold_percentage = 0.5
    qproject.save()
    draws = iter([0.9, 0.1, 0.9, 0.9, 0.2, 0.1, 0.9])  # gold when the draw < 0.5
    monkeypatch.setattr(gold, "draw", lambda: next(draws))
    served = []
    for _ in range(7):
        entry = queue_next(project=qproject, user=qlabelers[0])
        served.append(entry.data_row_id)
        label_submit(project=qproject, entry_id=entry.pk, user=qlabelers[0], annotation=CAR)
    # gold on draws 2 and 5; the 6th draw wants gold but none is left
    assert served == ["m-00002", "m-00000", "m-00003", "m-00004", "m-00001", "m-00005", "m-00006"]


def test_skipping_a_gold_row(qproject, qlabelers, rows):
    set_gold(project=qproject, rows=[{"data_row": rows[0].pk, "annotation": CAR}])
    qproject.gold_percentage = 1
    qproject.save()
    entry = queue_next(project=qproject, user=qlabelers[0])
    assert entry.data_row_id == rows[0].pk
    skipped = queue_skip(project=qproject, entry_id=entry.pk, user=qlabelers[0])
    assert skipped.pk == entry.pk
    assert queue_next(project=qproject, user=qlabelers[0]).data_row_id == rows[1].pk
    assert GoldServing.objects.get().state == GoldServing.State.SKIPPED


def test_the_answer_does_not_tell_gold_apart(labeler_api, qproject, labeler, rows):
    set_gold(project=qproject, rows=[{"data_row": rows[1].pk, "annotation": CAR}])
    qproject.gold_percentage = 1
    qproject.save()
    gold_item = labeler_api.post(url(qproject, "queue/next/")).json()
    first = labeler_api.post(
        url(qproject, f"queue/{gold_item['entry']}/submit/"), {"annotation": CAR}, format="json"
    )
    assert first.status_code == 201 and set(first.json()) >= {"id", "annotation"}
    # a label on a gold row is a submitted label for the event log too (its transaction)
    from dashboard.models import Event

    event = Event.objects.get(type="label.submitted", object_id=first.json()["id"])
    assert event.data["data_row"] == rows[1].pk
    plain = labeler_api.post(url(qproject, "queue/next/")).json()
    assert gold_item["data_row"]["id"] == rows[1].pk and plain["data_row"]["id"] == rows[0].pk
    assert set(gold_item) == set(plain)
    submitted = labeler_api.post(
        url(qproject, f"queue/{plain['entry']}/submit/"), {"annotation": CAR}, format="json"
    )
    assert submitted.status_code == 201


def test_submit_on_a_gold_row_one_does_not_hold_is_409(labeler_api, qproject, rows, qlabelers):
    set_gold(project=qproject, rows=[{"data_row": rows[0].pk, "annotation": CAR}])
    entry_id = QueueEntry.objects.get(data_row_id=rows[0].pk).pk
    answer = labeler_api.post(
        url(qproject, f"queue/{entry_id}/submit/"), {"annotation": CAR}, format="json"
    )
    assert answer.status_code == 409


def test_gold_rows_do_not_count_in_progress(manager_api, qproject, qlabelers, rows):
    set_gold(project=qproject, rows=[{"data_row": rows[0].pk, "annotation": CAR}])
    for _ in range(3):
        label_next(qproject, qlabelers[0], CAR)
    batch = manager_api.get(url(qproject, "batches/")).json()["results"][0]
    assert batch["progress"]["rows"] == 3 and batch["progress"]["done"] == 3
    assert batch["labelled_count"] == 3


def test_setting_gold_scores_existing_labels_and_releases_holders(qproject, qlabelers, rows):
    label_next(qproject, qlabelers[0], CAR)  # rows[0]
    held = queue_next(project=qproject, user=qlabelers[1])  # rows[1] (rows[0] is done)
    set_gold(
        project=qproject,
        rows=[
            {"data_row": rows[0].pk, "annotation": {"classes": ["car", "person"]}},
            {"data_row": held.data_row_id, "annotation": CAR},
        ],
    )
    assert Label.objects.get(data_row_id=rows[0].pk).gold_score == 0.5
    entry = QueueEntry.objects.get(pk=held.pk)
    assert entry.state == QueueEntry.State.QUEUED and entry.reserved_by is None
    with pytest.raises(Conflict):
        label_submit(project=qproject, entry_id=held.pk, user=qlabelers[1], annotation=CAR)


def test_the_labeling_page_shows_a_held_gold_row(client, qproject, qlabelers, rows):
    from django.urls import reverse

    set_gold(project=qproject, rows=[{"data_row": rows[2].pk, "annotation": CAR}])
    qproject.gold_percentage = 1
    qproject.save()
    entry = queue_next(project=qproject, user=qlabelers[0])
    client.force_login(qlabelers[0])
    page = client.get(reverse("project-label", args=[qproject.pk]))
    assert page.status_code == 200 and page.context["entry"].pk == entry.pk
    assert rows[2].row_data in page.content.decode()


def test_an_empty_list_sets_nothing(manager_api, qproject, rows):
    answer = manager_api.put(url(qproject, "gold/"), {"rows": []}, format="json")
    assert answer.status_code == 200 and answer.json() == {"set": 0, "failed": []}


def test_a_labelled_gold_row_answers_like_a_fresh_row_of_its_batch(
    client, qproject, qlabelers, reviewer_api
):
    """A row that had all its labels when it became gold is served (`next`, the labeling page)
    as the row served next would be: the labels its batch needs, none counted."""
    from django.urls import reverse

    consensus = make_rows(3, "cg")
    batch_create(
        project=qproject,
        name="cg",
        data_rows=[r.pk for r in consensus],
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 1},
    )
    for user in qlabelers[:2]:
        label_next(qproject, user, CAR)  # consensus[0] gets both its labels: done
    assert QueueEntry.objects.get(data_row_id=consensus[0].pk).labels_count == 2
    set_gold(project=qproject, rows=[{"data_row": consensus[0].pk, "annotation": CAR}])
    qproject.gold_percentage = 1
    qproject.save()
    labeler = qlabelers[2]
    api = token_client(labeler)
    gold_item = api.post(url(qproject, "queue/next/")).json()
    assert gold_item["data_row"]["id"] == consensus[0].pk
    client.force_login(labeler)
    gold_page = client.get(reverse("project-label", args=[qproject.pk])).content.decode()
    submitted = api.post(
        url(qproject, f"queue/{gold_item['entry']}/submit/"), {"annotation": CAR}, format="json"
    )
    assert submitted.status_code == 201 and submitted.json()["gold_score"] is None
    plain = api.post(url(qproject, "queue/next/")).json()
    assert plain["data_row"]["id"] == consensus[1].pk
    plain_page = client.get(reverse("project-label", args=[qproject.pk])).content.decode()

    def shown(item):
        return {k: v for k, v in item.items() if k not in ("entry", "data_row", "expires_at")}

    assert shown(gold_item) == shown(plain)
    assert gold_item["labels_required"] == 2 and gold_item["labels_count"] == 0
    assert "consensus: 0/2 labels" in gold_page and "consensus: 0/2 labels" in plain_page
    # Their own labels list does not tell it apart either; a reviewer sees the score.
    mine = api.get(url(qproject, f"labels/?data_row={consensus[0].pk}")).json()["results"]
    assert [label["gold_score"] for label in mine] == [None]
    theirs = reviewer_api.get(
        url(qproject, f"labels/?data_row={consensus[0].pk}&author={labeler.username}")
    )
    assert [label["gold_score"] for label in theirs.json()["results"]] == [1.0]


def test_a_gold_label_gets_the_status_of_any_label_of_the_row(qproject, qlabelers, rows):
    """In a project whose rows all await review, a gold row's label awaits review too (a
    `submitted` status would tell it apart); a reviewer decides it like any other."""
    qproject.review_percentage, qproject.gold_percentage = 1, 1
    qproject.save()
    set_gold(project=qproject, rows=[{"data_row": rows[0].pk, "annotation": CAR}])
    api = token_client(qlabelers[0])
    answers = []
    for _ in range(2):  # the gold row, then an ordinary one
        item = api.post(url(qproject, "queue/next/")).json()
        answers.append(
            api.post(
                url(qproject, f"queue/{item['entry']}/submit/"), {"annotation": CAR}, format="json"
            ).json()
        )
    gold_label, plain_label = answers
    assert gold_label["data_row"] == rows[0].pk and plain_label["data_row"] == rows[1].pk
    assert gold_label["status"] == plain_label["status"] == "pending_review"
    assert set(gold_label) == set(plain_label)
    reviewer = token_client(UserFactory(username="gold-rev", role=Role.REVIEWER))
    decided = reviewer.post(url(qproject, f"labels/{gold_label['id']}/accept/"))
    assert decided.status_code == 200 and decided.json()["status"] == "accepted"
    assert decided.json()["gold_score"] == 1.0


def test_a_gold_label_follows_the_review_share_of_its_row(qproject, qlabelers):
    from batches.models import review_chosen

    rows = make_rows(12, prefix="gs")
    batch_create(project=qproject, name="gs", data_rows=[r.pk for r in rows])
    set_gold(project=qproject, rows=[{"data_row": r.pk, "annotation": CAR} for r in rows])
    qproject.review_percentage, qproject.gold_percentage = 0.5, 1
    qproject.save()
    for user in qlabelers:
        for _ in range(3):
            label_next(qproject, user, CAR)
    statuses = dict(Label.objects.values_list("data_row_id", "status").distinct())
    assert len(statuses) == 3  # every labeler took the three oldest gold rows
    for row_id, status in statuses.items():
        chosen = review_chosen(project_id=qproject.pk, data_row_id=row_id, share=0.5)
        assert status == ("pending_review" if chosen else "submitted")


def test_labels_on_gold_rows_do_not_count_in_progress(manager_api, qproject, qlabelers, rows):
    qproject.gold_percentage = 1
    qproject.save()
    set_gold(project=qproject, rows=[{"data_row": rows[0].pk, "annotation": CAR}])
    label_next(qproject, qlabelers[0], CAR)  # the gold row
    label_next(qproject, qlabelers[1], CAR)  # the gold row
    label_next(qproject, qlabelers[0], CAR)  # rows[1]
    batch = manager_api.get(url(qproject, "batches/")).json()["results"][0]
    assert Label.objects.count() == 3
    assert batch["progress"] == {
        "rows": 3,
        "done": 1,
        "labels": 1,
        "pending_review": 0,
        "accepted": 0,
        "rejected": 0,
    }
    one = manager_api.get(url(qproject, f"batches/{batch['id']}/")).json()
    assert one["progress"] == batch["progress"]


def test_a_batch_completes_when_its_last_row_that_is_not_gold_is_done(qproject, qlabelers, rows):
    """Its gold rows never become done (and do not count in its progress): the batch is
    completed by its last other row."""
    from dashboard.models import Event

    set_gold(project=qproject, rows=[{"data_row": rows[1].pk, "annotation": CAR}])
    for _ in range(2):
        label_next(qproject, qlabelers[0], CAR)
    assert not Event.objects.filter(type="batch.completed").exists()
    label_next(qproject, qlabelers[1], CAR)  # the last row that is not gold
    assert Event.objects.filter(type="batch.completed").count() == 1
