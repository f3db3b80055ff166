"""Imports in a browser: a refused import says why on the page (JS on and off, dataset and
version pages, in the page's words); the card lists the columns and offers sample files; a
preview shows the first rows with the detected columns and problems before anything starts;
the dataset page names the draft that gets the rows; a failed import leaves no empty draft."""

import json

import pytest
from playwright.sync_api import expect

from dashboard.models import Job
from versions.models import DatasetVersion
from versions.services import dataset_create, frames_add, version_create, version_snapshot

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = "/tmp/shots_ui14a"
FILE_LABEL = "File (CSV, JSON array or NDJSON)"


def csv_file(tmp_path, text: str, name: str = "rows.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_refused_import_says_why_on_the_dataset_page(new_page, browser_users, tmp_path, js):
    dataset, _ = dataset_create(name="Traffic cams")
    page = new_page(browser_users["manager"], js=js)
    page.goto(f"{page.base}/datasets/{dataset.pk}/")
    bad = csv_file(tmp_path, "global_key,row_data,colour\nk-1,s3://a/1,red\n")
    page.get_by_label(FILE_LABEL).set_input_files(bad)
    page.get_by_role("button", name="Start import").click()
    alert = page.locator(".import-card [role=alert]")
    expect(alert).to_contain_text("Unknown column(s) 'colour'")
    expect(alert).to_contain_text("tick “ignore unknown columns”")
    expect(alert).not_to_contain_text("?unknown=ignore")
    # The page around it is the styled dataset page, not a bare fragment.
    expect(page.get_by_role("heading", name="Traffic cams", level=1)).to_be_visible()
    expect(page.locator("header.topbar")).to_be_visible()
    assert Job.objects.count() == 0
    # Ticking the box the message names lets the same file through.
    page.get_by_label(FILE_LABEL).set_input_files(bad)
    page.get_by_label("ignore unknown columns").check()
    page.get_by_role("button", name="Start import").click()
    if js:
        expect(page.locator("#import-result-data_rows .job-progress")).to_have_attribute(
            "data-status", "succeeded", timeout=15_000
        )
    else:
        expect(page.locator(".job-progress")).to_have_attribute("data-status", "succeeded")


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_refused_frame_import_says_why_on_the_version_page(new_page, browser_users, tmp_path, js):
    dataset, _ = dataset_create(name="Traffic cams")
    version, _ = version_create(dataset=dataset, name="main")
    page = new_page(browser_users["manager"], js=js)
    page.goto(f"{page.base}/versions/{version.pk}/")
    expect(page.get_by_text("Rows go into Traffic cams / main")).to_be_visible()
    page.get_by_label(FILE_LABEL).set_input_files(csv_file(tmp_path, "", name="empty.csv"))
    page.get_by_role("button", name="Start import").click()
    expect(page.locator(".import-card [role=alert]")).to_contain_text("The file is empty.")
    expect(page.get_by_role("heading", name="main")).to_be_visible()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_the_preview_shows_the_first_rows_before_anything_starts(
    new_page, browser_users, tmp_path, js
):
    dataset, _ = dataset_create(name="Traffic cams")
    page = new_page(browser_users["manager"], js=js)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{page.base}/datasets/{dataset.pk}/")
    card = page.locator(".import-card")
    # The columns, required ones marked, and sample files to start from.
    guide = card.locator("table.columns-guide")
    expect(guide).to_contain_text("row_data")
    expect(guide.locator("tr", has_text="global_key")).to_contain_text("required as the key")
    expect(guide.locator("tr", has_text="row_data")).to_contain_text("optional (without it")
    expect(guide.locator("tr", has_text="metadata")).to_contain_text("optional")
    sample_url = card.get_by_role("link", name="CSV").first.get_attribute("href")
    sample = page.request.get(page.base + sample_url)
    assert sample.ok and sample.text().startswith("global_key,row_data,metadata")
    expect(card.get_by_label("Import into")).to_contain_text("a new draft 'draft'")

    rows = csv_file(
        tmp_path,
        "global_key,row_data,metadata\n"
        'cam-1,https://x/1.jpg,"{""split"": ""train""}"\n'
        ",https://x/2.jpg,\n"
        "cam-3,https://x/3.jpg,not json\n",
    )
    page.get_by_label(FILE_LABEL).set_input_files(rows)
    page.get_by_label("Mode").select_option("create")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".import-preview")
    expect(preview).to_contain_text("CSV · mode create · key global_key · 3 records in the file")
    expect(preview.locator("thead th")).to_have_text(
        ["Row", "global_key", "row_data", "metadata", "Problem"]
    )
    body = preview.locator("tbody tr")
    expect(body).to_have_count(3)
    expect(body.nth(0)).to_contain_text("ok")
    expect(body.nth(1)).to_contain_text("global_key: missing")
    expect(body.nth(2)).to_contain_text("metadata")
    expect(preview).to_contain_text("2 of the first 3 rows would fail")
    assert Job.objects.count() == 0 and not DatasetVersion.objects.exists()  # nothing written
    if js:
        page.screenshot(path=f"{SHOTS}/import-preview.png", full_page=True)
        # The file stays chosen: start from the preview.
        page.get_by_role("button", name="Start import").click()
        expect(page.locator("#import-result-data_rows .job-progress")).to_have_attribute(
            "data-status", "succeeded", timeout=15_000
        )
    else:
        expect(page.get_by_label("Mode")).to_have_value("create")  # the options are kept


