"""Production settings pass Django's deployment checks; the defaults are the safe ones (DEBUG
off, a generated secret, no debug page for a bad host, an unknown address or a 500), and a
local run still works over plain HTTP."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, **env):
    # A clean production-like environment: no dev secret, and not the browser tests'
    # DJANGO_ALLOW_ASYNC_UNSAFE (which `check --deploy` rightly flags).
    dropped = (
        "SECRET_KEY",
        "DEBUG",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "ALLOWED_HOSTS",
        "LABELOPS_LOCAL",
    )
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="x" * 30 + "production-only-secret-from-the-environment",
        ALLOWED_HOSTS="labelops.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


SETTINGS = (
    "from django.conf import settings as s; import json; print(json.dumps({k: getattr(s, k) "
    "for k in ['DEBUG', 'SECRET_KEY', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', "
    "'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS']}))"
)


def settings_of(**env) -> dict:
    result = manage("shell", "--no-imports", "-c", SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_defaults_are_safe_and_a_local_run_stays_on_http(tmp_path):
    local = settings_of(DATA_DIR=str(tmp_path))
    assert local["DEBUG"] is False
    # Served on loopback names only: plain HTTP, no redirect, cookies sent over HTTP.
    assert not local["SECURE_SSL_REDIRECT"] and not local["SESSION_COOKIE_SECURE"]
    assert local["SECURE_HSTS_SECONDS"] == 0
    # The secret is generated once into the data folder, readable by its owner only, and kept.
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == local["SECRET_KEY"] and len(local["SECRET_KEY"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert settings_of(DATA_DIR=str(tmp_path))["SECRET_KEY"] == local["SECRET_KEY"]
    assert settings_of(DATA_DIR=str(tmp_path / "other"))["SECRET_KEY"] != local["SECRET_KEY"]


def test_a_public_host_name_means_https_only(tmp_path):
    public = settings_of(DATA_DIR=str(tmp_path), ALLOWED_HOSTS="labelops.example.com")
    assert public["DEBUG"] is False and public["SECURE_SSL_REDIRECT"]
    assert public["SESSION_COOKIE_SECURE"] and public["CSRF_COOKIE_SECURE"]
    assert public["SECURE_HSTS_SECONDS"] == 31536000
    # Explicit switches still win, and DEBUG has to be asked for.
    assert settings_of(DATA_DIR=str(tmp_path), DEBUG="true")["DEBUG"] is True
    assert not settings_of(
        DATA_DIR=str(tmp_path), ALLOWED_HOSTS="labelops.example.com", LABELOPS_LOCAL="1"
    )["SECURE_SSL_REDIRECT"]


def test_no_secret_and_no_writable_data_folder_is_refused(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    result = manage("check", DATA_DIR=str(blocked / "data"))
    assert result.returncode != 0
    assert "Set SECRET_KEY in the environment" in result.stderr


REQUESTS = """
from django.test import Client
client = Client(raise_request_exception=False)
for host, path in [("evil.example", "/"), ("localhost", "/no/such/page/"),
                   ("localhost", "/api/v1/no-such-thing/"), ("localhost", "/api/nope")]:
    response = client.get(path, HTTP_HOST=host)
    print("=====", response.status_code, response["Content-Type"])
    print(response.content.decode())
"""


def test_default_settings_show_no_debug_page(tmp_path):
    """Bad Host, unknown page, unknown API path with the settings a fresh clone runs on."""
    result = manage("shell", "--no-imports", "-c", REQUESTS, DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    answers = result.stdout.split("===== ")[1:]
    assert [a.split()[0] for a in answers] == ["400", "404", "404", "404"]
    bad_host, page, api, api_no_slash = answers
    for answer in answers:
        for leak in ("Traceback", "DATABASES", "SECRET_KEY", "URLconf", "DEBUG = True"):
            assert leak not in answer
    assert "Bad request" in bad_host and "evil.example" not in bad_host
    assert "There is nothing at this address" in page
    assert "application/json" in api and json.loads(api.split("\n", 1)[1]) == {
        "detail": "Not found.",
        "code": "not_found",
    }
    assert json.loads(api_no_slash.split("\n", 1)[1]) == {
        "detail": "Not found.",
        "code": "not_found",
    }


@pytest.mark.django_db
def test_a_server_error_is_our_page_without_a_traceback(client, viewer, monkeypatch):
    from dashboard import views

    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views, "overview_counts", broken)
    client.raise_request_exception = False
    client.force_login(viewer)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert "secret internals" not in html and "Traceback" not in html
