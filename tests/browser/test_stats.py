"""Counts are current in a browser right after imports (issue 14, bug 3): the version's Frames
tile, the version tree's "N frames" (never "?", and 0 for an empty draft) and the datasets
list's Rows, with no "Refresh statistics" — JavaScript on and off."""

import json

import pytest
from playwright.sync_api import expect

from versions.services import dataset_create, version_create

pytestmark = pytest.mark.django_db(transaction=True)

FILE_LABEL = "File (CSV, JSON array or NDJSON)"


def ndjson(tmp_path, name: str, records: list[dict]) -> str:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def start_import(page, path: str, js: bool) -> None:
    page.get_by_label(FILE_LABEL).set_input_files(path)
    page.get_by_role("button", name="Start import").click()
    progress = page.locator(".job-progress").first
    expect(progress).to_have_attribute("data-status", "succeeded", timeout=15_000)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_counts_are_current_right_after_imports(new_page, browser_users, tmp_path, js):
    dataset, _ = dataset_create(name="Traffic cams")
    page = new_page(browser_users["manager"], js=js)
    page.goto(f"{page.base}/datasets/{dataset.pk}/")
    rows = [{"global_key": f"cam-{i}", "row_data": f"https://x/{i}.jpg"} for i in range(3)]
    start_import(page, ndjson(tmp_path, "rows.ndjson", rows), js)

    page.goto(f"{page.base}/datasets/{dataset.pk}/")
    tree = page.get_by_role("main")
    expect(tree).to_contain_text("3 frames")
    expect(tree).not_to_contain_text("? frames")
    page.get_by_role("link", name="draft", exact=True).first.click()
    version_url = page.url
    frames_tile = page.locator(".tile", has_text="Frames")
    expect(frames_tile.locator(".tile-value")).to_have_text("3")

    # A frames import on the version page: the tile, the tree and the list follow it.
    more = [{"id": f"extra-{i}", "sources": [{"uri": f"s3://a/{i}"}]} for i in range(2)]
    start_import(page, ndjson(tmp_path, "frames.ndjson", more), js)
    page.goto(version_url)
    expect(page.locator(".tile", has_text="Frames").locator(".tile-value")).to_have_text("5")
    page.goto(f"{page.base}/datasets/")
    row = page.locator("#dataset-table tbody tr", has_text="Traffic cams")
    expect(row.locator("td").nth(3)).to_have_text("5")  # Rows

    # An empty draft reads "0 frames", not "? frames".
    version_create(dataset=dataset, name="scratch")
    page.goto(f"{page.base}/datasets/{dataset.pk}/")
    expect(page.locator("li", has_text="scratch").first).to_contain_text("0 frames")
    expect(page.get_by_text("? frames")).to_have_count(0)