def test_the_dataset_page_names_the_draft_that_gets_the_rows(new_page, browser_users, tmp_path):
    dataset, _ = dataset_create(name="Traffic cams")
    main, _ = version_create(dataset=dataset, name="main")
    frames_add(version=main, frames=[{"id": "f-1", "sources": [{"uri": "s3://a/1"}]}])
    child = version_snapshot(version=main, publish_name="v1")  # the draft 'main', child of v1
    root, _ = version_create(dataset=dataset, name="scratch")  # an empty root, now current
    page = new_page(browser_users["manager"])
    page.goto(f"{page.base}/datasets/{dataset.pk}/")
    target = page.get_by_label("Import into")
    expect(target.locator("option")).to_have_count(2)
    expect(target.locator("option").first).to_have_text("scratch (draft, an empty root, 0 frames)")
    expect(page.locator(".import-card [role=note]")).to_contain_text(
        "The current draft 'scratch' is a root: it does not hold the rows of the published 'v1'"
    )
    expect(target.locator("option").nth(1)).to_have_text("main (draft, child of v1, 1 frame)")
    target.select_option(child.pk)
    rows = tmp_path / "rows.ndjson"
    rows.write_text(json.dumps({"global_key": "k-9", "row_data": "s3://a/9"}) + "\n")
    page.get_by_label(FILE_LABEL).set_input_files(str(rows))
    page.get_by_role("button", name="Start import").click()
    expect(page.locator("#import-result-data_rows .job-progress")).to_have_attribute(
        "data-status", "succeeded", timeout=15_000
    )
    job = Job.objects.get(kind="import")
    assert job.params["version_id"] == child.pk != root.pk
    expect(page.locator("#import-result-data_rows")).to_contain_text(
        "Import into Traffic cams / main"
    )


def test_a_new_version_named_like_a_published_one_is_a_draft_the_page_names(
    new_page, browser_users
):
    """API.md: published versions of a name do not count; the page says what it made."""
    dataset, _ = dataset_create(name="Traffic cams")
    main, _ = version_create(dataset=dataset, name="main")
    version_snapshot(version=main, publish_name="v1")
    page = new_page(browser_users["manager"])
    page.goto(f"{page.base}/datasets/{dataset.pk}/")
    form = page.locator("section", has=page.get_by_role("heading", name="New version"))
    form.get_by_label("Name", exact=True).fill("v1")
    form.get_by_role("button", name="Create version").click()
    expect(page.locator("h1")).to_contain_text("v1")
    assert DatasetVersion.objects.filter(dataset=dataset, name="v1", status="draft").count() == 1


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_failed_import_leaves_no_empty_draft(new_page, browser_users, tmp_path, js):
    dataset, _ = dataset_create(name="Traffic cams")
    page = new_page(browser_users["manager"], js=js)
    page.goto(f"{page.base}/datasets/{dataset.pk}/")
    bad = tmp_path / "bad.ndjson"
    bad.write_text(json.dumps({"global_key": "k-1"}) + "\n" + "{oops\n")
    page.get_by_label(FILE_LABEL).set_input_files(str(bad))
    page.get_by_label("Mode").select_option("create")
    page.get_by_label("On error").select_option("atomic")
    page.get_by_role("button", name="Start import").click()
    if js:
        expect(page.locator("#import-result-data_rows .job-progress")).to_have_attribute(
            "data-status", "failed", timeout=15_000
        )
    else:
        expect(page.locator(".job-progress")).to_have_attribute("data-status", "failed")
    assert not DatasetVersion.objects.filter(dataset=dataset).exists()
    page.goto(f"{page.base}/datasets/{dataset.pk}/")
    expect(page.get_by_text("No versions yet.")).to_be_visible()


@pytest.mark.parametrize("target", ["dataset", "version"])
def test_without_js_the_preview_keeps_the_file_for_the_start(
    new_page, browser_users, tmp_path, target
):
    """Bug: without JavaScript the preview needed the file chosen again (a reload forgets a
    file input); the preview now keeps it, and "Start import" uses it."""
    dataset, _ = dataset_create(name="Traffic cams")
    if target == "dataset":
        url, result = f"/datasets/{dataset.pk}/", "2 data rows written"
        records = [{"global_key": f"cam-{i}", "row_data": f"https://x/{i}.jpg"} for i in (1, 2)]
    else:
        version, _ = version_create(dataset=dataset, name="main")
        url, result = f"/versions/{version.pk}/", "2 frames written"
        records = [{"id": f"f-{i}", "sources": [{"uri": f"s3://a/{i}"}]} for i in (1, 2)]
    path = tmp_path / "records.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    page = new_page(browser_users["manager"], js=False)
    page.goto(page.base + url)
    page.get_by_label(FILE_LABEL).set_input_files(str(path))
    page.get_by_label("Mode").select_option("create")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".import-preview")).to_contain_text("2 records in the file")
    expect(page.locator(".kept-file")).to_have_text(
        "Kept from the preview: records.ndjson (choose another file to replace it)."
    )
    assert page.get_by_label(FILE_LABEL).input_value() == ""  # the reload forgot the input
    assert Job.objects.count() == 0
    page.get_by_role("button", name="Start import").click()  # no file chosen again
    expect(page.locator(".job-progress")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_role("main")).to_contain_text(result)
    job = Job.objects.get()
    assert job.counts["created"] == 2
