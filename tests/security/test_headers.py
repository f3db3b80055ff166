"""Hardening headers and token hygiene: a Content-Security-Policy on every answer, pages that
show a token are never cached, JSON only from the API unless DEBUG, job parameters without
server paths, an API root and JSON 404s under /api/."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.models import Job
from versions.services import dataset_create, version_create

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split()[0]: d.partition(" ")[2] for d in (p.strip() for p in policy.split(";"))}


@pytest.mark.parametrize("path", ["/", "/jobs/", "/profile/", "/datasets/", "/api/v1/jobs/"])
def test_every_answer_has_a_strict_content_security_policy(client, manager, path):
    client.force_login(manager)
    response = client.get(path)
    assert response.status_code == 200
    policy = csp(response)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]


def test_the_sign_in_page_and_errors_have_it_too(client):
    assert "script-src 'self'" in client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in client.get("/nope/")["Content-Security-Policy"]


def test_templates_have_no_inline_script_handler_or_javascript_link():
    import re

    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", text), template
        assert not re.search(r"\son[a-z]+\s*=", text, re.IGNORECASE), template
        assert "javascript:" not in text and "hx-on" not in text, template


def test_the_profile_page_with_the_token_is_never_cached(client, viewer):
    client.force_login(viewer)
    issued = client.post("/profile/")
    assert "no-store" in issued["Cache-Control"]
    page = client.get("/profile/")
    assert viewer.auth_token.key in page.content.decode()
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]


def test_the_api_answers_json_only_unless_debug(manager_api):
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = manager_api.get("/api/v1/jobs/", HTTP_ACCEPT=browser_accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    html_only = manager_api.get("/api/v1/jobs/", HTTP_ACCEPT="text/html")
    assert html_only.status_code == 406


def test_the_api_root_lists_the_collections_to_users_only(client, viewer_api):
    root = viewer_api.get("/api/v1/")
    assert root.status_code == 200
    body = root.json()
    assert body["datasets"].endswith("/api/v1/datasets/")
    assert body["projects"].endswith("/api/v1/projects/")
    assert body["jobs"].endswith("/api/v1/jobs/")
    assert body["schema"].endswith("/api/schema/")
    assert client.get("/api/v1/").status_code == 401


def test_unknown_api_paths_answer_json_404(viewer_api):
    for path in ["/api/v1/no-such-thing/", "/api/v2/", "/api/whatever"]:
        response = viewer_api.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_job_params_show_a_stored_file_by_its_base_name_only(manager_api, run_jobs, client):
    dataset = dataset_create(name="paths")[0]
    version_create(dataset=dataset, name="draft")
    upload = SimpleUploadedFile("rows.ndjson", b'{"global_key": "a", "row_data": "s3://b/a"}\n')
    with run_jobs():
        response = manager_api.post(
            f"/api/v1/datasets/{dataset.pk}/data-rows/import/",
            {"file": upload},
            format="multipart",
        )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    stored = job.params["path"]
    assert "/" in stored  # kept where the worker finds it...
    for answer in [response.json(), manager_api.get(f"/api/v1/jobs/{job.pk}/").json()]:
        shown = answer["params"]["path"]
        assert shown == Path(stored).name and "/" not in shown  # ...shown by its name only
        assert str(settings.MEDIA_ROOT) not in str(answer)
    listed = manager_api.get("/api/v1/jobs/").json()["results"]
    assert all("/" not in j["params"].get("path", "") for j in listed)
