"""Inputs that were 500s for a viewer or a manager: each is now a 400 naming the field."""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.models import Job, JobError
from versions.models import Dataset, DatasetVersion
from versions.services import dataset_create, frames_add, version_create, version_publish

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "\u00b2"  # str.isdigit() is true, int() refuses it


@pytest.fixture
def draft(db):
    dataset, _ = dataset_create(name="five-hundreds")
    draft, _ = version_create(dataset=dataset, name="draft")
    frames_add(
        version=draft,
        frames=[{"id": f"f{i}", "sources": [{"uri": f"s3://x/{i}"}]} for i in range(3)],
    )
    return draft


def token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def assert_400_naming(response, field, *, status=400):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert field in response.json(), response.json()


# ---------------------------------------------------------------- a viewer


@pytest.mark.parametrize("path", ["datasets/{d}/data-rows/", "versions/{v}/frames/"])
@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, "\u0663", "1" + SUPERSCRIPT_TWO])
def test_page_size_of_unicode_digits(viewer_api, draft, path, value):
    url = "/api/v1/" + path.format(d=draft.dataset_id, v=draft.pk)
    assert_400_naming(viewer_api.get(url, {"page_size": value}), "page_size")


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, "-1", "abc", "100001", " 5"])
def test_diff_limit(viewer_api, draft, value):
    other = version_create(
        dataset=draft.dataset, name="other", parent=version_publish(version=draft)
    )[0]
    response = viewer_api.get(
        f"/api/v1/versions/{other.pk}/diff/", {"against": draft.pk, "limit": value}
    )
    assert_400_naming(response, "limit")


@pytest.mark.parametrize(
    "cursor",
    [
        token("p=abc"),
        token("p=\x00"),
        token("o=1&r=1&p=x"),
        token("p=99999999999999999999999999"),
        "!!!",
        token("o=-5"),
    ],
)
def test_a_tampered_cursor_on_job_errors(viewer_api, cursor):
    job = Job.objects.create(kind="import", status="succeeded")
    JobError.objects.create(job=job, index=0, message="bad")
    response = viewer_api.get(f"/api/v1/jobs/{job.pk}/errors/", {"cursor": cursor})
    assert_400_naming(response, "cursor", status=404)  # a cursor naming no page


@pytest.mark.parametrize("path", ["datasets/{d}/data-rows/", "versions/{v}/frames/"])
@pytest.mark.parametrize("text", ["\x00", ">\x00", "<a\x00b"])
def test_a_keyset_cursor_that_decodes_to_nul(viewer_api, draft, path, text):
    url = "/api/v1/" + path.format(d=draft.dataset_id, v=draft.pk)
    assert_400_naming(viewer_api.get(url, {"cursor": token(text)}), "cursor", status=404)


# ---------------------------------------------------------------- a manager


def test_a_deep_json_body_to_the_frame_import(manager_api, draft):
    body = "[" * 100_000 + "]" * 100_000
    response = manager_api.post(
        f"/api/v1/versions/{draft.pk}/frames/import/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:300]
    assert not Job.objects.exists()


def test_a_deep_json_body_to_the_data_row_import(manager_api, draft):
    body = '{"records": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = manager_api.post(
        f"/api/v1/datasets/{draft.dataset_id}/data-rows/import/",
        body,
        content_type="application/json",
    )
    assert response.status_code == 400, response.content[:300]
    assert not Job.objects.exists()


def test_a_multipart_metadata_put_with_a_file(manager_api, draft):
    response = manager_api.put(
        f"/api/v1/versions/{draft.pk}/metadata/",
        {"file": SimpleUploadedFile("x.json", b"{}"), "a": "1"},
        format="multipart",
    )
    # The API takes JSON here: a form body is refused unread (test_request_bodies.py).
    assert response.status_code == 400 and "multipart" in response.json()["detail"]
    draft.refresh_from_db()
    assert draft.metadata == {}


LONG = "x" * 256


@pytest.mark.parametrize(
    "method,path,body,field",
    [
        ("post", "datasets/", {"name": "d", "dataset_project": LONG}, "dataset_project"),
        ("patch", "datasets/{d}/", {"dataset_project": LONG}, "dataset_project"),
        ("post", "datasets/", {"name": LONG}, "name"),
        ("post", "datasets/{d}/versions/", {"name": LONG}, "name"),
        ("post", "versions/{v}/snapshot/", {"publish_name": LONG}, "publish_name"),
        ("post", "versions/{v}/snapshot/", {"child_name": LONG}, "child_name"),
        ("post", "projects/", {"name": LONG}, "name"),
    ],
)
def test_a_name_longer_than_its_column(manager_api, draft, method, path, body, field):
    url = "/api/v1/" + path.format(d=draft.dataset_id, v=draft.pk)
    datasets, versions = Dataset.objects.count(), DatasetVersion.objects.count()
    response = getattr(manager_api, method)(url, body, format="json")
    assert_400_naming(response, field)
    assert (Dataset.objects.count(), DatasetVersion.objects.count()) == (datasets, versions)
    draft.refresh_from_db()
    assert draft.status == DatasetVersion.Status.DRAFT


@pytest.mark.parametrize("path", ["sources.\u00b2", "sources.--1", "sources." + "9" * 5000])
def test_a_projection_index_that_is_not_a_number(viewer_api, draft, path):
    response = viewer_api.get(f"/api/v1/versions/{draft.pk}/frames/", {"projection": path})
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert "projection" in response.json()


@pytest.mark.parametrize(
    "path,body,field",
    [
        ("datasets/", {"name": "d2", "dataset_project": LONG}, "dataset_project"),
        ("versions/{v}/snapshot/", {"publish_name": LONG}, "publish_name"),
        ("versions/{v}/snapshot/", {"child_name": LONG}, "child_name"),
    ],
)
def test_a_name_longer_than_its_column_on_the_pages(client, manager, draft, path, body, field):
    client.force_login(manager)
    datasets, versions = Dataset.objects.count(), DatasetVersion.objects.count()
    response = client.post("/" + path.format(v=draft.pk), body)
    assert response.status_code == 400
    assert "at most 255 characters" in response.content.decode()
    assert (Dataset.objects.count(), DatasetVersion.objects.count()) == (datasets, versions)


def test_frame_ids_in_the_query_are_bounded(viewer_api, draft):
    ids = ",".join(f"f{i}" for i in range(1001))
    response = viewer_api.get(f"/api/v1/versions/{draft.pk}/frames/?ids={ids}")
    assert response.status_code == 400 and "ids" in response.json()
    fine = ",".join(f"f{i}" for i in range(1000))
    assert viewer_api.get(f"/api/v1/versions/{draft.pk}/frames/?ids={fine}").status_code == 200
