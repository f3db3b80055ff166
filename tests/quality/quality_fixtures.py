"""Shared pieces of the agreement, gold and analytics tests: rows, a project, labelers, a
reviewer with an API client (imported by those modules: fixtures by `*`)."""

import pytest

__all__ = ["qlabelers", "qproject", "reviewer", "reviewer_api"]

from batches.services import batch_create, label_submit, queue_next
from dashboard.roles import Role
from versions.models import DataRow

from ..conftest import token_client
from ..factories import DatasetFactory, ProjectFactory, UserFactory


def url(project, tail=""):
    return f"/api/v1/projects/{project.pk}/{tail}"


def make_rows(n: int, prefix: str = "r"):
    dataset = DatasetFactory()
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


@pytest.fixture
def qproject(db):
    return ProjectFactory(label_classes=["car", "person"])


@pytest.fixture
def qlabelers(db):
    return [UserFactory(username=f"qlab{i}", role=Role.LABELER) for i in range(4)]


@pytest.fixture
def reviewer(db):
    return UserFactory(username="reviewer", role=Role.REVIEWER)


@pytest.fixture
def reviewer_api(reviewer):
    return token_client(reviewer)


def consensus_batch(project, rows, *, labels: int = 3, name: str = "c"):
    batch, _ = batch_create(
        project=project,
        name=name,
        data_rows=[r.pk for r in rows],
        consensus_settings={"number_of_labels": labels, "coverage_percentage": 1},
    )
    return batch


def label_next(project, user, annotation):
    """`user` takes the next row and submits `annotation`; returns the label."""
    entry = queue_next(project=project, user=user)
    assert entry is not None
    return label_submit(project=project, entry_id=entry.pk, user=user, annotation=annotation)
