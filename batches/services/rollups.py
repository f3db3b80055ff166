"""Writes of the labeler rollups (`LabelerHour`, `LabelerSeconds`): every service that adds,
decides, scores or deletes labels or skips collects what it changed in a `RollupDelta` and
flushes it last in its transaction — one multi-row UPSERT per table, cells in key order, so two
writers never lock rollup rows crosswise. `rollups_rebuild` counts a project's rollups again
from its labels (the backfill of migration 0008, and projects marked stale by the trigger)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import Count, FloatField, IntegerField, Q, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, TruncDay, TruncHour, TruncMonth

from ..models import Label, LabelerHour, LabelerSeconds, RollupStale, Skip
from ..rollups import seconds_bucket, seconds_bucket_sql

_HOUR = LabelerHour._meta.db_table
_SECONDS = LabelerSeconds._meta.db_table
# LabelerHour's counters: labels, accepted, rejected, pending_review, skips, agreement_sum,
# agreement_n, gold_sum, gold_n.
_COUNTERS = [
    "labels",
    "accepted",
    "rejected",
    "pending_review",
    "skips",
    "agreement_sum",
    "agreement_n",
    "gold_sum",
    "gold_n",
]
_STATUS_COLUMN = {"accepted": 1, "rejected": 2, "pending_review": 3}


def _utc(value) -> datetime:
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def hour_of(value) -> datetime:
    return _utc(value).replace(minute=0, second=0, microsecond=0)


def day_of(value) -> datetime:
    return hour_of(value).replace(hour=0)


def month_of(value) -> datetime:
    return day_of(value).replace(day=1)


# The spans of the rollup rows: an hour and its day (LabelerHour), a day and its month
# (LabelerSeconds). Every change is written at both levels.
HOUR_SPAN, DAY_SPAN, MONTH_SPAN = 1, 24, 31


class RollupDelta:
    """What a transaction changed in one project's rollups, summed per cell."""

    def __init__(self, project_id: str):
        self.project_id = project_id
        self.hours: dict[tuple, list] = {}
        self.seconds: dict[tuple, int] = {}

    def _cell(self, author_id, created_at) -> list:
        key = (author_id, hour_of(created_at))
        cell = self.hours.get(key)
        if cell is None:
            cell = self.hours[key] = [0, 0, 0, 0, 0, 0.0, 0, 0.0, 0]
        return cell

    def label(
        self,
        *,
        author_id,
        created_at,
        status,
        seconds=None,
        agreement=None,
        gold_score=None,
        sign=1,
    ) -> None:
        """A label as it now is counted (`sign` 1) or no longer counted (-1)."""
        cell = self._cell(author_id, created_at)
        cell[0] += sign
        column = _STATUS_COLUMN.get(status)
        if column is not None:
            cell[column] += sign
        if agreement is not None:
            cell[5] += sign * agreement
            cell[6] += sign
        if gold_score is not None:
            cell[7] += sign * gold_score
            cell[8] += sign
        if seconds is not None:
            key = (author_id, day_of(created_at), seconds_bucket(seconds))
            self.seconds[key] = self.seconds.get(key, 0) + sign

    def status(self, *, author_id, created_at, old: str, new: str) -> None:
        if old == new:
            return
        cell = self._cell(author_id, created_at)
        for value, sign in ((old, -1), (new, 1)):
            column = _STATUS_COLUMN.get(value)
            if column is not None:
                cell[column] += sign

    def score(self, *, author_id, created_at, field: str, old, new) -> None:
        """A label's agreement or gold score changed from `old` to `new` (either may be null)."""
        if old == new:
            return
        cell = self._cell(author_id, created_at)
        at = 5 if field == "agreement" else 7
        if old is not None:
            cell[at] -= old
            cell[at + 1] -= 1
        if new is not None:
            cell[at] += new
            cell[at + 1] += 1

    def skip(self, *, user_id, created_at, sign=1) -> None:
        self._cell(user_id, created_at)[4] += sign

    def flush(self) -> None:
        """Write the sums: one UPSERT per table, cells in key order, then forget them."""
        db = connection
        hours: dict[tuple, list] = {}
        for (author, hour), values in self.hours.items():
            hours[(author, HOUR_SPAN, hour)] = values
            day = hours.setdefault((author, DAY_SPAN, day_of(hour)), [0] * len(values))
            day[:] = [a + b for a, b in zip(day, values, strict=True)]
        seconds: dict[tuple, int] = {}
        for (author, day, bucket), n in self.seconds.items():
            seconds[(author, HOUR_SPAN, day, bucket)] = n
            month = (author, MONTH_SPAN, month_of(day), bucket)
            seconds[month] = seconds.get(month, 0) + n
        hours = sorted((k, v) for k, v in hours.items() if any(v))
        seconds = sorted((k, v) for k, v in seconds.items() if v)
        self.hours, self.seconds = {}, {}
        if not hours and not seconds:
            return
        statements = []  # (sql, params)
        if hours:
            columns = ", ".join(_COUNTERS)
            sets = ", ".join(f"{c} = {_HOUR}.{c} + EXCLUDED.{c}" for c in _COUNTERS)
            marks = "(%s, %s, %s, %s, " + ", ".join(["%s"] * len(_COUNTERS)) + ")"
            params = []
            for (author, span, hour), values in hours:
                hour = db.ops.adapt_datetimefield_value(hour)
                params += [self.project_id, author, span, hour, *values]
            statements.append(
                (
                    f"INSERT INTO {_HOUR} (project_id, author_id, span, hour, {columns}) VALUES "
                    + ", ".join([marks] * len(hours))
                    + f" ON CONFLICT (project_id, author_id, span, hour) DO UPDATE SET {sets}",
                    params,
                )
            )
        if seconds:
            params = []
            for (author, span, day, bucket), n in seconds:
                day = db.ops.adapt_datetimefield_value(day)
                params += [self.project_id, author, span, day, bucket, n]
            statements.append(
                (
                    f"INSERT INTO {_SECONDS} (project_id, author_id, span, day, bucket, labels) "
                    "VALUES "
                    + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(seconds))
                    + " ON CONFLICT (project_id, author_id, span, day, bucket) DO UPDATE SET "
                    f"labels = {_SECONDS}.labels + EXCLUDED.labels",
                    params,
                )
            )
        if len(statements) == 2 and db.vendor == "postgresql":
            # One round trip on the submit path: the second UPSERT in a data-modifying WITH.
            (first, first_params), (second, second_params) = statements
            statements = [(f"WITH h AS ({first}) {second}", first_params + second_params)]
        with db.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)


