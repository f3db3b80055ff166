"""Reads on datasets and versions."""

from __future__ import annotations

from django.db.models import QuerySet

from dashboard.errors import NotFound

from .models import Dataset, DatasetVersion


def dataset_list() -> QuerySet[Dataset]:
    return Dataset.objects.order_by("created_at", "id")


def version_get(*, version_id: str) -> DatasetVersion:
    version = DatasetVersion.objects.filter(pk=version_id, removed=False).first()
    if version is None:
        raise NotFound(f"No version with id {version_id!r}.")
    return version
