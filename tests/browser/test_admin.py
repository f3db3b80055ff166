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
