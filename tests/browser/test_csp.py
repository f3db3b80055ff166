"""The UI runs under its Content-Security-Policy: every main page loads (htmx, the chart, the
admin, the API docs) with no violation reported in the console or as an event."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from batches.models import Batch, Project
from dashboard.models import Job
from versions.models import Dataset, DatasetVersion

pytestmark = pytest.mark.django_db(transaction=True)

WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def watched(page) -> list[str]:
    """Console errors and warnings of the page, kept as it goes."""
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
    page.add_init_script(WATCH_VIOLATIONS)
    return seen


def test_main_pages_raise_no_csp_violation(new_page, browser_users, shot):
    from django.contrib.auth import get_user_model

    call_command("load_demo", "--with-demo-users", verbosity=0)
    admin = get_user_model().objects.get(username="admin")
    dataset = Dataset.objects.get()
    version = DatasetVersion.objects.get(dataset=dataset, name="v2")
    project = Project.objects.get()
    batch = Batch.objects.filter(project=project).first()
    job = Job.objects.first()
    pages = [
        "/",
        "/jobs/",
        f"/jobs/{job.pk}/",
        "/profile/",
        "/datasets/",
        f"/datasets/{dataset.pk}/",
        f"/versions/{version.pk}/",
        f"/versions/{version.pk}/diff/?against={version.parent_id}",
        "/projects/",
        f"/projects/{project.pk}/",
        f"/projects/{project.pk}/batches/new/",
        f"/projects/{project.pk}/batches/from-dataset/",
        f"/projects/{project.pk}/label/",
        "/admin/",
        "/admin/versions/datasetversion/",
        "/admin/versions/datarow/import/",
        f"/admin/batches/batch/{batch.pk}/change/",
        "/api/docs/",
        "/no/such/page/",
    ]
    page = new_page(admin)
    seen = watched(page)
    for path in pages:
        response = page.goto(page.base + path)
        assert response.status in (200, 404), (path, response.status)
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__violations")
        assert violations == [], (path, violations)
        assert [m for m in seen if "Content Security Policy" in m] == [], (path, seen)
        if path == "/":
            assert page.evaluate("typeof htmx") == "object"
            assert page.evaluate("htmx.config.includeIndicatorStyles") is False
            assert page.evaluate("htmx.config.allowEval") is False
            expect(page.locator("#progress-chart")).to_be_visible()
            assert page.evaluate("!!document.getElementById('progress-chart').chart")
        if path == "/api/docs/":
            expect(page.locator(".swagger-ui .info")).to_be_visible()
    shot(page, "csp-last-page")
    assert [m for m in seen if "Content Security Policy" in m] == []


def test_htmx_still_swaps_under_the_policy(new_page, browser_users):
    """The job filter form swaps its table through htmx (no eval, no inline style needed)."""
    call_command("load_demo", "--with-demo-users", verbosity=0)
    page = new_page(browser_users["manager"])
    seen = watched(page)
    page.goto(page.base + "/jobs/")
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.locator("form.filters select").first.select_option(index=1)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == []
    assert [m for m in seen if "Content Security Policy" in m] == []


def test_the_error_page_back_link_works_without_inline_script(new_page, browser_users):
    page = new_page(browser_users["manager"])
    seen = watched(page)
    page.goto(page.base + "/jobs/")
    response = page.goto(page.base + "/jobs/?kind=%00")  # refused: our error page
    assert response.status == 400
    page.get_by_role("link", name="Go back").click()
    expect(page).to_have_url(page.base + "/jobs/")
    assert page.evaluate("window.__violations") == []
    assert [m for m in seen if "Content Security Policy" in m] == []
