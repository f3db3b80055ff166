"""The admin is a door like the API: same roles, same services (issue 12, finding 5 and the
admin half of finding 7).

Every admin action needs the API's write role (manager): a staff user who is not a manager is
refused (403) and nothing changes, whatever Django permissions they hold; a manager gets what
the API gives. Change forms edit only what a service edits, through that service: a version's
dataset, parent and status are read-only, a batch's priority moves its queue, a batch with
labels is not deleted, and a refusal is a message, never a 500 or a half-done change.
"""

import pytest
from django.contrib.auth.models import Group, Permission

from batches.models import Batch, Label, Project, QueueEntry
from batches.services import batch_create, label_submit, queue_next
from dashboard.models import Job
from dashboard.roles import Role, user_role
from versions.models import DataRow, DatasetVersion
from versions.services import (
    dataset_create,
    frames_add,
    version_create,
    version_publish,
)

from ..factories import UserFactory

pytestmark = pytest.mark.django_db

APPS = ("batches", "versions", "dashboard")


def staff(username: str, role: Role | None, *, perms: str = "all"):
    """A staff user (not a superuser) with a role and Django permissions on our models:
    "view" (read-only staff) or "all" (view, add, change, delete)."""
    user = UserFactory(username=username, role=role)
    user.is_staff = True
    user.save()
    granted = Permission.objects.filter(content_type__app_label__in=APPS)
    if perms == "view":
        granted = granted.filter(codename__startswith="view_")
    user.user_permissions.add(*granted)
    return user


def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def manager_staff(client):
    return logged_in(client, staff("boss", Role.MANAGER))


@pytest.fixture
def superuser_client(client):
    user = UserFactory(username="root")
    user.is_staff = user.is_superuser = True
    user.save()
    return logged_in(client, user)


