"""The jobs API: list, detail, errors, cancel, file; 202 + Location for background work."""

import pytest
from django.core.files.base import ContentFile

from dashboard.api.responses import job_accepted
from dashboard.jobs.services import job_create
from dashboard.models import Job

from . import job_kinds  # noqa: F401 - registers the test job kinds

pytestmark = pytest.mark.django_db


def test_job_detail_has_the_documented_shape(manager_api, run_jobs):
    with run_jobs():
        job = job_create(kind="test_count", params={"items": [1, "bad", 3]})
    body = manager_api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["status"] == "succeeded"
    assert body["progress"] == {"done": 3, "total": 3}
    assert body["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 1}
    assert body["errors_count"] == 1
    assert body["url"].endswith(f"/api/v1/jobs/{job.pk}/")
    for key in ("result", "created_at", "started_at", "finished_at", "kind"):
        assert key in body


def test_job_errors_are_paginated_with_index_key_input_message_type(manager_api, run_jobs):
    with run_jobs():
        job = job_create(kind="test_count", params={"items": ["a", "b", "c"], "chunk": 1})
    page = manager_api.get(f"/api/v1/jobs/{job.pk}/errors/?page_size=2").json()
    assert [e["index"] for e in page["results"]] == [0, 1]
    assert page["results"][0] == {
        "index": 0,
        "key": "a",
        "input": "a",
        "message": "not a number",
        "error_type": "validation",
        "code": "invalid",
    }
    rest = manager_api.get(page["next"]).json()
    assert [e["index"] for e in rest["results"]] == [2] and rest["next"] is None


def test_job_list_is_newest_first_and_filters_by_status_and_kind(viewer_api):
    first = Job.objects.create(kind="test_count", status="succeeded")
    second = Job.objects.create(kind="test_boom", status="failed")
    ids = [j["id"] for j in viewer_api.get("/api/v1/jobs/").json()["results"]]
    assert ids == [second.pk, first.pk]
    failed = viewer_api.get("/api/v1/jobs/?status=failed").json()["results"]
    assert [j["id"] for j in failed] == [second.pk]
    by_kind = viewer_api.get("/api/v1/jobs/?kind=test_count").json()["results"]
    assert [j["id"] for j in by_kind] == [first.pk]
    assert viewer_api.get("/api/v1/jobs/?status=nonsense").status_code == 400


def test_cancel_endpoint_cancels_then_answers_409_once_ended(manager_api):
    job = job_create(kind="test_count", params={"items": [1]})
    response = manager_api.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = manager_api.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert again.status_code == 409
    assert "already ended" in again.json()["detail"]


def test_unknown_job_is_404_everywhere(manager_api):
    for path in ("", "errors/", "file/"):
        response = manager_api.get(f"/api/v1/jobs/nope/{path}")
        assert response.status_code == 404, path
        assert "detail" in response.json()
    assert manager_api.post("/api/v1/jobs/nope/cancel/").status_code == 404


def test_job_file_is_streamed_as_an_attachment(manager_api):
    job = Job.objects.create(kind="test_count", status="succeeded")
    job.file.save("export.ndjson", ContentFile(b'{"a": 1}\n'))
    response = manager_api.get(f"/api/v1/jobs/{job.pk}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b'{"a": 1}\n'
    assert "attachment" in response["Content-Disposition"]
    assert manager_api.get(f"/api/v1/jobs/{job.pk}/").json()["file_url"].endswith("/file/")


def test_a_job_without_file_answers_404(manager_api):
    job = Job.objects.create(kind="test_count")
    assert manager_api.get(f"/api/v1/jobs/{job.pk}/file/").status_code == 404


def test_job_accepted_is_202_with_location(rf, manager):
    job = Job.objects.create(kind="test_count")
    request = rf.post("/")
    response = job_accepted(job, request)
    assert response.status_code == 202
    assert response["Location"].endswith(f"/api/v1/jobs/{job.pk}/")
    assert response.data["status"] == "queued"


def _errors_out_of_order(job: Job) -> None:
    """Row errors written out of input order (chunks finishing 1, 2, 3, 5, 4), two without an
    index, and two at the same index."""
    for index in (1, 2, 3, 5, None, 4, 4, None, 0):
        job.row_errors.create(index=index, key=f"k{index}", message=f"Line {index}")


def _walk(api, url: str) -> tuple[list, list]:
    """Every result following `next` links, and the pages' `previous` links."""
    results, previous = [], []
    while url:
        page = api.get(url).json()
        results += page["results"]
        previous.append(page["previous"])
        url = page["next"]
    return results, previous


def test_job_errors_come_in_input_order_across_pages(viewer_api):
    job = Job.objects.create(kind="test_count", status="succeeded", errors_count=9)
    _errors_out_of_order(job)
    expected = [0, 1, 2, 3, 4, 4, 5, None, None]
    for size in (1, 2, 4, 100):
        results, previous = _walk(viewer_api, f"/api/v1/jobs/{job.pk}/errors/?page_size={size}")
        assert [e["index"] for e in results] == expected, size
        assert previous[0] is None
    # Walking back from the last page gives the same rows in the same order.
    page = viewer_api.get(f"/api/v1/jobs/{job.pk}/errors/?page_size=2").json()
    while page["next"]:
        page = viewer_api.get(page["next"]).json()
    back = list(page["results"])
    while page["previous"]:
        page = viewer_api.get(page["previous"]).json()
        back = page["results"] + back
    assert [e["index"] for e in back] == expected
    keys = [e["key"] for e in back]
    assert keys[4] == keys[5] == "k4"


def test_job_errors_page_lists_them_in_the_api_order(client, viewer):
    job = Job.objects.create(kind="test_count", status="succeeded", errors_count=9)
    _errors_out_of_order(job)
    client.force_login(viewer)
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    positions = [html.index(f"Line {i}<") for i in (0, 1, 2, 3, 4, 5, None)]
    assert positions == sorted(positions)


@pytest.mark.parametrize("cursor", ["bjsx", "eDEuMQ==", "PjEuMA==", "PjAxLjE=", "Pm4ueA=="])
def test_a_job_errors_cursor_that_names_no_position_is_404(viewer_api, cursor):
    job = Job.objects.create(kind="test_count", status="succeeded")
    response = viewer_api.get(f"/api/v1/jobs/{job.pk}/errors/?cursor={cursor}")
    assert response.status_code == 404
    assert "cursor" in response.json()
