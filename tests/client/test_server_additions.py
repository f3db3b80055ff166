"""The seed parity additions the client relies on, through the API: `GET datasets/by-name/`,
`POST versions/{id}/frames/query/` and `GET jobs/{id}/?wait=N` with `Retry-After`."""

import threading
import time

import httpx
import pytest

from dashboard.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def frames(n, start=0):
    return [
        {"id": f"f{i:05d}", "sources": [{"uri": f"s3://b/{i}.jpg"}], "meta": {"i": i}}
        for i in range(start, start + n)
    ]


@pytest.fixture
def version(manager_api):
    dataset = manager_api.post("/api/v1/datasets/", {"name": "cars"}, format="json").json()
    version = manager_api.post(
        f"/api/v1/datasets/{dataset['id']}/versions/", {"name": "v1"}, format="json"
    ).json()
    added = manager_api.post(
        f"/api/v1/versions/{version['id']}/frames/", {"frames": frames(2500)}, format="json"
    )
    assert added.json()["added"] == 2500
    return version


def test_dataset_by_name_finds_it_and_404s_with_a_code(manager_api):
    made = manager_api.post("/api/v1/datasets/", {"name": "versions"}, format="json").json()
    manager_api.post("/api/v1/datasets/", {"name": "a/b c"}, format="json")
    # "versions" would otherwise be taken by datasets/<id>/versions/.
    assert manager_api.get("/api/v1/datasets/by-name/versions/").json()["id"] == made["id"]
    assert manager_api.get("/api/v1/datasets/by-name/a/b%20c/").json()["name"] == "a/b c"
    missing = manager_api.get("/api/v1/datasets/by-name/nope/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_dataset_by_name_needs_a_token(api_client=None):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/datasets/by-name/x/").status_code == 401


def test_frames_query_takes_thousands_of_ids_in_the_body(manager_api, version):
    ids = [f"f{i:05d}" for i in range(2499, -1, -1)] + ["nope", "f00001"]
    response = manager_api.post(
        f"/api/v1/versions/{version['id']}/frames/query/", {"ids": ids}, format="json"
    )
    body = response.json()
    assert response.status_code == 200
    assert [f["id"] for f in body["results"]] == ids[:2500]  # in the order asked, once each
    assert body["missing"] == ["nope"]
    assert body["results"][0]["meta"] == {"i": 2499}


def test_frames_query_projects(manager_api, version):
    body = manager_api.post(
        f"/api/v1/versions/{version['id']}/frames/query/",
        {"ids": ["f00003"], "projection": ["id", "sources.uri"]},
        format="json",
    ).json()
    assert body == {
        "results": [{"id": "f00003", "sources": [{"uri": "s3://b/3.jpg"}]}],
        "missing": [],
    }


