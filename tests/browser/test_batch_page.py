"""A batch page (issue 14): its facts and consensus in words, progress by state, its rows
(paged, by state, linked to their frames), the latest labels, its own export, and removing
its queued rows behind a confirmation that says what will happen — JavaScript on and off."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from batches.models import Batch
from batches.services import batch_create, label_submit, project_create, queue_next
from dashboard.models import Job
from dashboard.roles import Role
from tests.factories import UserFactory
from versions.services import dataset_create, frames_add, version_create

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/shots_ui14b")


@pytest.fixture
def batch(browser_users):
    dataset, _ = dataset_create(name="depot")
    version, _ = version_create(dataset=dataset, name="main")
    frames_add(
        version=version,
        frames=[
            {
                "id": f"d-{i:03d}",
                "global_key": f"depot-{i:03d}",
                "sources": [{"uri": f"s3://depot/{i}.jpg"}],
                "meta": {"bay": i % 4},
            }
            for i in range(60)
        ],
    )
    project = project_create(name="Depot", label_classes=["truck", "van"])
    batch, _ = batch_create(
        project=project,
        name="morning",
        global_keys=[f"depot-{i:03d}" for i in range(60)],
        priority=2,
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 0.25},
    )
    labeler, other = browser_users["labeler"], UserFactory(username="ann", role=Role.LABELER)
    queue_next(project=project, user=other)  # held by a labeler, unlabelled
    for _ in range(3):
        entry = queue_next(project=project, user=labeler)
        label_submit(
            project=project, entry_id=entry.pk, user=labeler, annotation={"classes": ["van"]}
        )
    return Batch.objects.get(pk=batch.pk)


def test_the_batch_page(new_page, browser_users, batch):
    project = batch.project
    labelled = batch.queue_entries.filter(labels_count__gt=0).count()
    page = new_page(browser_users["manager"])
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(page.base + f"/projects/{project.pk}/")
    row = page.locator("#batch-table tbody tr").first
    expect(row).to_contain_text("2 labels on 25% of rows")
    row.get_by_role("link", name="morning", exact=True).click()

    expect(page.get_by_role("heading", name="morning", level=1)).to_be_visible()
    facts = page.locator(".batch-facts")
    expect(facts).to_contain_text("2 labels on 25% of rows")
    expect(facts).to_contain_text("Made froma list of rows")
    tiles = page.get_by_role("region", name="Progress")
    expect(tiles).to_contain_text("60Rows")
    expect(tiles).to_contain_text("3Labels")
    expect(tiles).to_contain_text("1Reserved now")
    rows = page.locator("#batch-rows")
    expect(rows.locator(".showing")).to_have_text("Showing 1–50 of 60 rows.")
    expect(page.get_by_role("region", name="Latest labels")).to_contain_text("by labeler")
    page.screenshot(
        path=str(SHOTS.mkdir(exist_ok=True) or SHOTS / "batch-page.png"), full_page=True
    )

    page.get_by_role("link", name="Next →").click()
    expect(rows.locator(".showing")).to_have_text("Showing 51–60 of 60 rows.")
    page.get_by_role("navigation", name="Rows by state").get_by_role(
        "link", name="Reserved 1"
    ).click()
    expect(rows.locator(".showing")).to_have_text("Showing 1–1 of 1 reserved row.")
    page.get_by_role("navigation", name="Rows by state").get_by_role("link", name="All 60").click()
    rows.get_by_role("link", name="depot-000").click()
    expect(page.get_by_role("heading", name="depot-000", level=1)).to_be_visible()
    page.go_back()

    # Its own export: a job for this batch only.
    page.goto(page.base + f"/projects/{project.pk}/batches/{batch.pk}/")
    page.get_by_role("region", name="Export this batch").get_by_role(
        "button", name="Start the export"
    ).click()
    expect(page).to_have_url(re.compile(r"/jobs/\w+/$"))
    job = Job.objects.get(kind="export_batches")
    assert job.params["batch_ids"] == [batch.pk]

    # Removing the queued rows says what will happen first.
    page.goto(page.base + f"/projects/{project.pk}/batches/{batch.pk}/")
    page.get_by_role("link", name="Remove queued rows…").click()
    removable = 60 - labelled - 1
    expect(page.locator("main form")).to_contain_text(
        f"{removable} rows without labels will leave the batch and the queue"
    )
    expect(page.locator("main form")).to_contain_text("1 row held by a labeler stays")
    expect(page.locator("main form")).to_contain_text(
        f"{labelled} rows with labels stay in the batch, which will then hold {labelled + 1} rows"
    )
    page.screenshot(path=str(SHOTS / "batch-remove-confirm.png"), full_page=True)
    page.get_by_role("button", name=f"Remove {removable} rows").click()
    expect(page.locator(".msg-success")).to_contain_text(f"{removable} rows removed; 1 held")
    expect(page.locator("#batch-rows .showing")).to_have_text(
        f"Showing 1–{labelled + 1} of {labelled + 1} rows."
    )


def test_the_batch_page_without_javascript(new_page, browser_users, batch):
    project = batch.project
    page = new_page(browser_users["manager"], js=False)
    page.goto(page.base + f"/projects/{project.pk}/batches/{batch.pk}/")
    page.get_by_role("link", name="Reserved 1").click()
    expect(page.locator("#batch-rows .showing")).to_have_text("Showing 1–1 of 1 reserved row.")
    expect(page.locator("#batch-rows tbody tr")).to_have_count(1)
    page.get_by_role("link", name=re.compile(r"^Queued \d+$")).click()
    expect(page.locator("#batch-rows .showing")).to_contain_text("queued rows")
    page.get_by_role("link", name="Remove queued rows…").click()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="morning", level=1)).to_be_visible()
    assert Batch.objects.get(pk=batch.pk).size == 60


def test_a_viewer_sees_the_batch_but_not_its_labels_or_verbs(new_page, batch):
    viewer = UserFactory(username="vic", role=Role.VIEWER)
    page = new_page(viewer)
    page.goto(page.base + f"/projects/{batch.project.pk}/batches/{batch.pk}/")
    expect(page.get_by_role("heading", name="morning", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Latest labels")).to_have_count(0)
    expect(page.get_by_role("link", name="Remove queued rows…")).to_have_count(0)
    expect(page.get_by_role("region", name="Export this batch")).to_have_count(0)