def frame(i: int) -> dict:
    return {"id": f"f{i}", "global_key": f"gk-{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}]}


def labelled_batch(project_name: str, rows: list[str], labeler) -> Batch:
    """A batch of `rows` in a new project; its first row is labelled (through the queue)."""
    project = Project.objects.create(name=project_name)
    batch, _ = batch_create(project=project, name="b", data_rows=rows)
    entry = queue_next(project=project, user=labeler)
    label_submit(project=project, entry_id=entry.pk, user=labeler, annotation={"x": 1})
    return batch


@pytest.fixture
def world(db):
    """A labelled batch, a draft with frames, a queued and a failed job."""
    labeler = UserFactory(username="lab", role=Role.LABELER)
    dataset, _ = dataset_create(name="ds")
    draft, _ = version_create(dataset=dataset, name="draft")
    frames_add(version=draft, frames=[frame(i) for i in range(3)])
    rows = list(DataRow.objects.order_by("id").values_list("pk", flat=True))
    return {
        "labeler": labeler,
        "rows": rows,
        "batch": labelled_batch("p", rows, labeler),
        "draft": draft,
        "queued_job": Job.objects.create(kind="recount_stats", params={"version_id": draft.pk}),
        "failed_job": Job.objects.create(
            kind="recount_stats", params={"version_id": draft.pk}, status="failed"
        ),
    }


def fingerprint() -> dict:
    """Everything an action could change."""
    return {
        "labels": sorted(Label.objects.values_list("pk", "annotation")),
        "queue": sorted(QueueEntry.objects.values_list("pk", "state", "labels_count", "template")),
        "batches": sorted(Batch.objects.values_list("pk", "name", "priority", "size")),
        "versions": sorted(
            (v.pk, v.status, v.name, str(v.published_at), v.parent_id, v.dataset_id, v.stats)
            for v in DatasetVersion.objects.all()
        ),
        "jobs": sorted(Job.objects.values_list("pk", "status", "cancel_requested")),
    }


ACTIONS = [
    ("batches/batch", "remove_queued_rows", "batch"),
    ("batches/batch", "delete_labels", "batch"),
    ("batches/batch", "delete_labels_as_templates", "batch"),
    ("batches/batch", "export", "batch"),
    ("versions/datasetversion", "publish", "draft"),
    ("versions/datasetversion", "snapshot", "draft"),
    ("versions/datasetversion", "commit", "draft"),
    ("versions/datasetversion", "recount", "draft"),
    ("dashboard/job", "cancel_jobs", "queued_job"),
    ("dashboard/job", "retry_jobs", "failed_job"),
]


def act(client, model: str, action: str, obj):
    return client.post(
        f"/admin/{model}/", {"action": action, "index": 0, "_selected_action": [obj.pk]}
    )


@pytest.mark.parametrize(
    ("role", "perms"),
    [(Role.VIEWER, "view"), (Role.LABELER, "all")],
    ids=["viewer-with-view-permissions", "labeler-with-every-permission"],
)
@pytest.mark.parametrize(("model", "action", "target"), ACTIONS, ids=[a[1] for a in ACTIONS])
def test_a_staff_user_who_is_not_a_manager_runs_no_action(
    client, world, role, perms, model, action, target
):
    logged_in(client, staff("staff", role, perms=perms))
    listing = client.get(f"/admin/{model}/")
    assert listing.status_code == 200
    assert f'value="{action}"' not in listing.content.decode()  # not offered
    before = fingerprint()
    response = act(client, model, action, world[target])
    assert response.status_code == 403
    assert fingerprint() == before


def _batch_rows(batch):
    return sorted(
        QueueEntry.objects.filter(batch=batch)
        .order_by()
        .values_list("data_row_id", "state", "labels_count", "template", "sort_priority")
    )


@pytest.mark.parametrize(
    ("action", "api_path", "body"),
    [
        ("remove_queued_rows", "remove-queued/", {}),
        ("delete_labels", "delete-labels/", {}),
        ("delete_labels_as_templates", "delete-labels/", {"set_labels_as_template": True}),
    ],
)
def test_a_manager_runs_the_batch_actions_with_the_apis_result(
    manager_staff, world, manager_api, run_jobs, action, api_path, body
):
    """The admin on one batch, the API on its twin (same rows, another project): same rows."""
    twin = labelled_batch("twin", world["rows"], world["labeler"])
    before = _batch_rows(world["batch"])
    response = act(manager_staff, "batches/batch", action, world["batch"])
    assert response.status_code == 302
    with run_jobs():
        api = manager_api.post(
            f"/api/v1/projects/{twin.project_id}/batches/{twin.pk}/{api_path}", body, format="json"
        )
    assert api.status_code in (200, 202)
    assert _batch_rows(world["batch"]) == _batch_rows(twin)
    assert (
        Label.objects.filter(batch=world["batch"]).count()
        == Label.objects.filter(batch=twin).count()
    )
    assert Batch.objects.get(pk=world["batch"].pk).size == Batch.objects.get(pk=twin.pk).size
    assert _batch_rows(world["batch"]) != before  # the action did something


def test_a_manager_exports_batches_like_the_api(manager_staff, world, run_jobs):
    with run_jobs():
        response = act(manager_staff, "batches/batch", "export", world["batch"])
    assert response.status_code == 302
    job = Job.objects.get(kind="export_batches")
    assert job.params["batch_ids"] == [world["batch"].pk] and job.params["labels"] is True
    job.refresh_from_db()
    assert job.status == "succeeded" and job.result["rows"] == 3


def test_a_manager_runs_the_version_actions_like_the_api(manager_staff, world, manager_api):
    draft = world["draft"]
    dataset2, _ = dataset_create(name="ds2")
    twin, _ = version_create(dataset=dataset2, name="draft")
    frames_add(version=twin, frames=[frame(i) for i in range(10, 13)])

    act(manager_staff, "versions/datasetversion", "commit", draft)
    assert manager_api.post(f"/api/v1/versions/{twin.pk}/commit/").status_code == 200
    draft.refresh_from_db()
    twin.refresh_from_db()
    counted = [{k: v for k, v in x.stats.items() if k != "last_updated"} for x in (draft, twin)]
    assert counted[0] == counted[1] and counted[0]["frame_count"] == 3

    before = Job.objects.filter(kind="recount_stats").count()
    act(manager_staff, "versions/datasetversion", "recount", draft)
    assert Job.objects.filter(kind="recount_stats").count() == before + 1

    act(manager_staff, "versions/datasetversion", "snapshot", draft)
    assert manager_api.post(f"/api/v1/versions/{twin.pk}/snapshot/", {}, format="json")
    for version in (draft, twin):
        version.refresh_from_db()
        child = version.children.get()
        assert version.is_published and version.published_at is not None
        assert (child.status, child.name, child.depth) == ("draft", "draft", 1)

    child, twin_child = draft.children.get(), twin.children.get()
    act(manager_staff, "versions/datasetversion", "publish", child)
    assert manager_api.post(f"/api/v1/versions/{twin_child.pk}/publish/").status_code == 200
    child.refresh_from_db()
    twin_child.refresh_from_db()
    assert child.is_published and twin_child.is_published


def test_a_manager_cancels_and_runs_jobs_again(manager_staff, world):
    act(manager_staff, "dashboard/job", "cancel_jobs", world["queued_job"])
    act(manager_staff, "dashboard/job", "retry_jobs", world["failed_job"])
    world["queued_job"].refresh_from_db()
    world["failed_job"].refresh_from_db()
    assert world["queued_job"].status == "cancelled" and world["queued_job"].cancel_requested
    assert world["failed_job"].status == "queued"


def test_a_staff_user_without_a_role_sees_nothing(client, world):
    logged_in(client, staff("norole", None))
    for model in ("batches/batch", "versions/datasetversion", "dashboard/job"):
        assert client.get(f"/admin/{model}/").status_code == 403
    assert client.get("/admin/versions/datarow/import/").status_code == 403


def test_data_row_export_is_a_read_and_import_a_write(client, world):
    """Like the API: viewers export (`GET .../data-rows/export/`), only managers import."""
    logged_in(client, staff("reader", Role.VIEWER, perms="view"))
    response = client.post(
        "/admin/versions/datarow/",
        {"action": "export_ndjson", "index": 0, "_selected_action": world["rows"]},
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode().count("\n") == 3
    assert client.get("/admin/versions/datarow/import/").status_code == 403
    assert client.post("/admin/versions/datarow/import/", {}).status_code == 403


# --- change forms -----------------------------------------------------------------------------


def change(client, model: str, obj, data: dict):
    return client.post(f"/admin/{model}/{obj.pk}/change/", data)


def test_a_superuser_cannot_reparent_a_version_or_move_it(superuser_client, world):
    published = world["draft"]
    version_publish(version=published)
    other, _ = dataset_create(name="other")
    foreign_draft, _ = version_create(dataset=other, name="theirs")
    page = superuser_client.get(f"/admin/versions/datasetversion/{published.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    for field in ("dataset", "parent", "status", "published_at", "depth", "removed"):
        assert f'name="{field}"' not in html, field
    before = fingerprint()
    response = change(
        superuser_client,
        "versions/datasetversion",
        published,
        {
            "name": published.name,
            "description": "",
            "metadata": "{}",
            "dataset": other.pk,
            "parent": foreign_draft.pk,
            "depth": 7,
            "status": "draft",
            "published_at": "",
        },
    )
    assert response.status_code in (200, 302)
    assert fingerprint() == before
    published.refresh_from_db()
    assert (published.dataset_id, published.parent_id) == (world["draft"].dataset_id, None)


def test_the_version_check_constraint_is_not_reachable_from_the_form(superuser_client, world):
    """A draft posted as published without a date was a CHECK constraint 500."""
    draft = world["draft"]
    response = change(
        superuser_client,
        "versions/datasetversion",
        draft,
        {"name": "renamed", "description": "", "metadata": "{}", "status": "published"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.name, draft.status, draft.published_at) == ("renamed", "draft", None)


def test_a_version_refused_by_its_service_is_a_form_error(superuser_client, world):
    published = world["draft"]
    version_publish(version=published)
    response = change(
        superuser_client,
        "versions/datasetversion",
        published,
        {"name": "new name", "description": "", "metadata": '{"split": "train"}'},
    )
    assert response.status_code == 200
    assert "is published and cannot be changed" in response.content.decode()
    published.refresh_from_db()
    assert published.name != "new name" and published.metadata == {}  # nothing half-done


@pytest.mark.parametrize(
    "text",
    ['{"split": NaN}', '{"split": "a\\u0000b"}', "[" * 100_000 + "]" * 100_000],
    ids=["nan", "nul", "deep"],
)
def test_admin_json_inputs_are_read_like_api_bodies(superuser_client, world, text):
    """NaN and NUL were stored until PostgreSQL refused them, deep nesting overflowed: 500s."""
    draft = world["draft"]
    response = change(
        superuser_client,
        "versions/datasetversion",
        draft,
        {"name": "renamed", "description": "", "metadata": text},
    )
    assert response.status_code == 200
    assert "Enter a valid JSON" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.name, draft.metadata) == ("draft", {})


def test_labels_are_a_managers_view(client, world):
    logged_in(client, staff("reader", Role.LABELER, perms="view"))
    assert client.get("/admin/batches/label/").status_code == 403
    label = Label.objects.get()
    assert client.get(f"/admin/batches/label/{label.pk}/change/").status_code == 403
    logged_in(client, staff("boss", Role.MANAGER, perms="view"))
    assert client.get(f"/admin/batches/label/{label.pk}/change/").status_code == 200


def test_a_version_added_in_the_admin_goes_through_version_create(superuser_client, world):
    other, _ = dataset_create(name="other")
    foreign, _ = version_create(dataset=other, name="theirs")
    version_publish(version=foreign)
    data = {"dataset": world["draft"].dataset_id, "name": "child", "parent": foreign.pk}
    response = superuser_client.post(
        "/admin/versions/datasetversion/add/", {**data, "description": "", "metadata": "{}"}
    )
    assert response.status_code == 200
    assert "The parent belongs to another dataset." in response.content.decode()
    assert not DatasetVersion.objects.filter(name="child").exists()


def test_changing_a_batch_priority_moves_its_queue(superuser_client, world, manager_api):
    batch = world["batch"]
    twin = labelled_batch("twin", world["rows"], world["labeler"])
    response = change(superuser_client, "batches/batch", batch, {"name": "b", "priority": 5})
    assert response.status_code == 302
    api = manager_api.patch(
        f"/api/v1/projects/{twin.project_id}/batches/{twin.pk}/", {"priority": 5}, format="json"
    )
    assert api.status_code == 200
    assert {e[4] for e in _batch_rows(batch)} == {5}
    assert _batch_rows(batch) == _batch_rows(twin)


def test_a_batch_rename_the_service_refuses_is_a_form_error(superuser_client, world):
    batch = world["batch"]
    Batch.objects.create(project=batch.project, name="taken")
    response = change(superuser_client, "batches/batch", batch, {"name": "taken", "priority": 3})
    assert response.status_code == 200
    assert "already has a batch named" in response.content.decode()
    batch.refresh_from_db()
    assert (batch.name, batch.priority) == ("b", None)
    assert {e[4] for e in _batch_rows(batch)} == {2**31}  # the queue did not move


def test_a_batch_with_labels_is_not_deleted(superuser_client, world):
    batch = world["batch"]
    listing = superuser_client.get("/admin/batches/batch/").content.decode()
    assert 'value="delete_selected"' not in listing
    before = fingerprint()
    response = superuser_client.post(
        f"/admin/batches/batch/{batch.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert "has 1 label: delete its labels first" in response.content.decode()
    assert fingerprint() == before
    forged = act(superuser_client, "batches/batch", "delete_selected", batch)
    assert forged.status_code == 403 and fingerprint() == before


def test_a_batch_without_labels_is_deleted_by_the_service(superuser_client, world):
    project = Project.objects.create(name="empty")
    batch, _ = batch_create(project=project, name="fresh", data_rows=world["rows"])
    page = superuser_client.get(f"/admin/batches/batch/{batch.pk}/delete/")
    assert page.status_code == 200
    response = superuser_client.post(f"/admin/batches/batch/{batch.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Batch.objects.filter(pk=batch.pk).exists()
    assert not QueueEntry.objects.filter(project=project).exists()


def test_a_dataset_in_use_is_not_deleted(superuser_client, world):
    dataset = world["draft"].dataset
    response = superuser_client.post(
        f"/admin/versions/dataset/{dataset.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert "still used by" in response.content.decode()
    assert DataRow.objects.filter(dataset=dataset).count() == 3


@pytest.mark.parametrize(
    ("model", "target"),
    [
        ("batches/queueentry", "entry"),
        ("batches/label", "label"),
        ("batches/skip", None),
        ("versions/datarow", "row"),
        ("versions/frameentry", "frame_entry"),
        ("versions/framerevision", "revision"),
        ("dashboard/job", "queued_job"),
        ("batches/project", "project"),
    ],
)
def test_service_written_models_are_view_only(superuser_client, world, model, target):
    """No add, no delete (a project's would cascade past the batch rules) and, but for
    projects, no change: queue entries, labels, frames and jobs are written by services."""
    from versions.models import FrameEntry

    objects = {
        "entry": QueueEntry.objects.first(),
        "label": Label.objects.first(),
        "row": DataRow.objects.first(),
        "frame_entry": FrameEntry.objects.first(),
        "revision": FrameEntry.objects.first().revision,
        "queued_job": world["queued_job"],
        "project": world["batch"].project,
    }
    if target != "project":
        assert superuser_client.post(f"/admin/{model}/add/", {}).status_code == 403
    if target is None:
        return
    obj = objects[target]
    before = fingerprint()
    assert (
        superuser_client.post(f"/admin/{model}/{obj.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    if target != "project":
        page = superuser_client.get(f"/admin/{model}/{obj.pk}/change/")
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert change(superuser_client, model, obj, {"labels_count": 0}).status_code == 403
    assert fingerprint() == before
    assert QueueEntry.objects.count() == 3 and Label.objects.count() == 1


INLINE = {f"batches-{k}": v for k, v in [("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0)]}


def test_a_project_is_edited_through_its_service(superuser_client, world):
    project = world["batch"].project
    response = change(
        superuser_client,
        "batches/project",
        project,
        {"name": "p", "label_classes": '["a", "a"]', "reservation_seconds": 5, **INLINE},
    )
    assert response.status_code == 200
    assert "Label classes must be unique." in response.content.decode()
    page = superuser_client.get(f"/admin/batches/project/{project.pk}/change/").content.decode()
    assert 'name="batches-0-priority"' not in page  # the batch inline is read-only
    project.refresh_from_db()
    assert project.reservation_seconds == 600 and project.label_classes == []
    response = superuser_client.post(
        "/admin/batches/project/add/",
        {"name": "  new  ", "label_classes": "[]", "reservation_seconds": 60, **INLINE},
    )
    assert response.status_code == 302
    assert Project.objects.filter(name="new", reservation_seconds=60).exists()


def test_a_staff_user_who_is_not_a_manager_cannot_give_themselves_a_role(client, world):
    user = staff("climber", Role.LABELER)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="auth"))
    logged_in(client, user)
    manager_group = Group.objects.get(name="manager")
    assert client.get("/admin/auth/user/").status_code == 200  # may look
    response = client.post(
        f"/admin/auth/user/{user.pk}/change/",
        {"username": user.username, "groups": [manager_group.pk], "is_active": "on"},
    )
    assert response.status_code == 403
    assert (
        client.post(f"/admin/auth/group/{manager_group.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert user_role(type(user).objects.get(pk=user.pk)) == Role.LABELER
    assert Group.objects.filter(name="manager").exists()


def test_a_manager_cannot_make_anyone_a_superuser_in_the_admin(client):
    """Only a superuser grants superuser, staff or single permissions; a manager changes roles."""
    from django.contrib.auth.models import Permission as AuthPermission

    boss = staff("boss2", Role.MANAGER)
    boss.user_permissions.add(*AuthPermission.objects.filter(content_type__app_label="auth"))
    logged_in(client, boss)
    response = client.post(
        f"/admin/auth/user/{boss.pk}/change/",
        {
            "username": boss.username,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    boss.refresh_from_db()
    assert not boss.is_superuser and boss.is_staff