def skip_count_sql(source: str) -> str:
    """One more skip in the labeler's hour: the row of `source` (a `SELECT project_id FROM …`
    of the skip just inserted, or `VALUES (…)`), params `user` and `hour`."""
    return (
        f"INSERT INTO {_HOUR} (project_id, author_id, span, hour, {', '.join(_COUNTERS)}) "
        f"{source} ON CONFLICT (project_id, author_id, span, hour) DO UPDATE "
        f"SET skips = {_HOUR}.skips + 1"
    )


_SKIP_ROW = "0, 0, 0, 0, 1, 0, 0, 0, 0"
SKIP_COUNT_CTE = skip_count_sql(
    f"SELECT project_id, %(user)s, k.span, k.start, {_SKIP_ROW} FROM skipped, "
    f"(VALUES ({HOUR_SPAN}, %(hour)s), ({DAY_SPAN}, %(day)s)) AS k (span, start)"
)
SKIP_COUNT = skip_count_sql(
    f"VALUES (%(project)s, %(user)s, {HOUR_SPAN}, %(hour)s, {_SKIP_ROW}), "
    f"(%(project)s, %(user)s, {DAY_SPAN}, %(day)s, {_SKIP_ROW})"
)


LABEL_FIELDS = ["author_id", "created_at", "status", "seconds", "agreement", "gold_score"]


def labels_delete(labels, *, rollup: RollupDelta) -> int:
    """Delete the labels of a queryset, uncounting exactly those deleted (DELETE … RETURNING:
    a label written meanwhile is counted out only if it is deleted)."""
    sql, params = labels.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Label._meta.db_table} WHERE id IN ({sql}) "
            f"RETURNING {', '.join(LABEL_FIELDS)}",
            params,
        )
        deleted = cursor.fetchall()
    for author, created, status, seconds, agreement, gold in deleted:
        rollup.label(
            author_id=author,
            created_at=created,
            status=status,
            seconds=seconds,
            agreement=agreement,
            gold_score=gold,
            sign=-1,
        )
    return len(deleted)


def skips_delete(skips, *, rollup: RollupDelta) -> int:
    """Delete the skips of a queryset, uncounting those deleted."""
    sql, params = skips.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Skip._meta.db_table} WHERE id IN ({sql}) RETURNING user_id, created_at",
            params,
        )
        deleted = cursor.fetchall()
    for user, created in deleted:
        rollup.skip(user_id=user, created_at=created, sign=-1)
    return len(deleted)


