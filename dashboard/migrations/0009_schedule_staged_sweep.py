"""Schedule the sweep of expired staged uploads (files kept from a preview; hourly) in
django-q2's scheduler (run by qcluster)."""

from django.db import migrations

NAME = "labelops: delete expired staged uploads"


def schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name=NAME,
        defaults={
            "func": "dashboard.bulk.staged.staged_uploads_sweep",
            "schedule_type": "I",
            "minutes": 60,
            "repeats": -1,
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0008_event_fanout_outbox")]
    operations = [migrations.RunPython(schedule, unschedule)]
