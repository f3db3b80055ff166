"""The core app: jobs, roles, the bulk engine and the shared UI."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Labelops core"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the database checks
        from .jobs.registry import job_kind  # noqa: F401 - registry before apps' kinds
        from .models import Job
        from .overview import overview_count_register

        # Every app's jobs.py declares its job kinds; web and worker processes load the same.
        autodiscover_modules("jobs")
        overview_count_register(
            label="Running jobs",
            count=lambda: Job.objects.filter(status__in=["queued", "running"]).count(),
            url_name="job-list",
            order=90,
        )
