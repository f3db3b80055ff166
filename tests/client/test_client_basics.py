"""The connection itself: errors as exceptions with status, body and code; lazy paging that
follows `next`; tasks that wait (with `?wait=`) and time out; the default client from
`configure` or the environment; the Labelbox-style project calls CLIENT.md lists."""

import shutil
import subprocess
import sys
import time

import httpx
import labelops_client as lo
import pytest
from rest_framework.authtoken.models import Token

from dashboard.models import Job
from dashboard.roles import Role

from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_errors_carry_status_body_and_code(client, live_server):
    with pytest.raises(lo.NotFound) as missing:
        client.get_project("nope")
    assert missing.value.status == 404 and missing.value.code == "not_found"
    assert isinstance(missing.value, lo.LabelopsError) and missing.value.body["detail"]
    client.create_project("p")
    with pytest.raises(lo.InvalidInput) as invalid:
        client.request("POST", "projects/", json={"name": "q", "colour": 1})
    assert invalid.value.status == 400 and "colour" in invalid.value.body
    assert invalid.value.code
    dataset = client.create_dataset("d")
    with pytest.raises(lo.Conflict) as conflict:
        client.request("POST", "datasets/", json={"name": "d", "raise_if_exists": True})
    assert conflict.value.status == 409 and conflict.value.code
    assert client.get_dataset(dataset.uid).name == "d"

    with pytest.raises(lo.PermissionDenied) as anonymous:
        lo.Client(url=live_server.url).get_projects().__next__()
    assert anonymous.value.status == 401
    viewer = UserFactory(username="v", role=Role.VIEWER)
    as_viewer = lo.Client(url=live_server.url, api_key=Token.objects.create(user=viewer).key)
    with pytest.raises(lo.PermissionDenied) as forbidden:
        as_viewer.create_project("x")
    assert forbidden.value.status == 403 and forbidden.value.code == "permission_denied"


def test_lists_are_lazy_and_follow_next(client, monkeypatch):
    for i in range(7):
        client.create_project(f"p{i}")
    pages = []
    real = client.request

    def counting(method, path, **kwargs):
        pages.append(path)
        return real(method, path, **kwargs)

    monkeypatch.setattr(client, "request", counting)
    items = client.paginate("projects/", {"page_size": 3})
    assert pages == []  # nothing fetched until read
    assert next(items)["name"] and len(pages) == 1
    assert len(list(items)) == 6 and len(pages) == 3
    assert len(list(client.get_projects())) == 7


def test_task_waits_with_the_server_and_times_out(client):
    job = Job.objects.create(kind="test_count", status="running")
    task = lo.Task(client, client.get(f"jobs/{job.pk}/"))
    assert task.uid == job.pk and task.status == "running"
    started = time.monotonic()
    with pytest.raises(lo.TaskTimeout):
        task.wait_till_done(timeout_seconds=1)
    assert time.monotonic() - started < 10
    Job.objects.filter(pk=job.pk).update(status="succeeded", result={"batches": []})
    assert task.wait_till_done(timeout_seconds=10).status == "succeeded"
    assert task.result() == {"batches": []} and task.errors() == []


def test_default_client_from_configure_or_the_environment(live_server, token, monkeypatch):
    monkeypatch.setattr("labelops_client.client._default", None)
    monkeypatch.setenv("LABELOPS_URL", live_server.url)
    monkeypatch.setenv("LABELOPS_API_KEY", token)
    lo.DatasetVersion.create_new_dataset(dataset_name="from-env")
    assert lo.default_client().get_dataset_by_name("from-env").name == "from-env"
    lo.configure(url=live_server.url + "/", api_key=token)
    assert [d["name"] for d in lo.DatasetVersion.get_datasets()] == ["from-env"]
    monkeypatch.delenv("LABELOPS_URL")
    with pytest.raises(lo.LabelopsError):
        lo.Client()


def test_project_calls(client):
    dataset = client.create_dataset("rows")
    rows = [{"global_key": f"k{i}", "row_data": f"https://img/{i}"} for i in range(6)]
    dataset.data_rows.bulk_create(rows)
    ids = {r.global_key: r for r in dataset.data_rows.find_by()}
    project = client.create_project("proj", description="d", label_classes=["cat", "dog"])
    assert client.get_project(project.uid).body["label_classes"] == ["cat", "dog"]
    batch = project.create_batch("b1", data_rows=[ids["k0"], ids["k1"].uid], priority=3)
    assert batch.size == 2 and batch.failed_data_rows == []
    failed = project.create_batch("b2", global_keys=["k2", "missing"])
    assert [f["global_key"] for f in failed.failed_data_rows] == ["missing"]
    task = project.create_batches("many-", data_rows=[ids["k3"], ids["k4"]])
    assert task.wait_till_done().status == "succeeded"
    assert sorted(b.name for b in project.batches()) == ["b1", "b2", "many-0000"]
    assert project.update_data_row_labeling_priority(9, global_keys=["k0"]) is None
    lines = list(project.export_stream(batch_ids=[batch.uid]))
    assert sorted(line["data_row"]["global_key"] for line in lines) == ["k0", "k1"]
    export = project.export(params={"batch_ids": [batch.uid], "labels": True})
    assert isinstance(export, lo.ExportTask)
    assert len([o.json for o in export.get_buffered_stream()]) == 2
    with pytest.raises(ValueError):
        project.export(params={"colour": True})
    task = project.create_batches_from_dataset("rest-", dataset.uid, priority=1)
    assert task.wait_till_done().status == "succeeded"
    assert client.get_batch(project.uid, batch.uid).priority == 3


def test_fresh_venv_installs_the_client(tmp_path):
    """`pip install ./client` in a fresh venv, then import it (no server code needed)."""
    venv, source = tmp_path / "venv", tmp_path / "client"
    shutil.copytree("client", source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(source)],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    code = "import labelops_client as lo, sys; assert 'django' not in sys.modules; print(lo.Client)"
    ran = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True)
    assert ran.returncode == 0 and "Client" in ran.stdout, ran.stderr


def test_httpx_is_the_only_dependency():
    import tomllib
    from pathlib import Path

    project = tomllib.loads(Path("client/pyproject.toml").read_text())["project"]
    assert [d.split(">")[0] for d in project["dependencies"]] == ["httpx"]
    assert httpx.__version__


def test_the_client_s_changes_are_in_the_event_log(client):
    """The client is a door like the others: its verbs write their events, naming its user."""
    from dashboard.models import Event

    dataset = client.create_dataset("logged")
    dataset.data_rows.bulk_create(
        [{"global_key": f"e{i}", "row_data": f"s3://{i}"} for i in range(3)]
    )
    project = client.create_project("logged")
    batch = project.create_batch("b", global_keys=["e0", "e1"], priority=2)
    project.update_data_row_labeling_priority(5, global_keys=["e0"])
    batch.delete_labels()
    batch.delete()
    recorded = list(Event.objects.order_by("id").values_list("type", "actor_username", "data"))
    assert [(t, d.get("kind")) for t, _, d in recorded] == [
        ("dataset.created", None),
        ("version.created", None),  # the import's draft
        ("job.succeeded", "import"),
        ("project.created", None),
        ("batch.created", None),
        ("priorities.changed", None),
        ("job.succeeded", "delete_labels"),  # (no label to delete: no labels.deleted)
        ("batch.deleted", None),
    ]
    assert {user for _, user, _ in recorded} == {"script"}
    deleted = Event.objects.get(type="batch.deleted")
    assert (deleted.project, deleted.object_id) == (project.uid, batch.uid)
