"""Core pages: overview with real counts, lists, our own error pages, API schema and docs."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_overview_shows_real_counts_and_jobs(client, viewer):
    call_command("load_demo", verbosity=0)
    client.force_login(viewer)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    counts = {c["label"]: c["value"] for c in response.context["counts"]}
    assert counts["Datasets"] == 1 and counts["Data rows"] == 320
    assert counts["Projects"] == 1 and counts["Batches"] == 2
    assert counts["Labelled rows"] == 20 and counts["Queued rows"] == 230
    assert counts["Running jobs"] == 2  # recounts of v1 (on publish) and v2, awaiting a worker
    assert "Count the statistics of Street scenes / " in html  # the jobs by their names
    assert 'src="/static/vendor/htmx/htmx.min.js"' in html
    assert "X-CSRFToken" in html


def test_dataset_and_project_lists(client, viewer):
    call_command("load_demo", verbosity=0)
    client.force_login(viewer)
    assert "Street scenes" in client.get("/datasets/").content.decode()
    assert "Street scenes labeling" in client.get("/projects/").content.decode()


def test_unknown_page_is_our_404(client, viewer, settings):
    settings.DEBUG = False
    client.force_login(viewer)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.content.decode()


def test_unknown_api_path_is_a_json_404(client, settings):
    settings.DEBUG = False
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json() == {
        "detail": "Not found.",
        "code": "not_found",
    }


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/jobs/{job_id}/cancel/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_admin_lists_every_model(client, manager):
    manager.is_staff = manager.is_superuser = True
    manager.save()
    client.force_login(manager)
    call_command("load_demo", verbosity=0)
    for path in [
        "dashboard/job",
        "dashboard/joberror",
        "versions/dataset",
        "versions/datarow",
        "versions/datasetversion",
        "versions/framerevision",
        "versions/frameentry",
        "batches/project",
        "batches/batch",
        "batches/queueentry",
        "batches/label",
        "batches/skip",
    ]:
        response = client.get(f"/admin/{path}/?q=demo")
        assert response.status_code == 200, path


def test_service_errors_on_pages_are_our_own_404_and_409_pages(client, viewer, manager):
    client.force_login(viewer)
    missing = client.get("/jobs/no-such-job/")
    assert missing.status_code == 404 and "No job with id" in missing.content.decode()
    from dashboard.models import Job

    job = Job.objects.create(kind="recount_stats", status="succeeded")
    client.force_login(manager)
    # An ended job cannot be cancelled: the page says why (as a message) instead of failing.
    html = client.post(f"/jobs/{job.pk}/cancel/", follow=True).content.decode()
    assert "already ended" in html
