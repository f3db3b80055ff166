"""What the versions app adds to the overview: the datasets and versions that events name (the
activity feed and page). Discovered by `dashboard.overview`."""

from __future__ import annotations

from dashboard.overview import event_objects_register, named_objects

from .models import Dataset, DatasetVersion

event_objects_register("dataset", named_objects(Dataset.objects, "dataset-detail"))
event_objects_register(
    "version",
    named_objects(
        DatasetVersion.objects.filter(removed=False), "version-detail", prefix="version "
    ),
)
