"""The project analytics page: reviewers and managers only; numbers without JavaScript (SVG
charts with their tables, the labeler table sortable by links); bad input is a message."""

import pytest
from django.urls import reverse

from .quality_fixtures import *  # noqa: F403  (the fixtures)
from .quality_fixtures import consensus_batch, label_next, make_rows

pytestmark = pytest.mark.django_db

CAR, PERSON = {"classes": ["car"]}, {"classes": ["person"]}


@pytest.fixture
def page(qproject, qlabelers):
    consensus_batch(qproject, make_rows(2), labels=2)
    label_next(qproject, qlabelers[0], CAR)
    label_next(qproject, qlabelers[0], CAR)
    label_next(qproject, qlabelers[1], CAR)
    return reverse("project-analytics", args=[qproject.pk])


def test_reviewer_sees_numbers_and_charts(client, reviewer, page, qproject):
    client.force_login(reviewer)
    answer = client.get(page)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert (
        "<svg" in html and 'class="chart-bar"' in html and "<script" not in html.split("<main")[-1]
    )
    assert "qlab0" in html and "qlab1" in html
    assert "rows with agreement" in html
    assert answer.context["agreement"]["rows"] == 1
    assert [line["user"]["username"] for line in answer.context["labelers"]] == ["qlab0", "qlab1"]
    detail = client.get(reverse("project-detail", args=[qproject.pk])).content.decode()
    assert page in detail


def test_sorting_by_a_column(client, manager, page):
    client.force_login(manager)
    up = client.get(page, {"sort": "labels", "order": "asc"})
    assert [line["user"]["username"] for line in up.context["labelers"]] == ["qlab1", "qlab0"]
    by_name = client.get(page, {"sort": "user", "order": "desc"})
    assert [line["user"]["username"] for line in by_name.context["labelers"]] == ["qlab1", "qlab0"]
    html = up.content.decode()
    assert 'aria-sort="ascending"' in html and "sort=labels&amp;order=desc" in html


def test_hourly_throughput_and_bad_input(client, manager, page):
    client.force_login(manager)
    hourly = client.get(page, {"bucket": "hour"})
    assert hourly.status_code == 200 and hourly.context["throughput"]["bucket"] == "hour"
    assert sum(r["labels"] for r in hourly.context["throughput"]["results"]) == 3
    bad = client.get(page, {"since": "soon", "sort": "nope"}, follow=True)
    assert bad.status_code == 200
    assert any("since" in str(m) or "valid" in str(m) for m in bad.context["messages"])
    too_long = client.get(page, {"bucket": "hour", "since": "2000-01-01T00:00"})
    assert too_long.status_code == 200


def test_roles(client, labeler, viewer, page):
    assert client.get(page).status_code == 302  # to the sign-in page
    client.force_login(labeler)
    assert client.get(page).status_code == 403
    client.force_login(viewer)
    assert client.get(page).status_code == 403


def test_unknown_project_is_404(client, manager):
    client.force_login(manager)
    assert client.get(reverse("project-analytics", args=["nope"])).status_code == 404
