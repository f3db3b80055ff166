"""Datasets, data rows, dataset versions and copy-on-write frames."""

from django.apps import AppConfig


class VersionsConfig(AppConfig):
    name = "versions"
    verbose_name = "Datasets and versions"

    def ready(self) -> None:
        from dashboard.overview import overview_count_register

        from .models import DataRow, Dataset

        overview_count_register(
            label="Datasets", count=Dataset.objects.count, url_name="dataset-list", order=10
        )
        overview_count_register(label="Data rows", count=DataRow.objects.count, order=20)
