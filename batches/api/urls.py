"""Project, batch, queue and label endpoints under /api/v1/ (namespace `api`)."""

from django.urls import path

from . import reviews, views

P = "projects/<str:project_id>/"
B = P + "batches/<str:batch_id>/"

urlpatterns = [
    path("projects/", views.ProjectListApi.as_view(), name="project-list"),
    path(P, views.ProjectDetailApi.as_view(), name="project-detail"),
    path(P + "batches/", views.BatchListApi.as_view(), name="batch-list"),
    path(P + "batches/bulk/", views.BatchBulkApi.as_view(), name="batch-bulk"),
    path(
        P + "batches/from-dataset/", views.BatchFromDatasetApi.as_view(), name="batch-from-dataset"
    ),
    path(P + "batches/reorder/", views.BatchReorderApi.as_view(), name="batch-reorder"),
    path(B, views.BatchDetailApi.as_view(), name="batch-detail"),
    path(B + "remove-queued/", views.BatchRemoveQueuedApi.as_view(), name="batch-remove-queued"),
    path(B + "delete-labels/", views.BatchDeleteLabelsApi.as_view(), name="batch-delete-labels"),
    path(P + "priorities/", views.PrioritiesApi.as_view(), name="project-priorities"),
    path(P + "queue/", views.QueueApi.as_view(), name="queue"),
    path(P + "queue/next/", views.QueueNextApi.as_view(), name="queue-next"),
    path(P + "queue/<str:entry_id>/submit/", views.QueueSubmitApi.as_view(), name="queue-submit"),
    path(P + "queue/<str:entry_id>/skip/", views.QueueSkipApi.as_view(), name="queue-skip"),
    path(P + "export/", views.ExportApi.as_view(), name="project-export"),
    path(P + "export/stream/", views.ExportStreamApi.as_view(), name="project-export-stream"),
    path(P + "publish-labels/", views.PublishLabelsApi.as_view(), name="project-publish-labels"),
    path(P + "labels/", reviews.LabelListApi.as_view(), name="label-list"),
    path(P + "labels/review/", reviews.LabelsReviewApi.as_view(), name="labels-review"),
    path(
        P + "labels/<str:label_id>/accept/", reviews.LabelAcceptApi.as_view(), name="label-accept"
    ),
    path(
        P + "labels/<str:label_id>/reject/", reviews.LabelRejectApi.as_view(), name="label-reject"
    ),
    path(P + "review/next/", reviews.ReviewNextApi.as_view(), name="review-next"),
    path(P + "rows/<str:data_row_id>/", reviews.RowDetailApi.as_view(), name="row-detail"),
]
