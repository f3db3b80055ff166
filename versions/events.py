"""The events the versions services record (`dashboard.events.event_record`, in the change's
transaction)."""

from __future__ import annotations

from typing import Any

from dashboard.events import event_record

from .models import Dataset, DatasetVersion


def dataset_event(type: str, dataset: Dataset, **data: Any) -> None:
    event_record(
        type=type,
        dataset=dataset.pk,
        object_type="dataset",
        object_id=dataset.pk,
        data={"name": dataset.name, **data},
    )


def version_event(type: str, version: DatasetVersion, **data: Any) -> None:
    """An event about a version: its dataset and parent (a removed version's too), its name."""
    event_record(
        type=type,
        dataset=version.dataset_id,
        object_type="version",
        object_id=version.pk,
        data={"version": version.pk, "name": version.name, "parent": version.parent_id, **data},
    )
