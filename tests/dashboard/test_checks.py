"""`manage.py check --database default` warns when PostgreSQL's autovacuum is off."""

import pytest
from django.db import connection

from dashboard.checks import postgres_autovacuum

pytestmark = pytest.mark.django_db


def test_the_autovacuum_check_reports_what_the_server_runs():
    found = postgres_autovacuum(databases=["default"])
    if connection.vendor != "postgresql":
        assert found == []
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        (value,) = cursor.fetchone()
    assert [w.id for w in found] == ([] if value == "on" else ["labelops.W001"])
    assert postgres_autovacuum(databases=None) == []  # only with --database
