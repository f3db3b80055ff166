"""The same flows with JavaScript off: every action is a plain link or form that works with a
full page load (batches from a dataset, inline priority, reordering, labeling, confirmations)."""

import pytest
from playwright.sync_api import expect

from batches.models import Batch, Label
from versions.services import dataset_create, frames_add, version_create

pytestmark = pytest.mark.django_db(transaction=True)


def batch_row(page, name: str):
    return page.locator("#batch-table tbody tr", has=page.get_by_text(name, exact=True))


def test_batches_flow_without_javascript(new_page, browser_users, shot):
    dataset, _ = dataset_create(name="night cams")
    version, _ = version_create(dataset=dataset, name="main")
    frames_add(
        version=version,
        frames=[
            {"id": f"n-{i}", "global_key": f"n-{i}", "sources": [{"uri": f"s3://n/{i}"}]}
            for i in range(6)
        ],
    )
    page = new_page(browser_users["manager"], js=False)
    page.goto(page.base + "/projects/")
    page.get_by_label("Name").fill("Night")
    page.get_by_label("Label classes (comma-separated)").fill("car")
    page.get_by_role("button", name="Create project").click()
    project_url = page.url

    page.get_by_role("link", name="New batch").click()
    page.get_by_label("Name").fill("first")
    page.get_by_label("One per line").fill("n-0\nn-1")
    page.get_by_role("button", name="Create batch").click()
    expect(page.locator(".msg-success")).to_contain_text("with 2 rows")

    # From a dataset: without JS the version list is not refreshed, the dataset alone suffices.
    page.get_by_role("link", name="Batches from a dataset").click()
    page.get_by_label("Name prefix").fill("night-")
    page.get_by_label("Dataset").select_option(label="night cams")
    page.get_by_role("button", name="Create batches").click()
    expect(page.locator(".job-progress")).to_have_attribute("data-status", "succeeded")
    shot(page, "30-nojs-job-done")
    assert Batch.objects.filter(name="night-0000", size=4).exists()

    # Inline priority is a plain form: a full page comes back with the new order.
    page.goto(project_url)
    row = batch_row(page, "night-0000")
    row.get_by_role("textbox", name="Priority of night-0000").fill("1")
    row.get_by_role("button", name="Save the priority of night-0000").click()
    expect(page).to_have_url(project_url)
    expect(page.locator("#batch-table tbody tr").first).to_contain_text("night-0000")
    expect(page.locator("#queue-preview li").first).to_contain_text("n-2")
    # A bad value comes back with the reason.
    row = batch_row(page, "night-0000")
    row.get_by_role("textbox", name="Priority of night-0000").fill("x")
    row.get_by_role("button", name="Save the priority of night-0000").click()
    expect(page.locator(".msg-error")).to_contain_text("night-0000: Priority must be a whole")

    batch_row(page, "first").get_by_role("button", name="Move first up").click()
    expect(page).to_have_url(project_url)
    expect(page.locator("#batch-table tbody tr").first).to_contain_text("first")
    expect(page.locator("#queue-preview li").first).to_contain_text("n-0")
    shot(page, "31-nojs-project")

    labeler = new_page(browser_users["labeler"], js=False)
    labeler.goto(project_url + "label/")
    labeler.get_by_role("button", name="Take the next row").click()
    labeler.get_by_label("car").check()
    labeler.get_by_role("button", name="Submit").click()
    expect(labeler.locator(".msg-success")).to_contain_text("Label saved")
    assert Label.objects.count() == 1

    batch_row(page, "first").get_by_role("link", name="Delete batch first…").click()
    expect(page.get_by_text("it cannot be deleted until they are")).to_be_visible()
    page.get_by_role("link", name="Delete its labels first").click()
    page.get_by_role("button", name="Delete the labels").click()
    expect(page.locator(".msg-success")).to_contain_text("1 label deleted")
    assert Label.objects.count() == 0
