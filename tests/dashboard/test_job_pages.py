"""Job pages: the list, the detail page and its polling partial (stops when the job ends)."""

import pytest

from dashboard.models import Job

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_running_job_partial_keeps_polling(client, viewer):
    client.force_login(viewer)
    job = Job.objects.create(
        kind="recount_stats", status="running", progress_done=3, progress_total=10
    )
    response = client.get(f"/jobs/{job.pk}/", HTTP_HX_TARGET=f"job-{job.pk}", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert "<html" not in html  # only the partial
    assert 'value="30"' in html  # 30 % progress


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled"])
def test_ended_job_partial_drops_the_trigger_and_answers_286(client, viewer, status):
    client.force_login(viewer)
    job = Job.objects.create(
        kind="recount_stats", status=status, progress_done=10, progress_total=10
    )
    response = client.get(f"/jobs/{job.pk}/", HTTP_HX_TARGET=f"job-{job.pk}", **HTMX)
    assert response.status_code == 286
    assert "hx-trigger" not in response.content.decode()


def test_job_detail_page_shows_status_counts_and_failed_rows(client, viewer):
    client.force_login(viewer)
    job = Job.objects.create(kind="recount_stats", status="succeeded", errors_count=1)
    job.row_errors.create(index=7, key="row-7", message="Malformed frame content")
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "<html" in html and "succeeded" in html
    assert "Malformed frame content" in html and "row-7" in html


def test_jobs_page_filters_and_serves_the_table_partial_to_htmx(client, viewer):
    client.force_login(viewer)
    Job.objects.create(kind="recount_stats", status="failed")
    Job.objects.create(kind="import", status="succeeded")
    html = client.get("/jobs/?status=failed").content.decode()
    assert "Recount version statistics" in html and "Import records" not in html
    partial = client.get("/jobs/?status=succeeded", **HTMX).content.decode()
    assert "<html" not in partial and 'id="job-table"' in partial and "Import records" in partial


def test_cancel_from_the_page_needs_a_manager(client, viewer, manager):
    job = Job.objects.create(kind="recount_stats")
    client.force_login(viewer)
    assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 403
    client.force_login(manager)
    response = client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    assert "Cancel requested" in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
