"""One door per verb: for each batches verb, the page, the REST API and the admin (where it
offers the verb) reach the same service — each door, run on its own twin project, leaves the
same rows, and each refuses the same bad input without changing anything."""

import pytest

from batches.models import Batch, Label, Project, QueueEntry, Skip
from batches.services import batch_create, label_submit, queue_next
from dashboard.roles import Role
from versions.models import DataRow

from ..conftest import token_client
from ..factories import DatasetFactory, UserFactory

pytestmark = pytest.mark.django_db

INT32_OUT = 2**31


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


def twin(tag: str, *, labelled: bool = False, second: bool = False) -> Project:
    """A project with batch `b` (rows 0–3, priority 1) and, with `second`, batch `c` (rows 4–5,
    priority 2); with `labelled`, row 0 has a label. Row ids start with `tag`."""
    dataset = DatasetFactory()
    DataRow.objects.bulk_create(
        DataRow(id=f"{tag}-{i}", dataset=dataset, global_key=f"{tag}-k{i}", row_data=f"s3://{i}")
        for i in range(8)
    )
    project = Project.objects.create(name=f"p-{tag}", label_classes=["car", "person"])
    batch_create(project=project, name="b", data_rows=[f"{tag}-{i}" for i in range(4)], priority=1)
    if second:
        batch_create(project=project, name="c", data_rows=[f"{tag}-4", f"{tag}-5"], priority=2)
    if labelled:
        labeler = UserFactory(role=Role.LABELER)
        entry = queue_next(project=project, user=labeler)
        label_submit(project=project, entry_id=entry.pk, user=labeler, annotation={"x": 1})
    return project


def rows(project: Project) -> dict:
    """Everything a batches verb may change in the project, with row ids made tag-free."""

    def row(row_id: str) -> str:
        return row_id.split("-", 1)[1]

    return {
        "batches": sorted(
            Batch.objects.filter(project=project).values_list(
                "name", "priority", "size", "consensus_settings"
            ),
            key=repr,
        ),
        "queue": sorted(
            (row(e.data_row_id), e.batch.name, e.state, e.sort_priority, e.priority_override)
            + (e.labels_count, e.labels_required, e.template)
            for e in QueueEntry.objects.filter(project=project).select_related("batch")
        ),
        "labels": sorted(
            (row(r), repr(a))
            for r, a in Label.objects.filter(project=project).values_list(
                "data_row_id", "annotation"
            )
        ),
        "skips": sorted(
            row(r)
            for r in Skip.objects.filter(project=project).values_list("data_row_id", flat=True)
        ),
    }


def batch(project: Project, name: str = "b") -> Batch:
    return Batch.objects.get(project=project, name=name)


