"""REST: the queue — preview, next (200 with the reservation, 204 when empty), submit, skip,
row priority overrides; labelers may work the queue, viewers may not."""

import pytest

from batches.models import QueueEntry
from batches.services import batch_create

pytestmark = pytest.mark.django_db


def url(project, tail=""):
    return f"/api/v1/projects/{project.pk}/{tail}"


@pytest.fixture
def batch(project, make_rows):
    rows = make_rows(3)
    batch, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows], priority=2)
    return batch


def test_next_submit_skip_round_trip(labeler_api, project, batch):
    taken = labeler_api.post(url(project, "queue/next/"))
    assert taken.status_code == 200
    item = taken.json()
    assert item["data_row"] == {
        "id": "r-00000",
        "global_key": "k-r-00000",
        "row_data": "s3://bucket/r/0.jpg",
    }
    assert item["batch"] == {"id": batch.pk, "name": "b"} and item["priority"] == 2
    assert item["expires_at"] and item["template"] is None
    again = labeler_api.post(url(project, "queue/next/")).json()
    assert again["entry"] == item["entry"]
    label = labeler_api.post(
        url(project, f"queue/{item['entry']}/submit/"),
        {"annotation": {"classes": ["car"]}},
        format="json",
    )
    assert label.status_code == 201 and label.json()["author"]["username"] == "labeler"
    second = labeler_api.post(url(project, "queue/next/")).json()
    skipped = labeler_api.post(url(project, f"queue/{second['entry']}/skip/"))
    assert skipped.status_code == 200 and skipped.json()["entry"] == second["entry"]
    third = labeler_api.post(url(project, "queue/next/")).json()
    assert third["data_row"]["id"] == "r-00002"
    labeler_api.post(url(project, f"queue/{third['entry']}/skip/"))
    assert labeler_api.post(url(project, "queue/next/")).status_code == 204


def test_submit_and_skip_errors(labeler_api, manager_api, project, batch):
    item = labeler_api.post(url(project, "queue/next/")).json()
    entry = item["entry"]
    missing = labeler_api.post(url(project, f"queue/{entry}/submit/"), {}, format="json")
    assert missing.status_code == 400 and "annotation" in missing.json()
    bad = labeler_api.post(url(project, f"queue/{entry}/submit/"), {"annotation": 3}, format="json")
    assert bad.status_code == 400 and "annotation" in bad.json()
    assert (
        labeler_api.post(
            url(project, "queue/424242/submit/"), {"annotation": {}}, format="json"
        ).status_code
        == 404
    )
    # Managers may work the queue too, but not on a row someone else holds.
    assert (
        manager_api.post(
            url(project, f"queue/{entry}/submit/"), {"annotation": {}}, format="json"
        ).status_code
        == 409
    )
    assert manager_api.post(url(project, f"queue/{entry}/skip/")).status_code == 409
    assert manager_api.post(url(project, "queue/next/")).json()["entry"] != entry


def test_viewers_may_read_the_queue_but_not_work_it(viewer_api, project, batch):
    assert viewer_api.get(url(project, "queue/?limit=2")).status_code == 200
    assert viewer_api.post(url(project, "queue/next/")).status_code == 403


def test_preview_limit_errors(viewer_api, project, batch):
    assert len(viewer_api.get(url(project, "queue/")).json()) == 3
    response = viewer_api.get(url(project, "queue/?limit=0"))
    assert response.status_code == 400 and "limit" in response.json()


def test_row_overrides_small_answer_at_once(manager_api, project, batch):
    response = manager_api.post(
        url(project, "priorities/"),
        [{"data_row": "r-00002", "priority": 1}, {"global_key": "nope", "priority": 1}],
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "updated": 1,
        "failed": [
            {
                "data_row": None,
                "global_key": "nope",
                "reason": "unknown",
                "index": 1,
                "key": "nope",
                "input": "nope",
                "message": "unknown",
                "error_type": "not_found",
                "code": "not_found",
            }
        ],
    }
    preview = manager_api.get(url(project, "queue/?limit=1")).json()
    assert preview[0]["data_row"]["id"] == "r-00002" and preview[0]["priority"] == 1
    bad = manager_api.post(
        url(project, "priorities/"), [{"data_row": "r-00002", "priority": 2**31}], format="json"
    )
    assert bad.status_code == 400 and "items" in bad.json()


def test_row_overrides_in_bulk_run_as_a_job(manager_api, project, batch, run_jobs, monkeypatch):
    from batches.services import priorities

    items = [{"data_row": f"r-0000{i % 3}", "priority": -i} for i in range(12)]
    items.append({"data_row": "ghost", "priority": 0})
    monkeypatch.setattr(priorities, "PRIORITIES_SYNC_LIMIT", 5)
    with run_jobs():
        response = manager_api.post(url(project, "priorities/"), items, format="json")
    assert response.status_code == 202 and response["Location"].endswith(
        f"/api/v1/jobs/{response.json()['id']}/"
    )
    job = manager_api.get(response["Location"]).json()
    assert job["status"] == "succeeded" and job["kind"] == "set_priorities"
    assert job["counts"]["failed"] == 1
    errors = manager_api.get(response["Location"] + "errors/").json()["results"]
    assert errors == [
        {
            "index": 12,
            "key": "ghost",
            "input": "ghost",
            "message": "not in this project's queue",
            "error_type": "not_found",
            "code": "not_found",
        }
    ]
    # The last item for a row wins: r-00000 got -9, r-00001 -10, r-00002 -11.
    assert dict(QueueEntry.objects.values_list("data_row_id", "sort_priority")) == {
        "r-00000": -9,
        "r-00001": -10,
        "r-00002": -11,
    }
