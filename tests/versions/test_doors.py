"""One door per verb (issue 13): every door of a frame verb or an import — the service itself,
the API, the pages, the admin (where it offers the verb) and the command line — writes the same
rows and refuses alike, because each calls the same service.

Doors per verb: add frames (service, `POST frames/`, a large body as the import job, the version
page's form); update frames (service, `PATCH frames/`); delete frames (service,
`frames/delete/`, and the bulk deletes: by ids, by filter, a sync import); import frames (API,
version page, `import_rows --frames`); import data rows (API, dataset page, admin, `import_rows`).
Pages, admin and the command line offer no frame update or delete.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from batches.models import Project
from batches.services import batch_create, label_submit, queue_next
from dashboard.errors import Conflict
from dashboard.models import Job
from versions import services
from versions.bulk.export import export_records
from versions.copy_on_write import iter_frame_contents
from versions.models import Dataset, DatasetVersion
from versions.selectors import version_for_reading
from versions.services import (
    dataset_create,
    dataset_delete,
    frames_add,
    frames_delete,
    frames_update,
    version_create,
    version_publish,
)

from ..conftest import token_client
from ..factories import UserFactory
from .conftest import make_frame

PUBLISHED = "is published and cannot be changed"
LABELLED = "Not deleted: the data row has labels."

NEW_FRAMES = [
    {"id": "n1", "global_key": "k-n1", "sources": [{"uri": "s3://n/1.jpg"}], "meta": {"s": 1}},
    {"sources": [{"uri": "s3://n/derived.jpg"}], "rois": [{"label": ["car"], "bbox": [0, 1]}]},
    {"id": "f0", "sources": [{"uri": "s3://b/0-new.jpg"}]},  # replaces an inherited frame
    {"sources": []},  # refused: no source
    {"id": "bad id!", "sources": [{"uri": "s3://x"}]},  # refused: not an id
]
REFUSED = [3, 4]


def frames_of(version: DatasetVersion) -> dict:
    return dict(iter_frame_contents(version))


def child(published: DatasetVersion, name: str) -> DatasetVersion:
    return version_create(dataset=published.dataset, name=name, parent=published)[0]


@pytest.fixture
def api(manager):
    return token_client(manager)


@pytest.fixture
def page(manager):
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def admin(db):
    user = UserFactory(username="root")
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ---------------------------------------------------------------- add and update


def test_add_frames_writes_the_same_rows_and_refusals_through_every_door(
    published, api, page, run_jobs, monkeypatch
):
    by_service = child(published, "service")
    result = frames_add(version=by_service, frames=NEW_FRAMES)
    assert result["added"] == 3
    assert [(f["index"], f["error_type"]) for f in result["failed"]] == [
        (i, "validation") for i in REFUSED
    ]

    by_api = child(published, "api")
    body = api.post(
        f"/api/v1/versions/{by_api.pk}/frames/", {"frames": NEW_FRAMES}, format="json"
    ).json()
    assert body == result

    by_page = child(published, "page")
    response = page.post(
        f"/versions/{by_page.pk}/frames/", {"frames": json.dumps(NEW_FRAMES)}, follow=True
    )
    shown = page_messages(response)
    assert "3 frame(s) added." in shown
    for failure in result["failed"]:
        assert any(
            f"Frame {failure['index']} not added" in m and failure["error"] in m for m in shown
        )

    by_job = child(published, "job")
    monkeypatch.setattr(services, "FRAMES_SYNC_LIMIT", 2)
    with run_jobs():
        response = api.post(
            f"/api/v1/versions/{by_job.pk}/frames/", {"frames": NEW_FRAMES}, format="json"
        )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.kind == "import" and job.status == Job.Status.SUCCEEDED
    assert sorted(job.row_errors.values_list("index", flat=True)) == REFUSED
    assert job.counts["created"] + job.counts["updated"] == 3

    expected = frames_of(by_service)
    assert expected["f0"] == {
        "sources": [{"id": "default", "uri": "s3://b/0-new.jpg"}],
        "meta": {},
        "rois": [],
        "attachments": [],
    }  # replaced whole, as `frames_add` promises
    for version in (by_api, by_page, by_job):
        assert frames_of(version) == expected


def test_a_repeated_frame_id_is_reported_alike_in_small_and_large_bodies(
    published, api, run_jobs, monkeypatch
):
    """Duplicate ids within one add (the seed's `warn_on_duplicate_frames`): the first frame
    of the id is used, each later one is a row failure `duplicate`, by every door."""
    twice = [make_frame(9, n="first"), make_frame(8), make_frame(9, n="second")]
    small, large = child(published, "small"), child(published, "large")
    result = frames_add(version=small, frames=twice)
    assert result["added"] == 2
    [failure] = result["failed"]
    assert (failure["index"], failure["key"], failure["error_type"], failure["code"]) == (
        2, "f9", "duplicate", "duplicate",
    )  # fmt: skip
    assert failure["input"] == failure["frame"] == twice[2] and "0" in failure["message"]
    monkeypatch.setattr(services, "FRAMES_SYNC_LIMIT", 1)
    with run_jobs():
        response = api.post(f"/api/v1/versions/{large.pk}/frames/", twice, format="json")
    assert response.status_code == 202
    errors = api.get(f"/api/v1/jobs/{response.json()['id']}/errors/").json()["results"]
    assert [{k: e[k] for k in ("index", "key", "error_type", "code")} for e in errors] == [
        {"index": 2, "key": "f9", "error_type": "duplicate", "code": "duplicate"}
    ]
    assert frames_of(small)["f9"]["meta"] == {"n": "first"}
    assert frames_of(large) == frames_of(small)
    # frames_update reports them alike.
    updated = frames_update(version=small, frames=[{"id": "f8"}, {"id": "f8", "meta": {}}])
    assert [(f["index"], f["code"]) for f in updated["failed"]] == [(1, "duplicate")]


def test_update_frames_merges_alike_through_the_service_and_the_api(published, api):
    changes = [{"id": "f1", "meta": {"extra": True}}, {"id": "f2", "rois": []}, {"sources": 1}]
    by_service, by_api = child(published, "service"), child(published, "api")
    result = frames_update(version=by_service, frames=changes, without_fields=["global_key"])
    body = api.patch(
        f"/api/v1/versions/{by_api.pk}/frames/",
        {"frames": changes, "without_fields": ["global_key"]},
        format="json",
    ).json()
    assert body == result and result["updated"] == 2
    assert [f["index"] for f in result["failed"]] == [2]
    assert frames_of(by_service) == frames_of(by_api)
    assert frames_of(by_service)["f1"]["meta"] == {"n": 1, "extra": True}


# ---------------------------------------------------------------- refusals


def test_a_published_version_is_refused_alike_by_every_door(published, api, page, admin, tmp_path):
    before = frames_of(published)
    for verb, kwargs in (
        (frames_add, {"frames": [make_frame(7)]}),
        (frames_update, {"frames": [make_frame(1)]}),
        (frames_delete, {"ids": ["f1"]}),
    ):
        with pytest.raises(Conflict, match=PUBLISHED):
            verb(version=published, **kwargs)

    url = f"/api/v1/versions/{published.pk}/frames/"
    upload = SimpleUploadedFile("f.ndjson", json.dumps(make_frame(7)).encode() + b"\n")
    for response in (
        api.post(url, {"frames": [make_frame(7)]}, format="json"),
        api.patch(url, {"frames": [make_frame(1)]}, format="json"),
        api.post(f"{url}delete/", {"ids": ["f1"]}, format="json"),
        api.post(f"{url}import/", {"file": upload}, format="multipart"),
    ):
        assert response.status_code == 409 and PUBLISHED in response.json()["detail"]

    response = page.post(
        f"/versions/{published.pk}/frames/", {"frames": json.dumps([make_frame(7)])}, follow=True
    )
    assert any(PUBLISHED in m for m in page_messages(response))
    upload.seek(0)
    response = page.post(f"/versions/{published.pk}/import/", {"file": upload})
    assert response.status_code == 400 and PUBLISHED in response.content.decode()

    response = admin.post(
        f"/admin/versions/datasetversion/{published.pk}/change/",
        {"name": published.name, "description": "", "metadata": '{"split": "x"}'},
    )
    assert response.status_code == 200 and PUBLISHED in response.content.decode()
    response = admin.post(
        "/admin/versions/datasetversion/",
        {"action": "publish", "index": 0, "_selected_action": [published.pk]},
        follow=True,
    )
    assert any(PUBLISHED in m for m in page_messages(response))

    source = tmp_path / "frames.ndjson"
    source.write_bytes(json.dumps(make_frame(7)).encode() + b"\n")
    with pytest.raises(CommandError, match=PUBLISHED):
        call_command("import_rows", str(source), "--version-id", published.pk, "--frames")

    assert frames_of(published) == before
    assert not Job.objects.filter(kind="import").exists()


@pytest.fixture
def labelled(published, labeler):
    """Data row f1 carries a label (through the queue of a batch)."""
    project = Project.objects.create(name="p")
    batch_create(project=project, name="b", data_rows=["f1"])
    entry = queue_next(project=project, user=labeler)
    label_submit(project=project, entry_id=entry.pk, user=labeler, annotation={"x": 1})
    return published


def test_a_row_with_labels_is_not_deleted_by_any_door(labelled, api, run_jobs, tmp_path):
    by_service, by_api = child(labelled, "service"), child(labelled, "api")
    result = frames_delete(version=by_service, ids=["f1", "f2"])
    assert result["deleted"] == 1
    [failure] = result["failed"]
    assert failure["key"] == "f1" and failure["message"] == LABELLED
    assert (failure["index"], failure["error_type"], failure["code"]) == (0, "in_use", "in_use")
    body = api.post(
        f"/api/v1/versions/{by_api.pk}/frames/delete/", {"ids": ["f1", "f2"]}, format="json"
    ).json()
    assert body == result
    assert frames_of(by_api) == frames_of(by_service)
    assert "f1" in frames_of(by_api) and "f2" not in frames_of(by_api)

    # The bulk deletes act on the dataset's current draft (the last one written: by_api).
    dataset_url = f"/api/v1/datasets/{labelled.dataset_id}/data-rows/"
    source = tmp_path / "keep.ndjson"
    source.write_text(json.dumps({"id": "f3", "global_key": "gk-3", "row_data": "s3://b/3.jpg"}))
    with run_jobs():
        jobs = [
            api.post(f"{dataset_url}delete/", {"ids": ["f1", "f0"]}, format="json"),
            api.post(f"{dataset_url}delete/", {"filter": {"id__in": ["f1"]}}, format="json"),
            api.post(
                f"{dataset_url}import/?mode=sync&key=id",
                {"file": source.open("rb")},
                format="multipart",
            ),
        ]
    for response in jobs:
        assert response.status_code == 202
        job = Job.objects.get(pk=response.json()["id"])
        assert job.status == Job.Status.SUCCEEDED, job.error
        refused = job.row_errors.get(key="f1")
        assert (refused.message, refused.error_type) == (LABELLED, "in_use")
    assert list(frames_of(by_api)) == ["f1", "f3"]


# ---------------------------------------------------------------- imports


def rows_file(tmp_path, name: str = "rows.ndjson"):
    records = [
        {"global_key": f"door-{i}", "row_data": f"s3://d/{i}.jpg", "metadata": {"i": i}}
        for i in range(3)
    ] + [{"global_key": "no-data", "id": "bad id!"}]
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def imported(dataset: Dataset, job: Job) -> tuple:
    """What an import did: the rows of the dataset's current draft (without their ids, which
    derive from the dataset), the job's counts and its row errors."""
    version = version_for_reading(dataset=dataset)
    rows = sorted(
        (r["global_key"], r["row_data"], json.dumps(r["metadata"]))
        for r in export_records(version, shape="data_rows")
    )
    errors = list(job.row_errors.order_by("index").values_list("index", "error_type"))
    return version.name, rows, job.counts, errors


