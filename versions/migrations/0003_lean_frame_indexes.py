"""Fewer indexes on data rows, revisions and entries: a bulk import writes every one per row.

Each FK dropped here leads a composite index that serves its lookups and cascades. The
`varchar_pattern_ops` copies PostgreSQL gets for varchar keys serve only LIKE prefix searches,
which nothing runs on these columns (`contains` and the admin search start with a wildcard).
"""

import django.db.models.deletion
from django.db import migrations, models

# Django's automatic `_like` indexes for the data row's primary key and unique global key
# (AlterField on the FKs below drops theirs itself). Names are Django's, stable per column.
LIKE_INDEXES = [
    ("versions_datarow_id_8a22a2e0_like", "id"),
    ("versions_datarow_global_key_201e466e_like", "global_key"),
]


def drop_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _column in LIKE_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in LIKE_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)}"
            f" ON versions_datarow ({schema_editor.quote_name(column)} varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("versions", "0002_frame_sources_and_row_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="datarow",
            name="dataset",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="data_rows",
                to="versions.dataset",
            ),
        ),
        migrations.AlterField(
            model_name="frameentry",
            name="data_row",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="entries",
                to="versions.datarow",
            ),
        ),
        migrations.AlterField(
            model_name="frameentry",
            name="version",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="entries",
                to="versions.datasetversion",
            ),
        ),
        migrations.AlterField(
            model_name="framerevision",
            name="data_row",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="revisions",
                to="versions.datarow",
            ),
        ),
        migrations.RunPython(drop_like_indexes, create_like_indexes, elidable=False),
    ]
