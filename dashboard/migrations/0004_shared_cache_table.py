"""The table of the "shared" cache (settings.CACHES): failed sign-ins are counted there, so
every web process sees them. `createcachetable` does nothing for a table that exists."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0003_schedule_job_reaper")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
