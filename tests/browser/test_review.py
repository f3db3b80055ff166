"""The review page in a browser: A accepts, R goes to the reason box and Ctrl+Enter there
rejects; without JavaScript the same buttons work."""

import pytest
from playwright.sync_api import expect

from batches.models import Label
from batches.services import batch_create, label_submit, project_create, queue_next
from dashboard.roles import Role
from versions.models import DataRow

from ..factories import DatasetFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def to_review(browser_users):
    """A project whose 3 rows were each labelled by the labeler, all awaiting review."""
    project = project_create(name="reviewed", review_percentage=1)
    dataset = DatasetFactory()
    rows = DataRow.objects.bulk_create(
        [DataRow(id=f"rv-{i}", dataset=dataset, row_data=f"s3://b/{i}") for i in range(3)]
    )
    batch_create(project=project, name="b", data_rows=[r.id for r in rows])
    labeler = browser_users["labeler"]
    for i in range(3):
        entry = queue_next(project=project, user=labeler)
        label_submit(project=project, entry_id=entry.pk, user=labeler, annotation={"n": i})
    return project


def test_keyboard_review(new_page, to_review, shot):
    reviewer = UserFactory(username="reviewer", role=Role.REVIEWER)
    page = new_page(reviewer)
    page.goto(page.base + f"/projects/{to_review.pk}/review/")
    page.get_by_role("button", name="Take the next label").click()
    expect(page.locator("#annotation-under-review")).to_contain_text('"n": 0')
    shot(page, "review-page")
    page.keyboard.press("a")
    expect(page.locator(".msg-success")).to_contain_text("Label accepted")
    expect(page.locator("#annotation-under-review")).to_contain_text('"n": 1')
    page.keyboard.press("r")
    expect(page.locator("#id_reason")).to_be_focused()
    page.keyboard.type("the wrong n")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".msg-success")).to_contain_text("rejected")
    statuses = dict(Label.objects.values_list("annotation__n", "status"))
    assert statuses == {0: "accepted", 1: "rejected", 2: "pending_review"}
    assert Label.objects.get(annotation__n=1).reason == "the wrong n"


def test_review_without_javascript(new_page, to_review):
    reviewer = UserFactory(username="reviewer", role=Role.REVIEWER)
    page = new_page(reviewer, js=False)
    page.goto(page.base + f"/projects/{to_review.pk}/review/")
    page.get_by_role("button", name="Take the next label").click()
    page.get_by_role("button", name="Accept").click()
    expect(page.locator(".msg-success")).to_contain_text("Label accepted")
    page.get_by_label("Reason").fill("nope")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator(".msg-success")).to_contain_text("rejected")
    assert sorted(Label.objects.values_list("status", flat=True)) == [
        "accepted",
        "pending_review",
        "rejected",
    ]


def test_the_labeler_sees_the_rework_note(new_page, to_review, browser_users, shot):
    from batches.services import label_reject

    reviewer = UserFactory(username="reviewer", role=Role.REVIEWER)
    first = Label.objects.order_by("id").first()
    label_reject(project=to_review, label_id=first.pk, user=reviewer, reason="n must be 10")
    page = new_page(browser_users["labeler"])
    page.goto(page.base + f"/projects/{to_review.pk}/label/")
    page.get_by_role("button", name="Take the next row").click()
    expect(page.locator("#rework-note")).to_contain_text("n must be 10")
    expect(page.locator("#id_annotation")).to_have_value('{\n  "n": 0\n}')
    shot(page, "label-rework-note")
