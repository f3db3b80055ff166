"""Schedule the delivery sweeper (every minute: due retries, lost sends, lost jobs under Redis)
and the event retention (daily) in django-q2's scheduler (run by qcluster)."""

from django.db import migrations

SCHEDULES = {
    "labelops: send due webhook deliveries": {
        "func": "dashboard.webhooks_outbox.deliveries_sweep", "minutes": 1,
    },
    "labelops: delete old events": {"func": "dashboard.events.events_prune", "minutes": 24 * 60},
}


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, fields in SCHEDULES.items():
        Schedule.objects.get_or_create(
            name=name, defaults={**fields, "schedule_type": "I", "repeats": -1}
        )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0005_events_webhooks")]
    operations = [migrations.RunPython(schedule, unschedule)]
