"""The import form on the dataset and version pages: starts a job, shows its live progress
(htmx) or redirects to the job page; refusals are messages, not 500s; export links; admin."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard.models import Job

from .conftest import ENCODERS, rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_dataset_page_shows_the_import_form_and_export_links(manager_client, dataset):
    page = manager_client.get(f"/datasets/{dataset.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'action="/datasets/{dataset.pk}/import/"' in html
    assert f"/api/v1/datasets/{dataset.pk}/data-rows/export/?format=csv" in html
    assert 'name="on_error"' in html and 'name="mode"' in html


def test_import_form_with_htmx_answers_live_progress(manager_client, dataset, run_jobs):
    with run_jobs():
        response = manager_client.post(
            f"/datasets/{dataset.pk}/import/",
            {
                "file": SimpleUploadedFile("rows.ndjson", ENCODERS["ndjson"](rows(3))),
                "mode": "create",
            },
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    job = Job.objects.get()
    html = response.content.decode()
    assert f'id="job-{job.pk}"' in html and f"/jobs/{job.pk}/" in html
    job.refresh_from_db()
    assert job.counts["created"] == 3


def test_import_form_without_htmx_redirects_to_the_job(manager_client, dataset, draft):
    response = manager_client.post(
        f"/versions/{draft.pk}/import/",
        {"file": SimpleUploadedFile("f.ndjson", b'{"sources": [{"uri": "s3://a"}]}\n')},
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.params["record_type"] == "frames"


def test_refused_import_is_a_message(manager_client, dataset):
    response = manager_client.post(
        f"/datasets/{dataset.pk}/import/",
        {"file": SimpleUploadedFile("rows.csv", b"colour\nred\n")},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "colour" in response.content.decode()
    assert not Job.objects.exists()


def test_viewers_cannot_import(client, viewer, dataset, draft):
    client.force_login(viewer)
    page = client.get(f"/versions/{draft.pk}/")
    assert page.status_code == 200 and "Start import" not in page.content.decode()
    response = client.post(f"/datasets/{dataset.pk}/import/", {})
    assert response.status_code == 403


def test_admin_import_page_and_export_action(admin_client, dataset, draft, run_jobs):
    from versions.models import DataRow

    page = admin_client.get("/admin/versions/datarow/import/")
    assert page.status_code == 200
    with run_jobs():
        response = admin_client.post(
            "/admin/versions/datarow/import/",
            {
                "dataset": dataset.pk,
                "mode": "create",
                "key": "global_key",
                "on_error": "continue",
                "file": SimpleUploadedFile("rows.ndjson", ENCODERS["ndjson"](rows(2))),
            },
        )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert DataRow.objects.count() == 2
    response = admin_client.post(
        "/admin/versions/datarow/",
        {
            "action": "export_ndjson",
            "_selected_action": list(DataRow.objects.values_list("pk", flat=True)),
        },
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert body.count("\n") == 2 and "gk-0" in body


ADMIN_IMPORT = "/admin/versions/datarow/import/"
ADMIN_OPTIONS = {"mode": "create", "key": "global_key", "on_error": "continue"}


def test_admin_import_guides_like_the_page(admin_client):
    html = admin_client.get(ADMIN_IMPORT).content.decode()
    assert 'class="columns-guide"' in html
    assert "<strong>required as the key (the default key)</strong>" in html  # global_key
    for fmt in ("csv", "json", "ndjson"):
        assert f'href="{reverse("import-sample", args=["data_rows", fmt])}"' in html
    assert "Preview</button>" in html and "Start import</button>" in html


def test_admin_import_previews_names_the_target_and_starts_from_the_kept_file(
    admin_client, dataset, draft, run_jobs
):
    from versions.models import DataRow

    body = b"global_key,row_data\ngk-1,s3://b/1.jpg\n,s3://b/2.jpg\n"
    response = admin_client.post(
        ADMIN_IMPORT,
        {
            "dataset": dataset.pk,
            "action": "preview",
            "file": SimpleUploadedFile("rows.csv", body),
            **ADMIN_OPTIONS,
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "CSV · mode create · key global_key · 2 records in the file" in html
    assert "1 of the first 2 rows would fail" in html and "global_key: missing" in html
    assert "Rows go into bulk: <strong>draft (draft, an empty root, 0 frames)</strong>" in html
    assert f'<option value="{draft.pk}">draft (draft' in html  # the "Import into" choice
    token = re.search(r'name="staged" value="([^"]+)"', html).group(1)
    assert Job.objects.count() == 0 and DataRow.objects.count() == 0
    with run_jobs():
        started = admin_client.post(
            ADMIN_IMPORT,
            {"dataset": dataset.pk, "version": draft.pk, "staged": token, **ADMIN_OPTIONS},
        )
    job = Job.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/jobs/{job.pk}/"
    assert job.params["version_id"] == draft.pk
    assert DataRow.objects.count() == 1  # the good row; the other is a row error


def test_admin_import_names_a_new_draft_and_refuses_in_the_page_words(admin_client):
    from versions.services import dataset_create

    empty, _ = dataset_create(name="empty")
    response = admin_client.post(
        ADMIN_IMPORT,
        {
            "dataset": empty.pk,
            "action": "preview",
            "file": SimpleUploadedFile("rows.csv", b"global_key,row_data,colour\nk,s3://a,red\n"),
            **ADMIN_OPTIONS,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "tick “ignore unknown columns”" in html and "?unknown=ignore" not in html
    assert "Rows go into empty: <strong>a new draft &#x27;draft&#x27;" in html
    assert 'name="staged"' in html  # the file is kept for the next try
    assert Job.objects.count() == 0


def test_admin_import_without_a_file_says_so(admin_client, dataset):
    response = admin_client.post(ADMIN_IMPORT, {"dataset": dataset.pk, **ADMIN_OPTIONS})
    assert response.status_code == 400 and "Choose a file to import." in response.content.decode()
