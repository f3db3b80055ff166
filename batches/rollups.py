"""Reads of the labeler analytics from the rollups: the whole hours (days, for the median)
inside [since, until) are sums over `LabelerHour` / `LabelerSeconds`; the partial hours (days)
at the edges are counted on the labels themselves (index `label_project_time`). The median of
`seconds` is exact: the rollups' counts per seconds bucket say which bucket holds the middle
label(s), which are then read in order among that bucket's labels
(`label_project_author_seconds`). Same numbers as counting the labels directly."""

from __future__ import annotations

import math
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, IntegerField, Q, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, TruncHour

from .models import Label, LabelerHour, LabelerSeconds, Skip

HOUR, DAY = timedelta(hours=1), timedelta(days=1)

# --- Seconds buckets ----------------------------------------------------------------------------
# Eighteen per decade (0.5–5 s in steps of 0.5 s, 5–50 s in steps of 5 s, …; 5.5–50 % wide): few
# rollup rows per labeler and day, few labels to read in the median's bucket. Python and SQL
# compute the same IEEE operation (x·20, x·2, x/5, x/50, …) and floor it, so a value lands in
# the same bucket whoever counts it. Decade i (values below 10^i; the last unbounded):
# bucket = floor(scaled) + 18·i, the scaled value in [2, 20) ([0, 20) in the first).
_OPS = ["* 20", "* 2", "/ 5", "/ 50", "/ 500", "/ 5000", "/ 50000", "/ 500000"]
_PER_DECADE = 18


def _scaled(seconds: float, op: str) -> float:
    factor = int(op.split()[1])
    return seconds * factor if op[0] == "*" else seconds / factor


def seconds_bucket(seconds: float) -> int:
    """The bucket of a `seconds` value (negative values, never written, go to bucket 0)."""
    last = len(_OPS) - 1
    for i, op in enumerate(_OPS):
        if i == last or seconds < _UPPERS[i]:
            return max(0, math.floor(_scaled(seconds, op))) + _PER_DECADE * i
    raise AssertionError  # pragma: no cover


_UPPERS = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]


def seconds_bucket_sql(column: str) -> str:
    """`seconds_bucket` in SQL (an integer), for PostgreSQL and SQLite alike."""
    postgres = connection.vendor == "postgresql"

    def floor(x: str) -> str:
        return f"FLOOR({x})" if postgres else f"CAST({x} AS INTEGER)"

    last = len(_OPS) - 1
    parts = []
    for i, op in enumerate(_OPS):
        value = floor(f"{column} {op}")
        if i == 0:
            value = f"{'GREATEST' if postgres else 'MAX'}(0, {value})"
        value = f"{value} + {_PER_DECADE * i}"
        parts.append(f"ELSE {value}" if i == last else f"WHEN {column} < {_UPPERS[i]} THEN {value}")
    expression = f"CASE {' '.join(parts)} END"
    return f"CAST({expression} AS integer)" if postgres else expression