@pytest.mark.django_db(transaction=True)
def test_a_data_row_import_is_the_same_through_every_door(tmp_path, manager):
    """Into a dataset's current draft (made on the way), from the API, the dataset page, the
    admin and `import_rows`: each door on a fresh dataset of the same name."""
    api = token_client(manager)
    page = Client()
    page.force_login(manager)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(root)
    path = rows_file(tmp_path)

    def through_api(dataset):
        with path.open("rb") as handle:
            return api.post(
                f"/api/v1/datasets/{dataset.pk}/data-rows/import/?mode=create",
                {"file": handle},
                format="multipart",
            )

    def through_page(dataset):
        with path.open("rb") as handle:
            return page.post(f"/datasets/{dataset.pk}/import/", {"file": handle, "mode": "create"})

    def through_admin(dataset):
        with path.open("rb") as handle:
            return admin.post(
                "/admin/versions/datarow/import/",
                {
                    "dataset": dataset.pk,
                    "file": handle,
                    "mode": "create",
                    "key": "global_key",
                    "on_error": "continue",
                },
            )

    def through_cli(dataset):
        call_command("import_rows", str(path), "--dataset", dataset.pk, "--mode", "create")

    outcomes = []
    for door in (through_api, through_page, through_admin, through_cli):
        dataset = dataset_create(name="doors")[0]
        response = door(dataset)
        assert response is None or response.status_code in (202, 302), door.__name__
        outcome = imported(dataset, Job.objects.get(params__dataset_id=dataset.pk))
        # Statistics are current right after the import, whatever the door (no commit).
        frame_count = DatasetVersion.objects.get(dataset=dataset).stats["frame_count"]
        outcomes.append((*outcome, frame_count))
        dataset_delete(dataset=dataset)
    assert outcomes[0][0] == "draft" and outcomes[0][2]["created"] == 3
    assert outcomes[0][3] == [(3, "validation")] and outcomes[0][4] == 3
    assert all(outcome == outcomes[0] for outcome in outcomes)


