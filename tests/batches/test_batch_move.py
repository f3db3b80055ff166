"""Moving a batch up or down keeps the user's priority numbers where it can: the batch and its
neighbour swap numbers (or one takes the other's, ties being served oldest first); only when no
such change gives the new order are the batches renumbered — and the changes are returned."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import Batch, QueueEntry
from batches.selectors import batch_in_serving_order
from batches.services import batch_create, batch_move

pytestmark = pytest.mark.django_db


def batches(project, make_rows, priorities):
    rows = make_rows(len(priorities))
    made = []
    start = timezone.now() - timedelta(hours=1)
    for i, priority in enumerate(priorities):
        batch, _ = batch_create(
            project=project, name=f"b{i}", data_rows=[rows[i].pk], priority=priority
        )
        Batch.objects.filter(pk=batch.pk).update(created_at=start + timedelta(minutes=i))
        made.append(batch)
    return made


def state(project):
    return [(b.name, b.priority) for b in batch_in_serving_order(project=project)]


def test_moving_up_swaps_the_two_numbers_and_keeps_the_others(project, make_rows):
    b0, b1, b2, b3 = batches(project, make_rows, [1, 5, 9, 40])
    changes = batch_move(batch=b2, direction="up")
    assert state(project) == [("b0", 1), ("b2", 5), ("b1", 9), ("b3", 40)]
    assert [(b.name, old, new) for b, old, new in changes] == [("b2", 9, 5), ("b1", 5, 9)]
    # The rows follow their batch's new number.
    assert QueueEntry.objects.get(batch=b2).sort_priority == 5


def test_moving_down_past_a_batch_without_priority(project, make_rows):
    b0, b1 = batches(project, make_rows, [2, None])
    batch_move(batch=b0, direction="down")
    assert state(project) == [("b1", 2), ("b0", None)]


def test_a_batch_without_priority_moving_up_takes_its_neighbours_number(project, make_rows):
    b0, b1, b2 = batches(project, make_rows, [1, 3, None])
    changes = batch_move(batch=b2, direction="up")
    assert state(project) == [("b0", 1), ("b2", 3), ("b1", None)]
    assert len(changes) == 2


def test_equal_numbers_fall_back_to_renumbering_only_what_must_change(project, make_rows):
    b0, b1, b2 = batches(project, make_rows, [1, 3, 3])
    changes = batch_move(batch=b2, direction="up")
    assert state(project) == [("b0", 1), ("b2", 2), ("b1", 3)]
    assert [(b.name, old, new) for b, old, new in changes] == [("b2", 3, 2)]


def test_at_either_end_nothing_changes(project, make_rows):
    b0, b1 = batches(project, make_rows, [4, 7])
    assert batch_move(batch=b0, direction="up") == []
    assert batch_move(batch=b1, direction="down") == []
    assert state(project) == [("b0", 4), ("b1", 7)]


def test_the_project_page_pages_its_batches_and_edits_keep_the_page(
    client, manager, project, make_rows
):
    made = batches(project, make_rows, [None] * 53)
    client.force_login(manager)
    first = client.get(f"/projects/{project.pk}/").content.decode()
    assert ">b49<" in first and ">b50<" not in first and "Page 1 of 2" in first
    second = client.get(f"/projects/{project.pk}/?page=2").content.decode()
    assert ">b50<" in second and ">b52<" in second and '<span class="order-number">51<' in second
    moved = client.post(
        f"/projects/{project.pk}/batches/{made[50].pk}/move/", {"direction": "up", "page": "2"}
    )
    assert moved.status_code == 302 and moved.url.endswith("?page=2")
    assert [b.name for b in batch_in_serving_order(project=project)][49:51] == ["b50", "b49"]
