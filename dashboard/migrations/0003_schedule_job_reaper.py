"""Schedule `jobs_reap` every 5 minutes in django-q2's scheduler (run by qcluster)."""

from django.db import migrations

NAME = "labelops: fail stale jobs"


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=NAME,
        defaults={"func": "dashboard.jobs.services.jobs_reap", "schedule_type": "I",
                  "minutes": 5, "repeats": -1},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0002_role_groups"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
