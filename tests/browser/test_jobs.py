"""Jobs in a browser: the job page follows a job to its end (times, attempts, actions, results,
file: with JavaScript and without), a job whose rows all failed says so with its failed rows in
input order counted from 1, and the job list and the overview refresh themselves while jobs run.
"""

import io
import json
import time

import pytest
from playwright.sync_api import expect

from dashboard.jobs.registry import job_kind
from dashboard.jobs.runner import JobRun
from dashboard.jobs.services import job_create
from dashboard.models import Job

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = "/tmp/shots_ui14a"


@job_kind(
    "test_slow_count",
    label="Count slowly (tests)",
    title=lambda refs: f"Count slowly for {refs['name_prefix']}",
    results=lambda job, refs: [("See every job", "/jobs/")],
    counts={"created": "items counted"},
)
def slow_count(run: JobRun) -> dict:
    total = run.params["items"]
    run.set_total(total)
    start = run.checkpoint.get("next", 0)
    for index in range(start, total):
        time.sleep(run.params.get("pause", 0.3))
        with run.chunk() as chunk:
            chunk.count("created")
            chunk.done = 1
            chunk.checkpoint = {"next": index + 1}
    run.attach_file("count.txt", io.BytesIO(b"counted\n"))
    return {"items": total}


def slow_job(user, items=8, pause=0.3) -> Job:
    return job_create(
        kind="test_slow_count",
        params={"items": items, "pause": pause, "name_prefix": "the report"},
        user=user,
    )


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_the_job_page_follows_the_job_to_its_end(new_page, browser_users, delayed_jobs, js):
    manager = browser_users["manager"]
    job = slow_job(manager)
    page = new_page(manager, js=js)
    page.goto(f"{page.base}/jobs/{job.pk}/")
    expect(page.get_by_role("heading", name="Count slowly for the report")).to_be_visible()
    expect(page.locator(".job-started")).to_have_text("—")
    expect(page.get_by_role("button", name="Cancel job")).to_be_visible()
    expect(page.get_by_role("link", name="Download the file")).to_have_count(0)

    # No reload by the test: the page follows the job by itself until it ends.
    expect(page.locator(".job-finished")).not_to_have_text("—", timeout=20_000)
    expect(page.locator(".job-progress")).to_have_attribute("data-status", "succeeded")
    expect(page.locator(".job-started")).not_to_have_text("—")
    expect(page.locator(".job-attempts")).to_have_text("1")
    expect(page.locator(".job-duration")).to_contain_text(" s")
    expect(page.locator(".job-counts")).to_contain_text("items counted 8")
    expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)
    expect(page.get_by_role("link", name="Download the file")).to_be_visible()
    expect(page.get_by_role("link", name="See every job")).to_be_visible()
    if js:
        assert page.locator("#job-body").get_attribute("hx-trigger") is None


def test_a_running_job_shows_its_duration_and_time_left(new_page, browser_users, delayed_jobs):
    manager = browser_users["manager"]
    job = slow_job(manager, items=12, pause=0.5)
    page = new_page(manager)
    page.set_viewport_size({"width": 1366, "height": 800})
    page.goto(f"{page.base}/jobs/{job.pk}/")
    expect(page.locator(".job-eta")).to_contain_text("about", timeout=15_000)
    expect(page.locator(".job-duration")).to_contain_text("so far")
    page.screenshot(path=f"{SHOTS}/job-running.png", full_page=True)
    expect(page.locator(".job-progress")).to_have_attribute(
        "data-status", "succeeded", timeout=20_000
    )
    expect(page.locator(".job-eta")).to_have_count(0)
    page.screenshot(path=f"{SHOTS}/job-finished.png", full_page=True)


def _import_all_failing(dataset, user) -> Job:
    from versions.bulk.start import rows_import_start

    lines = [
        json.dumps({"global_key": "a-1", "id": "bad id!"}),  # not an id
        json.dumps({"global_key": "a-2", "id": "bad id!"}),
        json.dumps({"global_key": "a-3", "row_data": "s3://x", "metadata": 5}),
        "{not json",
        json.dumps({"global_key": "a-5", "colour": "red"}),
    ]
    body = ("\n".join(lines) + "\n").encode()
    return rows_import_start(
        record_type="data_rows",
        dataset=dataset,
        fileobj=io.BytesIO(body),
        filename="rows.ndjson",
        size=len(body),
        mode="create",
        user=user,
    )