@pytest.mark.parametrize(
    "body, field",
    [
        ({"ids": [f"x{i}" for i in range(10_001)]}, "ids"),
        ({"ids": "f1"}, "ids"),
        ({"ids": [1]}, "ids"),
        ({}, "ids"),
        ({"ids": ["f1"], "extra": 1}, "extra"),
        ({"ids": ["f1"], "projection": ["a..b"]}, "projection"),
    ],
)
def test_frames_query_refuses_bad_bodies_naming_the_field(manager_api, body, field):
    dataset = manager_api.post("/api/v1/datasets/", {"name": "d"}, format="json").json()
    version = manager_api.post(
        f"/api/v1/datasets/{dataset['id']}/versions/", {"name": "v"}, format="json"
    ).json()
    response = manager_api.post(
        f"/api/v1/versions/{version['id']}/frames/query/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json() and response.json()["code"]


def test_frames_query_404s_for_an_unknown_version(manager_api):
    response = manager_api.post("/api/v1/versions/nope/frames/query/", {"ids": []}, format="json")
    assert response.status_code == 404


def test_viewer_may_query_frames(viewer_api, version):
    response = viewer_api.post(
        f"/api/v1/versions/{version['id']}/frames/query/", {"ids": ["f00000"]}, format="json"
    )
    assert response.status_code == 200, response.content


def test_job_wait_returns_at_once_for_an_ended_job(manager_api):
    job = Job.objects.create(kind="test_count", status="succeeded")
    started = time.monotonic()
    response = manager_api.get(f"/api/v1/jobs/{job.pk}/?wait=30")
    assert time.monotonic() - started < 5
    assert response.status_code == 200 and response.json()["status"] == "succeeded"
    assert "Retry-After" not in response


def test_job_wait_answers_when_the_time_is_up_with_retry_after(manager_api):
    job = Job.objects.create(kind="test_count", status="running")
    started = time.monotonic()
    response = manager_api.get(f"/api/v1/jobs/{job.pk}/?wait=0.6")
    assert 0.5 <= time.monotonic() - started < 5
    assert response.json()["status"] == "running"
    assert response["Retry-After"] == "1"
    # Without ?wait= a running job answers at once, also with Retry-After.
    assert manager_api.get(f"/api/v1/jobs/{job.pk}/")["Retry-After"] == "1"


def test_job_wait_holds_at_most_job_wait_concurrency_threads(manager_api, monkeypatch):
    """Past JOB_WAIT_CONCURRENCY requests of a process waiting, the next answers at once."""
    from dashboard.api import views

    job = Job.objects.create(kind="test_count", status="running")
    monkeypatch.setattr(views, "_waiting", threading.BoundedSemaphore(1))
    assert views._waiting.acquire(blocking=False)  # another request is waiting
    started = time.monotonic()
    response = manager_api.get(f"/api/v1/jobs/{job.pk}/?wait=30")
    assert time.monotonic() - started < 5
    assert response.json()["status"] == "running" and response["Retry-After"] == "1"
    views._waiting.release()  # it ended: this one may wait again
    started = time.monotonic()
    response = manager_api.get(f"/api/v1/jobs/{job.pk}/?wait=0.6")
    assert 0.5 <= time.monotonic() - started < 5


def test_job_wait_answers_as_soon_as_the_job_ends(live_server, manager_api):
    job = Job.objects.create(kind="test_count", status="queued")
    token = manager_api._credentials["HTTP_AUTHORIZATION"]

    def finish():
        time.sleep(0.5)
        Job.objects.filter(pk=job.pk).update(status="succeeded")

    threading.Thread(target=finish).start()
    started = time.monotonic()
    response = httpx.get(
        f"{live_server.url}/api/v1/jobs/{job.pk}/",
        params={"wait": 20},
        headers={"Authorization": token},
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert response.json()["status"] == "succeeded", response.text
    assert 0.4 <= elapsed < 10
    assert "retry-after" not in response.headers


@pytest.mark.parametrize("wait", ["61", "-1", "abc", "nan", "inf", ""])
def test_job_wait_refuses_out_of_range(manager_api, wait):
    job = Job.objects.create(kind="test_count", status="succeeded")
    response = manager_api.get(f"/api/v1/jobs/{job.pk}/?wait={wait}")
    assert response.status_code == 400
    assert response.json()["code"] and "wait" in response.json()


def test_a_frame_with_the_id_query_is_still_read_by_id(manager_api):
    dataset = manager_api.post("/api/v1/datasets/", {"name": "q"}, format="json").json()
    version = manager_api.post(
        f"/api/v1/datasets/{dataset['id']}/versions/", {"name": "v"}, format="json"
    ).json()
    body = {"frames": [{"id": "query", "sources": [{"uri": "s3://b/q.jpg"}]}]}
    manager_api.post(f"/api/v1/versions/{version['id']}/frames/", body, format="json")
    got = manager_api.get(f"/api/v1/versions/{version['id']}/frames/query/?projection=id")
    assert got.status_code == 200 and got.json() == {"id": "query"}
