"""Without JavaScript, a preview keeps the file (a staged upload) so the import starts without
choosing it again: bounded in size, owned by the user who previewed, expiring, dropped once the
import has started, swept when expired. Dataset import and version frames import alike."""

import re
import time

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.bulk.staged import STAGED_DIR, staged_uploads_sweep
from dashboard.models import Job
from dashboard.roles import Role
from tests.factories import UserFactory

from .conftest import ENCODERS, rows

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="staged" value="([^"]+)"')


def _staged_files() -> list[str]:
    try:
        return default_storage.listdir(STAGED_DIR)[1]
    except FileNotFoundError:
        return []


def _preview(client, url: str, body: bytes, name: str = "rows.ndjson", **options):
    response = client.post(
        url, {"file": SimpleUploadedFile(name, body), "action": "preview", **options}
    )
    match = TOKEN.search(response.content.decode())
    return response, match.group(1) if match else None


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.mark.parametrize("target", ["dataset", "version"])
def test_a_no_js_preview_keeps_the_file_and_the_import_starts_from_it(
    manager_client, dataset, draft, run_jobs, target
):
    if target == "dataset":
        url, body = f"/datasets/{dataset.pk}/import/", ENCODERS["ndjson"](rows(3))
    else:
        url = f"/versions/{draft.pk}/import/"
        body = b"".join(b'{"sources": [{"uri": "s3://a/%d"}]}\n' % i for i in range(3))
    response, token = _preview(manager_client, url, body, mode="create")
    assert response.status_code == 200 and token
    html = response.content.decode()
    assert "Kept from the preview: <strong>rows.ndjson</strong>" in html
    assert 'type="file" name="file" accept' in html  # no longer required
    assert len(_staged_files()) == 1 and Job.objects.count() == 0
    with run_jobs():
        started = manager_client.post(url, {"staged": token, "mode": "create"})
    job = Job.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.status == "succeeded" and job.counts["created"] == 3
    assert _staged_files() == []  # dropped once the import started
    again = manager_client.post(url, {"staged": token, "mode": "create"})
    assert again.status_code == 400 and "choose the file again" in again.content.decode()


def test_the_kept_file_survives_a_second_preview_and_a_refusal(manager_client, dataset):
    url = f"/datasets/{dataset.pk}/import/"
    body = b"global_key,row_data,colour\nk-1,s3://a/1,red\n"
    refused, token = _preview(manager_client, url, body, name="rows.csv")
    assert (
        refused.status_code == 400 and "Unknown column(s) &#x27;colour" in refused.content.decode()
    )
    assert token  # the file is kept even though the preview refused it
    ticked = manager_client.post(url, {"staged": token, "action": "preview", "unknown": "ignore"})
    assert ticked.status_code == 200 and "1 record in the file" in ticked.content.decode()
    assert TOKEN.search(ticked.content.decode()).group(1) == token


def test_a_kept_file_is_its_owners_only(client, manager, dataset):
    client.force_login(manager)
    _, token = _preview(client, f"/datasets/{dataset.pk}/import/", ENCODERS["ndjson"](rows(1)))
    other = UserFactory(username="other-manager", role=Role.MANAGER)
    client.force_login(other)
    response = client.post(f"/datasets/{dataset.pk}/import/", {"staged": token})
    assert response.status_code == 400
    assert "expired or is not yours" in response.content.decode()
    assert Job.objects.count() == 0


@pytest.mark.parametrize("token", ["nonsense", "x" * 601, "a:b:c"])
def test_a_forged_or_overlong_token_is_refused_naming_the_file(manager_client, dataset, token):
    response = manager_client.post(f"/datasets/{dataset.pk}/import/", {"staged": token})
    assert response.status_code == 400
    html = response.content.decode()
    assert "choose the file again" in html or "Ensure this value has at most" in html
    assert Job.objects.count() == 0


def test_a_kept_file_expires(manager_client, dataset, settings):
    url = f"/datasets/{dataset.pk}/import/"
    _, token = _preview(manager_client, url, ENCODERS["ndjson"](rows(1)))
    settings.STAGED_UPLOAD_SECONDS = 0
    time.sleep(1.1)
    response = manager_client.post(url, {"staged": token})
    assert response.status_code == 400 and "has expired" in response.content.decode()
    assert staged_uploads_sweep() == 1 and _staged_files() == []


def test_a_file_larger_than_a_staged_upload_is_not_kept(manager_client, dataset, settings):
    settings.STAGED_UPLOAD_MAX_BYTES = 10
    response, token = _preview(
        manager_client, f"/datasets/{dataset.pk}/import/", ENCODERS["ndjson"](rows(2))
    )
    assert response.status_code == 200 and token is None and _staged_files() == []
    assert "are not kept between pages: choose the file again" in response.content.decode()


def test_with_htmx_nothing_is_kept(manager_client, dataset):
    response = manager_client.post(
        f"/datasets/{dataset.pk}/import/",
        {"file": SimpleUploadedFile("r.ndjson", ENCODERS["ndjson"](rows(1))), "action": "preview"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and _staged_files() == []
