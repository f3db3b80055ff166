"""The reviewer role group (between labeler and manager)."""

from django.db import migrations


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="reviewer")


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="reviewer").delete()


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0006_schedule_events")]
    operations = [migrations.RunPython(create_group, remove_group)]
