"""Run a failed or cancelled job again: it resumes after its last committed chunk, keeping
the progress, counts and row errors so far; anything else is a 409. API, page and admin."""

import pytest

from dashboard.jobs.services import job_create
from dashboard.models import Job

from . import job_kinds  # noqa: F401 - registers the test job kinds

pytestmark = pytest.mark.django_db

ITEMS = [1, "bad", 3, 4, 5, "worse"]


def failed_job(run_jobs) -> Job:
    with run_jobs():
        job = job_create(
            kind="test_count", params={"items": ITEMS, "chunk": 2, "fail_after_chunks": 2}
        )
    job.refresh_from_db()
    assert job.status == "failed" and job.progress_done == 4
    return job


def test_a_failed_job_runs_again_from_its_checkpoint(manager_api, run_jobs):
    job = failed_job(run_jobs)
    job_kinds.CALLS.clear()
    with run_jobs():
        response = manager_api.post(f"/api/v1/jobs/{job.pk}/retry/")
    assert response.status_code == 202
    assert response["Location"].endswith(f"/api/v1/jobs/{job.pk}/")
    assert response.json()["status"] == "queued"
    assert job_kinds.CALLS == [[4, 5]]  # only the rows after the last committed chunk
    body = manager_api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["status"] == "succeeded" and body["error"] == ""
    assert body["progress"] == {"done": 6, "total": 6}
    assert body["counts"]["created"] == 4 and body["counts"]["failed"] == 2
    errors = manager_api.get(f"/api/v1/jobs/{job.pk}/errors/").json()["results"]
    assert [e["index"] for e in errors] == [1, 5]  # each failed row reported once
    assert body["attempts"] == 1


def test_a_cancelled_job_runs_again(manager_api, run_jobs):
    with run_jobs():
        job = job_create(kind="test_count", params={"items": [1, 2, 3, 4], "cancel_at": [2]})
    job.refresh_from_db()
    assert job.status == "cancelled" and job.progress_done == 2
    job.params["cancel_at"] = []
    job.save(update_fields=["params"])
    with run_jobs():
        assert manager_api.post(f"/api/v1/jobs/{job.pk}/retry/").status_code == 202
    job.refresh_from_db()
    assert job.status == "succeeded" and job.progress_done == 4
    assert job.counts["created"] == 4 and not job.cancel_requested


@pytest.mark.parametrize("status", ["queued", "running", "succeeded"])
def test_only_failed_or_cancelled_jobs_run_again(manager_api, status):
    job = Job.objects.create(kind="test_count", status=status)
    response = manager_api.post(f"/api/v1/jobs/{job.pk}/retry/")
    assert response.status_code == 409
    assert status in response.json()["detail"]
    assert Job.objects.get(pk=job.pk).status == status


def test_retry_needs_a_manager_and_a_known_job(manager_api, labeler_api):
    job = Job.objects.create(kind="test_count", status="failed")
    assert labeler_api.post(f"/api/v1/jobs/{job.pk}/retry/").status_code == 403
    assert manager_api.post("/api/v1/jobs/nope/retry/").status_code == 404


def test_run_again_from_the_page(client, viewer, manager, run_jobs):
    job = failed_job(run_jobs)
    client.force_login(viewer)
    assert "Run again" not in client.get(f"/jobs/{job.pk}/").content.decode()
    assert client.post(f"/jobs/{job.pk}/retry/").status_code == 403
    client.force_login(manager)
    assert "Run again" in client.get(f"/jobs/{job.pk}/").content.decode()
    with run_jobs():
        response = client.post(f"/jobs/{job.pk}/retry/", follow=True)
    assert "runs again" in response.content.decode()
    assert Job.objects.get(pk=job.pk).status == "succeeded"
    again = client.post(f"/jobs/{job.pk}/retry/", follow=True).content.decode()
    assert "Only a failed or cancelled job" in again


def test_run_again_from_the_admin(admin_client, run_jobs):
    job = failed_job(run_jobs)
    done = Job.objects.create(kind="test_count", status="succeeded")
    with run_jobs():
        response = admin_client.post(
            "/admin/dashboard/job/",
            {"action": "retry_jobs", "_selected_action": [job.pk, done.pk]},
            follow=True,
        )
    html = response.content.decode()
    assert "Run again: 1 jobs" in html and "Only a failed or cancelled job" in html
    assert Job.objects.get(pk=job.pk).status == "succeeded"
