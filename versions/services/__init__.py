"""The verbs on datasets, versions and frames (`<thing>_<verb>`, keyword-only, atomic), used
alike by the API, the admin, the pages, jobs and commands; one module per subject."""

from .datasets import (
    dataset_create,
    dataset_delete,
    dataset_set_metadata_schema,
    dataset_update,
)
from .frames import (
    FRAMES_SYNC_LIMIT,
    FrameBulk,
    frames_add,
    frames_add_start,
    frames_bulk,
    frames_delete,
    frames_update,
)
from .metadata import mask_labels_validate, version_set_mask_labels, version_set_metadata
from .versions import (
    STATS_SYNC_LIMIT,
    version_commit,
    version_commit_or_start,
    version_create,
    version_publish,
    version_remove,
    version_snapshot,
    version_stats_refresh_start,
    version_update,
)

__all__ = [
    "FRAMES_SYNC_LIMIT",
    "STATS_SYNC_LIMIT",
    "FrameBulk",
    "dataset_create",
    "dataset_delete",
    "dataset_set_metadata_schema",
    "dataset_update",
    "frames_add",
    "frames_add_start",
    "frames_bulk",
    "frames_delete",
    "frames_update",
    "mask_labels_validate",
    "version_commit",
    "version_commit_or_start",
    "version_create",
    "version_publish",
    "version_remove",
    "version_set_mask_labels",
    "version_set_metadata",
    "version_snapshot",
    "version_stats_refresh_start",
    "version_update",
]
