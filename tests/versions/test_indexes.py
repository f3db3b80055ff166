"""The frame tables keep only indexes a query, a uniqueness rule or a cascade needs: a bulk
import writes every index once per row, so a redundant one is paid for on each."""

import pytest
from django.db import connection

from versions.models import DataRow, FrameEntry, FrameRevision

pytestmark = pytest.mark.django_db

TABLES = [DataRow, FrameRevision, FrameEntry]


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: info["columns"]
        for name, info in constraints.items()
        if info["index"] or info["primary_key"] or info["unique"]
    }


@pytest.mark.parametrize("model", TABLES, ids=lambda m: m.__name__)
def test_every_foreign_key_leads_an_index(model):
    # Cascades and FK checks look rows up by the referencing column alone.
    leading = {columns[0] for columns in _indexes(model._meta.db_table).values() if columns}
    for field in model._meta.concrete_fields:
        if field.is_relation:
            assert field.column in leading, f"{model.__name__}.{field.name} has no index"


def test_postgresql_indexes_are_the_lean_set(postgres_only):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
            [[m._meta.db_table for m in TABLES]],
        )
        rows = cursor.fetchall()
    assert not [d for _, d in rows if "pattern_ops" in d], "LIKE-only copies are back"
    columns = sorted((table, d.split(" USING btree ")[1]) for table, d in rows)
    assert columns == [
        ("versions_datarow", "(dataset_id, id)"),
        ("versions_datarow", "(global_key)"),
        ("versions_datarow", "(id)"),
        ("versions_frameentry", "(data_row_id, version_id)"),
        ("versions_frameentry", "(id)"),
        ("versions_frameentry", "(revision_id)"),
        ("versions_frameentry", "(version_id, data_row_id)"),
        ("versions_framerevision", "(data_row_id, content_hash)"),
        ("versions_framerevision", "(id)"),
    ]
