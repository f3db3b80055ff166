"""Projects and batches in a browser: create batches from a dataset and watch the job's bar run
to done and stop polling; inline priority edits that reorder the queue preview; up/down
reordering; a labeler takes, submits and skips rows; deleting a batch with labels is refused;
deleting labels through the confirmation."""

import time

import pytest
from playwright.sync_api import expect

from batches.models import Label, Skip
from versions.services import dataset_create, frames_add, version_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cams(browser_users):
    """A dataset whose draft version holds 12 frames (data rows cam-000 … cam-011)."""
    dataset, _ = dataset_create(name="street cams")
    version, _ = version_create(dataset=dataset, name="main")
    frames_add(
        version=version,
        frames=[
            {
                "id": f"cam-{i:03d}",
                "global_key": f"key-{i:03d}",
                "sources": [{"uri": f"s3://b/{i}"}],
            }
            for i in range(12)
        ],
    )
    return dataset


def batch_row(page, name: str):
    return page.locator("#batch-table tbody tr", has=page.get_by_text(name, exact=True))


def preview_first(page):
    return page.locator("#queue-preview li").first


def test_manager_and_labeler_flow(new_page, browser_users, cams, delayed_jobs, shot):
    page = new_page(browser_users["manager"])
    page.goto(page.base + "/projects/")
    page.get_by_label("Name").fill("Street scenes")
    page.get_by_label("Label classes (comma-separated)").fill("car, person")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Street scenes", level=1)).to_be_visible()
    project_url = page.url

    # A small batch by global keys.
    page.get_by_role("link", name="New batch").click()
    page.get_by_label("Name").fill("manual")
    page.get_by_label("One per line").fill("key-000\nkey-001\nkey-002")
    page.get_by_role("button", name="Create batch").click()
    expect(page.locator(".msg-success")).to_contain_text("with 3 rows")

    # The rest from the dataset, in a background job whose bar is watched until it ends.
    page.get_by_role("link", name="Batches from a dataset").click()
    page.get_by_label("Name prefix").fill("cams-")
    page.get_by_label("Dataset").select_option(label="street cams")
    expect(page.locator("#id_version option", has_text="main (draft)")).to_have_count(1)
    page.get_by_role("button", name="Create batches").click()
    bar = page.locator(".job-progress")
    expect(bar).to_have_attribute("data-status", "queued")
    job_id = bar.get_attribute("id").removeprefix("job-")
    polls = []
    page.on("request", lambda r: polls.append(r.url) if f"/jobs/{job_id}/" in r.url else None)
    shot(page, "20-job-queued")
    expect(bar).to_have_attribute("data-status", "succeeded", timeout=15_000)
    expect(bar.locator("progress")).to_have_attribute("value", "100")
    expect(bar).to_contain_text("9 / 9")
    assert polls, "the progress bar never polled"
    assert bar.get_attribute("hx-trigger") is None
    ended_at = len(polls)
    time.sleep(2.5)
    assert len(polls) == ended_at, f"still polling after the end: {polls[ended_at:]}"
    shot(page, "21-job-succeeded")

    # Inline priority: the table and the queue preview follow without a reload.
    page.goto(project_url)
    expect(batch_row(page, "cams-0000")).to_be_visible()
    expect(preview_first(page)).to_contain_text("key-000")
    marker = page.evaluate("window.__noReload = 1")  # noqa: F841 - survives only htmx swaps
    row = batch_row(page, "cams-0000")
    row.get_by_role("textbox", name="Priority of cams-0000").fill("1")
    row.get_by_role("button", name="Save the priority of cams-0000").click()
    expect(preview_first(page)).to_contain_text("key-003")
    expect(preview_first(page)).to_contain_text("priority 1")
    assert page.evaluate("window.__noReload") == 1
    expect(page.locator("#batch-table tbody tr").first).to_contain_text("cams-0000")

    # A bad priority is refused at the field, with the reason.
    row = batch_row(page, "cams-0000")
    row.get_by_role("textbox", name="Priority of cams-0000").fill("soon")
    row.get_by_role("button", name="Save the priority of cams-0000").click()
    expect(row.locator(".field-error")).to_contain_text("whole number")
    expect(row.get_by_role("textbox", name="Priority of cams-0000")).to_have_attribute(
        "aria-invalid", "true"
    )

    # Reorder: move "manual" up; it is served first again.
    batch_row(page, "manual").get_by_role("button", name="Move manual up").click()
    expect(page.locator("#batch-table tbody tr").first).to_contain_text("manual")
    expect(preview_first(page)).to_contain_text("key-000")
    assert page.evaluate("window.__noReload") == 1
    shot(page, "22-project")

    # The manager opens the delete confirmation while the batch has no labels yet …
    batch_row(page, "manual").get_by_role("link", name="Delete batch manual…").click()
    expect(page.get_by_role("heading", name="Delete batch manual?")).to_be_visible()

    # … meanwhile a labeler takes, submits and skips rows.
    labeler = new_page(browser_users["labeler"])
    labeler.goto(project_url + "label/")
    labeler.get_by_role("button", name="Take the next row").click()
    expect(labeler.get_by_role("heading", name="key-000")).to_be_visible()
    shot(labeler, "23-labeling")
    labeler.get_by_label("car").check()
    labeler.get_by_role("button", name="Submit").click()
    expect(labeler.locator(".msg-success")).to_contain_text("Label saved")
    expect(labeler.get_by_role("heading", name="key-001")).to_be_visible()
    labeler.get_by_role("button", name="Skip").click()
    expect(labeler.locator(".msg-info")).to_contain_text("Skipped")
    expect(labeler.get_by_role("heading", name="key-002")).to_be_visible()
    labeler.get_by_label("Annotation").fill("{oops")
    labeler.get_by_role("button", name="Submit").click()
    expect(labeler.get_by_role("alert")).to_contain_text("Malformed JSON")
    assert Label.objects.count() == 1 and Skip.objects.count() == 1
    assert Label.objects.get().annotation == {"classes": ["car"]}

    # … so the delete is refused, with the reason.
    page.get_by_role("button", name="Delete the batch").click()
    expect(page.get_by_role("alert")).to_contain_text("has 1 label: delete its labels first")
    shot(page, "24-delete-refused")

    # Delete the labels through their confirmation; then the batch can go.
    page.get_by_role("link", name="Delete its labels first").click()
    expect(page.get_by_text("1 label will be deleted")).to_be_visible()
    shot(page, "25-delete-labels-confirm")
    page.get_by_label("Keep the deleted labels as templates").check()
    page.get_by_role("button", name="Delete the labels").click()
    expect(page.locator(".msg-success")).to_contain_text("1 label deleted; 1 row re-queued")
    assert Label.objects.count() == 0
    batch_row(page, "manual").get_by_role("link", name="Delete batch manual…").click()
    page.get_by_role("button", name="Delete the batch").click()
    expect(page.locator(".msg-success")).to_contain_text("Batch 'manual' deleted")
    expect(batch_row(page, "manual")).to_have_count(0)
