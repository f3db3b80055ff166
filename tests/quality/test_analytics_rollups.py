"""The labeler analytics read from the rollups answer exactly what counting the labels
directly answers, after a mix of submits, skips, accepts, rejects, rework, escalation, gold
labels and rescoring, label deletions and row removals over several hours and days, for ranges
cutting through hours and days; and the rollups the services kept equal a recount."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from batches.analytics import labeler_stats, throughput
from batches.models import Label, LabelerHour, LabelerSeconds, RollupStale, Skip
from batches.services import (
    batch_create,
    batch_delete_labels,
    batch_remove_queued_data_rows,
    gold_set,
    label_submit,
    labels_review,
    queue_next,
    queue_skip,
)
from batches.services import gold as gold_service
from batches.services.reviews import label_accept, label_reject
from batches.services.rollups import rollups_rebuild
from dashboard.roles import Role

from ..factories import UserFactory
from .quality_fixtures import *  # noqa: F403  (the fixtures)
from .quality_fixtures import consensus_batch, make_rows

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 2, 28, 21, 10, 7, tzinfo=UTC)  # the labels cross a day and a month
ANNOTATIONS = [{"classes": ["car"]}, {"classes": ["person"]}, {"classes": ["car", "person"]}]


class Clock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(T0)
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    low, high = values[(len(values) - 1) // 2], values[len(values) // 2]
    if connection.vendor == "postgresql":  # percentile_cont(0.5)
        return low + (high - low) * 0.5
    return (low + high) / 2


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 9) if values else None


def _rounded(lines: list[dict]) -> list[dict]:
    """The answer's means to 9 decimals: sums kept by deltas and a recount may differ by
    ~1e-16 (the answer is not cut to a few decimals)."""
    return [
        {
            **line,
            **{k: _mean([line[k]]) for k in ("agreement", "gold_score") if line[k] is not None},
        }
        for line in lines
    ]


def recount_labelers(project, since=None, until=None) -> list[dict]:
    """The labeler lines counted from the labels and skips themselves."""

    def inside(at):
        return (since is None or at >= since) and (until is None or at < until)

    lines: dict = {}
    for label in Label.objects.filter(project=project).select_related("author"):
        if not inside(label.created_at):
            continue
        line = lines.setdefault(label.author, {"labels": [], "skips": 0})
        line["labels"].append(label)
    for skip in Skip.objects.filter(project=project).select_related("user"):
        if inside(skip.created_at):
            lines.setdefault(skip.user, {"labels": [], "skips": 0})["skips"] += 1
    result = []
    for user, line in lines.items():
        labels = line["labels"]
        result.append(
            {
                "user": {"id": user.pk, "username": user.username},
                "labels": len(labels),
                "accepted": sum(label.status == "accepted" for label in labels),
                "rejected": sum(label.status == "rejected" for label in labels),
                "pending_review": sum(label.status == "pending_review" for label in labels),
                "skips": line["skips"],
                "median_seconds": _median([x.seconds for x in labels if x.seconds is not None]),
                "agreement": _mean([x.agreement for x in labels if x.agreement is not None]),
                "gold_score": _mean([x.gold_score for x in labels if x.gold_score is not None]),
                "gold_labels": sum(label.gold_score is not None for label in labels),
            }
        )
    result.sort(key=lambda r: (-r["labels"], r["user"]["username"]))
    return result


def recount_throughput(project, *, bucket: str, since, until) -> list[dict]:
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    first = since.replace(minute=0, second=0, microsecond=0)
    if bucket == "day":
        first = first.replace(hour=0)
    counted: dict = {}
    for label in Label.objects.filter(project=project, created_at__gte=since, created_at__lt=until):
        start = label.created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if bucket == "day":
            start = start.replace(hour=0)
        line = counted.setdefault(start, {"labels": 0, "accepted": 0, "rejected": 0})
        line["labels"] += 1
        line["accepted"] += label.status == "accepted"
        line["rejected"] += label.status == "rejected"
    results, start = [], first
    while start < until:
        zero = {"labels": 0, "accepted": 0, "rejected": 0}
        results.append({"start": start, **counted.get(start, zero)})
        start += step
    return results


def _cells():
    hours = {
        (c.author_id, c.span, c.hour): (
            c.labels,
            c.accepted,
            c.rejected,
            c.pending_review,
            c.skips,
            round(c.agreement_sum, 9),
            c.agreement_n,
            round(c.gold_sum, 9),
            c.gold_n,
        )
        for c in LabelerHour.objects.all()
        if c.labels or c.skips or c.agreement_n or c.gold_n
    }
    seconds = {
        (c.author_id, c.span, c.day, c.bucket): c.labels
        for c in LabelerSeconds.objects.all()
        if c.labels
    }
    return hours, seconds


def _label_and_skip(project, users, clock, rng, steps: int) -> None:
    for _ in range(steps):
        user = rng.choice(users)
        entry = queue_next(project=project, user=user)
        if entry is None:
            continue
        clock.advance(rng.choice([0.5, 3, 7.25, 12, 40, 95, 400, 1900]) + rng.random())
        if rng.random() < 0.15:
            queue_skip(project=project, entry_id=entry.pk, user=user)
        else:
            label_submit(
                project=project, entry_id=entry.pk, user=user, annotation=rng.choice(ANNOTATIONS)
            )
        if rng.random() < 0.1:
            clock.advance(rng.randrange(3600, 6 * 3600))


@pytest.fixture
def mixed(qproject, qlabelers, reviewer, clock, monkeypatch):
    """Labels over about two days with every kind of write."""
    rng = random.Random(15)
    monkeypatch.setattr(gold_service, "draw", rng.random)
    manager = UserFactory(username="qmanager", role=Role.MANAGER)
    project = qproject
    project.review_percentage = 0.4
    project.agreement_threshold = 0.6
    project.save()
    consensus_batch(project, make_rows(14, prefix="c"), labels=2)
    single, _ = batch_create(
        project=project, name="s", data_rows=[r.pk for r in make_rows(16, prefix="s")]
    )
    doomed, _ = batch_create(
        project=project, name="d", data_rows=[r.pk for r in make_rows(8, prefix="d")]
    )
    gold_set(project=project, rows=[{"data_row": "s-00015", "annotation": ANNOTATIONS[0]}])
    project.gold_percentage = 0.2
    project.save()
    _label_and_skip(project, qlabelers, clock, rng, 45)
    labels = list(Label.objects.filter(project=project).order_by("id"))
    pending = [x for x in labels if x.status == "pending_review"]
    submitted = [x for x in labels if x.status == "submitted"]
    for label in pending[:3] + submitted[:2]:
        clock.advance(30)
        label_accept(project=project, label_id=label.pk, user=reviewer)
    for label in pending[3:5] + submitted[2:4]:
        clock.advance(30)
        label_reject(project=project, label_id=label.pk, user=reviewer, reason="redo")
    accepted = Label.objects.filter(project=project, status="accepted").first()
    label_reject(project=project, label_id=accepted.pk, user=manager, reason="sent back")
    rest = list(
        Label.objects.filter(project=project, status="pending_review").values_list("pk", flat=True)
    )
    labels_review(project=project, label_ids=rest[:3], decision="accept", user=reviewer)
    labels_review(
        project=project, label_ids=rest[3:5], decision="reject", user=reviewer, reason="bulk"
    )
    # A gold answer set on a row already labelled: its labels are (re)scored.
    labelled_single = Label.objects.filter(project=project, batch=single).first()
    gold_set(
        project=project,
        rows=[{"data_row": labelled_single.data_row_id, "annotation": ANNOTATIONS[2]}],
    )
    _label_and_skip(project, qlabelers, clock, rng, 35)  # rework, more labels and skips
    assert batch_delete_labels(batch=doomed)["labels_deleted"] > 0
    batch_remove_queued_data_rows(batch=single)
    assert Label.objects.filter(project=project).count() > 40
    assert Skip.objects.filter(project=project).exists()
    assert not RollupStale.objects.exists()  # the services kept the rollups, not a recount
    return project


RANGES = [
    (None, None),
    (T0 + timedelta(minutes=37), None),
    (None, T0 + timedelta(hours=5, minutes=13)),
    (T0 + timedelta(hours=1, minutes=20), T0 + timedelta(hours=1, minutes=50)),
    (T0 + timedelta(minutes=50), T0 + timedelta(hours=2, minutes=10)),
    (T0 + timedelta(hours=2, seconds=1), T0 + timedelta(days=1, hours=3, minutes=7)),
    (T0 - timedelta(hours=3), T0 + timedelta(days=3)),
    (T0.replace(hour=0, minute=0, second=0) + timedelta(days=1), T0 + timedelta(days=3)),
]


@pytest.mark.parametrize("since, until", RANGES)
def test_labelers_equal_a_recount(mixed, since, until):
    assert _rounded(labeler_stats(project=mixed, since=since, until=until)) == recount_labelers(
        mixed, since, until
    )


@pytest.mark.parametrize("bucket", ["hour", "day"])
def test_throughput_equals_a_recount(mixed, bucket):
    for since, until in RANGES:
        since = since or T0 - timedelta(hours=2)
        until = until or T0 + timedelta(days=4)
        answer = throughput(project=mixed, bucket=bucket, since=since, until=until)
        assert answer["results"] == recount_throughput(
            mixed, bucket=bucket, since=since, until=until
        )


def test_kept_rollups_equal_a_rebuild(mixed):
    kept = _cells()
    rollups_rebuild(project_id=mixed.pk)
    assert _cells() == kept


def test_labels_edited_in_sql_are_counted_again(mixed):
    """A label's time changed outside the services marks the rollups stale: the next read
    counts them again."""
    label = Label.objects.filter(project=mixed).first()
    Label.objects.filter(pk=label.pk).update(created_at=T0 - timedelta(days=5))
    assert RollupStale.objects.filter(project=mixed).exists()
    since = T0 - timedelta(days=6)
    assert _rounded(labeler_stats(project=mixed, since=since)) == recount_labelers(mixed, since)
    assert not RollupStale.objects.exists()


def test_the_rebuild_command_counts_again(mixed):
    from io import StringIO

    from django.core.management import CommandError, call_command

    kept = _cells()
    LabelerHour.objects.all().delete()
    out = StringIO()
    call_command("rollups_rebuild", "--project", mixed.pk, stdout=out)
    assert f"{mixed.pk}: counted" in out.getvalue()
    assert _cells() == kept
    with pytest.raises(CommandError):
        call_command("rollups_rebuild", "--project", "nope")
