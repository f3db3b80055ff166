"""Reads of the quality loop: agreement (per project or batch, from the agreement stored per
row), labeler analytics and throughput over a time range, and the gold rows. Every figure is
one aggregate over an index (see the `label_project_*`, `skip_project_user_time` and
`queueentry_*_agreement` indexes); nothing loads the labels into Python."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import QuerySet, Sum
from django.utils import timezone

from dashboard.errors import Invalid

from .models import AgreementBucket, Batch, GoldRow, Project, QueueEntry
from .rollups import labeler_sums, medians, snapshot, throughput_counts
from .services.rollups import rollups_fresh
from .similarity import HISTOGRAM_BUCKETS, histogram_bucket

MAX_BUCKETS = {"hour": 24 * 31, "day": 3660}  # a month of hours, ten years of days
DEFAULT_SPAN = {"hour": timedelta(days=2), "day": timedelta(days=30)}
EMPTY = {"labels": 0, "accepted": 0, "rejected": 0}


# --- Agreement --------------------------------------------------------------------------------


def agreement_summary(*, project: Project, batch: Batch | None = None) -> dict:
    """`{rows, mean, below_threshold, threshold, histogram}` over the rows (of the project, or
    of one batch) with two counted labels or more; `below_threshold` is null without a
    threshold. The histogram, mean and rows are a sum over the agreement buckets kept current
    on every write (at most 10 rows per batch); the rows below the threshold are one range
    count on the partial agreement index."""
    scope = {"batch": batch} if batch is not None else {"project": project}
    buckets = {
        line["bucket"]: line
        for line in AgreementBucket.objects.filter(**scope)
        .values("bucket")
        .annotate(n=Sum("rows"), sum=Sum("total"))
    }
    rows = sum(line["n"] for line in buckets.values())
    total = sum(line["sum"] or 0.0 for line in buckets.values())
    threshold = project.agreement_threshold
    below = None
    if threshold is not None:
        # Whole buckets below the threshold from the kept counts; only the rows of the bucket
        # the threshold falls in are counted on the index (none when it is a multiple of 0.1).
        # A row is in bucket k when agreement·10 + 1e-9 ≥ k (see `histogram_bucket`).
        k = histogram_bucket(threshold)
        below = sum(line["n"] for b, line in buckets.items() if b < k)
        low = (k - 1e-9) / HISTOGRAM_BUCKETS
        if low < threshold:
            below += QueueEntry.objects.filter(
                **scope, agreement__gte=low, agreement__lt=threshold
            ).count()
    histogram = [
        {
            "from": round(i / HISTOGRAM_BUCKETS, 1),
            "to": round((i + 1) / HISTOGRAM_BUCKETS, 1),
            "rows": buckets.get(i, {}).get("n", 0),
        }
        for i in range(HISTOGRAM_BUCKETS)
    ]
    return {
        "rows": rows,
        "mean": score_mean(total, rows),
        "threshold": threshold,
        "below_threshold": below,
        "histogram": histogram,
    }


def batch_agreement(*, batch: Batch) -> float | None:
    return agreement_summary(project=batch.project, batch=batch)["mean"]


# --- Time ranges --------------------------------------------------------------------------------


def time_range(
    *, since: datetime | None, until: datetime | None, default: timedelta | None = None
) -> tuple[datetime | None, datetime | None]:
    """A checked [since, until) range; with `default`, a missing `since` is `until - default`."""
    if since is not None and until is not None and since >= until:
        raise Invalid("Must be before `until`.", field="since")
    if default is not None and since is None:
        since = (until or timezone.now()) - default
    return since, until


def _in_range(qs: QuerySet, *, since, until, field: str = "created_at") -> QuerySet:
    if since is not None:
        qs = qs.filter(**{f"{field}__gte": since})
    if until is not None:
        qs = qs.filter(**{f"{field}__lt": until})
    return qs


# --- Labelers -------------------------------------------------------------------------------


def score_mean(total: float, n: int) -> float | None:
    """A mean of scores in [0, 1] from a kept sum (None for none): clamped, and a value within
    1e-12 of 9 decimals snapped to them, as a sum kept by deltas drifts by about 1e-16 (0.5
    stays 0.5, 1/3 stays 1/3: never cut to a few decimals)."""
    if not n:
        return None
    value = min(1.0, max(0.0, total / n))
    snapped = round(value, 9)
    return snapped if abs(value - snapped) < 1e-12 else value


def labeler_stats(*, project: Project, since=None, until=None) -> list[dict]:
    """One line per user with labels or skips in the project in the range:
    `{user: {id, username}, labels, accepted, rejected, pending_review, skips,
    median_seconds, agreement, gold_score, gold_labels}`, busiest first. Whole hours from the
    rollups, partial ones from the labels (`batches.rollups`)."""
    rollups_fresh(project_id=project.pk)
    with snapshot():
        rows = labeler_sums(project_id=project.pk, since=since, until=until)
        middle = medians(project_id=project.pk, since=since, until=until)
    users = dict(get_user_model().objects.filter(pk__in=list(rows)).values_list("pk", "username"))
    result = []
    for user_id, username in users.items():
        line = rows[user_id]
        median = middle.get(user_id)
        result.append(
            {
                "user": {"id": user_id, "username": username},
                "labels": line["labels"],
                "accepted": line["accepted"],
                "rejected": line["rejected"],
                "pending_review": line["pending_review"],
                "skips": line["skips"],
                "median_seconds": None if median is None else float(median),
                "agreement": score_mean(line["agreement_sum"], line["agreement_n"]),
                "gold_score": score_mean(line["gold_sum"], line["gold_n"]),
                "gold_labels": line["gold_n"],
            }
        )
    result.sort(key=lambda r: (-r["labels"], r["user"]["username"]))
    return result


LABELER_COLUMNS = [
    "user",
    "labels",
    "accepted",
    "rejected",
    "pending_review",
    "skips",
    "median_seconds",
    "agreement",
    "gold_score",
    "gold_labels",
]


# --- Throughput --------------------------------------------------------------------------------


def throughput(*, project: Project, bucket: str, since=None, until=None) -> dict:
    """Labels written per hour or day in [since, until) (default: the last 2 days by hour, 30
    by day), with how many of them are now accepted and rejected: `{bucket, since, until,
    results: [{start, labels, accepted, rejected}]}`, empty buckets included. At most a
    month of hours or ten years of days (a 400 naming `since` beyond)."""
    until = until or timezone.now()
    since, until = time_range(since=since, until=until, default=DEFAULT_SPAN[bucket])
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    first = since.replace(minute=0, second=0, microsecond=0)
    if bucket == "day":
        first = first.replace(hour=0)
    if (until - first) / step > MAX_BUCKETS[bucket]:
        raise Invalid(
            f"At most {MAX_BUCKETS[bucket]} {bucket} buckets; narrow the range.", field="since"
        )
    rollups_fresh(project_id=project.pk)
    with snapshot():
        counted = throughput_counts(project_id=project.pk, since=since, until=until, bucket=bucket)
    results, start = [], first
    while start < until:
        results.append({"start": start, **counted.get(start, EMPTY)})
        start += step
    return {"bucket": bucket, "since": since, "until": until, "results": results}


# --- Gold rows ----------------------------------------------------------------------------------


def gold_list(*, project: Project) -> QuerySet[GoldRow]:
    return GoldRow.objects.filter(project=project).select_related("data_row")


def labelers_csv(lines: list[dict], *, filename: str):
    """The labeler lines as a CSV download (usernames escaped against spreadsheet formulas)."""
    import csv
    import io

    from django.http import HttpResponse

    from dashboard.bulk.csv_cells import csv_escape

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user_id", *LABELER_COLUMNS])
    for line in lines:
        writer.writerow(
            [
                line["user"]["id"],
                csv_escape(line["user"]["username"]),
                *("" if line[c] is None else line[c] for c in LABELER_COLUMNS[1:]),
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
