"""The overview: counts, queue depth per project, recent activity and the Chart.js chart of
labelling progress; its queries stay bounded whatever the number of projects."""

import pytest
from playwright.sync_api import expect

from batches.services import batch_create, label_submit, project_create, queue_next
from versions.services import dataset_create, frames_add, version_create


def seed(projects: int, labeler):
    dataset, _ = dataset_create(name="overview cams")
    version, _ = version_create(dataset=dataset, name="main")
    frames_add(
        version=version,
        frames=[
            {"id": f"o-{i}", "global_key": f"o-{i}", "sources": [{"uri": f"s3://o/{i}"}]}
            for i in range(4 * projects)
        ],
    )
    for p in range(projects):
        project = project_create(name=f"Project {p}", label_classes=["car"])
        batch_create(project=project, name="b", data_rows=[f"o-{4 * p + i}" for i in range(4)])
        for _ in range(p % 3):
            entry = queue_next(project=project, user=labeler)
            label_submit(project=project, entry_id=entry.pk, user=labeler, annotation={})


@pytest.mark.django_db(transaction=True)
def test_overview_shows_queues_activity_and_a_chart(new_page, browser_users, shot):
    seed(3, browser_users["labeler"])
    page = new_page(browser_users["manager"])
    page.goto(page.base + "/")
    queues = page.locator("table.queue-depth tbody tr")
    expect(queues).to_have_count(3)
    expect(queues.filter(has_text="Project 2")).to_contain_text("50%")
    expect(page.locator(".feed li").first).to_contain_text("labeler labelled")
    expect(page.locator(".feed")).to_contain_text("Created batch b (4 rows) in Project 0")
    page.wait_for_function("() => !!document.getElementById('progress-chart').chart")
    assert page.evaluate("Chart.version").startswith("4.")
    assert page.evaluate("document.getElementById('progress-chart').chart.data.labels.length") == 3
    shot(page, "04-overview")


@pytest.mark.django_db
def test_overview_queries_do_not_grow_with_projects(
    client, browser_users, django_assert_max_num_queries
):
    seed(2, browser_users["labeler"])
    client.force_login(browser_users["manager"])
    with django_assert_max_num_queries(25) as few:
        assert client.get("/").status_code == 200
    seed_more = len(few)
    for p in range(2, 8):
        project = project_create(name=f"More {p}")
        batch_create(project=project, name="x", global_keys=[f"o-{p % 8}"])
    with django_assert_max_num_queries(seed_more):
        assert client.get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_overview_without_javascript_shows_numbers_not_a_blank_chart(new_page, browser_users):
    seed(2, browser_users["labeler"])
    page = new_page(browser_users["manager"], js=False)
    page.goto(page.base + "/")
    expect(page.locator(".chart-box")).to_be_hidden()
    row = page.locator("table.queue-depth tbody tr").filter(has_text="Project 1")
    expect(row).to_contain_text("25%")
    expect(row.locator("td.num").first).to_have_text("3")
    # With JavaScript the chart is drawn where the box was.
    page = new_page(browser_users["manager"])
    page.goto(page.base + "/")
    expect(page.locator(".chart-box")).to_be_visible()
