"""The admin lists' count of their rows without reading a big table on every page view: on
PostgreSQL an unfiltered list of a big table takes the planner's estimate of its rows.

Django's admin counts every list it pages (`COUNT(*)`): a label, queue or frame table of
millions of rows is read whole each time its first page is shown. A filtered or searched list
is still counted exactly (its filter is what a manager reads the count for)."""

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# A table estimated to hold fewer rows than this is counted exactly (a count is cheap there).
ESTIMATE_FROM = 100_000


def table_rows_estimate(queryset: QuerySet) -> int | None:
    """The planner's estimate of the rows of `queryset`'s table (PostgreSQL, as of its last
    ANALYZE), or None elsewhere or when the table was never analysed."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] is not None and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    """`count`: the table's estimate for an unfiltered list of a big PostgreSQL table (then
    `estimated`, and the list says "about N"), else exact."""

    estimated = False

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet) and not rows.query.where and not rows.query.distinct:
            estimate = table_rows_estimate(rows)
            if estimate is not None and estimate >= ESTIMATE_FROM:
                self.estimated = True
                return estimate
        return super().count
