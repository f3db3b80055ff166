"""Serving order: effective priority ascending (override, else batch priority), rows with no
priority after every prioritised row, ties first-in first-out; preview shows that order."""

import pytest

from batches.models import NO_PRIORITY_SORT, QueueEntry
from batches.selectors import queue_preview
from batches.services import batch_create, batch_update, priorities_set, queue_next

pytestmark = pytest.mark.django_db


def keys(entries):
    return [e.data_row_id for e in entries]


def test_priority_ascending_then_no_priority_then_fifo(project, make_rows):
    rows = make_rows(6)
    batch_create(project=project, name="none", data_rows=[rows[0].pk, rows[1].pk])
    batch_create(project=project, name="p5", data_rows=[rows[2].pk, rows[3].pk], priority=5)
    batch_create(project=project, name="p1", data_rows=[rows[4].pk], priority=1)
    batch_create(project=project, name="neg", data_rows=[rows[5].pk], priority=-(2**31))
    assert keys(queue_preview(project=project, limit=10)) == [
        "r-00005",
        "r-00004",
        "r-00002",
        "r-00003",
        "r-00000",
        "r-00001",
    ]


def test_changing_a_batch_priority_moves_its_rows_but_not_overridden_ones(project, make_rows):
    rows = make_rows(4)
    a, _ = batch_create(project=project, name="a", data_rows=[r.pk for r in rows[:2]], priority=1)
    b, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows[2:]], priority=2)
    priorities_set(project=project, items=[{"data_row": "r-00001", "priority": 0}])
    batch_update(batch=a, priority=3)
    assert keys(queue_preview(project=project, limit=10)) == [
        "r-00001",
        "r-00002",
        "r-00003",
        "r-00000",
    ]
    batch_update(batch=a, priority=None)
    entry = QueueEntry.objects.get(data_row_id="r-00000")
    assert entry.sort_priority == NO_PRIORITY_SORT


def test_override_null_removes_the_override(project, make_rows):
    rows = make_rows(2)
    batch_create(project=project, name="a", data_rows=[r.pk for r in rows], priority=7)
    result = priorities_set(
        project=project,
        items=[{"global_key": "k-r-00001", "priority": -3}, {"data_row": "ghost", "priority": 1}],
    )
    assert result["updated"] == 1
    [failed] = result["failed"]
    assert {k: failed[k] for k in ("data_row", "global_key", "reason", "code")} == {
        "data_row": "ghost",
        "global_key": None,
        "reason": "not in this project's queue",
        "code": "not_found",
    }
    assert keys(queue_preview(project=project)) == ["r-00001", "r-00000"]
    priorities_set(project=project, items=[{"data_row": "r-00001", "priority": None}])
    entry = QueueEntry.objects.get(data_row_id="r-00001")
    assert entry.priority_override is None and entry.sort_priority == 7
    assert keys(queue_preview(project=project)) == ["r-00000", "r-00001"]


@pytest.mark.parametrize(
    "items",
    [
        [],
        "x",
        [{"data_row": "a"}],
        [{"data_row": "a", "global_key": "b", "priority": 1}],
        [{"data_row": "a", "priority": 2**31}],
        [{"data_row": "a", "priority": "1"}],
        [{"data_row": "a", "priority": 1, "colour": "red"}],
    ],
)
def test_bad_override_items_are_refused_naming_items(manager_api, project, items):
    response = manager_api.post(
        f"/api/v1/projects/{project.pk}/priorities/", {"items": items}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["items", "code"]
    assert len(response.json()["items"]) == 1  # one message, naming the item


def test_preview_skips_live_reservations_and_done_rows(project, make_rows, labelers):
    rows = make_rows(3)
    batch_create(project=project, name="a", data_rows=[r.pk for r in rows])
    queue_next(project=project, user=labelers[0])
    QueueEntry.objects.filter(data_row_id="r-00002").update(state="done")
    assert keys(queue_preview(project=project)) == ["r-00001"]


@pytest.mark.parametrize("limit", ["0", "1001", "x", ""])
def test_preview_limit_is_checked(viewer_api, project, limit):
    response = viewer_api.get(f"/api/v1/projects/{project.pk}/queue/", {"limit": limit})
    assert response.status_code == 400 and "limit" in response.json()
