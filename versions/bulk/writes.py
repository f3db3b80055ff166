"""The set-based statements of the bulk writer: classified frames written through a temp staging
table (COPY on PostgreSQL), deletes as tombstones, and the lookups a chunk classifies with.

PostgreSQL loads the staging table with `COPY`, SQLite with `executemany`, and the same
`INSERT … ON CONFLICT` / `UPDATE … FROM` statements write data rows, shared revisions and the
version's entries on both. Deleting writes tombstones (or drops the draft's own entries when the
version has no ancestors); a row that carries labels is refused, per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import itemgetter

from django.db import connection
from django.utils import timezone

from dashboard import strict_json
from dashboard.bulk import staging
from dashboard.bulk.records import Outcome, RowError

from ..copy_on_write import nearest_contents, version_chain
from ..models import DataRow, DatasetVersion, FrameEntry, FrameRevision
from ..stats import StatsDelta, stats_apply

LOOKUP_BATCH = 5000


def batches(items: list, size: int = LOOKUP_BATCH) -> Iterator[list]:
    """`items` in slices of `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def touch(version: DatasetVersion) -> None:
    """The version's frames changed now."""
    DatasetVersion.objects.filter(pk=version.pk).update(updated_at=timezone.now())


# ---------------------------------------------------------------- set-based writes

STAGE = "bulk_stage_rows"
STAGE_COLUMNS = [
    ("id", "text"),
    ("global_key", "text"),
    ("row_data", "text"),
    ("content", "json"),
    ("hash", "text"),
    ("source_uris", "text"),
    ("new_row", "bool"),
    ("row_changed", "bool"),
]
IDS = "bulk_stage_ids"


def _now_param():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def canonical_json(content: dict) -> str:
    """The text `frames.content_hash` hashes; stored as is (any JSON text reads back alike)."""
    return strict_json.dumps_sorted(content)


def write_frames(version: DatasetVersion, items: list[tuple]) -> None:
    """Write (id, global_key, row_data, content, hash, new_row, row_changed, text) items: data rows
    inserted or updated, revisions shared by (row, hash), the version's entries pointed at them.
    Unchanged entries are not rewritten (`IS DISTINCT FROM`)."""
    if not items:
        return
    items = sorted(items, key=itemgetter(0))  # id order: each index is written front to back
    staging.temp_table(STAGE, STAGE_COLUMNS)
    staging.load(STAGE, [c for c, _ in STAGE_COLUMNS], map(_stage_row, items))
    rows, revisions, entries = (
        DataRow._meta.db_table,
        FrameRevision._meta.db_table,
        FrameEntry._meta.db_table,
    )
    now = _now_param()
    with connection.cursor() as cursor:
        if any(item[5] for item in items):
            cursor.execute(
                f"INSERT INTO {rows} (id, dataset_id, global_key, row_data, created_at, updated_at)"
                f" SELECT id, %s, global_key, row_data, %s, %s FROM {STAGE} WHERE new_row"
                " ON CONFLICT (id) DO NOTHING",
                [version.dataset_id, now, now],
            )
        if any(item[6] for item in items):
            cursor.execute(
                f"UPDATE {rows} SET row_data = s.row_data, global_key = s.global_key,"
                f" updated_at = %s FROM {STAGE} s WHERE {rows}.id = s.id AND s.row_changed",
                [now],
            )
        cursor.execute(
            f"INSERT INTO {revisions} (data_row_id, content, content_hash, source_uris, created_at)"
            f" SELECT id, content, hash, source_uris, %s FROM {STAGE} WHERE true"
            " ON CONFLICT (data_row_id, content_hash) DO NOTHING",
            [now],
        )
        cursor.execute(
            f"INSERT INTO {entries} (version_id, data_row_id, revision_id)"
            f" SELECT %s, s.id, r.id FROM {STAGE} s JOIN {revisions} r"
            "  ON r.data_row_id = s.id AND r.content_hash = s.hash WHERE true"
            " ON CONFLICT (version_id, data_row_id)"
            " DO UPDATE SET revision_id = excluded.revision_id"
            f" WHERE {entries}.revision_id IS DISTINCT FROM excluded.revision_id",
            [version.pk],
        )
        staging.empty(STAGE)


def write_frames_counted(version: DatasetVersion, items: list[tuple], replaced: dict) -> None:
    """`write_frames`, then the version's `updated_at` and statistics in the same transaction:
    `replaced` maps the id of each item that changes a frame the version has to that frame's
    content (the item's content replaces it), so the counts change by the difference only."""
    if not items:
        return
    write_frames(version, items)
    delta = StatsDelta()
    for item in items:
        if item[0] in replaced:
            delta.remove(replaced[item[0]])
        delta.add(item[3])
    touch(version)
    if delta:
        stats_apply(version.pk, delta)


def _stage_row(item: tuple) -> tuple:
    frame_id, gk, row_data, content, h, new_row, row_changed, text = item
    uris = "\n".join(s["uri"] for s in content["sources"])
    return (
        frame_id, gk, row_data, text or canonical_json(content), h, f"\n{uris}\n", new_row,
        row_changed,
    )  # fmt: skip


def _label_relations() -> list[tuple[str, str]]:
    """(table, data-row column) of other apps' labels on data rows, found through the model
    graph so this app needs not import them."""
    found = []
    for relation in DataRow._meta.related_objects:
        if relation.related_model._meta.app_label == "versions":
            continue
        if relation.get_accessor_name() == "labels":
            found.append((relation.related_model._meta.db_table, relation.field.column))
    return found


def delete_staged(
    version: DatasetVersion, *, delete_sources: bool = False
) -> tuple[int, list[str], int]:
    """Delete from the version the frames whose ids are in the ids staging table, except rows
    that carry labels. With `delete_sources`, also the deleted rows' source records that no
    version still holds (see `_purge_sources`). Returns (deleted, refused ids, data rows whose
    source records were removed)."""
    entries = FrameEntry._meta.db_table
    refused: list[str] = []
    with connection.cursor() as cursor:
        for table, column in _label_relations():
            cursor.execute(f"SELECT DISTINCT b.id FROM {IDS} b JOIN {table} l ON l.{column} = b.id")
            refused += [row[0] for row in cursor.fetchall()]
            cursor.execute(f"DELETE FROM {IDS} WHERE id IN (SELECT {column} FROM {table})")
        cursor.execute(f"SELECT COUNT(*) FROM {IDS}")
        deleted = int(cursor.fetchone()[0])
        chain = version_chain(version)
        if deleted:
            stats_apply(version.pk, _removed_delta(chain))
        if len(chain) == 1:
            cursor.execute(
                f"DELETE FROM {entries} WHERE version_id = %s"
                f" AND data_row_id IN (SELECT id FROM {IDS})",
                [version.pk],
            )
        else:
            cursor.execute(
                f"INSERT INTO {entries} (version_id, data_row_id, revision_id)"
                f" SELECT %s, id, NULL FROM {IDS} WHERE true"
                " ON CONFLICT (version_id, data_row_id) DO UPDATE SET revision_id = NULL",
                [version.pk],
            )
        purged = _purge_sources(cursor) if delete_sources and deleted else 0
        cursor.execute(f"DELETE FROM {IDS}")
    return deleted, sorted(set(refused)), purged


def _purge_sources(cursor) -> int:
    """The seed's `delete_sources` for the staged (just deleted) rows: the stored frame
    contents (their source records) that no version's entry points at any more, and the data
    row itself (its global_key freed) once no version holds it and nothing else refers to it.
    What a published version holds stays: it never changes. Returns how many rows lost their
    source records."""
    entries, revisions, rows = (
        FrameEntry._meta.db_table,
        FrameRevision._meta.db_table,
        DataRow._meta.db_table,
    )
    unused = (
        f" FROM {revisions} WHERE data_row_id IN (SELECT id FROM {IDS}) AND NOT EXISTS"
        f" (SELECT 1 FROM {entries} e WHERE e.revision_id = {revisions}.id)"
    )
    cursor.execute(f"SELECT COUNT(DISTINCT data_row_id){unused}")
    purged = int(cursor.fetchone()[0])
    cursor.execute(f"DELETE{unused}")
    referrers = [
        (relation.related_model._meta.db_table, relation.field.column)
        for relation in DataRow._meta.related_objects
    ]
    unreferenced = " ".join(
        f"AND NOT EXISTS (SELECT 1 FROM {table} x WHERE x.{column} = {rows}.id)"
        for table, column in referrers
    )
    cursor.execute(f"DELETE FROM {rows} WHERE id IN (SELECT id FROM {IDS}) {unreferenced}")
    return purged


def _removed_delta(chain: list[str]) -> StatsDelta:
    """The statistics the staged ids' frames account for (a window of ids at a time)."""
    delta = StatsDelta()
    after = ""
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT id FROM {IDS} WHERE id > %s ORDER BY id LIMIT %s", [after, LOOKUP_BATCH]
            )
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return delta
            for content in nearest_contents(chain, ids).values():
                delta.remove(content)
            after = ids[-1]


def delete_staged_into(
    version: DatasetVersion,
    outcome: Outcome,
    *,
    positions: dict[str, int] | None = None,
    delete_sources: bool = False,
) -> None:
    """Delete the staged ids (see `delete_staged`) and record the result in `outcome`: the
    count, and a row error per refused id (with its input position when known)."""
    deleted, refused, purged = delete_staged(version, delete_sources=delete_sources)
    outcome.count("deleted", deleted)
    if delete_sources:
        outcome.count("sources_deleted", purged)
    for row_id in refused:
        outcome.errors.append(
            RowError(
                positions[row_id] if positions else None,
                "Not deleted: the data row has labels.",
                key=row_id,
                input=row_id if positions else None,
                error_type="in_use",
            )
        )
    if deleted:
        touch(version)


def stage_ids_from_sql(sql: str, params: list) -> None:
    """Fill the ids staging table from a query (for `delete_staged`)."""
    staging.temp_table(IDS, [("id", "text")], index="id")
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {IDS} (id) {sql}", params)


def stage_ids(ids: list[str]) -> None:
    """Fill the ids staging table with `ids` (for `delete_staged`)."""
    staging.temp_table(IDS, [("id", "text")], index="id")
    staging.load(IDS, ["id"], ((i,) for i in ids))


def key_owners(global_keys: list[str]) -> dict[str, tuple[str, str]]:
    """global_key → (data row id, dataset id) of the rows that hold these keys."""
    found = staging.select_in(
        f"SELECT global_key, id, dataset_id FROM {DataRow._meta.db_table} WHERE global_key {{in}}",
        global_keys,
    )
    return {gk: (pk, ds) for gk, pk, ds in found}


def rows_found(ids: list[str]) -> dict[str, tuple[str, str | None, str]]:
    """id → (dataset id, global_key, row_data) of the data rows that exist."""
    found = staging.select_in(
        f"SELECT id, dataset_id, global_key, row_data FROM {DataRow._meta.db_table}"
        " WHERE id {in}",
        ids,
    )
    return {pk: (ds, gk, row_data) for pk, ds, gk, row_data in found}


def revisions_found(revision_ids: list[int]) -> dict[int, tuple[str, dict]]:
    """revision id → (content hash, content)."""
    found = staging.select_in(
        f"SELECT id, content_hash, content FROM {FrameRevision._meta.db_table} WHERE id {{in}}",
        revision_ids,
    )
    return {
        pk: (h, strict_json.loads_text(content) if isinstance(content, str) else content)
        for pk, h, content in found
    }
