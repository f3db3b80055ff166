"""Version pages in a browser say what happened in the page's words: publishing names the
published snapshot (not the draft's old name), removing a published version asks for the box
(not "force=true"), and a version with nothing to compare offers no empty list."""

import pytest
from playwright.sync_api import expect

from versions.models import DatasetVersion
from versions.services import dataset_create, version_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_publish_remove_and_compare_read_right(new_page, browser_users):
    dataset, _ = dataset_create(name="Traffic cams")
    main, _ = version_create(dataset=dataset, name="main")
    page = new_page(browser_users["manager"])
    page.goto(f"{page.base}/versions/{main.pk}/")
    # The only version: nothing to compare with, so no Compare button.
    expect(page.get_by_role("link", name="Compare…")).to_have_count(0)
    page.goto(f"{page.base}/versions/{main.pk}/diff/")
    expect(page.get_by_text("is the dataset's only version")).to_be_visible()
    expect(page.locator("#id_against")).to_have_count(0)

    page.goto(f"{page.base}/versions/{main.pk}/")
    page.get_by_role("link", name="Publish snapshot…").click()
    page.get_by_label("Publish name").fill("v1")
    page.get_by_role("button", name="Publish snapshot").click()
    expect(page.locator(".msg-success")).to_have_text(
        "Published 'v1' (until now 'main'); the new draft is 'main'."
    )
    expect(page.get_by_role("link", name="Compare…")).to_be_visible()

    v1 = DatasetVersion.objects.get(name="v1")
    page.goto(f"{page.base}/versions/{v1.pk}/remove/")
    page.get_by_role("button", name="Remove version").click()
    expect(page.get_by_role("alert")).to_have_text("It is published: tick “Force” to remove it.")
    expect(page.get_by_role("alert")).not_to_contain_text("force=true")
    page.get_by_label("Force: remove a published version").check()
    page.get_by_role("button", name="Remove version").click()
    expect(page.locator(".msg-success")).to_contain_text("Version 'v1' removed.")