@pytest.mark.django_db(transaction=True)
def test_a_frame_import_is_the_same_through_every_door(tmp_path, manager):
    """Into a version, from the API, the version page and `import_rows --frames`."""
    dataset = dataset_create(name="frames")[0]
    root = version_create(dataset=dataset, name="v1")[0]
    frames_add(version=root, frames=[make_frame(i) for i in range(3)])
    published = version_publish(version=root)
    path = tmp_path / "frames.ndjson"
    records = [{"id": "f1", "meta": {"new": 1}}, make_frame(8), {"id": "f9"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    api = token_client(manager)
    page = Client()
    page.force_login(manager)

    outcomes = []
    for door in ("api", "page", "cli"):
        version = child(published, door)
        with path.open("rb") as handle:
            if door == "api":
                url = f"/api/v1/versions/{version.pk}/frames/import/"
                assert api.post(url, {"file": handle}, format="multipart").status_code == 202
            elif door == "page":
                response = page.post(f"/versions/{version.pk}/import/", {"file": handle})
                assert response.status_code == 302
            else:
                call_command("import_rows", str(path), "--version-id", version.pk, "--frames")
        job = Job.objects.get(params__version_id=version.pk)
        errors = list(job.row_errors.values_list("index", "error_type"))
        version.refresh_from_db()
        outcomes.append((frames_of(version), job.counts, errors, version.stats["frame_count"]))
    assert outcomes[0][0]["f1"]["meta"] == {"new": 1}  # an import replaces the fields it gives
    assert outcomes[0][2] == [(2, "validation")]
    assert outcomes[0][3] == 4  # 3 inherited + f8: current right after the import
    assert all(outcome == outcomes[0] for outcome in outcomes)