def bucket_bounds(bucket: int) -> tuple[float | None, float]:
    """A range of `seconds` holding every value of the bucket (a little wider: the exact
    bucket is checked beside it): (low or None for no bound, high)."""
    if bucket < 20:
        decade, k = 0, bucket
    else:
        decade = min(len(_OPS) - 1, (bucket - 2) // _PER_DECADE)
        k = bucket - _PER_DECADE * decade
    scale = 5 * 10.0 ** (decade - 2)
    low = None if bucket == 0 else (k - 0.01) * scale
    return low, (k + 1.01) * scale


# --- Ranges -------------------------------------------------------------------------------------


def _floor(value: datetime, unit: timedelta) -> datetime:
    value = value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return value.replace(hour=0) if unit == DAY else value


def spans(since, until, unit: timedelta):
    """[since, until) as whole units (`(low, high)`, None for an open end; None when there is
    no whole unit) and the partial edges `[(start, end)]` counted on the labels."""
    low = high = None
    if since is not None:
        low = _floor(since, unit)
        if low < since:
            low += unit
    if until is not None:
        high = _floor(until, unit)
    if low is not None and high is not None and low >= high:
        return None, [(since, until)]
    edges = []
    if since is not None and since < low:
        edges.append((since, low))
    if until is not None and high < until:
        edges.append((high, until))
    return (low, high), edges


def _next_day(value: datetime) -> datetime:
    return value + DAY


def _next_month(value: datetime) -> datetime:
    return (value.replace(day=1) + timedelta(days=32)).replace(day=1)


def _floor_month(value: datetime) -> datetime:
    return _floor(value, DAY).replace(day=1)


def levels(whole, *, coarse: int, floor, step) -> list[tuple[int, datetime, datetime]]:
    """Whole fine units [low, high) as rollup rows to read, `(span, low, high)`: the coarse
    rows (days of hours, months of days) where whole ones fit, fine rows (span 1) around."""
    low, high = whole
    c_low = None if low is None else floor(low)
    if c_low is not None and c_low < low:
        c_low = step(c_low)
    c_high = None if high is None else floor(high)
    if c_low is not None and c_high is not None and c_low >= c_high:
        return [(1, low, high)]
    parts = []
    if low is not None and low < c_low:
        parts.append((1, low, c_low))
    parts.append((coarse, c_low, c_high))
    if high is not None and c_high < high:
        parts.append((1, c_high, high))
    return parts


def _whole(qs, field: str, part):
    span, low, high = part
    qs = qs.filter(span=span)
    if low is not None:
        qs = qs.filter(**{f"{field}__gte": low})
    if high is not None:
        qs = qs.filter(**{f"{field}__lt": high})
    return qs


def _edges(qs, edge, field: str = "created_at"):
    start, end = edge
    return qs.filter(**{f"{field}__gte": start, f"{field}__lt": end})


@contextmanager
def snapshot():
    """The reads of one answer see one state of the database (PostgreSQL: a repeatable-read
    transaction; SQLite reads in one transaction see one state anyway)."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


# --- Labelers -----------------------------------------------------------------------------------

_SUMS = ["labels", "accepted", "rejected", "pending_review", "skips"]
_SCORES = ["agreement_sum", "agreement_n", "gold_sum", "gold_n"]


def labeler_sums(*, project_id: str, since=None, until=None) -> dict[int, dict]:
    """Per user: labels, status counts, skips and the agreement / gold sums in the range."""
    lines: dict[int, dict] = defaultdict(lambda: dict.fromkeys(_SUMS + _SCORES, 0))
    whole, edges = spans(since, until, HOUR)
    parts = (
        []
        if whole is None
        else levels(whole, coarse=24, floor=lambda v: _floor(v, DAY), step=_next_day)
    )
    for part in parts:
        rows = _whole(LabelerHour.objects.filter(project_id=project_id), "hour", part)
        for row in (
            rows.values("author_id").annotate(**{f"s_{c}": Sum(c) for c in _SUMS + _SCORES})
        ).order_by():
            line = lines[row["author_id"]]
            for c in _SUMS + _SCORES:
                line[c] += row[f"s_{c}"] or 0
    for edge in edges:  # one range each: a plain index range scan
        status = Label.Status
        labels = _edges(Label.objects.filter(project_id=project_id), edge)
        for row in (
            labels.values("author_id")
            .annotate(
                s_labels=Count("id"),
                s_accepted=Count("id", filter=Q(status=status.ACCEPTED)),
                s_rejected=Count("id", filter=Q(status=status.REJECTED)),
                s_pending_review=Count("id", filter=Q(status=status.PENDING_REVIEW)),
                s_agreement_sum=Sum("agreement"),
                s_agreement_n=Count("agreement"),
                s_gold_sum=Sum("gold_score"),
                s_gold_n=Count("gold_score"),
            )
            .order_by()
        ):
            line = lines[row["author_id"]]
            for c in _SUMS + _SCORES:
                if c != "skips":
                    line[c] += row[f"s_{c}"] or 0
        skips = _edges(Skip.objects.filter(project_id=project_id), edge)
        for user_id, n in (
            skips.values("user_id").annotate(n=Count("id")).values_list("user_id", "n")
        ):
            lines[user_id]["skips"] += n
    return {user: line for user, line in lines.items() if line["labels"] or line["skips"]}


def _bucket_counts(*, project_id: str, since, until) -> dict[int, dict[int, int]]:
    """Per labeler: {seconds bucket: labels with seconds in the range}."""
    counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    whole, edges = spans(since, until, DAY)
    parts = [] if whole is None else levels(whole, coarse=31, floor=_floor_month, step=_next_month)
    for part in parts:
        rows = _whole(LabelerSeconds.objects.filter(project_id=project_id), "day", part)
        for author, bucket, n in (
            rows.values("author_id", "bucket")
            .annotate(n=Sum("labels"))
            .order_by()
            .values_list("author_id", "bucket", "n")
        ):
            counts[author][bucket] += n
    for edge in edges:  # one range each: a plain index range scan
        bucket = Cast(RawSQL(seconds_bucket_sql("seconds"), []), IntegerField())
        labels = _edges(Label.objects.filter(project_id=project_id, seconds__isnull=False), edge)
        for author, b, n in (
            labels.annotate(bucket=bucket)
            .values("author_id", "bucket")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("author_id", "bucket", "n")
        ):
            counts[author][b] += n
    return counts


def _rank_places(buckets: dict[int, int], ranks: list[int]) -> list[tuple[int, int]]:
    """(bucket, offset in it) of each rank (0-based, ascending) of the sorted values."""
    places, below = [], 0
    wanted = iter(ranks)
    rank = next(wanted)
    for bucket in sorted(buckets):
        n = buckets[bucket]
        while rank is not None and rank < below + n:
            places.append((bucket, rank - below))
            rank = next(wanted, None)
        below += n
        if rank is None:
            break
    return places


MEDIAN_READS_PER_STATEMENT = 100


def medians(*, project_id: str, since=None, until=None) -> dict[int, float]:
    """The median `seconds` of each labeler's labels in the range, as PostgreSQL's
    `percentile_cont(0.5)` (and SQLite's mean of the middle two) computes it."""
    reads = []  # (author, bucket, offset, limit)
    needed: dict[int, int] = {}
    for author, buckets in _bucket_counts(project_id=project_id, since=since, until=until).items():
        n = sum(buckets.values())
        if n <= 0:
            continue
        ranks = sorted({(n - 1) // 2, n // 2})
        needed[author] = len(ranks)
        places = _rank_places(buckets, ranks)
        if len(places) == 2 and places[0][0] == places[1][0]:
            reads.append((author, places[0][0], places[0][1], 2, buckets[places[0][0]]))
        else:
            reads.extend((author, b, offset, 1, buckets[b]) for b, offset in places)
    values: dict[int, list[float]] = defaultdict(list)
    table, expression = Label._meta.db_table, seconds_bucket_sql("seconds")
    for start in range(0, len(reads), MEDIAN_READS_PER_STATEMENT):
        parts, params = [], []
        for i, (author, bucket, offset, limit, count) in enumerate(
            reads[start : start + MEDIAN_READS_PER_STATEMENT]
        ):
            low, high = bucket_bounds(bucket)
            where = ["project_id = %s", "author_id = %s", "seconds < %s"]
            part_params: list = [project_id, author, high]
            if low is not None:
                where.append("seconds >= %s")
                part_params.append(low)
            where.append(f"{expression} = %s")
            part_params.append(bucket)
            for value, op in ((since, ">="), (until, "<")):
                if value is not None:
                    where.append(f"created_at {op} %s")
                    part_params.append(connection.ops.adapt_datetimefield_value(value))
            order = ""
            if 2 * offset + limit > count:  # nearer the top of the bucket: read down from it
                order, offset = " DESC", count - offset - limit
            parts.append(
                f"SELECT * FROM (SELECT %s AS a, %s AS r, seconds FROM {table} "
                f"WHERE {' AND '.join(where)} ORDER BY seconds{order} LIMIT %s OFFSET %s) AS m{i}"
            )
            params += [author, start + i, *part_params, limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            rows = sorted(cursor.fetchall(), key=lambda row: (row[1], row[2]))
        for author, _read, seconds in rows:
            values[author].append(float(seconds))
    result = {}
    postgres = connection.vendor == "postgresql"
    for author, count in needed.items():
        middle = sorted(values.get(author, []))
        if len(middle) != count:  # pragma: no cover (a snapshot sees one state)
            continue
        low, high = middle[0], middle[-1]
        result[author] = low + (high - low) * 0.5 if postgres else (low + high) / 2
    return result


# --- Throughput ---------------------------------------------------------------------------------


def throughput_counts(*, project_id: str, since, until, bucket: str) -> dict[datetime, dict]:
    """{start of the hour or day: {labels, accepted, rejected}} over [since, until)."""
    day = bucket == "day"
    counted: dict[datetime, dict] = defaultdict(lambda: {"labels": 0, "accepted": 0, "rejected": 0})
    whole, edges = spans(since, until, HOUR)
    parts = []
    if whole is not None:  # day buckets may read whole days; hour buckets read hours
        parts = [(1, *whole)]
        if day:
            parts = levels(whole, coarse=24, floor=lambda v: _floor(v, DAY), step=_next_day)
    for part in parts:
        rows = _whole(LabelerHour.objects.filter(project_id=project_id), "hour", part)
        for row in (
            rows.values("hour")
            .annotate(n=Sum("labels"), acc=Sum("accepted"), rej=Sum("rejected"))
            .order_by()
        ):
            line = counted[_floor(row["hour"], DAY if day else HOUR)]
            line["labels"] += row["n"] or 0
            line["accepted"] += row["acc"] or 0
            line["rejected"] += row["rej"] or 0
    for edge in edges:  # one range each: a plain index range scan
        status = Label.Status
        labels = _edges(Label.objects.filter(project_id=project_id), edge)
        for row in (
            labels.annotate(start=TruncHour("created_at", tzinfo=UTC))
            .values("start")
            .annotate(
                n=Count("id"),
                acc=Count("id", filter=Q(status=status.ACCEPTED)),
                rej=Count("id", filter=Q(status=status.REJECTED)),
            )
            .order_by()
        ):
            line = counted[_floor(row["start"], DAY if day else HOUR)]
            line["labels"] += row["n"]
            line["accepted"] += row["acc"]
            line["rejected"] += row["rej"]
    return counted
