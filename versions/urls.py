"""Dataset and version pages."""

from django.urls import path

from . import views
from .bulk import views as bulk_views

urlpatterns = [
    path("datasets/", views.datasets_page, name="dataset-list"),
    path("datasets/<str:dataset_id>/", views.dataset_page, name="dataset-detail"),
    path(
        "datasets/<str:dataset_id>/metadata-schema/",
        views.dataset_metadata_schema_view,
        name="dataset-metadata-schema",
    ),
    path(
        "datasets/<str:dataset_id>/import/",
        bulk_views.dataset_import_view,
        name="dataset-import",
    ),
    path(
        "import-samples/<str:record_type>.<str:fmt>",
        bulk_views.import_sample_view,
        name="import-sample",
    ),
    path("versions/<str:version_id>/", views.version_page, name="version-detail"),
    path(
        "versions/<str:version_id>/import/",
        bulk_views.version_import_view,
        name="version-import",
    ),
    path(
        "versions/<str:version_id>/metadata/", views.version_metadata_view, name="version-metadata"
    ),
    path(
        "versions/<str:version_id>/mask-labels/",
        views.version_mask_labels_view,
        name="version-mask-labels",
    ),
    path(
        "versions/<str:version_id>/frames/",
        views.version_frames_add_view,
        name="version-frames-add",
    ),
    path("versions/<str:version_id>/commit/", views.version_commit_view, name="version-commit"),
    path(
        "versions/<str:version_id>/snapshot/", views.version_snapshot_view, name="version-snapshot"
    ),
    path("versions/<str:version_id>/remove/", views.version_remove_view, name="version-remove"),
    path("versions/<str:version_id>/diff/", views.version_diff_page, name="version-diff"),
    path(
        "versions/<str:version_id>/frames/<str:frame_id>/",
        views.frame_page,
        name="frame-detail",
    ),
]
