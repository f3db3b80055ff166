"""The labeling page shows the item (issue 14): an image for any image URL (with or without an
extension), the text itself, an audio or video player, the row's metadata, the template note;
keys 1–9 toggle classes, Enter submits, S skips; a counter of today's work; the next row comes
right after each submit or skip — with JavaScript on and off."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from batches.models import Label, Skip
from batches.services import batch_create, batch_delete_labels, project_create
from versions.services import dataset_create, frames_add, version_create

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/shots_ui14b")
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200">'
    '<rect width="320" height="200" fill="#7fb3d5"/><circle cx="160" cy="100" r="60" '
    'fill="#f4d03f"/></svg>'
)
FRAMES = [
    {  # an image service URL: no extension
        "id": "r-0",
        "global_key": "street-photo",
        "sources": [{"id": "camera", "uri": "https://images.example/photo?id=7"}],
        "meta": {"camera": "front-left", "weather": "rain", "tags": ["night", "city"]},
    },
    {"id": "r-1", "global_key": "review-text", "sources": [{"uri": "The brakes squeal."}]},
    {"id": "r-2", "global_key": "horn-clip", "sources": [{"uri": "https://media.example/a.mp3"}]},
    {"id": "r-3", "global_key": "dash-video", "sources": [{"uri": "https://media.example/v.mp4"}]},
    {  # looks like an image service, is not one: the page falls back to a link
        "id": "r-4",
        "global_key": "broken-link",
        "sources": [{"uri": "https://images.example/missing"}],
    },
]


@pytest.fixture
def project(browser_users):
    dataset, _ = dataset_create(name="mixed media")
    version, _ = version_create(dataset=dataset, name="main")
    frames_add(version=version, frames=FRAMES)
    project = project_create(name="Mixed", label_classes=["car", "person", "bicycle"])
    batch_create(project=project, name="all", global_keys=[f["global_key"] for f in FRAMES])
    return project


def serve_media(page):
    def images(route):
        if route.request.url.endswith("missing"):
            route.fulfill(status=404, body="gone")
        else:
            route.fulfill(status=200, content_type="image/svg+xml", body=SVG)

    page.route("https://images.example/**", images)
    page.route("https://media.example/**", lambda route: route.fulfill(status=404, body=""))


def press(page, key: str) -> None:
    """A key once the page's (deferred) script listens: a page just shown may still load it."""
    page.wait_for_load_state("load")
    page.keyboard.press(key)


def heading(page, name):
    return page.get_by_role("heading", name=name, level=2)


def test_the_labeling_page_shows_each_item_and_takes_keys(new_page, browser_users, project):
    page = new_page(browser_users["labeler"])
    page.set_viewport_size({"width": 1366, "height": 900})
    serve_media(page)
    page.goto(page.base + f"/projects/{project.pk}/label/")
    expect(page.get_by_label("Your work today")).to_have_text("Today: 0 labels · 0 skipped")
    page.get_by_role("button", name="Take the next row").click()

    # An image without an extension, shown as one, with its metadata.
    expect(heading(page, "street-photo")).to_be_visible()
    image = page.get_by_role("img", name="camera of street-photo")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('.media img').naturalWidth > 0")
    meta = page.locator(".meta-list")
    expect(meta).to_contain_text("camera")
    expect(meta).to_contain_text("front-left")
    expect(meta).to_contain_text('["night", "city"]')
    expect(page.get_by_text("toggle a class")).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "labeling-image.png"), full_page=True)

    # 1 and 3 toggle car and bicycle; Enter submits and the next row follows at once.
    press(page, "1")
    press(page, "3")
    expect(page.get_by_label("car")).to_be_checked()
    expect(page.get_by_label("bicycle")).to_be_checked()
    press(page, "2")
    press(page, "2")
    expect(page.get_by_label("person")).not_to_be_checked()
    press(page, "Enter")
    expect(page.locator(".msg-success")).to_contain_text("Label saved")
    expect(heading(page, "review-text")).to_be_visible()
    assert Label.objects.get().annotation == {"classes": ["car", "bicycle"]}
    expect(page.get_by_label("Your work today")).to_have_text("Today: 1 label · 0 skipped")

    # Text is shown as text; typing in the annotation does not trigger the keys.
    expect(page.locator(".item-text")).to_have_text("The brakes squeal.")
    page.get_by_label("Annotation").fill('{"note": "s1"}')
    page.get_by_label("Annotation").press("s")
    expect(heading(page, "review-text")).to_be_visible()
    page.screenshot(path=str(SHOTS / "labeling-text.png"), full_page=True)

    # Escape leaves the annotation; S skips; audio and video get players.
    page.get_by_label("Annotation").press("Escape")
    press(page, "s")
    expect(page.locator(".msg-info")).to_contain_text("Skipped")
    expect(heading(page, "horn-clip")).to_be_visible()
    expect(page.locator("audio[controls]")).to_have_attribute("src", "https://media.example/a.mp3")
    expect(page.get_by_label("Your work today")).to_have_text("Today: 1 label · 1 skipped")
    press(page, "S")
    expect(heading(page, "dash-video")).to_be_visible()
    expect(page.locator("video[controls]")).to_have_attribute("src", "https://media.example/v.mp4")
    press(page, "s")

    # A URL that is no image after all becomes a link to open it.
    expect(heading(page, "broken-link")).to_be_visible()
    expect(page.locator(".media .fallback")).to_contain_text("could not be shown as an image")
    expect(page.locator(".media .fallback a")).to_have_attribute(
        "href", "https://images.example/missing"
    )
    assert Skip.objects.count() == 3


def test_labeling_without_javascript_and_the_template_note(new_page, browser_users, project):
    page = new_page(browser_users["labeler"], js=False)
    page.goto(page.base + f"/projects/{project.pk}/label/")
    page.get_by_role("button", name="Take the next row").click()
    expect(heading(page, "street-photo")).to_be_visible()
    expect(page.get_by_role("img", name="camera of street-photo")).to_have_count(1)
    page.get_by_label("person").check()
    page.get_by_role("button", name="Submit").click()
    # Redirected to the page that shows the next row: a reload submits nothing twice.
    expect(heading(page, "review-text")).to_be_visible()
    assert page.url.endswith("/label/")
    page.reload()
    expect(heading(page, "review-text")).to_be_visible()
    assert Label.objects.count() == 1
    expect(page.get_by_label("Your work today")).to_have_text("Today: 1 label · 0 skipped")

    # A refused submit keeps the row, the classes ticked and the typed annotation.
    page.get_by_label("car").check()
    page.get_by_label("Annotation").fill("{oops")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("alert")).to_contain_text("Malformed JSON")
    expect(heading(page, "review-text")).to_be_visible()
    expect(page.get_by_label("car")).to_be_checked()
    expect(page.get_by_label("Annotation")).to_have_value("{oops")

    # A label deleted as a template comes back pre-filled, with a note saying so.
    batch_delete_labels(batch=project.batches.get(), set_labels_as_template=True)
    page.get_by_role("button", name="Skip").click()
    # After deleting labels any labeler may get the row again: it is first in the queue.
    expect(heading(page, "street-photo")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("Pre-filled from an earlier label")
    expect(page.get_by_label("person")).to_be_checked()
    expect(page.get_by_label("car")).not_to_be_checked()
