"""A live server and a manager's `labelops_client.Client` on it (also the default client of
the ClearML-style class methods)."""

import labelops_client as lo
import pytest
from rest_framework.authtoken.models import Token

from dashboard.roles import Role

from ..factories import UserFactory


@pytest.fixture
def token(transactional_db):
    user = UserFactory(username="script", role=Role.MANAGER)
    return Token.objects.create(user=user).key


@pytest.fixture
def client(live_server, token, monkeypatch):
    """The connection, as a seed script's first lines would make it."""
    monkeypatch.setattr("labelops_client.client._default", None)
    lo.configure(url=live_server.url, api_key=token)
    connection = lo.Client(url=live_server.url, api_key=token)
    yield connection
    connection.close()
    lo.default_client().close()
