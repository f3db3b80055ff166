"""Copy-on-write frame storage: how a version's frames are read.

Each version stores only what it changes: a `FrameEntry` per (version, data row) pointing at an
immutable `FrameRevision`, or at nothing (a tombstone). A version's frames are, for each data
row, the entry of the nearest version on its ancestor chain (itself first), minus tombstones.
Branching or snapshotting writes one version row whatever the size (O(1)); a parent is always
published, so what a child inherits never changes under it.

Reads stay fast however deep the chain:
- `iter_frames` walks the chain's entries in data-row order through the (data_row, version)
  index, a bounded window at a time (keyset paging), keeping the nearest entry per row. Each
  step costs O(window × chain length) and memory stays flat; a 10-generation chain that changes
  1 % per generation reads ~1.1 entries per frame.
- `nearest_revision_ids` / `nearest_contents` apply the rule to a given set of data rows (the
  bulk writer's classification, the batch export), one IN list per call.
- `effective_entries` is the same rule as one SQL statement (a window function, portable to
  PostgreSQL and SQLite) for filtered reads (`?source=`, metadata filters, counts).
- `version_diff_rows` compares two versions in the database, looking only at data rows that
  have an entry in the part of the two chains they do not share, so close versions diff in
  O(changes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection
from django.db.models import Case, F, IntegerField, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber

from dashboard.bulk.staging import select_in

from .models import DatasetVersion, FrameEntry, FrameRevision


def version_chain(version: DatasetVersion) -> list[str]:
    """Ids of the version and its ancestors, nearest first (one query per generation)."""
    chain = [version.pk]
    parent_id = version.parent_id
    while parent_id is not None:
        chain.append(parent_id)
        parent_id = (
            DatasetVersion.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
        )
    return chain


def nearest(entries: Iterable[tuple[str, str, Any]], chain: list[str]) -> dict[str, Any]:
    """The chain rule: for (data_row_id, version_id, value) entries of versions on `chain`,
    {data_row_id: value of the nearest version's entry}, in the entries' data-row order; a
    tombstone's value (None) is kept here so that it hides the ancestors' entries."""
    rank = {vid: i for i, vid in enumerate(chain)}
    best: dict[str, tuple[int, Any]] = {}
    for data_row_id, version_id, value in entries:
        generation = rank[version_id]
        if data_row_id not in best or generation < best[data_row_id][0]:
            best[data_row_id] = (generation, value)
    return {data_row_id: value for data_row_id, (_, value) in best.items()}


def nearest_revision_ids(chain: list[str], ids: Sequence[str]) -> dict[str, int]:
    """{data_row_id: revision id} of the frames that the version whose chain is `chain` has
    among `ids` (tombstoned and absent rows left out)."""
    found = select_in(
        f"SELECT data_row_id, version_id, revision_id FROM {FrameEntry._meta.db_table}"
        f" WHERE version_id IN ({', '.join(['%s'] * len(chain))}) AND data_row_id {{in}}",
        list(ids),
        chain,
    )
    return {k: v for k, v in nearest(found, chain).items() if v is not None}


def nearest_contents(chain: list[str], ids: Sequence[str]) -> dict[str, dict]:
    """{data_row_id: content} of the frames that the version whose chain is `chain` has among
    `ids`."""
    revisions = nearest_revision_ids(chain, ids)
    contents = dict(
        FrameRevision.objects.filter(pk__in=list(revisions.values())).values_list("pk", "content")
    )
    return {row_id: contents[revision_id] for row_id, revision_id in revisions.items()}


def _generation(chain: list[str]) -> Case:
    return Case(
        *[When(version_id=vid, then=Value(i)) for i, vid in enumerate(chain)],
        output_field=IntegerField(),
    )


def effective_entries(version: DatasetVersion) -> QuerySet[FrameEntry]:
    """The entries that make up the version's frames (tombstones excluded), one per data row."""
    chain = version_chain(version)
    if len(chain) == 1:
        return FrameEntry.objects.filter(version_id=version.pk, revision__isnull=False)
    nearest = (
        FrameEntry.objects.filter(version_id__in=chain)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("data_row_id")], order_by=_generation(chain).asc()
            )
        )
        .filter(rank=1)
        .values("pk")
    )
    # Tombstones are dropped only after ranking: a deletion must hide the ancestors' revision.
    return FrameEntry.objects.filter(pk__in=nearest, revision__isnull=False)


def iter_revision_ids(
    version: DatasetVersion,
    *,
    after: str = "",
    before: str = "",
    ids: list[str] | None = None,
    window: int = 2000,
    chain: list[str] | None = None,
) -> Iterator[tuple[str, int]]:
    """(data_row_id, revision_id) of the version's frames in data-row order after `after`, or
    with `before`, in reverse data-row order before it."""
    chain = chain or version_chain(version)
    # A data row has at most one entry per chain version, so a window one chain longer than
    # `window` always holds complete rows besides (possibly) the last, which is re-read.
    limit = window + len(chain)
    bound, order = (before, "-data_row_id") if before else (after, "data_row_id")
    while True:
        rows = FrameEntry.objects.filter(version_id__in=chain)
        rows = rows.filter(data_row_id__lt=bound) if before else rows.filter(data_row_id__gt=bound)
        if ids is not None:
            rows = rows.filter(data_row_id__in=ids)
        batch = list(
            rows.order_by(order).values_list("data_row_id", "version_id", "revision_id")[:limit]
        )
        if not batch:
            return
        complete = len(batch) < limit
        if not complete:
            # The last data row's entries may continue past the window: read it next time.
            last = batch[-1][0]
            batch = [row for row in batch if row[0] != last]
        for data_row_id, revision_id in nearest(batch, chain).items():  # in data-row order
            if revision_id is not None:
                yield data_row_id, revision_id
        bound = batch[-1][0]
        if complete:
            return


