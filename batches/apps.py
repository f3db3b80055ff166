"""Labeling projects, batches, the labeling queue and labels."""

from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "Projects and batches"

    def ready(self) -> None:
        from dashboard.overview import overview_count_register

        from .models import Batch, Label, Project, QueueEntry

        overview_count_register(
            label="Projects", count=Project.objects.count, url_name="project-list", order=30
        )
        overview_count_register(label="Batches", count=Batch.objects.count, order=40)
        overview_count_register(
            label="Queued rows",
            count=lambda: QueueEntry.objects.exclude(state=QueueEntry.State.DONE).count(),
            order=50,
        )
        overview_count_register(
            label="Labelled rows",
            count=lambda: QueueEntry.objects.filter(state=QueueEntry.State.DONE).count(),
            order=60,
        )
        overview_count_register(label="Labels", count=Label.objects.count, order=70)
