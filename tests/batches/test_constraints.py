"""Database constraints hold on both engines, and the doors refuse bad input before them."""

import pytest
from django.db import DataError, IntegrityError, transaction

from batches.models import Batch, QueueEntry
from batches.services import batch_create
from dashboard.errors import Conflict
from versions.models import DataRow

from ..factories import BatchFactory, DataRowFactory, ProjectFactory, QueueEntryFactory

pytestmark = pytest.mark.django_db


def test_batch_name_is_unique_within_a_project_only():
    batch = BatchFactory(name="b")
    with pytest.raises(IntegrityError), transaction.atomic():
        Batch.objects.create(project=batch.project, name="b")
    Batch.objects.create(project=ProjectFactory(), name="b")  # another project: fine


def test_a_data_row_is_queued_once_per_project():
    entry = QueueEntryFactory()
    other_batch = BatchFactory(project=entry.project)
    with pytest.raises(IntegrityError), transaction.atomic():
        QueueEntry.objects.create(project=entry.project, batch=other_batch, data_row=entry.data_row)
    QueueEntryFactory(data_row=entry.data_row)  # another project: fine


@pytest.mark.parametrize("priority", [2**31, -(2**31) - 1])
def test_priority_outside_int32_is_refused_by_the_database(priority):
    project = ProjectFactory()
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Batch.objects.create(project=project, name="x", priority=priority)


@pytest.mark.parametrize("priority", [2**31 - 1, -(2**31), None, 1])
def test_priority_within_int32_or_null_is_stored(priority):
    batch = Batch.objects.create(project=ProjectFactory(), name="x", priority=priority)
    batch.refresh_from_db()
    assert batch.priority == priority


def test_global_key_is_unique_when_set_and_null_repeats():
    row = DataRowFactory(global_key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        DataRow.objects.create(id="other", dataset=row.dataset, global_key="k")
    DataRow.objects.create(id="n1", dataset=row.dataset, global_key=None)
    DataRow.objects.create(id="n2", dataset=row.dataset, global_key=None)


def test_the_api_names_the_priority_field_when_out_of_range(manager_api):
    project = ProjectFactory()
    row = DataRowFactory()
    response = manager_api.post(
        f"/api/v1/projects/{project.pk}/batches/",
        {"name": "b", "data_rows": [row.pk], "priority": 2**31},
        format="json",
    )
    assert response.status_code == 400 and "32-bit" in response.json()["priority"][0]
    assert not Batch.objects.exists()


@pytest.mark.parametrize("rows", [{}, {"data_rows": ["a"], "global_keys": ["b"]}])
def test_the_api_refuses_both_or_neither_row_lists(manager_api, rows):
    project = ProjectFactory()
    response = manager_api.post(
        f"/api/v1/projects/{project.pk}/batches/", {"name": "b", **rows}, format="json"
    )
    assert response.status_code == 400 and "exactly one" in response.json()["global_keys"][0]


def test_service_answers_a_duplicate_name_with_conflict():
    batch = BatchFactory(name="dup")
    row = DataRowFactory()
    with pytest.raises(Conflict) as exc:
        batch_create(project=batch.project, name="dup", data_rows=[row.pk])
    assert exc.value.field == "name"


def test_service_reports_unknown_and_already_queued_rows_and_keeps_the_rest():
    project = ProjectFactory()
    queued = QueueEntryFactory(batch__project=project).data_row
    fresh = DataRowFactory()
    batch, failed = batch_create(
        project=project, name="b", data_rows=[fresh.pk, queued.pk, "ghost"], priority=3
    )
    assert batch.size == 1
    assert {(f["data_row"], f["reason"]) for f in failed} == {
        (queued.pk, "already in this project"),
        ("ghost", "unknown"),
    }
    entry = QueueEntry.objects.get(batch=batch)
    assert entry.data_row_id == fresh.pk and entry.sort_priority == 3


def test_no_empty_batch_is_left_when_every_row_fails():
    project = ProjectFactory()
    batch, failed = batch_create(project=project, name="b", global_keys=["nope"])
    assert batch is None and len(failed) == 1
    assert not Batch.objects.filter(project=project).exists()