def iter_frame_contents(
    version: DatasetVersion, *, after: str = "", ids: list[str] | None = None, window: int = 2000
) -> Iterator[tuple[str, dict]]:
    """(data_row_id, content) of the version's frames in data-row order, streamed."""
    pending: list[tuple[str, int]] = []

    def flush():
        contents = dict(
            FrameRevision.objects.filter(pk__in=[r for _, r in pending]).values_list(
                "pk", "content"
            )
        )
        for data_row_id, revision_id in pending:
            yield data_row_id, contents[revision_id]
        pending.clear()

    for item in iter_revision_ids(version, after=after, ids=ids, window=window):
        pending.append(item)
        if len(pending) >= window:
            yield from flush()
    if pending:
        yield from flush()


def _ranked_sql(chain: list[str], candidates_sql: str) -> tuple[str, list]:
    whens = " ".join("WHEN %s THEN " + str(i) for i in range(len(chain)))
    sql = (
        "SELECT data_row_id, revision_id FROM ("
        " SELECT data_row_id, revision_id, ROW_NUMBER() OVER ("
        f"  PARTITION BY data_row_id ORDER BY CASE version_id {whens} END) AS rn"
        f" FROM {FrameEntry._meta.db_table}"
        f" WHERE version_id IN ({', '.join(['%s'] * len(chain))})"
        f" AND data_row_id IN ({candidates_sql})"
        ") ranked WHERE rn = 1 AND revision_id IS NOT NULL"
    )
    return sql, [*chain, *chain]


def version_diff_rows(
    newer: DatasetVersion, older: DatasetVersion, *, limit: int
) -> dict[str, tuple[int, list[str]]]:
    """{kind: (count, first `limit` ids)} for kind in added (in newer only), removed (in older
    only) and changed (in both, different content) — one statement, in the database."""
    chain_new, chain_old = version_chain(newer), version_chain(older)
    differing = sorted(set(chain_new) ^ set(chain_old))
    if not differing:
        return {"added": (0, []), "removed": (0, []), "changed": (0, [])}
    table = FrameEntry._meta.db_table
    placeholders = ", ".join(["%s"] * len(differing))
    candidates = f"SELECT data_row_id FROM {table} WHERE version_id IN ({placeholders})"
    new_sql, new_params = _ranked_sql(chain_new, candidates)
    old_sql, old_params = _ranked_sql(chain_old, candidates)
    new_params = new_params + differing
    old_params = old_params + differing
    # One aggregation pass (no joins), so the plan cannot degrade to nested loops when the
    # planner's row estimates are stale after a large import.
    sql = (
        f"WITH n AS ({new_sql}), o AS ({old_sql}), sides AS ("
        " SELECT data_row_id, revision_id AS new_rev, NULL AS old_rev FROM n"
        " UNION ALL SELECT data_row_id, NULL, revision_id FROM o"
        "), paired AS ("
        " SELECT data_row_id AS row_id, MAX(new_rev) AS new_rev, MAX(old_rev) AS old_rev"
        " FROM sides GROUP BY data_row_id"
        "), d AS ("
        " SELECT CASE WHEN old_rev IS NULL THEN 'added' WHEN new_rev IS NULL THEN 'removed'"
        "  ELSE 'changed' END AS kind, row_id FROM paired"
        " WHERE old_rev IS NULL OR new_rev IS NULL OR old_rev <> new_rev"
        "), numbered AS ("
        " SELECT kind, row_id, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY row_id) AS pos,"
        "  COUNT(*) OVER (PARTITION BY kind) AS total FROM d"
        ") SELECT kind, row_id, total FROM numbered WHERE pos <= %s ORDER BY kind, pos"
    )
    result = {"added": (0, []), "removed": (0, []), "changed": (0, [])}
    with connection.cursor() as cursor:
        cursor.execute(sql, new_params + old_params + [limit])
        for kind, row_id, total in cursor.fetchall():
            count, ids = result[kind]
            ids.append(row_id)
            result[kind] = (int(total), ids)
    if limit == 0:
        return _diff_counts_only(sql, new_params + old_params, result)
    return result


def _diff_counts_only(sql, params, result):
    # With ?limit=0 no row carries the totals; count them separately.
    counted = sql.rsplit(") SELECT", 1)[0] + ") SELECT kind, MAX(total) FROM numbered GROUP BY kind"
    with connection.cursor() as cursor:
        cursor.execute(counted, params)
        for kind, total in cursor.fetchall():
            result[kind] = (int(total), [])
    return result
