"""Domain events (issue 17): each event type of API.md is recorded by every door that can cause
the change — the page, the REST API, the admin, a job, a command — with the actor, the project
or dataset and the ids a consumer needs; bulk paths record one event per call, not per row; and
a change that rolls back leaves no event."""

import pytest
from django.core.management import call_command
from django.db import transaction

from batches import events as batch_events
from batches.models import Batch, Project
from batches.services import (
    batch_create,
    batch_delete,
    label_submit,
    project_create,
    queue_next,
)
from batches.services import priorities as priority_services
from dashboard.models import Event
from dashboard.roles import Role
from versions.models import DataRow, Dataset, DatasetVersion
from versions.services import version_create, version_publish

from ..conftest import token_client
from ..factories import DatasetFactory, UserFactory

pytestmark = pytest.mark.django_db

INLINE = {"batches-TOTAL_FORMS": 0, "batches-INITIAL_FORMS": 0}


@pytest.fixture
def boss(db):
    """A manager who is also a superuser: every door is open to them."""
    user = UserFactory(username="boss", role=Role.MANAGER)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def page(client, boss):
    client.force_login(boss)
    return client


@pytest.fixture
def api(boss):
    return token_client(boss)


def events(type: str) -> list[Event]:
    return list(Event.objects.filter(type=type).order_by("id"))


def project_with_batch(tag: str, *, rows: int = 4, dataset: Dataset | None = None) -> Project:
    """A project with batch `b` of `rows` rows (ids `<tag>-0`…); 4 more rows are free."""
    dataset = dataset or DatasetFactory()
    DataRow.objects.bulk_create(
        DataRow(id=f"{tag}-{i}", dataset=dataset, global_key=f"{tag}-k{i}", row_data=f"s3://{i}")
        for i in range(rows + 4)
    )
    project = Project.objects.create(name=f"p-{tag}")
    batch_create(project=project, name="b", data_rows=[f"{tag}-{i}" for i in range(rows)])
    return project


def label_one(project: Project, user=None) -> None:
    user = user or UserFactory(role=Role.LABELER)
    entry = queue_next(project=project, user=user)
    label_submit(project=project, entry_id=entry.pk, user=user, annotation={"x": 1})


def batch_of(project: Project, name: str = "b") -> Batch:
    return Batch.objects.get(project=project, name=name)


