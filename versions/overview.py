"""What the versions app adds to the overview: the datasets and versions that events name (the
activity feed and page). Discovered by `dashboard.overview`."""

from __future__ import annotations

from django.urls import reverse

from dashboard.overview import EventObject, event_objects_register

from .models import Dataset, DatasetVersion


def _datasets(ids: list[str]) -> dict[str, EventObject]:
    return {
        pk: EventObject(url=reverse("dataset-detail", args=[pk]), name=name)
        for pk, name in Dataset.objects.filter(pk__in=ids).values_list("pk", "name")
    }


def _versions(ids: list[str]) -> dict[str, EventObject]:
    return {
        pk: EventObject(url=reverse("version-detail", args=[pk]), name=f"version {name}")
        for pk, name in DatasetVersion.objects.filter(pk__in=ids, removed=False).values_list(
            "pk", "name"
        )
    }


event_objects_register("dataset", _datasets)
event_objects_register("version", _versions)
