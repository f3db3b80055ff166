"""Dataset, data-row and version endpoints under /api/v1/."""

from django.urls import path

from . import bulk_views, views

urlpatterns = [
    path("datasets/", views.DatasetListApi.as_view(), name="dataset-list"),
    path("datasets/<str:dataset_id>/", views.DatasetDetailApi.as_view(), name="dataset-detail"),
    path(
        "datasets/<str:dataset_id>/data-rows/", views.DataRowListApi.as_view(), name="data-row-list"
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
        "datasets/<str:dataset_id>/versions/", views.VersionListApi.as_view(), name="version-list"
    ),
    path(
        "datasets/<str:dataset_id>/versions/current/",
        views.VersionCurrentApi.as_view(),
        name="version-current",
    ),
    path(
        "datasets/<str:dataset_id>/versions/by-name/<path:name>/",
        views.VersionByNameApi.as_view(),
        name="version-by-name",
    ),
    path("versions/<str:version_id>/", views.VersionDetailApi.as_view(), name="version-detail"),
    path("versions/<str:version_id>/frames/", views.FrameListApi.as_view(), name="frame-list"),
    path(
        "versions/<str:version_id>/frames/delete/",
        views.FrameDeleteApi.as_view(),
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
        views.FrameDetailApi.as_view(),
        name="frame-detail",
    ),
    path(
        "versions/<str:version_id>/commit/", views.VersionCommitApi.as_view(), name="version-commit"
    ),
    path(
        "versions/<str:version_id>/publish/",
        views.VersionPublishApi.as_view(),
        name="version-publish",
    ),
    path(
        "versions/<str:version_id>/snapshot/",
        views.VersionSnapshotApi.as_view(),
        name="version-snapshot",
    ),
    path("versions/<str:version_id>/stats/", views.VersionStatsApi.as_view(), name="version-stats"),
    path(
        "versions/<str:version_id>/metadata/",
        views.VersionMetadataApi.as_view(),
        name="version-metadata",
    ),
    path(
        "versions/<str:version_id>/mask-labels/",
        views.VersionMaskLabelsApi.as_view(),
        name="version-mask-labels",
    ),
    path("versions/<str:version_id>/diff/", views.VersionDiffApi.as_view(), name="version-diff"),
]

# Seed parity additions, first so that no `<id>` pattern above takes their paths (a dataset
# named "versions", a frame id "query").
urlpatterns[:0] = [
    path(
        "datasets/by-name/<path:name>/",
        views.DatasetByNameApi.as_view(),
        name="dataset-by-name",
    ),
    path(
        "datasets/<str:dataset_id>/metadata-schema/",
        views.DatasetMetadataSchemaApi.as_view(),
        name="dataset-metadata-schema",
    ),
    path(
        "versions/<str:version_id>/frames/query/",
        views.FrameQueryApi.as_view(),
        name="frame-query",
    ),
]