def api_url(project: Project, tail: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/{tail}"


def page_url(project: Project, tail: str = "") -> str:
    return f"/projects/{project.pk}/{tail}"


def admin_action(page, model: str, action: str, pk: str):
    return page.post(
        f"/admin/{model}/",
        {"action": action, "index": 0, "_selected_action": [pk]},
        follow=True,
    )


def assert_by(recorded: list[Event], user) -> None:
    assert {(e.actor_user_id, e.actor_username) for e in recorded} == {(user.pk, user.username)}


# --- Projects ----------------------------------------------------------------------------------


def test_project_created_by_page_api_admin_and_command(page, api, boss):
    page.post("/projects/", {"name": "by-page", "label_classes": "car"})
    assert api.post("/api/v1/projects/", {"name": "by-api"}, format="json").status_code == 201
    admin = page.post(
        "/admin/batches/project/add/",
        {"name": "by-admin", "label_classes": "[]", "reservation_seconds": 600, **INLINE},
    )
    assert admin.status_code == 302
    created = events("project.created")
    assert_by(created, boss)
    projects = {p.name: p.pk for p in Project.objects.all()}
    assert [(e.project, e.object_type, e.object_id, e.data["name"]) for e in created] == [
        (projects[name], "project", projects[name], name)
        for name in ("by-page", "by-api", "by-admin")
    ]
    Event.objects.all().delete()
    call_command("load_demo", verbosity=0)
    demo = events("project.created")
    assert demo and all(e.actor_user_id is None for e in demo)  # a command: the system


def test_project_updated_by_api_and_admin_names_the_fields(page, api, boss):
    by_api, by_admin = (project_create(name=n) for n in ("a", "d"))
    answer = api.patch(f"/api/v1/projects/{by_api.pk}/", {"description": "x"}, format="json")
    assert answer.status_code == 200
    admin = page.post(
        f"/admin/batches/project/{by_admin.pk}/change/",
        {"name": "d2", "description": "", "label_classes": "[]", "reservation_seconds": 60}
        | INLINE,
    )
    assert admin.status_code == 302
    updated = events("project.updated")
    assert_by(updated, boss)
    assert [(e.project, e.data["fields"]) for e in updated] == [
        (by_api.pk, ["description"]),
        (by_admin.pk, ["name", "reservation_seconds"]),  # what changed
    ]


# --- Datasets and versions ---------------------------------------------------------------------


def test_dataset_created_by_page_api_admin(page, api, boss):
    page.post("/datasets/", {"name": "by-page"})
    assert api.post("/api/v1/datasets/", {"name": "by-api"}, format="json").status_code == 201
    admin = page.post(
        "/admin/versions/dataset/add/",
        {"name": "by-admin", "dataset_project": "", "description": "", "tags": "[]"},
    )
    assert admin.status_code == 302, admin.content.decode()[:2000]
    api.post("/api/v1/datasets/", {"name": "by-api"}, format="json")  # exists: nothing new
    created = events("dataset.created")
    assert_by(created, boss)
    ids = dict(Dataset.objects.values_list("name", "id"))
    assert [(e.dataset, e.object_id, e.data["name"]) for e in created] == [
        (ids[n], ids[n], n) for n in ("by-page", "by-api", "by-admin")
    ]


def test_dataset_deleted_by_api_and_admin(page, api, boss):
    by_api, by_admin = DatasetFactory(), DatasetFactory()
    assert api.delete(f"/api/v1/datasets/{by_api.pk}/").status_code == 204
    admin = page.post(f"/admin/versions/dataset/{by_admin.pk}/delete/", {"post": "yes"})
    assert admin.status_code == 302
    deleted = events("dataset.deleted")
    assert_by(deleted, boss)
    assert [(e.dataset, e.object_id) for e in deleted] == [
        (by_api.pk, by_api.pk),
        (by_admin.pk, by_admin.pk),
    ]


def test_version_created_by_page_api_admin_and_snapshot(page, api, boss):
    dataset = DatasetFactory()
    page.post(f"/datasets/{dataset.pk}/", {"name": "by-page"})
    answer = api.post(f"/api/v1/datasets/{dataset.pk}/versions/", {"name": "by-api"}, format="json")
    assert answer.status_code == 201
    admin = page.post(
        "/admin/versions/datasetversion/add/",
        {"dataset": dataset.pk, "name": "by-admin", "description": "", "metadata": "{}"},
    )
    assert admin.status_code == 302, admin.content.decode()[:2000]
    draft = DatasetVersion.objects.get(name="by-api")
    assert api.post(f"/api/v1/versions/{draft.pk}/snapshot/", {}, format="json").status_code == 201
    created = events("version.created")
    assert_by(created, boss)
    child = DatasetVersion.objects.get(parent=draft)
    names = [(e.dataset, e.data["name"], e.data["parent"]) for e in created]
    assert names == [
        (dataset.pk, "by-page", None),
        (dataset.pk, "by-api", None),
        (dataset.pk, "by-admin", None),
        (dataset.pk, child.name, draft.pk),  # the snapshot's new draft, child of the published
    ]
    assert created[-1].object_id == child.pk


def test_version_published_by_api_admin_and_snapshots(page, api, boss):
    dataset = DatasetFactory()
    drafts = [version_create(dataset=dataset, name=f"v{i}")[0] for i in range(4)]
    assert api.post(f"/api/v1/versions/{drafts[0].pk}/publish/").status_code == 200
    admin_action(page, "versions/datasetversion", "publish", drafts[1].pk)
    assert api.post(f"/api/v1/versions/{drafts[2].pk}/snapshot/", {}, format="json").status_code
    page.post(f"/versions/{drafts[3].pk}/snapshot/", {"child_name": "next"})
    published = events("version.published")
    assert_by(published, boss)
    assert [(e.object_id, e.dataset) for e in published] == [(d.pk, dataset.pk) for d in drafts]


def test_version_removed_by_api_page_and_admin_names_the_parent(page, api, boss):
    dataset = DatasetFactory()
    root = version_publish(version=version_create(dataset=dataset, name="root")[0])
    drafts = [version_create(dataset=dataset, name=f"v{i}", parent=root)[0] for i in range(3)]
    assert api.delete(f"/api/v1/versions/{drafts[0].pk}/").status_code == 204
    page.post(f"/versions/{drafts[1].pk}/remove/")
    admin = page.post(f"/admin/versions/datasetversion/{drafts[2].pk}/delete/", {"post": "yes"})
    assert admin.status_code == 302
    removed = events("version.removed")
    assert_by(removed, boss)
    assert [(e.object_id, e.dataset, e.data["parent"]) for e in removed] == [
        (d.pk, dataset.pk, root.pk) for d in drafts
    ]


# --- Batches ------------------------------------------------------------------------------------


def test_batch_created_by_page_api_and_jobs_one_event_per_batch(
    page, api, boss, run_jobs, monkeypatch
):
    from batches import jobs
    from batches.services import batches as batch_services

    dataset = DatasetFactory()
    project = project_with_batch("r", rows=0, dataset=dataset)
    Event.objects.all().delete()
    page.post(
        page_url(project, "batches/new/"), {"name": "by-page", "kind": "data_rows", "rows": "r-0"}
    )
    answer = api.post(
        api_url(project, "batches/"), {"name": "by-api", "data_rows": ["r-1"]}, format="json"
    )
    assert answer.status_code == 201
    monkeypatch.setattr(batch_services, "MAX_BATCH_ROWS", 1)
    monkeypatch.setattr(jobs, "MAX_BATCH_ROWS", 1)
    with run_jobs():
        answer = api.post(
            api_url(project, "batches/bulk/"),
            {"name_prefix": "bulk-", "data_rows": ["r-2", "r-3"]},
            format="json",
        )
    assert answer.status_code == 202
    DataRow.objects.create(id="r-9", dataset=dataset, global_key="r-k9", row_data="s3://9")
    with run_jobs():
        page.post(
            page_url(project, "batches/from-dataset/"),
            {"name_prefix": "ds-", "dataset_id": dataset.pk},
        )
    created = events("batch.created")
    assert_by(created, boss)  # the jobs' batches name who started the job
    batches = dict(Batch.objects.filter(project=project).values_list("name", "id"))
    assert [(e.data["name"], e.data["size"]) for e in created] == [
        ("by-page", 1),
        ("by-api", 1),
        ("bulk-0000", 1),
        ("bulk-0001", 1),
        ("ds-0000", 1),
    ]
    assert all(e.project == project.pk and e.object_id == batches[e.data["name"]] for e in created)
    assert created[-1].dataset == dataset.pk


def test_batch_updated_by_page_api_and_admin(page, api, boss):
    projects = [project_with_batch(t) for t in ("p", "a", "d")]
    page.post(
        page_url(projects[0], f"batches/{batch_of(projects[0]).pk}/priority/"), {"priority": 7}
    )
    api.patch(
        api_url(projects[1], f"batches/{batch_of(projects[1]).pk}/"), {"name": "x"}, format="json"
    )
    admin = page.post(
        f"/admin/batches/batch/{batch_of(projects[2]).pk}/change/", {"name": "b", "priority": "3"}
    )
    assert admin.status_code == 302
    updated = events("batch.updated")
    assert_by(updated, boss)
    assert [(e.project, e.data["fields"], e.data["priority"]) for e in updated] == [
        (projects[0].pk, ["priority"], 7),
        (projects[1].pk, ["name"], None),
        (projects[2].pk, ["priority"], 3),
    ]


def test_batch_deleted_by_page_api_and_admin_names_its_project(page, api, boss):
    projects = [project_with_batch(t) for t in ("p", "a", "d")]
    ids = [batch_of(p).pk for p in projects]
    page.post(page_url(projects[0], f"batches/{ids[0]}/delete/"))
    assert api.delete(api_url(projects[1], f"batches/{ids[1]}/")).status_code == 204
    page.post(f"/admin/batches/batch/{ids[2]}/delete/", {"post": "yes"})
    deleted = events("batch.deleted")
    assert_by(deleted, boss)
    assert [(e.object_id, e.project, e.data["name"]) for e in deleted] == [
        (i, p.pk, "b") for i, p in zip(ids, projects, strict=True)
    ]


def test_rows_removed_by_page_api_and_admin_one_event_per_call(page, api, boss):
    projects = [project_with_batch(t) for t in ("p", "a", "d")]
    ids = [batch_of(p).pk for p in projects]
    page.post(page_url(projects[0], f"batches/{ids[0]}/remove-queued/"))
    api.post(api_url(projects[1], f"batches/{ids[1]}/remove-queued/"))
    admin_action(page, "batches/batch", "remove_queued_rows", ids[2])
    api.post(api_url(projects[1], f"batches/{ids[1]}/remove-queued/"))  # nothing left: no event
    assert not events("batch.completed")  # emptied, not completed
    removed = events("batch.rows_removed")
    assert_by(removed, boss)
    assert [(e.object_id, e.project, e.data["removed"], e.data["held"]) for e in removed] == [
        (i, p.pk, 4, 0) for i, p in zip(ids, projects, strict=True)
    ]


@pytest.mark.parametrize("as_template", [False, True])
def test_labels_deleted_by_page_api_job_and_admin(page, api, boss, run_jobs, as_template):
    projects = [project_with_batch(t) for t in ("p", "a", "d")]
    for project in projects:
        label_one(project)
        label_one(project)
    ids = [batch_of(p).pk for p in projects]
    form = {"set_labels_as_template": "on"} if as_template else {}
    page.post(page_url(projects[0], f"batches/{ids[0]}/delete-labels/"), form)
    with run_jobs():
        answer = api.post(
            api_url(projects[1], f"batches/{ids[1]}/delete-labels/"),
            {"set_labels_as_template": as_template},
            format="json",
        )
    assert answer.status_code == 202  # a job
    action = "delete_labels_as_templates" if as_template else "delete_labels"
    admin_action(page, "batches/batch", action, ids[2])
    deleted = events("labels.deleted")
    assert_by(deleted, boss)
    assert [(e.project, e.object_id, e.data["batch"], e.data["count"]) for e in deleted] == [
        (p.pk, i, i, 2) for i, p in zip(ids, projects, strict=True)
    ]
    assert {e.data["as_template"] for e in deleted} == {as_template}


def test_label_submitted_by_page_and_api_and_batch_completed_once(page, api, boss):
    project = project_with_batch("s", rows=2)
    batch = batch_of(project)
    next_row = page.post(page_url(project, "label/"), {"action": "next"}, follow=True)
    entry = next_row.context["entry"]
    page.post(
        page_url(project, "label/"),
        {"action": "submit", "entry": entry.pk, "annotation": "{}"},
    )
    assert not events("batch.completed")  # a row is left
    taken = api.post(api_url(project, "queue/next/")).json()["entry"]
    answer = api.post(api_url(project, f"queue/{taken}/submit/"), {"annotation": {}}, format="json")
    assert answer.status_code == 201
    submitted = events("label.submitted")
    assert_by(submitted, boss)
    labels = list(batch.labels.order_by("id").values_list("id", "data_row_id"))
    assert [(e.object_id, e.project, e.data["batch"], e.data["data_row"]) for e in submitted] == [
        (str(i), project.pk, batch.pk, row) for i, row in labels
    ]
    completed = events("batch.completed")
    assert [(e.object_id, e.project, e.data["size"]) for e in completed] == [
        (batch.pk, project.pk, 2)
    ]
    assert_by(completed, boss)


def test_batch_completed_when_the_last_rows_are_removed(api):
    project = project_with_batch("c", rows=2)
    label_one(project)
    api.post(api_url(project, f"batches/{batch_of(project).pk}/remove-queued/"))
    assert [e.object_id for e in events("batch.completed")] == [batch_of(project).pk]


def test_priorities_changed_by_api_page_and_job_one_event_per_call(
    page, api, boss, run_jobs, monkeypatch
):
    project = project_with_batch("o")
    batch_create(project=project, name="c", data_rows=["o-4", "o-5"])
    b, c = batch_of(project), batch_of(project, "c")
    Event.objects.all().delete()
    api.post(api_url(project, "batches/reorder/"), {"batch_ids": [c.pk, b.pk]}, format="json")
    page.post(page_url(project, f"batches/{c.pk}/move/"), {"direction": "down"})
    api.post(api_url(project, "batches/reorder/"), {"batch_ids": [b.pk, c.pk]}, format="json")
    items = [{"data_row": f"o-{i}", "priority": i} for i in range(4)]
    assert api.post(api_url(project, "priorities/"), items, format="json").status_code == 200
    monkeypatch.setattr(priority_services, "PRIORITIES_SYNC_LIMIT", 1)
    with run_jobs():
        answer = api.post(api_url(project, "priorities/"), {"items": items}, format="json")
    assert answer.status_code == 202
    changed = events("priorities.changed")
    assert_by(changed, boss)
    assert all(e.project == e.object_id == project.pk for e in changed)
    # reorder, move; the second reorder changed nothing (the move did it): no event
    assert [e.data.get("batches") for e in changed[:2]] == [[c.pk, b.pk], [b.pk, c.pk]]
    assert [e.data.get("rows") for e in changed[2:]] == [4, 4]  # one per call, not per row
    assert len(changed) == 4


# --- Rollbacks ----------------------------------------------------------------------------------


def test_a_rolled_back_change_leaves_no_event(monkeypatch):
    project = project_with_batch("x", rows=1)
    batch = batch_of(project)
    Event.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        project_create(name="gone")
        raise RuntimeError
    assert not Project.objects.filter(name="gone").exists()

    def boom(*args, **kwargs):
        raise RuntimeError("after the event")

    monkeypatch.setattr(Batch, "delete", boom)
    with pytest.raises(RuntimeError):
        batch_delete(batch=batch)
    monkeypatch.undo()
    # the submit (one statement on PostgreSQL) and its events commit together or not at all
    labeler = UserFactory(role=Role.LABELER)
    entry = queue_next(project=project, user=labeler)
    monkeypatch.setattr(batch_events, "QueueEntry", None)  # batch_completed_check fails
    with pytest.raises(AttributeError):
        label_submit(project=project, entry_id=entry.pk, user=labeler, annotation={})
    monkeypatch.undo()
    assert not batch.labels.exists()
    assert not Event.objects.exists()
    label_submit(project=project, entry_id=entry.pk, user=labeler, annotation={})
    assert [e.type for e in Event.objects.order_by("id")] == ["label.submitted", "batch.completed"]


# --- The overview's recent activity and the Activity page read the log ---------------------------


def test_overview_activity_shows_changes_deletions_and_removals(page, api, boss):
    project = project_with_batch("v", rows=1)
    project.name = "Cams"
    project.save()
    dataset = DatasetFactory(name="street")
    label_one(project, UserFactory(username="lab", role=Role.LABELER))
    batch_create(project=project, name="gone", data_rows=["v-1"])
    api.delete(api_url(project, f"batches/{batch_of(project, 'gone').pk}/"))
    api.delete(f"/api/v1/datasets/{dataset.pk}/")
    feed = page.get("/").context["activity"]
    texts = [a.text for a in feed]
    assert texts[:4] == [
        "boss deleted dataset street",
        "boss deleted batch gone in Cams",
        "Created batch gone (1 rows) in Cams",
        "lab completed batch b (1 rows) in Cams",
    ]
    assert "lab labelled row v-0 in Cams" in texts
    by_text = {a.text: a for a in feed}
    # the deleted batch links to its project, the deleted dataset nowhere
    assert by_text["boss deleted batch gone in Cams"].url == f"/projects/{project.pk}/"
    assert by_text["boss deleted dataset street"].url is None
    assert by_text["boss deleted batch gone in Cams"].kind == "removed"


def test_activity_page_links_objects_that_still_exist(page, api):
    kept, gone = project_with_batch("k"), project_with_batch("g")
    dataset = DatasetFactory(name="street")
    version = version_create(dataset=dataset, name="v1")[0]
    api.delete(api_url(gone, f"batches/{batch_of(gone).pk}/"))
    html = page.get("/activity/").content.decode()
    assert f'<a href="/projects/{kept.pk}/">batch {batch_of(kept).pk}</a>' in html
    assert f"<td>batch {Event.objects.get(type='batch.deleted').object_id}</td>" in html
    assert f'<a href="/projects/{gone.pk}/">p-g</a>' in html  # the project is still there
    assert f'<a href="/versions/{version.pk}/">version {version.pk}</a>' in html
    assert f'<a href="/datasets/{dataset.pk}/">street</a>' in html
    api.delete(f"/api/v1/datasets/{dataset.pk}/")
    html = page.get("/activity/").content.decode()
    assert (
        f'href="/datasets/{dataset.pk}/"' not in html
        and f'href="/versions/{version.pk}/"' not in html
    )
    assert f"<td>version {version.pk}</td>" in html and "deleted dataset street" in html
