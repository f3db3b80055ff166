"""Fixtures for the event and webhook tests: a real receiver on 127.0.0.1 and its secret."""

import pytest

from .receiver import Receiver

SECRET = "s" * 32


@pytest.fixture
def receiver():
    r = Receiver(SECRET)
    yield r
    r.close()