# --- Counting again -----------------------------------------------------------------------------


def _stale_table_lock() -> None:
    """PostgreSQL: writers of labels and skips wait while a project is counted again (rare:
    a backfill, or labels edited outside the services)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {Label._meta.db_table}, {Skip._meta.db_table} IN SHARE MODE"
            )


def _insert_select(table: str, columns: list[str], qs, conflict: str = "") -> None:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) {sql} {conflict}", params)


def _label_hours(labels, trunc, span: int):
    status = Label.Status
    return (
        labels.annotate(at=trunc("created_at", tzinfo=UTC))
        .values("author_id", "at")
        .annotate(
            span=Value(span, output_field=IntegerField()),
            n=Count("id"),
            acc=Count("id", filter=Q(status=status.ACCEPTED)),
            rej=Count("id", filter=Q(status=status.REJECTED)),
            pend=Count("id", filter=Q(status=status.PENDING_REVIEW)),
            no_skips=Value(0, output_field=IntegerField()),
            agr=Coalesce(Sum("agreement"), Value(0.0), output_field=FloatField()),
            agr_n=Count("agreement"),
            gold=Coalesce(Sum("gold_score"), Value(0.0), output_field=FloatField()),
            gold_n=Count("gold_score"),
        )
        .values_list(
            "project_id",
            "author_id",
            "span",
            "at",
            "n",
            "acc",
            "rej",
            "pend",
            "no_skips",
            "agr",
            "agr_n",
            "gold",
            "gold_n",
        )
        .order_by()
    )


def _skip_hours(skips, trunc, span: int):
    return (
        skips.annotate(at=trunc("created_at", tzinfo=UTC))
        .values("user_id", "at")
        .annotate(
            span=Value(span, output_field=IntegerField()),
            n=Count("id"),
            z1=Value(0, output_field=IntegerField()),
            z2=Value(0.0, output_field=FloatField()),
        )
        .values_list(
            "project_id", "user_id", "span", "at", *["z1"] * 4, "n", "z2", "z1", "z2", "z1"
        )
        .order_by()
    )


def _seconds_days(labels, trunc, span: int):
    bucket = Cast(RawSQL(seconds_bucket_sql("seconds"), []), IntegerField())
    return (
        labels.filter(seconds__isnull=False)
        .annotate(at=trunc("created_at", tzinfo=UTC), bucket=bucket)
        .values("author_id", "at", "bucket")
        .annotate(span=Value(span, output_field=IntegerField()), n=Count("id"))
        .values_list("project_id", "author_id", "span", "at", "bucket", "n")
        .order_by()
    )


def rollups_rebuild(*, project_id: str) -> None:
    """Count the project's rollups again from its labels and skips (set-based: INSERT …
    SELECT … GROUP BY per table and span, in one transaction), and clear its stale mark."""
    hour_columns = ["project_id", "author_id", "span", "hour", *_COUNTERS]
    seconds_columns = ["project_id", "author_id", "span", "day", "bucket", "labels"]
    skips_only = (
        "ON CONFLICT (project_id, author_id, span, hour) DO UPDATE SET skips = EXCLUDED.skips"
    )
    with transaction.atomic():
        _stale_table_lock()
        LabelerHour.objects.filter(project_id=project_id).delete()
        LabelerSeconds.objects.filter(project_id=project_id).delete()
        labels = Label.objects.filter(project_id=project_id)
        skips = Skip.objects.filter(project_id=project_id)
        for trunc, span in ((TruncHour, HOUR_SPAN), (TruncDay, DAY_SPAN)):
            _insert_select(_HOUR, hour_columns, _label_hours(labels, trunc, span))
            _insert_select(_HOUR, hour_columns, _skip_hours(skips, trunc, span), skips_only)
        for trunc, span in ((TruncDay, HOUR_SPAN), (TruncMonth, MONTH_SPAN)):
            _insert_select(_SECONDS, seconds_columns, _seconds_days(labels, trunc, span))
        RollupStale.objects.filter(project_id=project_id).delete()


def rollups_fresh(*, project_id: str) -> None:
    """Before a read: count the project's rollups again if the trigger marked them stale."""
    if RollupStale.objects.filter(project_id=project_id).exists():
        rollups_rebuild(project_id=project_id)
