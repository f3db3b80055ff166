"""manage.py rollups_rebuild [--project ID …]: count the labeler analytics rollups again from
the labels and skips (all projects, or those given). Migration 0008 does it once; the services
keep them current afterwards, and a project whose labels were edited in SQL is counted again
on its next analytics read. For operators after restoring or repairing data by hand."""

from django.core.management.base import BaseCommand, CommandError

from batches.models import Project
from batches.services.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Count the labeler analytics rollups again from the labels and skips."

    def add_arguments(self, parser):
        parser.add_argument("--project", action="append", default=[], help="a project id")

    def handle(self, *args, project: list[str], **options):
        projects = Project.objects.order_by("pk").values_list("pk", flat=True)
        if project:
            projects = projects.filter(pk__in=project)
            missing = set(project) - set(projects)
            if missing:
                raise CommandError(f"No such project: {', '.join(sorted(missing))}")
        for project_id in projects:
            rollups_rebuild(project_id=project_id)
            self.stdout.write(f"{project_id}: counted")
