"""The set-based import writes exactly the rows `frames_add` writes (data rows, shared
revisions with the same hash and source list, entries, tombstones) — on SQLite's executemany
path and PostgreSQL's COPY path alike, so both give identical results."""

import pytest

from dashboard.bulk.staging import is_postgresql
from versions.models import DataRow, FrameEntry, FrameRevision
from versions.services import dataset_create, frames_add, frames_delete, version_create

from .conftest import ENCODERS

pytestmark = pytest.mark.django_db


def frames(n):
    return [
        {
            "id": f"{{ds}}-f{i}",
            "global_key": f"{{ds}}-k{i}",
            "sources": [{"uri": f"s3://b/{i}.jpg"}, {"id": "depth", "uri": f"s3://d/{i}.png"}],
            "meta": {"i": i, "even": i % 2 == 0},
            "rois": [{"label": ["car"], "bbox": [0, 0, i, i]}],
            "attachments": [{"type": "note", "value": str(i)}],
        }
        for i in range(n)
    ]


def strip(value):
    return value.split("-", 1)[1] if value else value


def snapshot(version):
    rows = {
        strip(r["id"]): (strip(r["global_key"]), r["row_data"])
        for r in DataRow.objects.filter(dataset_id=version.dataset_id).values(
            "id", "global_key", "row_data"
        )
    }
    revisions = sorted(
        FrameRevision.objects.filter(data_row__dataset_id=version.dataset_id).values_list(
            "data_row_id", "content_hash", "source_uris", "content"
        ),
        key=lambda r: (r[0], r[1]),
    )
    entries = sorted(
        FrameEntry.objects.filter(version=version).values_list(
            "data_row_id", "revision__content_hash"
        ),
        key=lambda e: e[0],
    )
    return (
        rows,
        [(strip(r[0]), r[1], r[2]) for r in revisions],
        [r[3] for r in revisions],
        [(strip(e[0]), e[1]) for e in entries],
    )


def with_ds(items, name):
    return [
        {**f, "id": f["id"].format(ds=name), "global_key": f["global_key"].format(ds=name)}
        for f in items
    ]


def test_import_equals_frames_add_then_update_then_delete(run_import):
    ref = version_create(dataset=dataset_create(name="ref")[0], name="d")[0]
    bulk = version_create(dataset=dataset_create(name="bulk")[0], name="d")[0]
    first = frames(6)
    frames_add(version=ref, frames=with_ds(first, "ref"))
    job = run_import(
        bulk,
        ENCODERS["ndjson"](with_ds(first, "bulk")),
        "ndjson",
        record_type="frames",
        mode="create",
    )
    assert job.counts["created"] == 6, job.error
    # Frame ids are given, so both datasets use the same ids; compare everything but the key
    # prefix.
    assert snapshot(ref) == snapshot(bulk)

    second = frames(8)
    second[2]["meta"] = {"changed": True}
    frames_add(version=ref, frames=with_ds(second, "ref"))
    job = run_import(
        bulk, ENCODERS["json"](with_ds(second, "bulk")), "json", record_type="frames", mode="upsert"
    )
    assert (job.counts["created"], job.counts["updated"], job.counts["unchanged"]) == (2, 1, 5)
    assert snapshot(ref) == snapshot(bulk)


def test_tombstones_match_frames_delete_on_a_child_version(run_import):
    from versions.services import version_publish

    results = []
    for name in ("ref", "bulk"):
        dataset = dataset_create(name=name)[0]
        root = version_create(dataset=dataset, name="v1")[0]
        frames_add(version=root, frames=with_ds(frames(4), name))
        child = version_create(dataset=dataset, name="v2", parent=version_publish(version=root))[0]
        if name == "ref":
            frames_delete(version=child, ids=["ref-f1", "ref-f3"])
        else:
            kept = [f for f in with_ds(frames(4), name) if f["id"] in ("bulk-f0", "bulk-f2")]
            job = run_import(
                child,
                ENCODERS["ndjson"](kept),
                "ndjson",
                record_type="frames",
                mode="sync",
                key="id",
            )
            assert (job.counts["deleted"], job.counts["unchanged"]) == (2, 2), job.error
        results.append(
            sorted(
                (strip(row_id), revision_id)
                for row_id, revision_id in FrameEntry.objects.filter(version=child).values_list(
                    "data_row_id", "revision_id"
                )
            )
        )
    assert results[0] == results[1] == [("f1", None), ("f3", None)]


def test_this_run_uses_the_expected_path():
    # The same tests run on both databases (CI runs SQLite and PostgreSQL); this names which.
    from django.db import connection

    assert is_postgresql() == (connection.vendor == "postgresql")
