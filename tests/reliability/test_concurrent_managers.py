"""Two managers create batches at the same time, with overlapping rows and the same name:
one wins, the other gets a clean conflict or failed rows; no row ends up in two batches of one
project. Both databases (SQLite serialises the writers; PostgreSQL races them for real)."""

import threading

import pytest
from django.db import connection

from batches.models import Batch, QueueEntry
from batches.services import batch_create, project_create
from dashboard.errors import ApplicationError

from ..factories import DatasetFactory


def rows(n):
    from versions.models import DataRow

    dataset = DatasetFactory()
    return [
        r.id
        for r in DataRow.objects.bulk_create(
            [DataRow(id=f"m-{i:04d}", dataset=dataset, row_data=f"s3://m/{i}") for i in range(n)]
        )
    ]


def race(calls):
    results, barrier = [None] * len(calls), threading.Barrier(len(calls))

    def run(i, kwargs):
        try:
            barrier.wait()
            results[i] = ("ok", batch_create(**kwargs))
        except ApplicationError as exc:
            results[i] = ("refused", exc)
        except Exception as exc:  # noqa: BLE001 - any other outcome is a failure
            results[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_same_name_overlapping_rows_one_wins(attempt):
    ids = rows(400)
    project = project_create(name=f"p{attempt}")
    results = race(
        [
            {"project": project, "name": "same", "data_rows": ids[:300]},
            {"project": project, "name": "same", "data_rows": ids[100:]},
        ]
    )
    assert all(kind in ("ok", "refused") for kind, _ in results), results
    assert [kind for kind, _ in results].count("ok") == 1
    refused = next(value for kind, value in results if kind == "refused")
    assert refused.status_code == 409
    assert Batch.objects.filter(project=project).count() == 1
    assert QueueEntry.objects.filter(project=project).count() == 300


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_different_names_overlapping_rows_never_share_a_row(attempt):
    ids = rows(400)
    project = project_create(name=f"q{attempt}")
    results = race(
        [
            {"project": project, "name": "a", "data_rows": ids[:300]},
            {"project": project, "name": "b", "data_rows": ids[100:]},
        ]
    )
    assert all(kind in ("ok", "refused") for kind, _ in results), results
    entries = QueueEntry.objects.filter(project=project)
    assert entries.count() == entries.values("data_row_id").distinct().count()
    assert set(entries.values_list("data_row_id", flat=True)) <= set(ids)
    for kind, value in results:
        if kind == "ok":
            batch, failed = value
            if batch is not None:
                assert batch.size == entries.filter(batch=batch).count()
                assert batch.size + len(failed) in (300,)
            assert all(f["reason"] in ("already in this project",) for f in failed)
        else:
            assert value.status_code == 409
    # Every row of the overlap is in exactly one batch; the union is covered unless refused.
    if all(kind == "ok" for kind, _ in results):
        assert entries.count() == 400
