"""Checks of the database server itself (`manage.py check --database default`): settings that
Labelops relies on in production but cannot set from a migration."""

from django.core import checks
from django.db import connections


@checks.register(checks.Tags.database)
def postgres_autovacuum(app_configs=None, databases=None, **kwargs):
    """The labeling queue is updated all day: without autovacuum its dead rows pile up at the
    head of the serving index and every `next` slows down (migration 0004 of batches tunes
    autovacuum for that table, which only works when autovacuum is on)."""
    found = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            (value,) = cursor.fetchone()
        if value != "on":
            found.append(
                checks.Warning(
                    f"autovacuum is {value} on database {alias!r}.",
                    hint="Turn it on (postgresql.conf: autovacuum = on): the labeling queue's "
                    "dead rows are only cleaned by it, and serving slows down without it.",
                    id="labelops.W001",
                )
            )
    return found
