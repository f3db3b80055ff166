"""Project, batch and queue pages."""

from django.urls import path

from . import analytics_views, review_views, views

P = "projects/<str:project_id>/"
B = P + "batches/<str:batch_id>/"

urlpatterns = [
    path("projects/", views.projects_page, name="project-list"),
    path(P, views.project_page, name="project-detail"),
    path(P + "batches/new/", views.batch_new, name="batch-new"),
    path(P + "batches/from-dataset/", views.batches_from_dataset, name="batch-from-dataset"),
    path(B, views.batch_page, name="batch-detail"),
    path(B + "priority/", views.batch_priority, name="batch-priority"),
    path(B + "move/", views.batch_move, name="batch-move"),
    path(B + "delete-labels/", views.batch_delete_labels, name="batch-delete-labels"),
    path(B + "delete/", views.batch_delete, name="batch-delete"),
    path(B + "remove-queued/", views.batch_remove_queued, name="batch-remove-queued"),
    path(P + "export/", views.project_export, name="project-export"),
    path(P + "label/", views.label_page, name="project-label"),
    path(P + "review/", review_views.review_page, name="project-review"),
    path(P + "analytics/", analytics_views.analytics_page, name="project-analytics"),
]
