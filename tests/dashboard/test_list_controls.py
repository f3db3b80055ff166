"""The list pages' search and sort: bounded, refused with the reason (400 on a full page, the
message in the swapped table with htmx), and applied alike on projects and datasets."""

import re

import pytest
from django.db import connection, transaction

from batches.services import batch_create, project_create
from dashboard.models import Job
from dashboard.selectors import job_list_summary, job_search
from versions.services import dataset_create, frames_add, version_create

pytestmark = pytest.mark.django_db


def test_projects_search_and_sort(client, viewer):
    project_create(name="Street", description="cars by day")
    project_create(name="Harbour", description="boats")
    client.force_login(viewer)
    page = client.get("/projects/?q=CARS").content.decode()
    assert ">Street<" in page and ">Harbour<" not in page
    page = client.get("/projects/?sort=name").content.decode()
    assert page.index(">Harbour<") < page.index(">Street<")


@pytest.mark.parametrize(
    ("query", "message"),
    [("q=" + "x" * 101, "at most 100 characters"), ("sort=size", "Sort by newest, oldest")],
)
@pytest.mark.parametrize("path", ["/projects/", "/datasets/", "/jobs/"])
def test_a_bad_search_or_sort_is_refused_with_the_reason(client, viewer, path, query, message):
    client.force_login(viewer)
    if path == "/datasets/":
        message = message.replace("newest, oldest", "oldest, newest")
    page = client.get(f"{path}?{query}")
    assert page.status_code == 400 and message in page.content.decode()
    target = {"/projects/": "project-table", "/datasets/": "dataset-table"}.get(path, "job-table")
    swapped = client.get(f"{path}?{query}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)
    assert swapped.status_code == 200 and message in swapped.content.decode()


def test_datasets_search_and_the_tags_in_use(client, viewer):
    dataset_create(name="roads", tags=["best"], dataset_project="city")
    dataset_create(name="rivers", tags=["debug"])
    client.force_login(viewer)
    page = client.get("/datasets/?q=CITY").content.decode()
    assert ">roads<" in page and ">rivers<" not in page
    assert 'aria-label="Exclude debug"' in page and "?tags=best" in page


def _jobs_of_every_kind(manager) -> dict[str, Job]:
    """Jobs naming a dataset version, a project and a batch, by two users."""
    dataset, _ = dataset_create(name="Traffic cams")
    version, _ = version_create(dataset=dataset, name="draft")
    frames_add(
        version=version, frames=[{"id": "f1", "global_key": "f1", "sources": [{"uri": "x"}]}]
    )
    project = project_create(name="Harbour watch")
    batch = batch_create(project=project, name="night shift", global_keys=["f1"])[0]
    return {
        "import": Job.objects.create(
            kind="import",
            status="succeeded",
            errors_count=3,
            params={"dataset_id": dataset.pk, "version_id": version.pk, "record_type": "frames"},
            created_by=manager,
        ),
        "export": Job.objects.create(
            kind="export_batches",
            status="failed",
            params={"project_id": project.pk},
        ),
        "labels": Job.objects.create(
            kind="delete_labels",
            status="running",
            errors_count=1,
            params={"project_id": project.pk, "batch_id": batch.pk},
        ),
    }


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("traffic CAMS", ["import"]),  # the dataset the title names
        ("draft", ["import"]),  # the version
        ("harbour", ["labels", "export"]),  # the project
        ("NIGHT", ["labels"]),  # the batch
        ("export", ["export"]),  # the kind's label
        ("manager", ["import"]),  # the user who started it
        ("nothing like it", []),
    ],
)
def test_jobs_search_by_what_their_titles_name(client, viewer, manager, q, found):
    jobs = _jobs_of_every_kind(manager)
    client.force_login(viewer)
    page = client.get("/jobs/", {"q": q}).content.decode()
    shown = [name for name, job in jobs.items() if f"/jobs/{job.pk}/" in page]
    assert sorted(shown) == sorted(found)
    assert f"match{'es' if len(found) == 1 else ''} “{q}”" in page
    by_id = client.get("/jobs/", {"q": jobs["export"].pk}).content.decode()
    assert f"/jobs/{jobs['export'].pk}/" in by_id and f"/jobs/{jobs['import'].pk}/" not in by_id


def test_jobs_sort(client, viewer, manager):
    jobs = _jobs_of_every_kind(manager)
    client.force_login(viewer)

    def order(sort: str) -> list[str]:
        page = client.get("/jobs/", {"sort": sort}).content.decode()
        return sorted(jobs, key=lambda name: page.index(f"/jobs/{jobs[name].pk}/"))

    assert order("newest") == ["labels", "export", "import"]
    assert order("oldest") == ["import", "export", "labels"]
    assert order("failed") == ["import", "labels", "export"]
    assert order("status") == ["export", "labels", "import"]
    assert order("kind") == ["labels", "export", "import"]
    swapped = client.get(
        "/jobs/?sort=failed&q=harbour", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="job-table"
    )
    assert swapped.status_code == 200
    body = swapped.content.decode()
    assert body.startswith('<div id="job-table"') or '<div id="job-table"' in body[:200]
    assert "by most failed rows" in body and "<form" not in body


@pytest.mark.parametrize("q", ["NIGHT", "harbour", "traffic", "manager", "nothing like it"])
def test_jobs_search_reads_the_matching_jobs_by_index(manager, postgres_only, q):
    """Every branch of the search is an indexed lookup on the job table (kind, id, creator,
    each object parameter): PostgreSQL reads the matches alone, never every job's params."""
    _jobs_of_every_kind(manager)
    Job.objects.bulk_create(
        Job(kind="recount_stats", params={"project_id": f"other-{i}"}) for i in range(200)
    )
    sql, params = job_search(job_list_summary(), q=q).query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a small table: what can be done
        cursor.execute(f"EXPLAIN ANALYZE {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    removed = sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan))
    assert removed < 10, plan  # not the 200 other jobs read and dropped
