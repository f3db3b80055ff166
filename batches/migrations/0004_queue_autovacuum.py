"""PostgreSQL: keep the hot queue table lean. Rows leave the serving index constantly (done,
reserved, re-queued), so vacuum it after ~1 % of it changed rather than 20 %, and leave room in
each page for HOT updates of reservations (their columns are not indexed)."""

from django.db import migrations

TUNED = (
    "ALTER TABLE batches_queueentry SET (autovacuum_vacuum_scale_factor = 0.01, "
    "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02, "
    "fillfactor = 80)"
)
DEFAULT = (
    "ALTER TABLE batches_queueentry RESET (autovacuum_vacuum_scale_factor, "
    "autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor, fillfactor)"
)


def tune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TUNED)


def untune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DEFAULT)


class Migration(migrations.Migration):
    dependencies = [("batches", "0003_one_reservation_per_labeler")]
    operations = [migrations.RunPython(tune, untune)]
