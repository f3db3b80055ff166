"""Jobs resume on their own under every broker: django-q2's database broker hands a task out
again when its worker died (after `retry` seconds), its Redis broker does not: `jobs_resume`.

Run by the delivery sweeper every minute. Under Redis, a job still queued or running that no
worker has touched for `retry` seconds (longer than any task may run) is enqueued again; the
runner resumes it from its checkpoint (and ends it once its attempts are used up).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_q.conf import Conf

from dashboard.models import Job

from .services import job_enqueue


def broker_redelivers() -> bool:
    """Whether the broker itself hands out again a task whose worker died (the ORM one)."""
    return bool(Conf.ORM)


def jobs_resume() -> int:
    """Enqueue again the jobs whose task was lost (Redis broker only); returns how many."""
    if broker_redelivers():
        return 0
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.Q_CLUSTER["retry"])
    lost = Job.objects.filter(
        status__in=[Job.Status.QUEUED, Job.Status.RUNNING], updated_at__lt=stale_before
    )
    count = 0
    for job_id in lost.values_list("id", flat=True):
        # Touch first: the next sweep waits another `retry` before enqueuing it again.
        if Job.objects.filter(pk=job_id, updated_at__lt=stale_before).update(updated_at=now):
            job_enqueue(job_id=job_id)
            count += 1
    return count
