"""Writes on projects, batches, the queue and labels, by subject: one public service per verb,
called alike by the REST API, the pages, the admin, the jobs and the commands."""

from .batches import (
    DELETE_LABELS_SYNC_LIMIT,
    MAX_BATCH_ROWS,
    MAX_BATCHES_ROWS,
    batch_create,
    batch_delete,
    batch_delete_labels,
    batch_names,
    batch_remove_queued_data_rows,
    batch_update,
    batches_create,
    batches_create_from_dataset,
    consensus_covers,
    removed_text,
)
from .exports import export_start, label_rois, labels_publish_start
from .labels import label_create, label_submit, queue_next, queue_skip
from .priorities import (
    MAX_PRIORITY_ROWS,
    PRIORITIES_SYNC_LIMIT,
    batch_move,
    batches_reorder,
    priorities_set,
)
from .projects import UNSET, project_create, project_update
from .reviews import label_accept, label_reject, labels_review, review_next

__all__ = [
    "DELETE_LABELS_SYNC_LIMIT",
    "MAX_BATCHES_ROWS",
    "MAX_BATCH_ROWS",
    "MAX_PRIORITY_ROWS",
    "PRIORITIES_SYNC_LIMIT",
    "UNSET",
    "batch_create",
    "batch_delete",
    "batch_delete_labels",
    "batch_move",
    "batch_names",
    "batch_remove_queued_data_rows",
    "batch_update",
    "batches_create",
    "batches_create_from_dataset",
    "batches_reorder",
    "consensus_covers",
    "export_start",
    "label_accept",
    "label_create",
    "label_reject",
    "label_rois",
    "label_submit",
    "labels_review",
    "labels_publish_start",
    "priorities_set",
    "project_create",
    "project_update",
    "queue_next",
    "queue_skip",
    "removed_text",
    "review_next",
]
