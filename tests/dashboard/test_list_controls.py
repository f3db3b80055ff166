"""The list pages' search and sort: bounded, refused with the reason (400 on a full page, the
message in the swapped table with htmx), and applied alike on projects and datasets."""

import pytest

from batches.services import project_create
from versions.services import dataset_create

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
@pytest.mark.parametrize("path", ["/projects/", "/datasets/"])
def test_a_bad_search_or_sort_is_refused_with_the_reason(client, viewer, path, query, message):
    client.force_login(viewer)
    if path == "/datasets/":
        message = message.replace("newest, oldest", "oldest, newest")
    page = client.get(f"{path}?{query}")
    assert page.status_code == 400 and message in page.content.decode()
    target = "project-table" if path == "/projects/" else "dataset-table"
    swapped = client.get(f"{path}?{query}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)
    assert swapped.status_code == 200 and message in swapped.content.decode()


def test_datasets_search_and_the_tags_in_use(client, viewer):
    dataset_create(name="roads", tags=["best"], dataset_project="city")
    dataset_create(name="rivers", tags=["debug"])
    client.force_login(viewer)
    page = client.get("/datasets/?q=CITY").content.decode()
    assert ">roads<" in page and ">rivers<" not in page
    assert 'aria-label="Exclude debug"' in page and "?tags=best" in page
