"""Starting the jobs that read a project out: the NDJSON export of its batches, and publishing
its labels into a new draft version of a dataset (with `label_rois`, a label as frame ROIs)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dashboard.errors import Conflict, NotFound
from dashboard.jobs.services import job_create
from dashboard.models import Job
from versions.models import Dataset, DatasetVersion

from ..export import export_count, export_options
from ..models import Project
from ..selectors import labels_to_publish


def export_start(*, project: Project, user=None, batch_ids: Any = None, **switches: Any) -> Job:
    """Start an `export_batches` job producing the NDJSON file of the batches' rows."""
    options = export_options(project=project, batch_ids=batch_ids, **switches)
    with transaction.atomic():
        return job_create(
            kind="export_batches",
            params=options.as_params(),
            user=user,
            total=export_count(options),
        )


# --- Publishing labels into a dataset version --------------------------------------------------


def labels_publish_start(*, project: Project, dataset_id: str, version_name: str, user=None) -> Job:
    """Start a `publish_labels` job: a new draft version of the dataset (child of its newest
    published version) whose frames carry the labels of the project's done rows as `rois`."""
    from versions.services import version_create

    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFound(f"No dataset with id {dataset_id!r}.", field="dataset_id")
    parent = (
        DatasetVersion.objects.filter(dataset=dataset, status="published", removed=False)
        .order_by("-published_at", "-id")
        .first()
    )
    if parent is None:
        raise Conflict(
            "The dataset has no published version to build on: publish one first.",
            field="dataset_id",
        )
    total = (
        labels_to_publish(project=project, dataset_id=dataset.pk)
        .values("data_row_id")
        .distinct()
        .count()
    )
    with transaction.atomic():
        version, _ = version_create(
            dataset=dataset,
            name=version_name,
            parent=parent,
            description=f"Labels of project {project.name!r}",
            raise_if_exists=True,
            user=user,
        )
        return job_create(
            kind="publish_labels",
            params={"project_id": project.pk, "dataset_id": dataset.pk, "version_id": version.pk},
            user=user,
            total=total,
        )


def label_rois(annotations: list[dict]) -> list[dict]:
    """A row's labels as frame ROIs: `objects` [{class, bbox|poly, confidence}] become one ROI
    each; `classes` [..] one ROI without geometry."""
    rois = []
    for annotation in annotations:
        for obj in annotation.get("objects") or []:
            if isinstance(obj, dict) and obj.get("class"):
                roi = {"label": [str(obj["class"])], "confidence": obj.get("confidence", 1.0)}
                for shape in ("bbox", "poly"):
                    if shape in obj:
                        roi[shape] = obj[shape]
                rois.append(roi)
        classes = annotation.get("classes")
        if isinstance(classes, list) and classes:
            rois.append({"label": [str(c) for c in classes], "confidence": 1.0})
    return rois
