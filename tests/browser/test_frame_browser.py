"""Frames you can find (issue 14): the version page lists frames in data-row or global-key
order with "Showing 25–48 of 60", searches global keys, filters by metadata, shows thumbnails
of image sources (with or without an extension), and opens each frame on a page of its own —
with JavaScript on and off."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from versions.services import dataset_create, frames_add, version_commit, version_create

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/shots_ui14b")
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="100">'
    '<rect width="160" height="100" fill="#9ccc9c"/><rect x="40" y="30" width="80" height="40" '
    'fill="#2b59c3"/></svg>'
)


@pytest.fixture
def version(browser_users):
    dataset, _ = dataset_create(name="street")
    version, _ = version_create(dataset=dataset, name="main")
    frames_add(
        version=version,
        frames=[
            {
                # ids run the other way from the global keys
                "id": f"r-{59 - i:03d}",
                "global_key": f"cam-{i:03d}",
                "sources": [{"id": "front", "uri": f"https://img.example/photo?n={i}"}],
                "meta": {"weather": "rain" if i % 3 == 0 else "sun", "score": i},
                "rois": [{"label": ["car"], "confidence": 0.9, "bbox": [1, 2, 3, 4]}],
            }
            for i in range(60)
        ],
    )
    version_commit(version=version)
    return version


def serve_images(page):
    page.route(
        "https://img.example/**",
        lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=SVG),
    )


def titles(page):
    return page.locator("#frame-browser .frame h3")


def test_the_frame_browser_finds_frames(new_page, browser_users, version):
    page = new_page(browser_users["labeler"])
    page.set_viewport_size({"width": 1366, "height": 900})
    serve_images(page)
    page.goto(page.base + f"/versions/{version.pk}/")
    showing = page.locator("#frame-browser .showing")
    expect(showing).to_have_text("Showing 1–24 of 60 frames.")
    expect(titles(page).first).to_have_text("cam-059")  # data row id order: r-000 first
    thumb = page.locator("#frame-browser .thumb img").first
    expect(thumb).to_have_attribute("src", "https://img.example/photo?n=59")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.thumb img')].some(i => i.naturalWidth > 0)"
    )
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "frame-browser.png"), full_page=False)

    page.get_by_role("link", name="Next »").click()
    expect(showing).to_have_text("Showing 25–48 of 60 frames.")
    page.get_by_role("link", name="Next »").click()
    expect(showing).to_have_text("Showing 49–60 of 60 frames.")
    expect(page.get_by_role("link", name="Next »")).to_have_count(0)
    page.get_by_role("link", name="‹ Previous").click()
    expect(showing).to_have_text("Showing 25–48 of 60 frames.")
    assert "at=25" in page.url

    # Global-key order and search.
    page.get_by_label("Order by").select_option("global_key")
    page.get_by_role("button", name="Filter").click()
    expect(titles(page).first).to_have_text("cam-000")
    expect(showing).to_have_text("Showing 1–24 of 60 frames, by global key.")
    page.get_by_label("Global key contains").fill("CAM-01")
    page.get_by_role("button", name="Filter").click()
    expect(showing).to_have_text("Showing 1–10 of 10 frames matching the filter, by global key.")
    expect(titles(page)).to_have_count(10)

    # Metadata: equality and a lookup; a malformed filter says how to write one.
    page.get_by_label("Global key contains").fill("")
    page.get_by_label("Metadata").fill("weather=rain")
    page.get_by_role("button", name="Filter").click()
    expect(showing).to_have_text("Showing 1–20 of 20 frames matching the filter, by global key.")
    page.get_by_label("Metadata").fill("score__gt=50")
    page.get_by_role("button", name="Filter").click()
    expect(showing).to_contain_text("Showing 1–9 of 9 frames")
    expect(titles(page).first).to_have_text("cam-051")
    page.get_by_label("Metadata").fill("weather")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#frame-browser [role=alert]")).to_contain_text("key=value")

    # A frame's own page: media, metadata, annotations, neighbours.
    page.get_by_label("Metadata").fill("")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="cam-005", exact=True).click()
    expect(page.get_by_role("heading", name="cam-005", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="front of cam-005")).to_be_visible()
    expect(page.locator(".meta-list")).to_contain_text("sun")
    expect(page.get_by_role("region", name="Annotations")).to_contain_text("car")
    page.screenshot(path=str(SHOTS / "frame-page.png"), full_page=True)
    page.get_by_role("link", name="Next frame ›").click()
    expect(page.get_by_role("heading", name="cam-004", level=1)).to_be_visible()  # r-055


def test_the_frame_browser_without_javascript(new_page, browser_users, version):
    page = new_page(browser_users["labeler"], js=False)
    page.goto(page.base + f"/versions/{version.pk}/")
    showing = page.locator("#frame-browser .showing")
    expect(showing).to_have_text("Showing 1–24 of 60 frames.")
    page.get_by_label("Metadata").fill("weather=sun")
    page.get_by_role("button", name="Filter").click()
    expect(showing).to_have_text("Showing 1–24 of 40 frames matching the filter.")
    page.get_by_role("link", name="Next »").click()
    expect(showing).to_have_text("Showing 25–40 of 40 frames matching the filter.")
    page.get_by_role("link", name="« First").click()
    expect(showing).to_have_text("Showing 1–24 of 40 frames matching the filter.")
    titles(page).first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("cam-059")
