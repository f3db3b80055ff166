"""Fixtures for the batches tests: data rows in bulk, a project, labelers, PostgreSQL-only."""

import pytest

from dashboard.roles import Role
from versions.models import DataRow

from ..factories import DatasetFactory, ProjectFactory, UserFactory


@pytest.fixture
def make_rows(db):
    """make_rows(n, prefix="r") → n data rows (ids `<prefix>-00000`…, keys `k-<prefix>-…`)."""

    def make(n: int, prefix: str = "r", dataset=None):
        dataset = dataset or DatasetFactory()
        rows = [
            DataRow(
                id=f"{prefix}-{i:05d}",
                dataset=dataset,
                global_key=f"k-{prefix}-{i:05d}",
                row_data=f"s3://bucket/{prefix}/{i}.jpg",
            )
            for i in range(n)
        ]
        DataRow.objects.bulk_create(rows)
        return rows

    return make


@pytest.fixture
def project(db):
    return ProjectFactory(label_classes=["car", "person"])


@pytest.fixture
def labelers(db):
    return [UserFactory(username=f"lab{i}", role=Role.LABELER) for i in range(3)]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Users are made by the dozen here; a slow password hash only costs time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
