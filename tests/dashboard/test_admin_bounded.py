"""The admin's pages stay bounded whatever the size of the tables behind them: list filters
on related objects offer a few choices and a box for any other (by id or name), change forms
pick related objects without listing them all, inlines show a bounded share."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches.models import Batch, Project, QueueEntry
from dashboard.admin_actions import ReadOnlyInline
from dashboard.admin_filters import FILTER_CHOICES_MAX
from dashboard.events import EVENT_TYPES
from dashboard.models import Event, Job, JobError
from versions.models import DataRow, Dataset
from versions.services import dataset_create, frames_add, version_create

from ..factories import (
    BatchFactory,
    DatasetFactory,
    JobFactory,
    LabelFactory,
    QueueEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MANY = 300  # related objects, made in one statement: more than any page should list


@pytest.fixture
def admin_client(client):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    return client


@pytest.fixture
def many_batches():
    project = Project.objects.create(name="big")
    Batch.objects.bulk_create(Batch(project=project, name=f"b{i:04d}") for i in range(MANY))
    return project


@pytest.fixture
def many_projects():
    Project.objects.bulk_create(Project(name=f"p{i:04d}") for i in range(MANY))


@pytest.fixture
def many_datasets():
    Dataset.objects.bulk_create(Dataset(name=f"d{i:04d}") for i in range(MANY))


def filter_links(response, param: str) -> list[str]:
    """The values the changelist's filter links choose for `param` (`batch__id__exact`, …)."""
    assert response.status_code == 200
    return re.findall(rf'href="\?(?:[^"]*&amp;)?{param}=([^"&]+)', response.content.decode())


