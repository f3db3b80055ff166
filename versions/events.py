"""The events the versions services record (`dashboard.events.object_event`, in the change's
transaction)."""

from __future__ import annotations

from typing import Any

from dashboard.events import object_event

from .models import Dataset, DatasetVersion


def dataset_event(type: str, dataset: Dataset, **data: Any) -> None:
    object_event(type, dataset, "dataset", dataset=dataset.pk, data={"name": dataset.name, **data})


def version_event(type: str, version: DatasetVersion, **data: Any) -> None:
    """An event about a version: its dataset and parent (a removed version's too), its name."""
    head = {"version": version.pk, "name": version.name, "parent": version.parent_id}
    object_event(type, version, "version", dataset=version.dataset_id, data={**head, **data})
