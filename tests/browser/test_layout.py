"""Pages keep their width (issue 14, bug 8): a long unbroken name never widens a page, the batch
table fits its card at 1366 px with every action visible, and on a 390 px phone the
navigation is readable (every link on screen, none on top of another)."""

import pytest
from playwright.sync_api import expect

from batches.services import batch_create, project_create
from versions.services import dataset_create, frames_add, version_create

pytestmark = pytest.mark.django_db(transaction=True)

LONG = "x" * 240  # within every name's 255 characters


def page_width(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.fixture
def long_names(browser_users):
    dataset, _ = dataset_create(name="cams" + LONG, tags=["tag" + LONG])
    version, _ = version_create(dataset=dataset, name="v" + LONG)
    frames_add(
        version=version,
        frames=[
            {
                "id": f"f-{i}",
                "global_key": f"k{i}-" + LONG,  # 243 characters
                "sources": [{"uri": "https://example.invalid/" + LONG}],
                "meta": {"note": LONG},
            }
            for i in range(3)
        ],
    )
    project = project_create(name="Street" + LONG, description="d" + LONG, label_classes=["car"])
    batch_create(
        project=project,
        name="b" + LONG,
        global_keys=[f"k{i}-" + LONG for i in range(3)],
        priority=3,
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 0.25},
    )
    return {"dataset": dataset, "version": version, "project": project}


@pytest.mark.parametrize("width", [1366, 390])
def test_a_long_unbroken_name_never_widens_a_page(new_page, browser_users, long_names, width):
    page = new_page(browser_users["manager"])
    page.set_viewport_size({"width": width, "height": 900})
    project, dataset, version = long_names["project"], long_names["dataset"], long_names["version"]
    batch = project.batches.get()
    for path in [
        "/projects/",
        f"/projects/{project.pk}/",
        f"/projects/{project.pk}/batches/{batch.pk}/",
        f"/projects/{project.pk}/batches/{batch.pk}/remove-queued/",
        "/datasets/",
        f"/datasets/{dataset.pk}/",
        f"/versions/{version.pk}/",
        f"/versions/{version.pk}/frames/f-0/",
        f"/versions/{version.pk}/diff/",
        "/jobs/",
        "/activity/",
    ]:
        page.goto(page.base + path)
        scroll, inner = page_width(page)
        assert scroll <= inner, f"{path} is {scroll} px wide in a {inner} px window"


def test_the_batch_table_fits_its_card_at_1366_px(new_page, browser_users, long_names):
    project = project_create(name="Street", label_classes=["car"])
    batch_create(
        project=project,
        name="front-cameras-2024-05-0001",
        global_keys=[f"k{i}-" + LONG for i in range(3)],
        priority=12,
        consensus_settings={"number_of_labels": 3, "coverage_percentage": 0.5},
    )
    page = new_page(browser_users["manager"])
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(page.base + f"/projects/{project.pk}/")
    card = page.locator("section", has=page.locator("#batch-table"))
    box = card.bounding_box()
    overflow = card.evaluate("c => c.scrollWidth - c.clientWidth")
    assert overflow <= 0, f"the batch table overflows its card by {overflow} px"
    for link in page.locator("#batch-table .row-actions a, #batch-table .row-actions button").all():
        expect(link).to_be_visible()
        inner = link.bounding_box()
        assert inner["x"] + inner["width"] <= box["x"] + box["width"] + 0.5, link.inner_text()


def test_the_navigation_is_readable_on_a_phone(new_page, browser_users):
    page = new_page(browser_users["manager"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base + "/")
    scroll, inner = page_width(page)
    assert scroll <= inner, f"the overview is {scroll} px wide on a {inner} px phone"
    links = page.locator("header nav a").all()
    assert len(links) >= 5
    boxes = []
    for link in links:
        expect(link).to_be_in_viewport()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= inner, link.inner_text()
        size = link.evaluate("a => parseFloat(getComputedStyle(a).fontSize)")
        assert size >= 14, f"{link.inner_text()} is set in {size} px"
        boxes.append(box)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"] + 0.5
                or b["x"] + b["width"] <= a["x"] + 0.5
                or a["y"] + a["height"] <= b["y"] + 0.5
                or b["y"] + b["height"] <= a["y"] + 0.5
            )
            assert apart, "two navigation links overlap"
    # The user's name and the sign-out stay reachable too.
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()


def test_the_labeling_page_fits_a_phone(new_page, browser_users, long_names):
    page = new_page(browser_users["labeler"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base + f"/projects/{long_names['project'].pk}/label/")
    page.get_by_role("button", name="Take the next row").click()
    expect(page.get_by_role("button", name="Submit")).to_be_visible()
    scroll, inner = page_width(page)
    assert scroll <= inner, f"the labeling page is {scroll} px wide on a {inner} px phone"