@pytest.mark.parametrize(
    "path,param",
    [
        ("batches/label/", "batch__id__exact"),
        ("batches/queueentry/", "batch__id__exact"),
    ],
)
def test_a_batch_filter_lists_a_bounded_share_of_100k_batches(
    admin_client, many_batches, path, param, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = admin_client.get(f"/admin/{path}")
    assert 0 < len(filter_links(response, param)) <= FILTER_CHOICES_MAX
    assert 'name="batch__lookup"' in response.content.decode()  # any other batch: typed


@pytest.mark.parametrize(
    "path",
    [
        "batches/batch/",
        "batches/label/",
        "batches/queueentry/",
        "batches/skip/",
        "batches/goldrow/",
        "batches/goldserving/",
    ],
)
def test_a_project_filter_lists_a_bounded_share_of_the_projects(admin_client, many_projects, path):
    response = admin_client.get(f"/admin/{path}")
    assert 0 < len(filter_links(response, "project__id__exact")) <= FILTER_CHOICES_MAX
    assert 'name="project__lookup"' in response.content.decode()


@pytest.mark.parametrize(
    "path,field",
    [
        ("versions/datarow/", "dataset"),
        ("versions/datasetversion/", "dataset"),
        ("versions/frameentry/", "version__dataset"),
    ],
)
def test_a_dataset_filter_lists_a_bounded_share_of_the_datasets(
    admin_client, many_datasets, path, field
):
    response = admin_client.get(f"/admin/{path}")
    assert 0 < len(filter_links(response, f"{field}__id__exact")) <= FILTER_CHOICES_MAX
    assert f'name="{field}__lookup"' in response.content.decode()


@pytest.fixture
def two_labelled_batches():
    first, second = BatchFactory(name="morning"), BatchFactory(name="evening")
    for batch in (first, second):
        LabelFactory(entry=QueueEntryFactory(batch=batch))
    return first, second


@pytest.mark.parametrize("by", ["pk", "name"])
def test_a_manager_types_a_batch_id_or_name_to_filter_by_it(
    admin_client, many_batches, two_labelled_batches, by
):
    first, _ = two_labelled_batches
    response = admin_client.get("/admin/batches/label/", {"batch__lookup": getattr(first, by)})
    assert response.status_code == 200
    assert [label.batch_id for label in response.context["cl"].result_list] == [first.pk]
    # The box keeps what was typed; "All" is not the chosen link any more.
    assert f'value="{getattr(first, by)}"' in response.content.decode()


def test_an_unknown_batch_typed_finds_nothing(admin_client, two_labelled_batches):
    response = admin_client.get("/admin/batches/label/", {"batch__lookup": "no such batch"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_a_typed_batch_longer_than_the_bound_is_refused_not_a_500(admin_client):
    response = admin_client.get("/admin/batches/label/", {"batch__lookup": "x" * 256})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_the_chosen_batch_stays_shown_when_older_than_the_newest(
    admin_client, two_labelled_batches, many_batches
):
    first, _ = two_labelled_batches  # older than the many batches made after it
    response = admin_client.get("/admin/batches/label/", {"batch__id__exact": first.pk})
    assert response.context["cl"].result_count == 1
    assert first.pk in filter_links(response, "batch__id__exact")
    assert re.search(r'<li class="selected">\s*<a [^>]*>morning', response.content.decode())


def test_the_typed_box_keeps_the_other_filters(admin_client, two_labelled_batches):
    response = admin_client.get("/admin/batches/label/", {"status": "accepted"})
    assert '<input type="hidden" name="status" value="accepted">' in response.content.decode()


def test_filters_of_a_small_table_still_list_every_object(admin_client, two_labelled_batches):
    first, second = two_labelled_batches
    response = admin_client.get("/admin/batches/label/")
    assert set(filter_links(response, "batch__id__exact")) == {first.pk, second.pk}
    assert set(filter_links(response, "project__id__exact")) == {
        first.project_id,
        second.project_id,
    }


def test_project_and_dataset_filters_are_typed_too(admin_client, two_labelled_batches):
    first, _ = two_labelled_batches
    response = admin_client.get("/admin/batches/label/", {"project__lookup": first.project_id})
    assert [label.project_id for label in response.context["cl"].result_list] == [first.project_id]
    dataset = DatasetFactory(name="cars")
    DatasetFactory(name="bikes")
    response = admin_client.get("/admin/versions/dataset/")  # no filter on itself
    assert response.status_code == 200
    response = admin_client.get("/admin/versions/datarow/", {"dataset__lookup": "cars"})
    assert response.status_code == 200 and response.context["cl"].result_count == 0
    assert dataset.name in response.content.decode()


def test_a_project_page_shows_its_newest_batches_and_links_to_all(admin_client, many_batches):
    response = admin_client.get(f"/admin/batches/project/{many_batches.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    shown = re.findall(r'<tr class="form-row[^"]*"\s+id="batches-\d+"', html)
    assert len(shown) == ReadOnlyInline.shown_max
    assert "b0299" in html and "b0000" not in html  # the newest
    assert f'?project__id__exact={many_batches.pk}">{MANY} batches</a>' in html
    listed = admin_client.get("/admin/batches/batch/", {"project__id__exact": many_batches.pk})
    assert listed.context["cl"].result_count == MANY


def test_a_project_with_many_batches_is_still_saved(admin_client, many_batches):
    response = admin_client.post(
        f"/admin/batches/project/{many_batches.pk}/change/",
        {
            "name": "bigger",
            "label_classes": "[]",
            "reservation_seconds": 600,
            "review_percentage": 0,
            "gold_percentage": 0,
            "batches-TOTAL_FORMS": 0,
            "batches-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    many_batches.refresh_from_db()
    assert many_batches.name == "bigger"


def test_a_job_page_shows_its_first_row_errors_and_links_to_all(admin_client):
    job = JobFactory(errors_count=MANY)
    JobError.objects.bulk_create(
        JobError(job=job, index=i, key=f"k{i}", message=f"bad {i}") for i in range(MANY)
    )
    response = admin_client.get(f"/admin/dashboard/job/{job.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert len(re.findall(r'id="row_errors-\d+"', html)) == ReadOnlyInline.shown_max
    assert "bad 0<" in html and "bad 299<" not in html  # the first, in order
    assert f'?job__id__exact={job.pk}">{MANY} job errors</a>' in html
    listed = admin_client.get("/admin/dashboard/joberror/", {"job__id__exact": job.pk})
    assert listed.context["cl"].result_count == MANY


def test_the_add_version_form_takes_a_dataset_id_not_a_select_of_every_one(
    admin_client, many_datasets
):
    html = admin_client.get("/admin/versions/datasetversion/add/").content.decode()
    assert re.search(r'<input type="text" name="dataset"[^>]*vForeignKeyRawIdAdminField', html)
    assert "d0299" not in html and "<option" not in html
    dataset = Dataset.objects.get(name="d0150")
    response = admin_client.post(
        "/admin/versions/datasetversion/add/",
        {"dataset": dataset.pk, "name": "v1", "description": "", "parent": "", "metadata": "{}"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert dataset.versions.get().name == "v1"


def test_the_admin_import_page_takes_a_dataset_id_not_a_select_of_every_one(
    admin_client, many_datasets
):
    response = admin_client.get("/admin/versions/datarow/import/")
    html = response.content.decode()
    assert re.search(r'<input type="text" name="dataset"[^>]*vForeignKeyRawIdAdminField', html)
    assert "d0299" not in html
    assert 'href="/admin/versions/dataset/?_to_field=id"' in html  # the lookup: a paged list
    chosen = Dataset.objects.get(name="d0150")
    response = admin_client.post("/admin/versions/datarow/import/", {"dataset": chosen.pk})
    html = response.content.decode()
    assert "d0150" in html and "d0151" not in html  # the chosen one named, no other


def queries_of(client, path: str, **params) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, params).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize(
    "path,make",
    [
        ("/admin/dashboard/job/", lambda user: JobFactory(created_by=user)),
        ("/admin/batches/project/", lambda user: Project.objects.create(name="p", created_by=user)),
    ],
)
def test_a_list_reads_its_rows_creators_with_the_rows_not_one_by_one(admin_client, path, make):
    make(UserFactory())
    one = len(queries_of(admin_client, path))
    for _ in range(25):
        make(UserFactory())
    assert len(queries_of(admin_client, path)) == one


@pytest.mark.parametrize(
    "path",
    [
        "/admin/batches/batch/",
        "/admin/batches/label/",
        "/admin/batches/skip/",
        "/admin/batches/goldrow/",
        "/admin/dashboard/job/",
        "/admin/dashboard/joberror/",
        "/admin/dashboard/event/",
        "/admin/dashboard/delivery/",
    ],
)
def test_a_searched_list_does_not_count_the_whole_table_again(admin_client, path):
    sqls = queries_of(admin_client, path, q="nothing like it")
    counts = [sql for sql in sqls if "COUNT(" in sql.upper()]
    assert len(counts) == 1, counts  # the matches' count only


@pytest.mark.parametrize(
    "path,column,table",
    [
        ("/admin/batches/queueentry/", "labels_required", QueueEntry._meta.db_table),
        ("/admin/dashboard/joberror/", "error_type", JobError._meta.db_table),
        ("/admin/dashboard/event/", "type", Event._meta.db_table),
        ("/admin/dashboard/job/", "kind", Job._meta.db_table),
    ],
)
def test_a_column_filter_does_not_read_the_distinct_values_of_every_row(
    admin_client, path, column, table
):
    sqls = queries_of(admin_client, path)
    assert not [sql for sql in sqls if "DISTINCT" in sql.upper() and table in sql]
    html = admin_client.get(path).content.decode()
    assert f'name="{column}__exact"' in html  # any value: typed


def test_the_event_type_and_job_kind_filters_offer_the_known_values(admin_client):
    html = admin_client.get("/admin/dashboard/event/").content.decode()
    assert f'href="?type__exact={EVENT_TYPES[0]}"' in html
    html = admin_client.get("/admin/dashboard/job/").content.decode()
    assert 'href="?kind__exact=recount_stats"' in html


def test_a_typed_column_value_filters_and_a_bad_one_is_refused(admin_client):
    entry = QueueEntryFactory(labels_required=2)
    QueueEntryFactory(labels_required=1)
    response = admin_client.get("/admin/batches/queueentry/", {"labels_required__exact": "2"})
    assert [e.pk for e in response.context["cl"].result_list] == [entry.pk]
    response = admin_client.get("/admin/batches/queueentry/", {"labels_required__exact": "two"})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    job = JobFactory()
    JobError.objects.bulk_create(
        JobError(job=job, message="m", error_type=t) for t in ("duplicate", "not_found")
    )
    response = admin_client.get("/admin/dashboard/joberror/", {"error_type__exact": "duplicate"})
    assert [e.error_type for e in response.context["cl"].result_list] == ["duplicate"]


@pytest.fixture
def many_row_errors():
    job = JobFactory()
    JobError.objects.bulk_create(
        JobError(job=job, index=i, message=f"bad {i}", error_type="validation") for i in range(MANY)
    )
    return job


def counts_of(sqls: list[str], table: str) -> list[str]:
    return [sql for sql in sqls if "COUNT(" in sql.upper() and table in sql]


def test_a_big_tables_unfiltered_list_takes_the_estimate_not_a_count(
    admin_client, many_row_errors, postgres_only, monkeypatch
):
    monkeypatch.setattr("dashboard.admin_counts.ESTIMATE_FROM", 100)  # "big": over 100 rows
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {JobError._meta.db_table}")
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get("/admin/dashboard/joberror/")
    table = JobError._meta.db_table
    assert counts_of([q["sql"] for q in captured.captured_queries], table) == []
    assert response.context["cl"].result_count == MANY  # ANALYZE read every row of this one
    assert f"about {MANY} job errors" in response.content.decode()
    # Filtered, it is counted exactly.
    filtered = queries_of(admin_client, "/admin/dashboard/joberror/", q="bad 1")
    assert len(counts_of(filtered, table)) == 1


def test_a_small_or_unanalysed_table_is_counted_exactly(admin_client, many_row_errors):
    sqls = queries_of(admin_client, "/admin/dashboard/joberror/")
    assert len(counts_of(sqls, JobError._meta.db_table)) == 1
    html = admin_client.get("/admin/dashboard/joberror/").content.decode()
    assert f"{MANY} job errors" in html and "about" not in html


def test_exporting_every_data_row_reads_their_ids_a_chunk_at_a_time(admin_client, monkeypatch):
    dataset, _ = dataset_create(name="cams")
    version, _ = version_create(dataset=dataset, name="draft")
    frames_add(
        version=version,
        frames=[{"id": f"f{i:04d}", "sources": [{"uri": f"s3://x/{i}"}]} for i in range(MANY)],
    )
    monkeypatch.setattr("versions.admin.EXPORT_IDS_CHUNK", 100)
    response = admin_client.post(
        "/admin/versions/datarow/",
        {"action": "export_ndjson", "select_across": "1", "index": 0, "_selected_action": "x"},
    )
    assert response.status_code == 200
    with CaptureQueriesContext(connection) as captured:
        lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == MANY and len({json.loads(line)["id"] for line in lines}) == MANY
    table = DataRow._meta.db_table
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith(f'SELECT "{table}"."id" AS "pk" FROM "{table}"')
    ]
    assert len(reads) == MANY // 100 + 1 and all("LIMIT 100" in sql for sql in reads)
