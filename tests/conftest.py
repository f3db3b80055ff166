"""Shared fixtures: users per role, API clients, jobs run in-process or on a real worker."""

import pytest
from django.db import connection
from django_q.conf import Conf
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dashboard.roles import Role

from .factories import UserFactory


@pytest.fixture(autouse=True)
def q_sync(monkeypatch):
    """Tasks run in-process unless a test asks for the real worker (`live_worker`)."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Tests make many users; a deliberately slow password hash only costs time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=Role.MANAGER)


@pytest.fixture
def labeler(db):
    return UserFactory(username="labeler", role=Role.LABELER)


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", role=Role.VIEWER)


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


@pytest.fixture
def viewer_api(viewer):
    return token_client(viewer)


@pytest.fixture
def labeler_api(labeler):
    return token_client(labeler)


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Context manager: jobs enqueued inside it run (in-process) when it exits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def postgres_only():
    """For behaviour only PostgreSQL has (row locks across connections, big concurrent jobs)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
