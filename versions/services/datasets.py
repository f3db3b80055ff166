"""Datasets: create, rename or re-tag, and delete with their versions and rows (refused while
another app's objects still point at the rows)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction

from dashboard.errors import Conflict, Invalid

from ..events import dataset_event
from ..models import DataRow, Dataset, DatasetVersion, FrameEntry, FrameRevision
from .checks import fields_allowed, name_required


def _clean_tags(tags: Any) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise Invalid("Must be a list of non-empty strings.", field="tags")
    if any(t.startswith(("-", "__$")) for t in tags):
        raise Invalid("Tags may not start with '-' or '__$' (filter syntax).", field="tags")
    return list(dict.fromkeys(t.strip() for t in tags))


@transaction.atomic
def dataset_create(
    *,
    name: str,
    description: str = "",
    tags: list[str] | None = None,
    dataset_project: str = "",
    raise_if_exists: bool = False,
    user=None,
) -> tuple[Dataset, bool]:
    """Create a dataset, or return the existing one of that name (created=False)."""
    name = name_required(name, what="dataset")
    tags = _clean_tags(tags)
    existing = Dataset.objects.filter(name=name).first()
    if existing is not None:
        if raise_if_exists:
            raise Conflict(f"A dataset named {name!r} already exists.", field="name")
        return existing, False
    dataset = Dataset.objects.create(
        name=name,
        description=description or "",
        tags=tags,
        dataset_project=dataset_project or "",
        created_by=user if user and user.pk else None,
    )
    dataset_event("dataset.created", dataset)
    return dataset, True


def dataset_update(*, dataset: Dataset, **fields: Any) -> Dataset:
    allowed = {"name", "description", "tags", "dataset_project"}
    fields_allowed(fields, allowed)
    if "name" in fields:
        name = name_required(fields["name"], what="dataset")
        if Dataset.objects.filter(name=name).exclude(pk=dataset.pk).exists():
            raise Conflict(f"A dataset named {name!r} already exists.", field="name")
        dataset.name = name
    if "tags" in fields:
        dataset.tags = _clean_tags(fields["tags"])
    for key in ("description", "dataset_project"):
        if key in fields:
            dataset.__dict__[key] = fields[key] or ""
    dataset.save()
    return dataset


def _external_references(rows) -> list[str]:
    """Names of other apps' objects that still point at these data rows (queue entries,
    labels…), found through the model graph so this app needs not know them."""
    found = []
    for relation in DataRow._meta.related_objects:
        if relation.related_model._meta.app_label == "versions":
            continue
        lookup = {f"{relation.field.name}__in": rows}
        if relation.related_model._default_manager.filter(**lookup).exists():
            found.append(str(relation.related_model._meta.verbose_name_plural))
    return found


@transaction.atomic
def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset with its versions and rows; refused while its rows are in use."""
    in_use = _external_references(DataRow.objects.filter(dataset=dataset))
    if in_use:
        raise Conflict(
            f"The dataset's data rows are still used by {', '.join(in_use)}; remove them first."
        )
    # Set-based, children first: Django's collector would fetch every id of every row and
    # delete them in IN-lists (25 s at 100,000 rows). Nothing else points at these rows
    # (checked above); a reference that appeared meanwhile fails the constraint check below.
    for rows in (
        FrameEntry.objects.filter(version__dataset=dataset),
        FrameRevision.objects.filter(data_row__dataset=dataset),
        DataRow.objects.filter(dataset=dataset),
    ):
        rows._raw_delete(rows.db)
    dataset_event("dataset.deleted", dataset)
    for version in DatasetVersion.objects.filter(dataset=dataset).order_by("-depth"):
        version.delete()  # versions reference each other (PROTECT): leaves first
    dataset.delete()
    referencing = {r.related_model._meta.db_table for r in DataRow._meta.related_objects}
    try:
        connection.check_constraints(table_names=sorted(referencing))
    except IntegrityError:
        raise Conflict(
            "The dataset's data rows came into use while it was being deleted; try again."
        ) from None


def dataset_set_metadata_schema(*, dataset: Dataset, fields: Any, user=None) -> Dataset:
    """Replace the dataset's typed metadata fields (`metadata_schema.schema_validate`: a bad
    type, a default of the wrong type, an enum without options or a name given twice → 400
    naming the field). Later writes of the dataset's rows convert and check their metadata
    against it; rows already stored are not rewritten."""
    from ..metadata_schema import schema_validate

    clean = schema_validate(fields)
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        locked.metadata_schema = clean
        locked.save(update_fields=["metadata_schema", "updated_at"])
    dataset.metadata_schema = clean
    return dataset
