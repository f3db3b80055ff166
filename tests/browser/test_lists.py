"""Lists you can search and sort (issue 14): projects, datasets (with a tag picker and the tag
language explained) and a project's batches — JavaScript on and off."""

import pytest
from playwright.sync_api import expect

from batches.services import batch_create, project_create
from versions.services import dataset_create, frames_add, version_create

pytestmark = pytest.mark.django_db(transaction=True)


def names(page, selector: str) -> list[str]:
    return [cell.inner_text() for cell in page.locator(selector).all()]


@pytest.mark.parametrize("js", [True, False])
def test_projects_and_batches_search_and_sort(new_page, browser_users, js):
    dataset, _ = dataset_create(name="cams")
    version, _ = version_create(dataset=dataset, name="main")
    frames_add(
        version=version,
        frames=[
            {"id": f"c-{i}", "global_key": f"c-{i}", "sources": [{"uri": "x"}]} for i in range(4)
        ],
    )
    street = project_create(name="Street scenes", description="day shift")
    project_create(name="Night", description="street lights")
    project_create(name="Harbour")
    for i, (name, priority) in enumerate([("zeta", 1), ("alpha-cams", 2), ("beta-cams", 3)]):
        batch_create(project=street, name=name, global_keys=[f"c-{i}"], priority=priority)

    page = new_page(browser_users["manager"], js=js)
    page.goto(page.base + "/projects/")
    page.get_by_role("searchbox", name="Search").fill("street")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#project-table .showing")).to_have_text("2 projects match “street”.")
    assert names(page, "#project-table tbody td:first-child") == ["Night", "Street scenes"]
    page.get_by_role("searchbox", name="Search").fill("")
    page.get_by_label("Sort by").select_option("name")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#project-table tbody tr").first).to_contain_text("Harbour")
    assert names(page, "#project-table tbody td:first-child") == [
        "Harbour",
        "Night",
        "Street scenes",
    ]
    page.goto(page.base + "/projects/?q=" + "x" * 101)
    expect(page.get_by_role("alert")).to_contain_text("at most 100 characters")

    page.goto(page.base + f"/projects/{street.pk}/")
    assert names(page, "#batch-table td.batch-name") == ["zeta", "alpha-cams", "beta-cams"]
    page.get_by_role("searchbox", name="Search").fill("cams")
    page.get_by_label("Sort by").select_option("name")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#batch-table .showing")).to_contain_text(
        "2 batches matching “cams”, by name"
    )
    assert names(page, "#batch-table td.batch-name") == ["alpha-cams", "beta-cams"]
    expect(page.get_by_role("button", name="Move beta-cams up")).to_have_count(0)
    page.locator("#batch-table .showing").get_by_role("link", name="show it").click()
    expect(page.get_by_role("button", name="Move beta-cams up")).to_be_visible()


@pytest.mark.parametrize("js", [True, False])
def test_datasets_search_and_the_tag_picker(new_page, browser_users, js):
    for name, tags in [
        ("roads", ["best"]),
        ("roads-debug", ["best", "debug"]),
        ("rivers", ["debug"]),
        ("lakes", []),
    ]:
        dataset_create(name=name, tags=tags)
    page = new_page(browser_users["labeler"], js=js)
    page.goto(page.base + "/datasets/")
    picker = page.get_by_role("navigation", name="Tags in use")
    picker.get_by_role("link", name="best", exact=True).click()
    expect(page.locator("#dataset-table .showing")).to_contain_text(
        "2 datasets match the tags best"
    )
    page.get_by_role("navigation", name="Tags in use").get_by_role(
        "link", name="Exclude debug"
    ).click()
    expect(page.get_by_role("textbox", name="Tags")).to_have_value("best -debug")
    assert names(page, "#dataset-table tbody td:first-child") == ["roads"]
    page.get_by_role("link", name="clear the tags").click()
    page.get_by_role("searchbox", name="Search").fill("ROADS")
    page.get_by_label("Sort by").select_option("newest")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#dataset-table .showing")).to_contain_text("2 datasets match “ROADS”")
    assert names(page, "#dataset-table tbody td:first-child") == ["roads-debug", "roads"]
    page.get_by_text("How the tag filter reads").click()
    expect(page.get_by_text("tagged best and not debug")).to_be_visible()


@pytest.mark.parametrize("js", [True, False])
def test_jobs_search_and_sort(new_page, browser_users, js):
    from dashboard.models import Job

    dataset, _ = dataset_create(name="Traffic cams")
    version, _ = version_create(dataset=dataset, name="draft")
    harbour = project_create(name="Harbour watch")
    for kind, status, errors, params in [
        ("import", "succeeded", 3, {"dataset_id": dataset.pk, "version_id": version.pk}),
        ("export_batches", "failed", 0, {"project_id": harbour.pk}),
        ("import", "succeeded", 7, {"dataset_id": dataset.pk, "version_id": version.pk}),
    ]:
        Job.objects.create(kind=kind, status=status, errors_count=errors, params=params)

    page = new_page(browser_users["manager"], js=js)
    page.goto(page.base + "/jobs/")
    expect(page.locator("#job-table tbody tr")).to_have_count(3)
    page.get_by_role("searchbox", name="Search").fill("traffic")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#job-table .showing")).to_have_text("2 jobs match “traffic”.")
    assert names(page, "#job-table tbody td:nth-child(4)") == ["7", "3"]
    page.get_by_label("Sort by").select_option("failed")
    if not js:
        page.get_by_role("button", name="Filter").click()
    expect(page.locator("#job-table .showing")).to_have_text(
        "2 jobs match “traffic”, by most failed rows."
    )
    assert names(page, "#job-table tbody td:nth-child(4)") == ["7", "3"]
    page.get_by_label("Sort by").select_option("oldest")
    if not js:
        page.get_by_role("button", name="Filter").click()
    expect(page.locator("#job-table .showing")).to_contain_text("by oldest")
    assert names(page, "#job-table tbody td:nth-child(4)") == ["3", "7"]
    assert "sort=oldest" in page.url and "q=traffic" in page.url
    page.get_by_role("searchbox", name="Search").fill("harbour")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#job-table tbody tr")).to_have_count(1)
    expect(page.locator("#job-table tbody")).to_contain_text("Harbour watch")
    page.goto(page.base + "/jobs/?sort=longest")
    expect(page.get_by_role("alert")).to_contain_text("Sort by newest, oldest")
    expect(page.locator("#job-table tbody tr")).to_have_count(3)
