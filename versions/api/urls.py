"""Dataset, data-row, version and frame endpoints under /api/v1/ (the views by subject:
`dataset_views`, `version_views`, `frame_views`, and `bulk_views` for imports and exports)."""

from django.urls import path

from . import bulk_views, dataset_views, frame_views, version_views

urlpatterns = [
    path("datasets/", dataset_views.DatasetListApi.as_view(), name="dataset-list"),
    path(
        "datasets/<str:dataset_id>/",
        dataset_views.DatasetDetailApi.as_view(),
        name="dataset-detail",
    ),
    path(
        "datasets/<str:dataset_id>/data-rows/",
        dataset_views.DataRowListApi.as_view(),
        name="data-row-list",
    ),
    path(
        "datasets/<str:dataset_id>/data-rows/import/",
        bulk_views.DataRowImportApi.as_view(),
        name="data-row-import",
    ),
    path(
        "datasets/<str:dataset_id>/data-rows/update/",
        bulk_views.DataRowUpdateApi.as_view(),
        name="data-row-update",
    ),
    path(
        "datasets/<str:dataset_id>/data-rows/delete/",
        bulk_views.DataRowDeleteApi.as_view(),
        name="data-row-delete",
    ),
    path(
        "datasets/<str:dataset_id>/data-rows/export/",
        bulk_views.DataRowExportApi.as_view(),
        name="data-row-export",
    ),
    path(
        "datasets/<str:dataset_id>/versions/",
        version_views.VersionListApi.as_view(),
        name="version-list",
    ),
    path(
        "datasets/<str:dataset_id>/versions/current/",
        version_views.VersionCurrentApi.as_view(),
        name="version-current",
    ),
    path(
        "datasets/<str:dataset_id>/versions/by-name/<path:name>/",
        version_views.VersionByNameApi.as_view(),
        name="version-by-name",
    ),
    path(
        "versions/<str:version_id>/",
        version_views.VersionDetailApi.as_view(),
        name="version-detail",
    ),
    path(
        "versions/<str:version_id>/frames/", frame_views.FrameListApi.as_view(), name="frame-list"
    ),
    path(
        "versions/<str:version_id>/frames/delete/",
        frame_views.FrameDeleteApi.as_view(),
        name="frame-delete",
    ),
    path(
        "versions/<str:version_id>/frames/import/",
        bulk_views.FrameImportApi.as_view(),
        name="frame-import",
    ),
    path(
        "versions/<str:version_id>/frames/export/",
        bulk_views.FrameExportApi.as_view(),
        name="frame-export",
    ),
    path(
        "versions/<str:version_id>/frames/<str:frame_id>/",
        frame_views.FrameDetailApi.as_view(),
        name="frame-detail",
    ),
    path(
        "versions/<str:version_id>/commit/",
        version_views.VersionCommitApi.as_view(),
        name="version-commit",
    ),
    path(
        "versions/<str:version_id>/publish/",
        version_views.VersionPublishApi.as_view(),
        name="version-publish",
    ),
    path(
        "versions/<str:version_id>/snapshot/",
        version_views.VersionSnapshotApi.as_view(),
        name="version-snapshot",
    ),
    path(
        "versions/<str:version_id>/stats/",
        version_views.VersionStatsApi.as_view(),
        name="version-stats",
    ),
    path(
        "versions/<str:version_id>/metadata/",
        version_views.VersionMetadataApi.as_view(),
        name="version-metadata",
    ),
    path(
        "versions/<str:version_id>/mask-labels/",
        version_views.VersionMaskLabelsApi.as_view(),
        name="version-mask-labels",
    ),
    path(
        "versions/<str:version_id>/diff/",
        version_views.VersionDiffApi.as_view(),
        name="version-diff",
    ),
]

# Seed parity additions, first so that no `<id>` pattern above takes their paths (a dataset
# named "versions", a frame id "query").
urlpatterns[:0] = [
    path(
        "datasets/by-name/<path:name>/",
        dataset_views.DatasetByNameApi.as_view(),
        name="dataset-by-name",
    ),
    path(
        "datasets/<str:dataset_id>/metadata-schema/",
        dataset_views.DatasetMetadataSchemaApi.as_view(),
        name="dataset-metadata-schema",
    ),
    path(
        "versions/<str:version_id>/frames/query/",
        frame_views.FrameQueryApi.as_view(),
        name="frame-query",
    ),
]
