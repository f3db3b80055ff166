"""Uploaded files are stored for the job, never served back or executed: nothing under
MEDIA_URL is routed, and a job's produced file only leaves as a download (attachment,
nosniff, a non-HTML content type)."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.models import Job
from versions.services import dataset_create, version_create

pytestmark = pytest.mark.django_db

SCRIPT = b'{"global_key": "<script>alert(1)</script>", "row_data": "<script>alert(1)</script>"}\n'


def test_an_uploaded_file_is_not_served_from_our_origin(manager_api, client, manager):
    dataset, _ = dataset_create(name="up")
    version_create(dataset=dataset, name="v")
    response = manager_api.post(
        f"/api/v1/datasets/{dataset.pk}/data-rows/import/",
        {"file": SimpleUploadedFile("rows.ndjson", SCRIPT)},
        format="multipart",
    )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    stored = job.params["path"]
    assert default_storage.exists(stored)
    client.force_login(manager)
    for url in (f"/media/{stored}", f"/{stored}", f"/static/../media/{stored}"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("name", ["rows.html", "rows.svg", "rows.js", "rows.exe"])
def test_a_file_of_another_type_is_refused_before_it_is_stored(name, manager_api):
    dataset, _ = dataset_create(name="up")
    version_create(dataset=dataset, name="v")
    response = manager_api.post(
        f"/api/v1/datasets/{dataset.pk}/data-rows/import/",
        {"file": SimpleUploadedFile(name, SCRIPT)},
        format="multipart",
    )
    assert response.status_code == 400 and "format" in response.json()
    assert not Job.objects.exists()


@pytest.mark.parametrize("name", ["export.ndjson", "export.csv", "export.html", "export.svg"])
def test_a_jobs_file_is_only_ever_a_download(name, manager_api):
    job = Job.objects.create(kind="export_batches", status="succeeded")
    job.file.save(name, ContentFile(b"<html><script>alert(1)</script></html>"))
    response = manager_api.get(f"/api/v1/jobs/{job.pk}/file/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert not response["Content-Type"].startswith(("text/html", "image/svg"))
