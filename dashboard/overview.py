"""The overview page's figures, panels and activity feed. Apps register their own (dependency
inversion: `dashboard` never imports an app); each app's `overview.py` is discovered once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class OverviewCount:
    label: str
    count: Callable[[], int]
    url_name: str | None = None
    order: int = 100


@dataclass(frozen=True)
class OverviewPanel:
    """A card on the overview: `template` is rendered with `data` = `context()`."""

    key: str
    template: str
    context: Callable[[], Any]
    order: int = 100


@dataclass(frozen=True)
class Activity:
    """One line of the recent-activity feed."""

    when: datetime
    text: str
    url: str | None = None
    kind: str = ""


_COUNTS: list[OverviewCount] = []
_PANELS: list[OverviewPanel] = []
_ACTIVITY: list[Callable[[int], list[Activity]]] = []
_discovered = False


def _discover() -> None:
    global _discovered
    if not _discovered:
        _discovered = True
        autodiscover_modules("overview")


def overview_count_register(
    *, label: str, count: Callable[[], int], url_name: str | None = None, order: int = 100
) -> None:
    if any(c.label == label for c in _COUNTS):
        return
    _COUNTS.append(OverviewCount(label=label, count=count, url_name=url_name, order=order))


def overview_panel_register(
    *, key: str, template: str, context: Callable[[], Any], order: int = 100
) -> None:
    if any(p.key == key for p in _PANELS):
        return
    _PANELS.append(OverviewPanel(key=key, template=template, context=context, order=order))


def overview_activity_register(source: Callable[[int], list[Activity]]) -> None:
    """`source(limit)` answers at most `limit` recent events (one bounded query, newest first)."""
    if source not in _ACTIVITY:
        _ACTIVITY.append(source)


def overview_counts() -> list[dict]:
    _discover()
    return [
        {"label": c.label, "value": c.count(), "url_name": c.url_name}
        for c in sorted(_COUNTS, key=lambda c: c.order)
    ]


def overview_panels() -> list[dict]:
    _discover()
    return [
        {"key": p.key, "template": p.template, "data": p.context()}
        for p in sorted(_PANELS, key=lambda p: p.order)
    ]


def overview_activity(*, limit: int = 15) -> list[Activity]:
    _discover()
    events = [event for source in _ACTIVITY for event in source(limit)]
    return sorted(events, key=lambda e: e.when, reverse=True)[:limit]


def _job_activity(limit: int) -> list[Activity]:
    """Ended jobs, newest first by the indexed creation time (no params or results read)."""
    from django.urls import reverse

    from .jobs.describe import jobs_describe
    from .models import Job
    from .selectors import job_list_summary

    jobs = job_list_summary().filter(status__in=Job.ENDED).order_by("-created_at")[:limit]
    return [
        Activity(
            when=job.finished_at or job.created_at,
            text=f"{job.title}: {job.outcome}"
            + (f" ({job.progress_done} rows)" if job.progress_done else "")
            + (f" · started by {job.created_by}" if job.created_by else ""),
            url=reverse("job-detail", args=[job.pk]),
            kind=f"job-{job.outcome_badge}",
        )
        for job in jobs_describe(jobs)
    ]


overview_activity_register(_job_activity)
