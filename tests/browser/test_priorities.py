"""Priorities on the project page (issue 14): moving a batch keeps the user's numbers where it
can and says what changed; a saved priority is confirmed; consensus reads "2 labels on 25% of
rows" — with JavaScript on (the table swaps in place) and off (a message after the redirect)."""

import pytest
from playwright.sync_api import expect

from batches.services import batch_create, project_create
from versions.services import dataset_create, frames_add, version_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project(browser_users):
    dataset, _ = dataset_create(name="lanes")
    version, _ = version_create(dataset=dataset, name="main")
    frames_add(
        version=version,
        frames=[
            {"id": f"l-{i}", "global_key": f"lane-{i}", "sources": [{"uri": "x"}]} for i in range(3)
        ],
    )
    project = project_create(name="Lanes")
    for i, priority in enumerate([10, 20, 30]):
        batch_create(
            project=project,
            name=f"lane{i}",
            global_keys=[f"lane-{i}"],
            priority=priority,
            consensus_settings={"number_of_labels": 2, "coverage_percentage": 0.25}
            if i == 0
            else None,
        )
    return project


def priorities(page) -> list[tuple[str, str]]:
    rows = page.locator("#batch-table tbody tr")
    return [
        (
            row.locator("td.batch-name").inner_text(),
            row.locator("input[name=priority]").input_value(),
        )
        for row in rows.all()
    ]


@pytest.mark.parametrize("js", [True, False])
def test_moving_keeps_the_numbers_and_saves_confirm(new_page, browser_users, project, js):
    page = new_page(browser_users["manager"], js=js)
    page.goto(page.base + f"/projects/{project.pk}/")
    expect(page.locator("#batch-table tbody tr").first).to_contain_text("2 labels on 25% of rows")
    page.get_by_role("button", name="Move lane2 up").click()
    notice = page.locator("#batch-table .msg-success" if js else ".msg-success").first
    expect(notice).to_contain_text("Moved lane2 up. Priorities: lane2 30 → 20, lane1 20 → 30.")
    assert priorities(page) == [("lane0", "10"), ("lane2", "20"), ("lane1", "30")]

    row = page.locator("#batch-table tbody tr").filter(has_text="lane1")
    row.get_by_role("textbox", name="Priority of lane1").fill("5")
    row.get_by_role("button", name="Save the priority of lane1").click()
    expect(page.locator(".msg-success").first).to_contain_text("lane1: priority 30 → 5.")
    assert priorities(page) == [("lane1", "5"), ("lane0", "10"), ("lane2", "20")]