def test_a_job_whose_every_row_failed_says_so(new_page, browser_users):
    from versions.services import dataset_create, version_create

    dataset, _ = dataset_create(name="Traffic cams")
    version_create(dataset=dataset, name="main")
    job = _import_all_failing(dataset, browser_users["manager"])
    job.refresh_from_db()
    assert job.status == "succeeded" and job.errors_count == 5  # the API's contract

    page = new_page(browser_users["manager"])
    page.goto(f"{page.base}/jobs/{job.pk}/")
    expect(page.get_by_role("heading", name="Import into Traffic cams / main")).to_be_visible()
    expect(page.locator(".job-progress .badge")).to_have_text("all rows failed")
    expect(page.locator(".job-progress .badge")).not_to_have_text("succeeded")
    failed = page.locator("section", has=page.get_by_role("heading", name="Failed rows"))
    expect(failed.get_by_role("heading")).to_have_text("Failed rows (5)")
    expect(failed).not_to_contain_text("first 100")
    rows = failed.locator("tbody tr td:first-child")
    expect(rows).to_have_text(["1", "2", "3", "4", "5"])
    # The row numbers and the messages count alike: row 4 is line 4 of the file.
    expect(failed.locator("tbody tr").nth(3)).to_contain_text("Line 4")
    page.screenshot(path=f"{SHOTS}/job-finished-all-rows-failed.png", full_page=True)
    # The target is a link.
    page.get_by_role("link", name="Traffic cams / main").first.click()
    expect(page.get_by_role("heading", name="main")).to_be_visible()

    page.goto(f"{page.base}/jobs/")
    row = page.locator("#job-table tbody tr").first
    expect(row).to_contain_text("Import into Traffic cams / main")
    expect(row.locator(".badge")).to_have_text("all rows failed")


def test_the_job_list_and_the_overview_refresh_themselves(new_page, browser_users, delayed_jobs):
    manager = browser_users["manager"]
    slow_job(manager, items=6, pause=0.3)
    page = new_page(manager)
    page.goto(f"{page.base}/jobs/")
    row = page.locator("#job-table tbody tr").first
    expect(row).to_contain_text("Count slowly for the report")
    expect(row.locator(".badge")).to_have_text("succeeded", timeout=20_000)
    expect(page.locator("#job-table")).to_have_attribute("data-running", "false")

    slow_job(manager, items=6, pause=0.3)
    overview = new_page(manager)
    overview.goto(overview.base + "/")
    expect(overview.locator("#running-jobs")).to_contain_text("Count slowly for the report")
    expect(overview.locator("#running-jobs")).to_contain_text("Nothing running.", timeout=20_000)


def test_the_job_list_and_overview_refresh_without_javascript(
    new_page, browser_users, delayed_jobs
):
    manager = browser_users["manager"]
    slow_job(manager, items=4, pause=0.3)
    page = new_page(manager, js=False)
    page.goto(f"{page.base}/jobs/")
    expect(page.locator("#job-table tbody tr").first.locator(".badge")).to_have_text(
        "succeeded", timeout=20_000
    )

    slow_job(manager, items=4, pause=0.3)
    overview = new_page(manager, js=False)
    overview.goto(overview.base + "/")
    expect(overview.locator("#running-jobs")).to_contain_text("Count slowly for the report")
    expect(overview.locator("#running-jobs")).to_contain_text("Nothing running.", timeout=20_000)


def test_failed_rows_read_in_input_order_on_the_page_and_in_the_api(new_page, browser_users):
    """Bug 9's "1, 2, 3, 5, 4": rows recorded out of input order (chunks ending out of order,
    a row without an index) read in input order on the job page and in `jobs/{id}/errors/`."""
    job = Job.objects.create(
        kind="import", status="succeeded", progress_done=6, progress_total=6, errors_count=6
    )
    for index in (0, 1, 2, 4, 3, None):
        job.row_errors.create(index=index, key=f"k{index}", message=f"Line {index}")
    page = new_page(browser_users["manager"])
    page.goto(f"{page.base}/jobs/{job.pk}/")
    failed = page.locator("section", has=page.get_by_role("heading", name="Failed rows"))
    expect(failed.locator("tbody tr td:first-child")).to_have_text(["1", "2", "3", "4", "5", ""])
    seen, url = [], f"{page.base}/api/v1/jobs/{job.pk}/errors/?page_size=2"
    while url:
        body = page.request.get(url).json()
        seen += [e["index"] for e in body["results"]]
        url = body["next"]
    assert seen == [0, 1, 2, 3, 4, None]
