"""Datasets in a browser: create one, a root version, add frames, publish a snapshot and see the
drawn version tree grow a published node with a draft child; the frame browser pages by htmx."""

import json

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def frames_json(n: int, start: int = 0) -> str:
    return json.dumps(
        [
            {
                "id": f"cam-{i:03d}",
                "global_key": f"key-{i:03d}",
                "sources": [{"uri": f"s3://bucket/cam/{i:03d}.jpg"}],
                "meta": {"n": i},
                "rois": [{"label": ["car"], "bbox": [0, 0, 1, 1]}],
            }
            for i in range(start, start + n)
        ]
    )


def test_dataset_version_frames_and_snapshot(new_page, browser_users, shot):
    page = new_page(browser_users["manager"])
    page.goto(page.base + "/datasets/")
    create = page.locator("section", has=page.get_by_role("heading", name="New dataset"))
    create.get_by_label("Name").fill("street cams")
    create.get_by_label("Tags").fill("city, day")
    create.get_by_role("button", name="Create dataset").click()
    expect(page.get_by_role("heading", name="street cams", level=1)).to_be_visible()
    expect(page.get_by_text("No versions yet.")).to_be_visible()

    # A field error is shown at the field, with the reason.
    page.get_by_role("button", name="Create version").click()  # required name left empty
    expect(page.get_by_role("heading", name="street cams", level=1)).to_be_visible()

    page.get_by_label("Name", exact=True).fill("main")
    page.get_by_role("button", name="Create version").click()
    expect(page.get_by_role("heading", name="main")).to_be_visible()

    # A bad frame list is refused with the reason; a good one adds frames.
    page.get_by_role("textbox", name="Frames").fill("{not json")
    page.get_by_role("button", name="Add frames").click()
    expect(page.locator(".msg-error")).to_contain_text("frames")
    page.get_by_role("textbox", name="Frames").fill(frames_json(30))
    page.get_by_role("button", name="Add frames").click()
    expect(page.locator(".msg-success")).to_contain_text("30 frame(s) added")
    page.get_by_role("button", name="Refresh statistics").click()
    expect(page.locator(".msg-success")).to_contain_text("30 frames")

    # The frame browser pages with htmx and keeps the address in sync.
    browser_cards = page.locator("#frame-browser .frame")
    expect(browser_cards).to_have_count(24)
    page.get_by_role("link", name="Next »").click()
    expect(browser_cards).to_have_count(6)
    assert "after=" in page.url
    page.get_by_role("link", name="‹ Previous").click()
    expect(browser_cards).to_have_count(24)
    assert "before=" in page.url
    expect(page.get_by_role("link", name="‹ Previous")).to_have_count(0)
    page.go_back()
    expect(browser_cards).to_have_count(6)
    page.go_back()
    expect(browser_cards).to_have_count(24)
    page.get_by_label("Source").fill("s3://bucket/cam/00*")
    page.get_by_role("button", name="Filter").click()
    expect(browser_cards).to_have_count(10)
    assert "source=" in page.url
    shot(page, "10-version-draft")

    page.get_by_role("link", name="Publish snapshot…").click()
    expect(page.get_by_role("heading", name="Publish a snapshot of main?")).to_be_visible()
    shot(page, "11-snapshot-confirm")
    page.get_by_label("Publish name").fill("v1")
    page.get_by_role("button", name="Publish snapshot").click()
    expect(page.locator(".msg-success")).to_contain_text("Published")

    page.get_by_role("link", name="street cams").first.click()
    expect(page.locator(".tree-node")).to_have_count(2)
    expect(page.locator(".tree .badge-published")).to_have_count(1)
    expect(page.locator("ul.tree ul.tree .badge-draft")).to_have_count(1)  # a child of v1
    shot(page, "12-dataset-tree")

    page.goto(page.base + "/datasets/")
    expect(page.get_by_role("link", name="street cams")).to_be_visible()
    shot(page, "13-dataset-list")


def test_import_a_small_file_of_data_rows(new_page, browser_users, tmp_path):
    from versions.models import DataRow
    from versions.services import dataset_create

    dataset, _ = dataset_create(name="imports")
    rows = tmp_path / "rows.ndjson"
    rows.write_text(
        "\n".join(
            json.dumps({"global_key": f"imp-{i}", "row_data": f"s3://i/{i}"}) for i in range(5)
        )
    )
    page = new_page(browser_users["manager"])
    page.goto(f"{page.base}/datasets/{dataset.pk}/")
    page.get_by_label("File (CSV, JSON array or NDJSON)").set_input_files(str(rows))
    page.get_by_role("button", name="Start import").click()
    expect(page.locator("#import-result-data_rows .job-progress")).to_have_attribute(
        "data-status", "succeeded", timeout=15_000
    )
    assert DataRow.objects.filter(dataset=dataset).count() == 5
