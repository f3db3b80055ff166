"""A version's user metadata and mask labels: checked alike on every path that writes them
(version create, publish, snapshot, the metadata and mask-labels endpoints)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dashboard.errors import Invalid, json_integer

from ..drafts import version_lock_draft
from ..frames import check_metadata_keys
from ..models import DatasetVersion


def metadata_check(metadata: Any, *, field: str, mask_field: str | None = None) -> dict:
    """User metadata: an object with plain keys; a `mask_labels` key is checked as the
    mask-labels endpoint checks it (on every path that writes metadata), its error naming
    `mask_field` (default: `field`)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise Invalid("Must be an object.", field=field)
    check_metadata_keys(metadata, field=field)
    if "mask_labels" in metadata:
        try:
            masks = mask_labels_validate(metadata["mask_labels"])
        except Invalid as exc:
            if mask_field == "mask_labels":
                raise
            raise Invalid(f"mask_labels: {exc.message}", field=mask_field or field) from None
        metadata = {**metadata, "mask_labels": masks}
    return metadata


def version_set_metadata(*, version: DatasetVersion, metadata: Any) -> DatasetVersion:
    """Replace the user metadata; `mask_labels` is kept unless given."""
    metadata = metadata_check(metadata, field="metadata", mask_field="mask_labels")
    with transaction.atomic():
        version = version_lock_draft(version)
        kept = {}
        if "mask_labels" not in metadata and "mask_labels" in version.metadata:
            kept["mask_labels"] = version.metadata["mask_labels"]
        version.metadata = {**metadata, **kept}
        version.save(update_fields=["metadata", "updated_at"])
    return version


def mask_labels_validate(value: Any) -> list[dict]:
    """`[{"value": [r, g, b], "labels": [...]}, …]` with 0-255 channels and unique values."""
    if not isinstance(value, list):
        raise Invalid("Must be a list of {value: [r, g, b], labels: [...]}.", field="mask_labels")
    seen, clean = set(), []
    for i, item in enumerate(value):
        rgb = item.get("value") if isinstance(item, dict) else None
        labels = item.get("labels") if isinstance(item, dict) else None
        if (
            not isinstance(rgb, list | tuple)
            or len(rgb) != 3
            or not all(json_integer(c) is not None and 0 <= c <= 255 for c in rgb)
        ):
            raise Invalid(f"Item {i}: value must be three integers 0-255.", field="mask_labels")
        rgb = [json_integer(c) for c in rgb]
        if not isinstance(labels, list | tuple) or not all(isinstance(x, str) for x in labels):
            raise Invalid(f"Item {i}: labels must be a list of strings.", field="mask_labels")
        if tuple(rgb) in seen:
            raise Invalid(f"Item {i}: value {list(rgb)} appears twice.", field="mask_labels")
        seen.add(tuple(rgb))
        clean.append({"value": list(rgb), "labels": list(labels)})
    return clean


def version_set_mask_labels(*, version: DatasetVersion, mask_labels: Any) -> DatasetVersion:
    clean = mask_labels_validate(mask_labels)
    with transaction.atomic():
        version = version_lock_draft(version)
        version.metadata = {**version.metadata, "mask_labels": clean}
        version.save(update_fields=["metadata", "updated_at"])
    return version
