"""Writes on projects: create and edit (name, description, label classes, reservation
time), and the helpers every batches service shares (`UNSET`, the creating user)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dashboard.errors import Invalid

from ..models import Project

UNSET: Any = object()


def user_or_none(user):
    """The user to record as creator (an anonymous or missing one is recorded as nobody)."""
    return user if user is not None and getattr(user, "pk", None) else None


# --- Projects ---------------------------------------------------------------------------------


def _project_fields(
    *,
    name: Any = UNSET,
    description: Any = UNSET,
    label_classes: Any = UNSET,
    reservation_seconds: Any = UNSET,
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if name is not UNSET:
        if not isinstance(name, str) or not name.strip():
            raise Invalid("A project needs a name.", field="name")
        if len(name.strip()) > 255:
            raise Invalid("At most 255 characters.", field="name")
        fields["name"] = name.strip()
    if description is not UNSET:
        if not isinstance(description, str):
            raise Invalid("Must be a string.", field="description")
        fields["description"] = description
    if label_classes is not UNSET:
        if label_classes is None:
            label_classes = []
        if not isinstance(label_classes, list) or not all(
            isinstance(c, str) and c.strip() for c in label_classes
        ):
            raise Invalid("Must be a list of non-empty strings.", field="label_classes")
        if len(set(label_classes)) != len(label_classes):
            raise Invalid("Label classes must be unique.", field="label_classes")
        fields["label_classes"] = list(label_classes)
    if reservation_seconds is not UNSET:
        if (
            isinstance(reservation_seconds, bool)
            or not isinstance(reservation_seconds, int)
            or not 10 <= reservation_seconds <= 7 * 24 * 3600
        ):
            raise Invalid(
                "Must be a whole number of seconds between 10 and 604800 (a week).",
                field="reservation_seconds",
            )
        fields["reservation_seconds"] = reservation_seconds
    return fields


def project_create(
    *,
    name: str,
    description: str = "",
    label_classes: list | None = None,
    reservation_seconds: int = 600,
    user=None,
) -> Project:
    fields = _project_fields(
        name=name,
        description=description,
        label_classes=label_classes,
        reservation_seconds=reservation_seconds,
    )
    return Project.objects.create(**fields, created_by=user_or_none(user))


@transaction.atomic
def project_update(
    *,
    project: Project,
    name: Any = UNSET,
    description: Any = UNSET,
    label_classes: Any = UNSET,
    reservation_seconds: Any = UNSET,
) -> Project:
    """Edit a project; only the fields given change."""
    fields = _project_fields(
        name=name,
        description=description,
        label_classes=label_classes,
        reservation_seconds=reservation_seconds,
    )
    for key, value in fields.items():
        setattr(project, key, value)
    if fields:
        project.save(update_fields=[*fields, "updated_at"])
    return project
