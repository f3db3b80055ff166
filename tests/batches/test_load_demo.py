"""manage.py load_demo: the demo it promises, and the same data when run twice."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from batches.models import Batch, Label, Project, QueueEntry
from dashboard.models import Job
from dashboard.roles import Role, user_role
from versions.copy_on_write import effective_entries
from versions.models import DataRow, Dataset, DatasetVersion, FrameEntry, FrameRevision

pytestmark = pytest.mark.django_db

MODELS = [
    get_user_model(),
    Dataset,
    DataRow,
    DatasetVersion,
    FrameRevision,
    FrameEntry,
    Project,
    Batch,
    QueueEntry,
    Label,
    Job,
]


def snapshot():
    return {m.__name__: sorted(map(str, m.objects.values_list("pk", flat=True))) for m in MODELS}


def test_load_demo_creates_users_dataset_versions_project_batches_labels():
    call_command("load_demo", "--with-demo-users", verbosity=0)
    users = {u.username: u for u in get_user_model().objects.all()}
    assert user_role(users["admin"]) == Role.MANAGER and users["admin"].check_password("admin")
    assert user_role(users["labeler"]) == Role.LABELER
    assert user_role(users["viewer"]) == Role.VIEWER
    dataset = Dataset.objects.get()
    v1, v2 = (DatasetVersion.objects.get(dataset=dataset, name=n) for n in ("v1", "v2"))
    assert v1.is_published and not v2.is_published and v2.parent == v1
    assert effective_entries(v1).count() == 300
    assert effective_entries(v2).count() == 320
    assert Batch.objects.count() == 2 and Label.objects.count() == 20
    assert QueueEntry.objects.filter(state="done").count() == 20
    assert QueueEntry.objects.filter(labels_required=2).exists()  # consensus share
    assert Job.objects.filter(kind="recount_stats").count() == 2  # v1 on publish, v2


def test_load_demo_twice_leaves_the_same_data():
    call_command("load_demo", verbosity=0)
    first = snapshot()
    call_command("load_demo", verbosity=0)
    assert snapshot() == first
