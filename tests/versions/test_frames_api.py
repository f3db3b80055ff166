"""Frames over REST: add (overwrite by id, deterministic ids, failures), update with merge and
without_fields, delete, reads by ids / source pattern / projection, one frame, paging, jobs."""

import json

import pytest

from dashboard.models import Job
from versions import services
from versions.frames import frame_id_for_uri
from versions.models import DataRow

pytestmark = pytest.mark.django_db


def frames_url(version, rest=""):
    return f"/api/v1/versions/{version.pk}/frames/{rest}"


def test_add_overwrites_by_id_registers_data_rows_and_reports_failures(manager_api, draft):
    response = manager_api.post(
        frames_url(draft),
        {
            "frames": [
                {"id": "f1", "global_key": "gk-1", "sources": [{"uri": "s3://b/new1.jpg"}]},
                {"sources": [{"uri": "s3://b/auto.jpg"}], "global_key": "auto"},
                {"sources": []},
                {"id": "bad id!", "sources": [{"uri": "s3://x"}]},
                {"id": "f7", "global_key": "gk-2", "sources": [{"uri": "s3://x"}]},
            ]
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["added"] == 2
    assert [(f["index"], f["error_type"]) for f in body["failed"]] == [
        (2, "validation"),
        (3, "validation"),
        (4, "register"),
    ]
    assert "sources" in body["failed"][0]["error"] and "gk-2" in body["failed"][2]["error"]
    auto_id = frame_id_for_uri(dataset_id=draft.dataset_id, uri="s3://b/auto.jpg")
    assert DataRow.objects.get(pk=auto_id).global_key == "auto"
    one = manager_api.get(frames_url(draft, "f1/")).json()
    assert one["sources"][0]["uri"] == "s3://b/new1.jpg" and one["global_key"] == "gk-1"


def test_frame_groups_keep_named_sources(manager_api, draft):
    manager_api.post(
        frames_url(draft),
        [
            {
                "id": "grp",
                "sources": [
                    {
                        "id": "left",
                        "uri": "s3://s/l.jpg",
                        "timestamp": 3,
                        "preview": {"uri": "s3://p/l"},
                    },
                    {"id": "right", "uri": "s3://s/r.jpg"},
                ],
            }
        ],
        format="json",
    )
    sources = manager_api.get(frames_url(draft, "grp/")).json()["sources"]
    assert [s["id"] for s in sources] == ["left", "right"]
    assert sources[0]["timestamp"] == 3 and sources[0]["preview"] == {"uri": "s3://p/l"}


def test_update_merges_and_without_fields_keeps_values(manager_api, draft):
    response = manager_api.patch(
        frames_url(draft),
        {
            "frames": [
                {"id": "f1", "meta": {"extra": True}},
                {"id": "f2", "meta": {"n": "ignored"}, "rois": [{"label": ["bus"]}]},
                {"sources": [{"uri": "s3://b/created-by-update.jpg"}]},
            ],
            "without_fields": ["meta"],
        },
        format="json",
    )
    assert response.status_code == 200 and response.json()["updated"] == 3
    f1 = manager_api.get(frames_url(draft, "f1/")).json()
    assert f1["meta"] == {"n": 1}  # meta was left out
    f2 = manager_api.get(frames_url(draft, "f2/")).json()
    assert f2["meta"] == {"n": 2} and f2["rois"] == [{"label": ["bus"]}]
    merged = manager_api.patch(
        frames_url(draft), {"frames": [{"id": "f1", "meta": {"extra": True}}]}, format="json"
    )
    assert merged.status_code == 200
    assert manager_api.get(frames_url(draft, "f1/")).json()["meta"] == {"n": 1, "extra": True}
    # The parent never changes.
    assert manager_api.get(f"/api/v1/versions/{draft.parent_id}/frames/f1/").json()["meta"] == {
        "n": 1
    }


def test_bad_without_fields_is_400(manager_api, draft):
    response = manager_api.patch(
        frames_url(draft), {"frames": [], "without_fields": ["id"]}, format="json"
    )
    assert response.status_code == 400 and "without_fields" in response.json()
    # Found by fuzzing: a non-string entry was a 500.
    odd = manager_api.patch(
        frames_url(draft), {"frames": [], "without_fields": [{}]}, format="json"
    )
    assert odd.status_code == 400 and "without_fields" in odd.json()


def test_delete_by_ids_hides_frames_in_this_version_only(manager_api, draft):
    unknown = manager_api.post(
        frames_url(draft, "delete/"), {"ids": ["f0", "f3", "ghost"]}, format="json"
    )
    assert unknown.status_code == 404  # an unknown id: reported, and nothing deleted
    assert unknown.json()["missing"] == ["ghost"] and "ghost" in unknown.json()["ids"][0]
    response = manager_api.post(frames_url(draft, "delete/"), {"ids": ["f0", "f3"]}, format="json")
    assert response.json() == {"deleted": 2, "sources_deleted": 0, "failed": []}
    ids = [f["id"] for f in manager_api.get(frames_url(draft)).json()["results"]]
    assert ids == ["f1", "f2", "f4"]
    assert manager_api.get(frames_url(draft, "f0/")).status_code == 404
    assert (
        len(manager_api.get(f"/api/v1/versions/{draft.parent_id}/frames/").json()["results"]) == 5
    )
    assert (
        manager_api.post(frames_url(draft, "delete/"), {"ids": "f1"}, format="json").status_code
        == 400
    )


def test_reads_by_ids_with_projection_and_by_source_pattern(manager_api, draft):
    manager_api.post(
        frames_url(draft),
        [
            {
                "id": "other",
                "sources": [
                    {"uri": "gs://elsewhere/1.png"},
                    {"id": "mask", "uri": "s3://b/masks/1.png"},
                ],
            }
        ],
        format="json",
    )
    by_ids = manager_api.get(frames_url(draft, "?ids=f3,f1&projection=id,sources.uri")).json()
    assert by_ids["results"] == [
        {"id": "f1", "sources": [{"uri": "s3://b/1.jpg"}]},
        {"id": "f3", "sources": [{"uri": "s3://b/3.jpg"}]},
    ]
    jpgs = manager_api.get(frames_url(draft, "?source=s3://b/*.jpg&projection=id")).json()
    assert [f["id"] for f in jpgs["results"]] == ["f0", "f1", "f2", "f3", "f4"]
    masks = manager_api.get(frames_url(draft, "?source=s3://b/masks/*")).json()["results"]
    assert [f["id"] for f in masks] == ["other"]  # any source of a frame group matches
    exact = manager_api.get(frames_url(draft, "?source=s3://b/1.jpg")).json()["results"]
    assert [f["id"] for f in exact] == ["f1"]  # the whole URI, not a prefix
    assert manager_api.get(frames_url(draft, "?source=s3://b/1")).json()["results"] == []


def test_paging_follows_next_until_the_end(manager_api, draft):
    seen, page_url = [], frames_url(draft, "?page_size=2&projection=meta")
    while page_url:
        page = manager_api.get(page_url).json()
        seen += [f["meta"]["n"] for f in page["results"]]
        page_url = page["next"]
    assert seen == [0, 1, 2, 3, 4]
    assert manager_api.get(frames_url(draft, "?page_size=0")).status_code == 400
    assert manager_api.get(frames_url(draft, "?cursor=%%%")).status_code == 404


def test_large_add_runs_as_a_job(manager_api, draft, run_jobs, monkeypatch):
    monkeypatch.setattr(services, "FRAMES_SYNC_LIMIT", 3)
    frames = [{"id": f"big{i}", "sources": [{"uri": f"s3://big/{i}"}]} for i in range(6)]
    frames.append({"sources": "nope"})
    with run_jobs():
        response = manager_api.post(frames_url(draft), {"frames": frames}, format="json")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert response["Location"].endswith(f"/api/v1/jobs/{job.pk}/")
    assert job.kind == "import" and job.status == "succeeded"
    assert (job.progress_done, job.progress_total) == (7, 7)
    assert job.counts["created"] == 6 and job.errors_count == 1
    assert job.row_errors.get().index == 6
    assert len(manager_api.get(frames_url(draft, "?page_size=100")).json()["results"]) == 11


def test_frames_of_unknown_version_or_frame_are_404(manager_api, draft):
    assert manager_api.get("/api/v1/versions/nope/frames/").status_code == 404
    assert manager_api.get(frames_url(draft, "nope/")).status_code == 404


def test_an_update_whose_frame_id_is_not_text_is_a_row_failure(manager_api, draft):
    """Found by schemathesis: an id that is a list was looked up in a dict (a 500)."""
    response = manager_api.patch(
        f"/api/v1/versions/{draft.pk}/frames/",
        {"frames": [{"id": [], "sources": True}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["updated"] == 0 and len(response.json()["failed"]) == 1


def test_an_add_frames_job_queued_before_the_change_still_runs(draft):
    """Large add-frames requests were once their own job kind; a queued one is imported."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from dashboard.jobs.runner import run_job

    frames = [{"id": "old1", "sources": [{"uri": "s3://o/1"}]}, {"id": "f1", "sources": []}]
    body = "".join(json.dumps(f) + "\n" for f in frames).encode()
    path = default_storage.save("uploads/frames-old.ndjson", ContentFile(body))
    job = Job.objects.create(
        kind="add_frames", params={"version_id": draft.pk, "path": path}, progress_total=2
    )
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.counts["created"] == 1
    assert job.row_errors.get().index == 1
    assert DataRow.objects.filter(pk="old1").exists()
