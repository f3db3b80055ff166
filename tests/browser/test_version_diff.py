"""Diffs that speak (issue 14): the comparison page names rows by global key, links each to its
frame page (the older version's for a removed row) and says which fields of a changed row
changed — JavaScript off, as it needs none."""

import pytest
from playwright.sync_api import expect

from versions.services import (
    dataset_create,
    frames_add,
    frames_delete,
    frames_update,
    version_create,
    version_snapshot,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_diff_names_rows_links_them_and_says_what_changed(new_page, browser_users):
    dataset, _ = dataset_create(name="harbour")
    root, _ = version_create(dataset=dataset, name="main")
    frames_add(
        version=root,
        frames=[
            {
                "id": f"h-{i}",
                "global_key": f"harbour-{i}",
                "sources": [{"uri": f"s3://h/{i}.jpg"}],
                "meta": {"tide": "low", "boats": i},
            }
            for i in range(4)
        ],
    )
    draft = version_snapshot(version=root, publish_name="v1", child_name="v2")
    frames_update(version=draft, frames=[{"id": "h-1", "meta": {"tide": "high"}}])
    frames_update(
        version=draft, frames=[{"id": "h-2", "rois": [{"label": ["boat"], "bbox": [1, 1, 2, 2]}]}]
    )
    frames_delete(version=draft, ids=["h-3"])
    frames_add(
        version=draft,
        frames=[{"id": "h-9", "global_key": "harbour-9", "sources": [{"uri": "s3://h/9.jpg"}]}],
    )

    page = new_page(browser_users["labeler"], js=False)
    page.goto(page.base + f"/versions/{draft.pk}/diff/")
    added = page.get_by_role("region", name="Added in v2")
    expect(added.get_by_role("link", name="harbour-9")).to_be_visible()
    changed = page.get_by_role("region", name="Changed")
    expect(changed.locator("li").filter(has_text="harbour-1")).to_contain_text("changed: meta.tide")
    expect(changed.locator("li").filter(has_text="harbour-2")).to_contain_text("changed: rois")
    removed = page.get_by_role("region", name="Only in v1")
    removed.get_by_role("link", name="harbour-3").click()
    # A removed row opens in the version that still has it.
    expect(page.get_by_role("heading", name="harbour-3", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("of version v1")
