"""Writes on projects: create and edit (name, description, label classes, reservation
time), and the helpers every batches service shares (`UNSET`, the creating user)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ..models import Project

UNSET: Any = object()


def user_or_none(user):
    """The user to record as creator (an anonymous or missing one is recorded as nobody)."""
    return user if user is not None and getattr(user, "pk", None) else None


# --- Projects ---------------------------------------------------------------------------------
# The doors validate the fields (API: ProjectInputSerializer; page: ProjectForm; admin:
# ProjectAdminForm): names trimmed and bounded, label classes unique, reservation in bounds.


def project_create(
    *,
    name: str,
    description: str = "",
    label_classes: list[str] | None = None,
    reservation_seconds: int = 600,
    review_percentage: float = 0,
    user=None,
) -> Project:
    return Project.objects.create(
        name=name,
        description=description,
        label_classes=list(label_classes or []),
        reservation_seconds=reservation_seconds,
        review_percentage=review_percentage,
        created_by=user_or_none(user),
    )


@transaction.atomic
def project_update(
    *,
    project: Project,
    name: Any = UNSET,
    description: Any = UNSET,
    label_classes: Any = UNSET,
    reservation_seconds: Any = UNSET,
    review_percentage: Any = UNSET,
) -> Project:
    """Edit a project; only the fields given change. A new `review_percentage` applies to
    labels submitted from then on."""
    given = {
        "name": name,
        "description": description,
        "label_classes": label_classes,
        "reservation_seconds": reservation_seconds,
        "review_percentage": review_percentage,
    }
    fields = {key: value for key, value in given.items() if value is not UNSET}
    if "label_classes" in fields:
        fields["label_classes"] = list(fields["label_classes"] or [])
    for key, value in fields.items():
        setattr(project, key, value)
    if fields:
        project.save(update_fields=[*fields, "updated_at"])
    return project
