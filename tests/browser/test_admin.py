"""The admin in a browser (issue 14, bug 10): branded, "Frame entries" spelled right, job errors
only read (never added by hand), projects of one name told apart, and /favicon.ico served."""

import pytest
from playwright.sync_api import expect

from batches.services import project_create
from dashboard.roles import Role
from tests.factories import BatchFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def superuser(browser_users):
    return UserFactory(username="root", role=Role.MANAGER, is_staff=True, is_superuser=True)


def test_the_admin_is_branded_and_spells_its_models(new_page, superuser):
    page = new_page(superuser)
    page.goto(page.base + "/admin/")
    expect(page).to_have_title("Datasets, labeling and jobs | Labelops admin")
    expect(page.locator("#site-name")).to_have_text("Labelops administration")
    expect(page.get_by_role("link", name="Frame entries", exact=True)).to_be_visible()
    expect(page.get_by_text("Frame entrys")).to_have_count(0)


def test_job_errors_cannot_be_added_by_hand(new_page, superuser):
    page = new_page(superuser)
    page.goto(page.base + "/admin/dashboard/joberror/")
    expect(page.get_by_role("link", name="Add job error")).to_have_count(0)
    response = page.goto(page.base + "/admin/dashboard/joberror/add/")
    assert response.status == 403
    page.goto(page.base + "/admin/")
    row = page.locator("tr", has=page.get_by_role("link", name="Job errors", exact=True))
    expect(row.get_by_role("link", name="Add")).to_have_count(0)


def test_projects_of_one_name_are_told_apart(new_page, superuser):
    first = project_create(name="Street scenes", description="day shift")
    second = project_create(name="Street scenes", description="night shift")
    for project in (first, second):
        BatchFactory(project=project, name="b")
    page = new_page(superuser)
    page.goto(page.base + "/admin/batches/project/")
    expect(page.get_by_role("cell", name=first.pk)).to_be_visible()
    expect(page.get_by_role("cell", name=second.pk)).to_be_visible()
    expect(page.get_by_text("night shift")).to_be_visible()
    page.goto(page.base + "/admin/batches/batch/")
    # The project column and the project filter name each project with its id.
    expect(page.get_by_role("cell", name=first.pk, exact=False)).to_have_count(1)
    expect(page.get_by_role("cell", name=second.pk, exact=False)).to_have_count(1)
    filters = page.locator("#changelist-filter")
    expect(filters.get_by_role("link", name=first.pk, exact=False)).to_have_count(1)
    expect(filters.get_by_role("link", name=second.pk, exact=False)).to_have_count(1)


def test_the_favicon_is_served(new_page, browser_users):
    page = new_page()
    response = page.goto(page.base + "/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.body()[:4] == b"\x00\x00\x01\x00"
    page = new_page(browser_users["manager"])
    page.goto(page.base + "/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(page.base + icon).status == 200


def test_the_admin_import_guides_previews_and_names_the_target(new_page, superuser, tmp_path):
    """Like the dataset page's import: the columns and sample files, a preview of the first
    rows with the columns found and their problems, the version that gets the rows named, and
    the file kept from the preview for the start."""
    from dashboard.models import Job
    from versions.models import DataRow
    from versions.services import dataset_create, version_create

    dataset, _ = dataset_create(name="Traffic cams")
    draft, _ = version_create(dataset=dataset, name="main")
    rows = tmp_path / "rows.csv"
    rows.write_text("global_key,row_data\ncam-1,https://x/1.jpg\n,https://x/2.jpg\n")
    page = new_page(superuser, js=False)
    page.goto(page.base + "/admin/versions/datarow/")
    page.get_by_role("link", name="Import data rows").click()
    guide = page.locator("table.columns-guide")
    expect(guide.locator("tr", has_text="global_key")).to_contain_text("required as the key")
    expect(page.get_by_role("link", name="CSV", exact=True)).to_have_attribute(
        "href", "/import-samples/data_rows.csv"
    )
    page.get_by_label("Dataset").fill(dataset.pk)  # an id box with its lookup link
    page.get_by_label("File").set_input_files(str(rows))
    page.get_by_label("Mode").select_option("create")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Rows go into Traffic cams: main (draft, an empty root, 0 frames)"
    )
    preview = page.locator(".import-preview")
    expect(preview).to_contain_text("CSV · mode create · key global_key · 2 records in the file")
    expect(preview).to_contain_text("Columns found: global_key, row_data")
    expect(preview.locator("tbody tr").nth(1)).to_contain_text("global_key: missing")
    expect(page.get_by_label("Import into")).to_have_value(draft.pk)
    expect(page.locator(".kept-file")).to_contain_text("Kept from the preview: rows.csv")
    assert Job.objects.count() == 0
    page.get_by_role("button", name="Start import").click()  # the file is not chosen again
    expect(page.locator(".job-progress")).to_have_attribute("data-status", "succeeded")
    job = Job.objects.get()
    assert job.params["version_id"] == draft.pk and DataRow.objects.count() == 1
