"""Fixtures for the quality tests: a project whose every row is reviewed, labelers, reviewers,
and `labelled(...)`, which has labelers label rows through the queue services."""

import pytest

from batches.models import Label
from batches.services import batch_create, label_submit, queue_next
from dashboard.roles import Role
from versions.models import DataRow

from ..conftest import token_client
from ..factories import DatasetFactory, ProjectFactory, UserFactory


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_rows(db):
    def make(n: int, prefix: str = "r"):
        dataset = DatasetFactory()
        return DataRow.objects.bulk_create(
            [
                DataRow(
                    id=f"{prefix}-{i:05d}",
                    dataset=dataset,
                    global_key=f"k-{prefix}-{i:05d}",
                    row_data=f"s3://bucket/{prefix}/{i}.jpg",
                )
                for i in range(n)
            ]
        )

    return make


@pytest.fixture
def project(db):
    """Every row's labels await review."""
    return ProjectFactory(label_classes=["car", "person"], review_percentage=1)


@pytest.fixture
def labelers(db):
    return [UserFactory(username=f"lab{i}", role=Role.LABELER) for i in range(3)]


@pytest.fixture
def reviewer(db):
    return UserFactory(username="reviewer", role=Role.REVIEWER)


@pytest.fixture
def reviewer_api(reviewer):
    return token_client(reviewer)


@pytest.fixture
def batch(project, make_rows):
    rows = make_rows(4)
    batch, failed = batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    assert not failed
    return batch


def label_next(project, user, annotation=None) -> Label:
    """`user` takes the next row and labels it."""
    entry = queue_next(project=project, user=user)
    assert entry is not None, f"nothing served to {user}"
    return label_submit(
        project=project,
        entry_id=entry.pk,
        user=user,
        annotation=annotation if annotation is not None else {"classes": ["car"]},
    )


@pytest.fixture
def labelled(batch, project, labelers):
    """The batch's 4 rows, each labelled once (by lab0, lab1, lab0, lab1), oldest first."""
    return [label_next(project, labelers[i % 2]) for i in range(4)]


def url(project, tail: str) -> str:
    return f"/api/v1/projects/{project.pk}/{tail}"
