"""The create-batch forms in a browser: without JavaScript a dataset's versions are shown
without creating anything; every value (consensus included) is kept after a refusal; each
consensus box shows its own error in the page's words; an out-of-range priority reads as a
range, not as "32-bit signed integer"; an empty queue preview is not a numbered item."""

import pytest
from playwright.sync_api import expect

from batches.models import Batch
from batches.services import project_create
from dashboard.models import Job
from versions.services import dataset_create, frames_add, version_create, version_snapshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(browser_users):
    project = project_create(name="Night", label_classes=["car"])
    dataset, _ = dataset_create(name="night cams")
    main, _ = version_create(dataset=dataset, name="main")
    frames_add(
        version=main,
        frames=[
            {"id": f"n-{i}", "global_key": f"n-{i}", "sources": [{"uri": f"s3://n/{i}"}]}
            for i in range(4)
        ],
    )
    version_snapshot(version=main, publish_name="v1")
    return project, dataset


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_datasets_versions_show_without_creating_batches(new_page, browser_users, setup, js):
    project, dataset = setup
    page = new_page(browser_users["manager"], js=js)
    page.goto(f"{page.base}/projects/{project.pk}/batches/from-dataset/")
    page.get_by_label("Name prefix").fill("night-")
    page.get_by_label("Dataset").select_option(label="night cams")
    if not js:
        page.get_by_role("button", name="Show its versions").click()
    versions = page.locator("#id_version option")
    expect(versions).to_have_count(3)  # every row, v1 (published), main (draft)
    expect(page.locator("#id_version")).to_contain_text("v1 (published)")
    assert not Batch.objects.exists()
    assert not Job.objects.filter(kind="create_batches_from_dataset").exists()
    expect(page.get_by_label("Name prefix")).to_have_value("night-")
    page.get_by_label("Version").select_option(label="v1 (published)")
    page.get_by_role("button", name="Create batches").click()
    expect(page.locator(".job-progress")).to_have_attribute(
        "data-status", "succeeded", timeout=15_000
    )
    assert Batch.objects.get().size == 4


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_consensus_values_and_errors_stay_with_their_boxes(new_page, browser_users, setup, js):
    project, dataset = setup
    page = new_page(browser_users["manager"], js=js)
    page.goto(f"{page.base}/projects/{project.pk}/batches/from-dataset/")
    page.get_by_label("Name prefix").fill("night-")
    page.get_by_label("Dataset").select_option(label="night cams")
    page.get_by_label("Labels per row").fill("0")
    page.get_by_label("Coverage (0–1]").fill("0.5")
    page.get_by_role("button", name="Create batches").click()
    labels_box = page.locator(".consensus .field", has=page.get_by_label("Labels per row"))
    expect(labels_box.locator(".field-error")).to_have_text(
        "Labels per row must be a whole number from 1 to 100."
    )
    expect(page.locator(".consensus")).not_to_contain_text("number_of_labels")
    # Every value is kept (bug 5).
    expect(page.get_by_label("Labels per row")).to_have_value("0")
    expect(page.get_by_label("Coverage (0–1]")).to_have_value("0.5")
    expect(page.get_by_label("Name prefix")).to_have_value("night-")
    # A missing coverage is marked at the coverage box.
    page.get_by_label("Labels per row").fill("2")
    page.get_by_label("Coverage (0–1]").fill("")
    page.get_by_role("button", name="Create batches").click()
    cover_box = page.locator(".consensus .field", has=page.get_by_label("Coverage (0–1]"))
    expect(cover_box.locator(".field-error")).to_have_text(
        "Give the coverage too (or clear the labels per row)."
    )
    expect(page.get_by_label("Labels per row")).to_have_value("2")
    # A priority out of range reads as a range.
    page.get_by_label("Coverage (0–1]").fill("0.5")
    page.get_by_label("Priority (empty = lowest)").fill("99999999999")
    page.get_by_role("button", name="Create batches").click()
    expect(page.locator("#priority-error")).to_contain_text(
        "Priority must be a whole number from -2,147,483,648 to 2,147,483,647"
    )
    expect(page.get_by_label("Labels per row")).to_have_value("2")
    expect(page.get_by_label("Coverage (0–1]")).to_have_value("0.5")
    assert not Batch.objects.exists()


def test_the_new_batch_form_marks_the_consensus_box_at_fault(new_page, browser_users, setup):
    project, _ = setup
    page = new_page(browser_users["manager"])
    page.goto(f"{page.base}/projects/{project.pk}/batches/new/")
    page.get_by_label("Name").fill("b")
    page.get_by_label("One per line").fill("n-0")
    page.get_by_label("Coverage (0–1]").fill("3")
    page.get_by_label("Labels per row").fill("2")
    page.get_by_role("button", name="Create batch").click()
    cover_box = page.locator(".consensus .field", has=page.get_by_label("Coverage (0–1]"))
    expect(cover_box.locator(".field-error")).to_contain_text("Coverage must be a share")
    expect(page.get_by_label("Coverage (0–1]")).to_have_value("3")


def test_an_empty_queue_preview_is_not_a_numbered_item(new_page, browser_users, setup):
    project, _ = setup
    page = new_page(browser_users["manager"])
    page.goto(f"{page.base}/projects/{project.pk}/")
    expect(page.locator("#queue-preview")).to_contain_text("Nothing left to label.")
    expect(page.locator("#queue-preview li")).to_have_count(0)
