"""Job endpoints under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [
    path("jobs/", views.JobListApi.as_view(), name="job-list"),
    path("jobs/<str:job_id>/", views.JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<str:job_id>/errors/", views.JobErrorListApi.as_view(), name="job-errors"),
    path("jobs/<str:job_id>/cancel/", views.JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<str:job_id>/retry/", views.JobRetryApi.as_view(), name="job-retry"),
    path("jobs/<str:job_id>/file/", views.JobFileApi.as_view(), name="job-file"),
]