def api_url(project: Project, tail: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/{tail}"


def page_url(project: Project, tail: str = "") -> str:
    return f"/projects/{project.pk}/{tail}"


def admin_action(page, action: str, target: Batch):
    return page.post(
        "/admin/batches/batch/",
        {"action": action, "index": 0, "_selected_action": [target.pk]},
        follow=True,
    )


def admin_change(page, target: Batch, **data):
    return page.post(f"/admin/batches/batch/{target.pk}/change/", data)


# --- Create a batch (page, API; the admin does not create batches) ----------------------------


def test_create_batch_page_and_api_make_the_same_rows(page, api):
    by_page, by_api = twin("p"), twin("a")
    response = page.post(
        page_url(by_page, "batches/new/"),
        {
            "name": "n",
            "kind": "data_rows",
            "rows": "p-4\np-5\np-0\nghost",
            "priority": "3",
            "number_of_labels": "2",
            "coverage_percentage": "1",
        },
    )
    assert response.status_code == 200  # failed rows are listed on the page
    answer = api.post(
        api_url(by_api, "batches/"),
        {
            "name": "n",
            "data_rows": ["a-4", "a-5", "a-0", "ghost"],
            "priority": 3,
            "consensus_settings": {"number_of_labels": 2, "coverage_percentage": 1},
        },
        format="json",
    )
    assert answer.status_code == 201
    assert batch(by_page, "n").size == 2
    assert rows(by_page) == rows(by_api)


# The page marks the consensus box at fault; the API names `consensus_settings`.
PAGE_FIELD = {"0": "number_of_labels", "1.5": "coverage_percentage"}


@pytest.mark.parametrize(
    ("form", "body", "field", "message"),
    [
        ({"priority": str(INT32_OUT)}, {"priority": INT32_OUT}, "priority", "32-bit"),
        ({"priority": "-2147483649"}, {"priority": -(2**31) - 1}, "priority", "32-bit"),
        ({"name": ""}, {"name": ""}, "name", "This field is required."),
        ({"name": "x" * 256}, {"name": "x" * 256}, "name", "At most 255 characters."),
        (
            {"number_of_labels": "0", "coverage_percentage": "1"},
            {"consensus_settings": {"number_of_labels": 0, "coverage_percentage": 1}},
            "consensus_settings",
            "",
        ),
        (
            {"number_of_labels": "2", "coverage_percentage": "1.5"},
            {"consensus_settings": {"number_of_labels": 2, "coverage_percentage": 1.5}},
            "consensus_settings",
            "",
        ),
    ],
)
def test_create_batch_page_and_api_refuse_alike(page, api, form, body, field, message):
    by_page, by_api = twin("p"), twin("a")
    before = rows(by_page)
    response = page.post(
        page_url(by_page, "batches/new/"),
        {"name": "n", "kind": "data_rows", "rows": "p-4", **form},
    )
    assert response.status_code == 200 and message in response.content.decode()
    page_field = field
    if field == "consensus_settings":
        page_field = PAGE_FIELD[next(v for v in form.values() if v in PAGE_FIELD)]
    assert f'id="{page_field}-error"' in response.content.decode()
    answer = api.post(
        api_url(by_api, "batches/"), {"name": "n", "data_rows": ["a-4"], **body}, format="json"
    )
    assert answer.status_code == 400 and message in answer.json()[field][0]
    assert rows(by_page) == before == rows(by_api)


def test_create_batch_with_a_taken_name_is_refused_by_both(page, api):
    by_page, by_api = twin("p"), twin("a")
    before = rows(by_page)
    response = page.post(
        page_url(by_page, "batches/new/"), {"name": "b", "kind": "data_rows", "rows": "p-4"}
    )
    assert "already has a batch named" in response.content.decode()
    answer = api.post(
        api_url(by_api, "batches/"), {"name": "b", "data_rows": ["a-4"]}, format="json"
    )
    assert answer.status_code == 409 and "already has a batch named" in answer.json()["name"][0]
    assert rows(by_page) == before == rows(by_api)


# --- Rename and re-prioritise (page: priority; API; admin change form) -------------------------


def test_priority_page_api_and_admin_move_the_queue_alike(page, api):
    by_page, by_api, by_admin = twin("p"), twin("a"), twin("d")
    response = page.post(
        page_url(by_page, f"batches/{batch(by_page).pk}/priority/"), {"priority": "7"}
    )
    assert response.status_code == 302
    answer = api.patch(
        api_url(by_api, f"batches/{batch(by_api).pk}/"), {"priority": 7}, format="json"
    )
    assert answer.status_code == 200
    assert admin_change(page, batch(by_admin), name="b", priority="7").status_code == 302
    assert rows(by_page) == rows(by_api) == rows(by_admin)
    assert batch(by_page).priority == 7


def test_rename_api_and_admin_alike(page, api):
    by_api, by_admin = twin("a"), twin("d")
    api.patch(api_url(by_api, f"batches/{batch(by_api).pk}/"), {"name": "renamed"}, format="json")
    admin_change(page, batch(by_admin), name="renamed", priority="1")
    assert rows(by_api) == rows(by_admin)
    assert batch(by_api, "renamed").priority == 1


@pytest.mark.parametrize("priority", [INT32_OUT, -(2**31) - 1])
def test_a_priority_out_of_int32_is_refused_by_every_door(page, api, priority):
    by_page, by_api, by_admin = twin("p"), twin("a"), twin("d")
    before = rows(by_page)
    response = page.post(
        page_url(by_page, f"batches/{batch(by_page).pk}/priority/"),
        {"priority": str(priority)},
        follow=True,
    )
    assert "32-bit" in response.content.decode()
    answer = api.patch(
        api_url(by_api, f"batches/{batch(by_api).pk}/"), {"priority": priority}, format="json"
    )
    assert answer.status_code == 400 and "32-bit" in answer.json()["priority"][0]
    refused = admin_change(page, batch(by_admin), name="b", priority=str(priority))
    assert refused.status_code == 200 and "32-bit" in refused.content.decode()
    assert rows(by_page) == before == rows(by_api) == rows(by_admin)


def test_a_taken_name_is_refused_by_the_api_and_the_admin(page, api):
    by_api, by_admin = twin("a", second=True), twin("d", second=True)
    before = rows(by_api)
    answer = api.patch(
        api_url(by_api, f"batches/{batch(by_api).pk}/"), {"name": "c"}, format="json"
    )
    assert answer.status_code == 409 and "already has a batch named" in answer.json()["name"][0]
    refused = admin_change(page, batch(by_admin), name="c", priority="1")
    assert refused.status_code == 200 and "already has a batch named" in refused.content.decode()
    assert rows(by_api) == before == rows(by_admin)


# --- Reorder (page: up/down; API: reorder) -----------------------------------------------------


def test_moving_a_batch_up_on_the_page_is_the_apis_reorder(page, api):
    by_page, by_api = twin("p", second=True), twin("a", second=True)
    page.post(page_url(by_page, f"batches/{batch(by_page, 'c').pk}/move/"), {"direction": "up"})
    answer = api.post(
        api_url(by_api, "batches/reorder/"), {"batch_ids": [batch(by_api, "c").pk]}, format="json"
    )
    assert answer.status_code == 200
    assert rows(by_page) == rows(by_api)
    assert (batch(by_page, "c").priority, batch(by_page).priority) == (1, 2)


def test_a_bad_direction_or_batch_list_changes_nothing(page, api):
    by_page, by_api = twin("p", second=True), twin("a", second=True)
    before = rows(by_page)
    page.post(page_url(by_page, f"batches/{batch(by_page).pk}/move/"), {"direction": "sideways"})
    for bad, code in (([], 400), (["nope"], 404), ([batch(by_api).pk] * 2, 400), ("x", 400)):
        answer = api.post(api_url(by_api, "batches/reorder/"), {"batch_ids": bad}, format="json")
        assert answer.status_code == code and "batch_ids" in answer.json()
    assert rows(by_page) == before == rows(by_api)


# --- Row priorities (API at once, or as a job) -------------------------------------------------


def test_row_priorities_at_once_and_as_a_job_write_the_same_rows(api, run_jobs, monkeypatch):
    from batches.services import priorities

    at_once, by_job = twin("a"), twin("j")

    def items(tag):
        return [
            {"data_row": f"{tag}-0", "priority": 5},
            {"global_key": f"{tag}-k1", "priority": -2},
            {"data_row": f"{tag}-1", "priority": None},
            {"data_row": "ghost", "priority": 1},
        ]

    answer = api.post(api_url(at_once, "priorities/"), items("a"), format="json")
    assert answer.status_code == 200 and answer.json()["updated"] == 2
    monkeypatch.setattr(priorities, "PRIORITIES_SYNC_LIMIT", 1)
    with run_jobs():
        started = api.post(api_url(by_job, "priorities/"), {"items": items("j")}, format="json")
    assert started.status_code == 202
    assert rows(at_once) == rows(by_job)


def test_a_row_priority_out_of_int32_is_refused_before_any_write(api, monkeypatch):
    from batches.services import priorities

    at_once, by_job = twin("a"), twin("j")
    before = rows(at_once)
    bad = [{"data_row": "a-0", "priority": 1}, {"data_row": "a-1", "priority": INT32_OUT}]
    answer = api.post(api_url(at_once, "priorities/"), bad, format="json")
    assert answer.status_code == 400 and answer.json()["items"][0].startswith("Item 1: ")
    monkeypatch.setattr(priorities, "PRIORITIES_SYNC_LIMIT", 1)
    answer = api.post(api_url(by_job, "priorities/"), bad, format="json")
    assert answer.status_code == 400 and "32-bit" in answer.json()["items"][0]
    assert rows(at_once) == before == rows(by_job)


# --- Remove queued rows, delete labels (page, API, admin action) -------------------------------


def test_remove_queued_by_page_api_and_admin_alike(page, api):
    by_page, by_api, by_admin = (twin(t, labelled=True) for t in ("p", "a", "d"))
    page.post(page_url(by_page, f"batches/{batch(by_page).pk}/remove-queued/"))
    answer = api.post(api_url(by_api, f"batches/{batch(by_api).pk}/remove-queued/"))
    assert answer.json() == {"removed": 3, "held": 0}
    response = admin_action(page, "remove_queued_rows", batch(by_admin))
    assert "3 rows removed" in response.content.decode()
    assert rows(by_page) == rows(by_api) == rows(by_admin)
    assert batch(by_page).size == 1


@pytest.mark.parametrize("as_template", [False, True])
def test_delete_labels_by_page_api_and_admin_alike(page, api, run_jobs, as_template):
    by_page, by_api, by_admin = (twin(t, labelled=True) for t in ("p", "a", "d"))
    form = {"set_labels_as_template": "on"} if as_template else {}
    page.post(page_url(by_page, f"batches/{batch(by_page).pk}/delete-labels/"), form)
    with run_jobs():
        answer = api.post(
            api_url(by_api, f"batches/{batch(by_api).pk}/delete-labels/"),
            {"set_labels_as_template": as_template},
            format="json",
        )
    assert answer.status_code == 202
    action = "delete_labels_as_templates" if as_template else "delete_labels"
    admin_action(page, action, batch(by_admin))
    assert rows(by_page) == rows(by_api) == rows(by_admin)
    assert not Label.objects.filter(project=by_page).exists()


# --- Delete a batch (page, API, admin delete) ---------------------------------------------------


def test_delete_batch_by_page_api_and_admin_alike(page, api):
    by_page, by_api, by_admin = twin("p"), twin("a"), twin("d")
    assert page.post(page_url(by_page, f"batches/{batch(by_page).pk}/delete/")).status_code == 302
    assert api.delete(api_url(by_api, f"batches/{batch(by_api).pk}/")).status_code == 204
    admin = page.post(f"/admin/batches/batch/{batch(by_admin).pk}/delete/", {"post": "yes"})
    assert admin.status_code == 302
    assert rows(by_page) == rows(by_api) == rows(by_admin)
    assert rows(by_page)["batches"] == []


def test_a_batch_with_labels_is_not_deleted_by_any_door(page, api):
    by_page, by_api, by_admin = (twin(t, labelled=True) for t in ("p", "a", "d"))
    before = rows(by_page)
    response = page.post(page_url(by_page, f"batches/{batch(by_page).pk}/delete/"))
    assert response.status_code == 409 and "delete its labels first" in response.content.decode()
    answer = api.delete(api_url(by_api, f"batches/{batch(by_api).pk}/"))
    assert answer.status_code == 409 and answer.json()["labels_count"] == 1
    admin = page.post(
        f"/admin/batches/batch/{batch(by_admin).pk}/delete/", {"post": "yes"}, follow=True
    )
    assert "delete its labels first" in admin.content.decode()
    assert rows(by_page) == before == rows(by_api) == rows(by_admin)


# --- Submit and skip (labeling page, API) -------------------------------------------------------


def test_submit_and_skip_by_page_and_api_alike(page, api):
    by_page, by_api = twin("p"), twin("a")
    entry = page.post(page_url(by_page, "label/"), {"action": "next"}, follow=True).context["entry"]
    page.post(
        page_url(by_page, "label/"),
        {"action": "submit", "entry": entry.pk, "annotation": '{"note": 1}', "classes": ["car"]},
    )
    skipped = page.post(page_url(by_page, "label/"), {"action": "next"}, follow=True).context[
        "entry"
    ]
    page.post(page_url(by_page, "label/"), {"action": "skip", "entry": skipped.pk})
    taken = api.post(api_url(by_api, "queue/next/")).json()["entry"]
    answer = api.post(
        api_url(by_api, f"queue/{taken}/submit/"),
        {"annotation": {"note": 1, "classes": ["car"]}},
        format="json",
    )
    assert answer.status_code == 201
    taken = api.post(api_url(by_api, "queue/next/")).json()["entry"]
    assert api.post(api_url(by_api, f"queue/{taken}/skip/")).status_code == 200
    api.post(api_url(by_api, "queue/next/"))  # the page took the next row after skipping
    assert rows(by_page) == rows(by_api)
    assert rows(by_page)["labels"] and rows(by_page)["skips"]


@pytest.mark.parametrize(
    ("form", "body", "message", "code"),
    [
        ({"annotation": "[1]"}, {"annotation": [1]}, "Must be a JSON object.", 400),
        ({"annotation": '{"classes": "car"}'}, {"annotation": {"classes": "car"}}, "list of", 400),
        # A class the project's ontology lacks: invalid input for this project (API: 400).
        ({"classes": ["bus"]}, {"annotation": {"classes": ["bus"]}}, "Not label classes", 400),
    ],
)
def test_a_bad_label_is_refused_by_page_and_api(page, api, form, body, message, code):
    by_page, by_api = twin("p"), twin("a")
    entry = page.post(page_url(by_page, "label/"), {"action": "next"}, follow=True).context["entry"]
    taken = api.post(api_url(by_api, "queue/next/")).json()["entry"]
    before = rows(by_page)
    response = page.post(
        page_url(by_page, "label/"), {"action": "submit", "entry": entry.pk, **form}
    )
    assert message in response.content.decode()
    answer = api.post(api_url(by_api, f"queue/{taken}/submit/"), body, format="json")
    assert answer.status_code == code and message in answer.json()["annotation"][0]
    assert rows(by_page) == before == rows(by_api)


# --- Create a project (page, API, admin add form) -----------------------------------------------

INLINE = {"batches-TOTAL_FORMS": 0, "batches-INITIAL_FORMS": 0}


def projects(name: str) -> list:
    return list(
        Project.objects.filter(name=name).values_list(
            "description", "label_classes", "reservation_seconds"
        )
    )


def test_create_project_by_page_api_and_admin_alike(page, api):
    page.post("/projects/", {"name": " one ", "description": "d", "label_classes": "car, bus"})
    answer = api.post(
        "/api/v1/projects/",
        {"name": " one ", "description": "d", "label_classes": ["car", "bus"]},
        format="json",
    )
    assert answer.status_code == 201
    admin = page.post(
        "/admin/batches/project/add/",
        {
            "name": " one ",
            "description": "d",
            "label_classes": '["car", "bus"]',
            "reservation_seconds": 600,
            **INLINE,
        },
    )
    assert admin.status_code == 302
    assert projects("one") == [("d", ["car", "bus"], 600)] * 3


@pytest.mark.parametrize(
    ("name", "classes", "message"),
    [
        ("x" * 256, ["car"], "At most 255 characters."),
        ("two", ["car", "car"], "Label classes must be unique."),
    ],
)
def test_a_bad_project_is_refused_by_every_door(page, api, name, classes, message):
    response = page.post(
        "/projects/", {"name": name, "label_classes": ", ".join(classes)}, follow=True
    )
    assert message in response.content.decode()
    answer = api.post("/api/v1/projects/", {"name": name, "label_classes": classes}, format="json")
    assert answer.status_code == 400 and message in str(answer.json())
    admin = page.post(
        "/admin/batches/project/add/",
        {"name": name, "label_classes": repr(classes).replace("'", '"'), **INLINE},
    )
    assert admin.status_code == 200 and message in admin.content.decode()
    assert not Project.objects.filter(name=name).exists()


def test_a_reservation_out_of_bounds_is_refused_by_the_api_and_the_admin(page, api):
    for seconds in (9, 7 * 24 * 3600 + 1):
        answer = api.post(
            "/api/v1/projects/", {"name": "r", "reservation_seconds": seconds}, format="json"
        )
        assert answer.status_code == 400 and "reservation_seconds" in answer.json()
        admin = page.post(
            "/admin/batches/project/add/",
            {"name": "r", "label_classes": "[]", "reservation_seconds": seconds, **INLINE},
        )
        assert admin.status_code == 200 and "reservation_seconds" in admin.content.decode()
    assert not Project.objects.filter(name="r").exists()
