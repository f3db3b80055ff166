"""Labeler analytics (JSON and CSV, time ranges, median seconds, agreement, gold scores) and
throughput by hour or day; reviewer and manager only; bad input is a 400 naming the field."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from batches.models import Label
from batches.services import batch_create, gold_set, queue_next, queue_skip
from batches.services.reviews import label_accept, label_reject

from .quality_fixtures import *  # noqa: F403  (the fixtures)
from .quality_fixtures import consensus_batch, label_next, make_rows, url

pytestmark = pytest.mark.django_db(transaction=True)

CAR, PERSON = {"classes": ["car"]}, {"classes": ["person"]}
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def worked(qproject, qlabelers, reviewer):
    """qlab0: 3 labels (seconds 10, 20, 60; one accepted, one rejected), 1 skip, a gold label;
    qlab1: 2 labels (seconds 5, 7), agreeing with qlab0 on one consensus row, disagreeing on
    the other."""
    consensus_batch(qproject, make_rows(2, prefix="c"), labels=2)
    single, _ = batch_create(
        project=qproject, name="s", data_rows=[r.pk for r in make_rows(3, prefix="s")]
    )
    gold_set(project=qproject, rows=[{"data_row": "s-00002", "annotation": CAR}])
    lab0, lab1 = qlabelers[0], qlabelers[1]
    a = label_next(qproject, lab0, CAR)  # c-00000
    b = label_next(qproject, lab0, CAR)  # c-00001
    c = label_next(qproject, lab0, CAR)  # s-00000
    entry = queue_next(project=qproject, user=lab0)  # s-00001
    queue_skip(project=qproject, entry_id=entry.pk, user=lab0)
    d = label_next(qproject, lab1, CAR)  # c-00000: agree
    e = label_next(qproject, lab1, PERSON)  # c-00001: disagree
    qproject.gold_percentage = 1
    qproject.save()
    g = label_next(qproject, lab0, {"classes": ["car", "person"]})  # the gold row: 0.5
    assert g.data_row_id == "s-00002"
    for label, seconds, hours in ((a, 10, 0), (b, 20, 1), (c, 60, 25), (d, 5, 0), (e, 7, 1)):
        Label.objects.filter(pk=label.pk).update(
            seconds=seconds, created_at=T0 + timedelta(hours=hours)
        )
    Label.objects.filter(pk=g.pk).update(seconds=30, created_at=T0 + timedelta(hours=2))
    label_accept(project=qproject, label_id=a.pk, user=reviewer)
    label_reject(project=qproject, label_id=c.pk, user=reviewer, reason="no")
    return qproject


def test_labelers_json(reviewer_api, worked, qlabelers):
    answer = reviewer_api.get(url(worked, "analytics/labelers/"))
    assert answer.status_code == 200
    lines = {line["user"]["username"]: line for line in answer.json()["results"]}
    lab0, lab1 = lines["qlab0"], lines["qlab1"]
    assert lab0["user"]["id"] == qlabelers[0].pk
    assert (lab0["labels"], lab0["accepted"], lab0["rejected"], lab0["skips"]) == (4, 1, 1, 1)
    assert lab0["pending_review"] == 0
    assert lab0["median_seconds"] == 25.0  # 10, 20, 30, 60
    assert lab0["agreement"] == 0.5  # 1.0 and 0.0 on the consensus rows
    assert lab0["gold_score"] == 0.5 and lab0["gold_labels"] == 1
    assert lab1["labels"] == 2 and lab1["median_seconds"] == 6.0 and lab1["skips"] == 0
    assert lab1["gold_score"] is None and lab1["gold_labels"] == 0
    assert [line["user"]["username"] for line in answer.json()["results"]] == ["qlab0", "qlab1"]


def test_labelers_over_a_time_range(manager_api, worked):
    since = (T0 + timedelta(minutes=30)).isoformat()
    until = (T0 + timedelta(hours=3)).isoformat()
    answer = manager_api.get(url(worked, "analytics/labelers/"), {"since": since, "until": until})
    lines = {line["user"]["username"]: line for line in answer.json()["results"]}
    assert lines["qlab0"]["labels"] == 2 and lines["qlab0"]["median_seconds"] == 25.0  # 20, 30
    assert lines["qlab1"]["labels"] == 1 and lines["qlab1"]["median_seconds"] == 7.0
    assert lines["qlab0"]["skips"] == 0  # the skip is from today


def test_labelers_csv(reviewer_api, worked):
    answer = reviewer_api.get(url(worked, "analytics/labelers/"), {"format": "csv"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert [r["user"] for r in rows] == ["qlab0", "qlab1"]
    assert rows[0]["median_seconds"] == "25.0" and rows[1]["gold_score"] == ""


def test_throughput_by_hour_and_day(reviewer_api, worked):
    since, until = T0.isoformat(), (T0 + timedelta(hours=3)).isoformat()
    hourly = reviewer_api.get(
        url(worked, "analytics/throughput/"), {"bucket": "hour", "since": since, "until": until}
    ).json()
    assert hourly["bucket"] == "hour"
    assert [(r["labels"], r["accepted"]) for r in hourly["results"]] == [(2, 1), (2, 0), (1, 0)]
    assert hourly["results"][0]["start"].startswith("2026-03-01T10:00:00")
    daily = reviewer_api.get(
        url(worked, "analytics/throughput/"),
        {"since": T0.isoformat(), "until": (T0 + timedelta(days=2)).isoformat()},
    ).json()
    assert daily["bucket"] == "day"
    assert [(r["labels"], r["rejected"]) for r in daily["results"]] == [(5, 0), (1, 1), (0, 0)]


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("analytics/labelers/", {"since": "yesterday"}, "since"),
        ("analytics/labelers/", {"until": "2026-13-01"}, "until"),
        ("analytics/labelers/", {"format": "xml"}, "format"),
        ("analytics/labelers/", {"since": "2026-03-02", "until": "2026-03-01"}, "since"),
        ("analytics/throughput/", {"bucket": "week"}, "bucket"),
        ("analytics/throughput/", {"bucket": "hour", "since": "2020-01-01"}, "since"),
    ],
)
def test_bad_queries_are_400_naming_the_field(manager_api, qproject, path, query, field):
    answer = manager_api.get(url(qproject, path), query)
    assert answer.status_code == 400 and field in answer.json(), answer.json()


@pytest.mark.parametrize("path", ["analytics/labelers/", "analytics/throughput/"])
def test_roles(labeler_api, viewer_api, reviewer_api, manager_api, client, qproject, path):
    assert labeler_api.get(url(qproject, path)).status_code == 403
    assert viewer_api.get(url(qproject, path)).status_code == 403
    assert reviewer_api.get(url(qproject, path)).status_code == 200
    assert manager_api.get(url(qproject, path)).status_code == 200
    assert client.get(url(qproject, path)).status_code == 401
    assert manager_api.get(f"/api/v1/projects/nope/{path}").status_code == 404


def test_empty_project(manager_api, qproject):
    assert manager_api.get(url(qproject, "analytics/labelers/")).json() == {"results": []}
    throughput = manager_api.get(url(qproject, "analytics/throughput/")).json()
    assert len(throughput["results"]) in (30, 31) and not any(
        r["labels"] for r in throughput["results"]
    )


@pytest.mark.parametrize(
    "query",
    [
        "analytics/labelers/?since=&until=",
        "analytics/labelers/?format=&since=",
        "analytics/throughput/?bucket=&since=&until=",
        "agreement/?batch_id=",
    ],
)
def test_empty_parameters_are_as_if_not_given(manager_api, qproject, query):
    """`?since=&until=` (a form, a link template) reads as no bound, not as a bad date."""
    answer = manager_api.get(url(qproject, query))
    assert answer.status_code == 200, answer.content
    plain = manager_api.get(url(qproject, query.split("?")[0])).json()

    def shown(body):  # the default range ends now: its bounds move between two requests
        return {k: v for k, v in body.items() if k not in ("since", "until")}

    assert shown(answer.json()) == shown(plain)


def test_median_seconds_are_the_labels_own(reviewer_api, qproject, qlabelers):
    """The median of the labels' `seconds` as the labels answer them, not cut to 3 decimals."""
    batch_create(project=qproject, name="m", data_rows=[r.pk for r in make_rows(2, prefix="m")])
    labels = [label_next(qproject, qlabelers[0], CAR) for _ in range(2)]
    for label, seconds in zip(labels, (0.0123456, 0.0234567), strict=True):
        Label.objects.filter(pk=label.pk).update(seconds=seconds)
    listed = reviewer_api.get(url(qproject, "labels/")).json()["results"]
    median = (listed[0]["seconds"] + listed[1]["seconds"]) / 2
    line = reviewer_api.get(url(qproject, "analytics/labelers/")).json()["results"][0]
    assert line["median_seconds"] == pytest.approx(median, rel=1e-9)
