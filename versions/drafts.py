"""The draft rule: a version's frames and metadata change only while it is a draft. Every
writer (services, the bulk chunks, job starts) checks it here, under the version's row lock."""

from __future__ import annotations

from dashboard.errors import Conflict, Invalid

from .models import DatasetVersion


def version_ensure_draft(version: DatasetVersion) -> None:
    """`Conflict` (409 on the API) unless the version is a draft."""
    if version.is_published:
        raise Conflict(f"Version {version.name!r} is published and cannot be changed.")


def version_lock_draft(version: DatasetVersion | str) -> DatasetVersion:
    """The version (or version id) read again under its row lock, checked to be a draft; a
    version gone meanwhile → `Invalid` naming `version`. Call inside a transaction."""
    version_id = version if isinstance(version, str) else version.pk
    locked = DatasetVersion.objects.select_for_update().filter(pk=version_id).first()
    if locked is None or locked.removed:
        raise Invalid(f"No version with id {version_id!r}.", field="version")
    version_ensure_draft(locked)
    return locked
