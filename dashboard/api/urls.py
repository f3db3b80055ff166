"""Job, event and webhook endpoints under /api/v1/."""

from django.urls import path

from . import events, views, webhooks

urlpatterns = [
    path("jobs/", views.JobListApi.as_view(), name="job-list"),
    path("jobs/<str:job_id>/", views.JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<str:job_id>/errors/", views.JobErrorListApi.as_view(), name="job-errors"),
    path("jobs/<str:job_id>/cancel/", views.JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<str:job_id>/retry/", views.JobRetryApi.as_view(), name="job-retry"),
    path("jobs/<str:job_id>/file/", views.JobFileApi.as_view(), name="job-file"),
    path("events/", events.EventListApi.as_view(), name="event-list"),
    path("webhooks/", webhooks.WebhookListApi.as_view(), name="webhook-list"),
    path("webhooks/<str:webhook_id>/", webhooks.WebhookDetailApi.as_view(), name="webhook-detail"),
    path("webhooks/<str:webhook_id>/test/", webhooks.WebhookTestApi.as_view(), name="webhook-test"),
    path(
        "webhooks/<str:webhook_id>/deliveries/",
        webhooks.DeliveryListApi.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/redeliver/",
        webhooks.DeliveryRedeliverApi.as_view(),
        name="webhook-redeliver",
    ),
]
