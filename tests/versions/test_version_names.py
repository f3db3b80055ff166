"""Issue 14, bug 6: a new draft may share a published version's name (API.md: published
versions of that name do not count), so the pages name the version an import writes into; the
dataset's own new draft avoids taken names, and an import that opened a draft and wrote nothing
(failed, cancelled or every row failed) takes it away again."""

import io
import json

import pytest
from django.test import Client

from dashboard.models import Job
from versions.bulk.start import rows_import_start
from versions.models import DatasetVersion
from versions.services import frames_add, version_create, version_snapshot

from ..factories import UserFactory
from .conftest import make_frame

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    user = UserFactory(username="root")
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_a_draft_may_share_a_published_versions_name_on_every_door(
    admin_client, client, manager, published
):
    """API.md: `create` returns an existing draft of that name; published ones do not count."""
    client.force_login(manager)
    page = client.post(f"/datasets/{published.dataset_id}/", {"name": "v1"})
    assert page.status_code in (200, 302)
    assert DatasetVersion.objects.filter(name="v1", status="draft").count() == 1
    admin = admin_client.post(
        "/admin/versions/datasetversion/add/",
        {"dataset": published.dataset_id, "name": "v1", "description": "", "metadata": "{}"},
    )
    assert admin.status_code in (200, 302)
    # the admin's create is the service's: the existing draft of that name, not a second one
    assert DatasetVersion.objects.filter(name="v1", status="draft").count() == 1


def test_the_new_draft_of_the_data_rows_avoids_a_taken_name(dataset):
    root, _ = version_create(dataset=dataset, name="draft")
    frames_add(version=root, frames=[make_frame(1)])
    version_snapshot(version=root, publish_name="draft", child_name="work")
    DatasetVersion.objects.filter(name="work").delete()  # no draft left
    body = (json.dumps({"global_key": "k", "row_data": "s3://a/k"}) + "\n").encode()
    job = rows_import_start(
        record_type="data_rows",
        dataset=dataset,
        fileobj=io.BytesIO(body),
        filename="r.ndjson",
        size=len(body),
    )
    assert DatasetVersion.objects.get(pk=job.params["version_id"]).name == "draft 2"


def _import(dataset, lines, **options) -> Job:
    body = ("\n".join(lines) + "\n").encode()
    job = rows_import_start(
        record_type="data_rows",
        dataset=dataset,
        fileobj=io.BytesIO(body),
        filename="rows.ndjson",
        size=len(body),
        **options,
    )
    job.refresh_from_db()
    return job


BAD = [json.dumps({"global_key": "k-1", "id": "bad id!"}), "{oops"]
GOOD = json.dumps({"global_key": "k-2", "row_data": "s3://a/2"})


@pytest.mark.parametrize("on_error", ["atomic", "continue"])
def test_an_import_that_wrote_nothing_leaves_no_draft_behind(
    dataset, django_capture_on_commit_callbacks, on_error
):
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(dataset, BAD, mode="create", on_error=on_error)
    job.refresh_from_db()
    assert job.status == ("failed" if on_error == "atomic" else "succeeded")
    assert not DatasetVersion.objects.filter(dataset=dataset).exists()


def test_an_import_that_wrote_rows_keeps_its_draft(dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(dataset, [*BAD, GOOD], mode="create")
    job.refresh_from_db()
    assert job.status == "succeeded" and job.counts["created"] == 1
    assert DatasetVersion.objects.filter(pk=job.params["version_id"]).exists()


def test_a_failed_import_keeps_a_draft_it_did_not_open(dataset, django_capture_on_commit_callbacks):
    existing, _ = version_create(dataset=dataset, name="main")
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(dataset, BAD, mode="create", on_error="atomic")
    job.refresh_from_db()
    assert job.status == "failed" and job.params["version_id"] == existing.pk
    assert DatasetVersion.objects.filter(pk=existing.pk).exists()


def test_the_page_never_imports_into_a_draft_it_did_not_offer(client, manager, dataset):
    """The page offered "a new draft" (the dataset had none); one appeared meanwhile."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    version_create(dataset=dataset, name="someone else's")
    client.force_login(manager)
    upload = SimpleUploadedFile("r.ndjson", (GOOD + "\n").encode())
    response = client.post(f"/datasets/{dataset.pk}/import/", {"file": upload, "version": ""})
    assert response.status_code == 400
    assert "The dataset has a draft now" in response.content.decode()
    assert not Job.objects.filter(kind="import").exists()
