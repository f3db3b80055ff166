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


# --- The objects events name, for the feed and the Activity page -------------------------------


@dataclass(frozen=True)
class EventObject:
    """An object an event names that still exists: where to see it and what to call it."""

    url: str
    name: str


_EVENT_OBJECTS: dict[str, Callable[[list[str]], dict[str, EventObject]]] = {}


def event_objects_register(
    object_type: str, resolve: Callable[[list[str]], dict[str, EventObject]]
) -> None:
    """`resolve(ids)` answers the objects of that type that still exist (one bounded query)."""
    _EVENT_OBJECTS.setdefault(object_type, resolve)


def named_objects(
    queryset, url_name: str, *, prefix: str = ""
) -> Callable[[list[str]], dict[str, EventObject]]:
    """A resolver for `event_objects_register`: the rows of `queryset` with those ids, each
    linked to its `url_name` page and called by its `name` (after `prefix`)."""
    from .jobs.describe import named_refs

    refs = named_refs(queryset, url_name, prefix=prefix)
    return lambda ids: {pk: EventObject(url=r.url, name=r.name) for pk, r in refs(ids).items()}


def event_objects(events) -> dict[tuple[str, str], EventObject]:
    """{(type, id): EventObject} for the objects, projects and datasets the events name and
    that still exist: one query per type, whatever the number of events."""
    _discover()
    wanted: dict[str, set[str]] = {}
    for event in events:
        wanted.setdefault(event.object_type, set()).add(event.object_id)
        if event.project:
            wanted.setdefault("project", set()).add(event.project)
        if event.dataset:
            wanted.setdefault("dataset", set()).add(event.dataset)
    found = {}
    for object_type, ids in wanted.items():
        resolve = _EVENT_OBJECTS.get(object_type)
        if resolve is not None:
            for object_id, obj in resolve(sorted(ids)).items():
                found[(object_type, object_id)] = obj
    return found


def event_links(events: list) -> list:
    """The events, each with `object_link`, `project_link` and `dataset_link` (an EventObject,
    or None once the object is gone) and `summary` (one line, in words)."""
    from .events import event_summary

    objects = event_objects(events)
    for event in events:
        event.object_link = objects.get((event.object_type, event.object_id))
        event.project_link = objects.get(("project", event.project)) if event.project else None
        event.dataset_link = objects.get(("dataset", event.dataset)) if event.dataset else None
        event.summary = event_summary(event)
    return events


def _event_activity(limit: int) -> list[Activity]:
    """The newest events of the log (the primary key is time-ordered): changes, deletions and
    removals, labels and jobs alike; not a webhook's test ping (no change, and its webhook's
    page is for managers while the overview is for everyone)."""
    from .models import Event

    activity = []
    newest = Event.objects.exclude(type="ping").order_by("-id")[:limit]
    for event in event_links(list(newest)):
        text = event.summary
        where = event.project_link or event.dataset_link
        if where is not None and event.object_type not in ("project", "dataset"):
            text += f" in {where.name}"
        link = event.object_link or where
        group = event.type.split(".")[0]
        if group == "job":
            kind = f"job-{event.type.split('.')[1]}"
        elif event.type.endswith((".deleted", ".removed", ".rows_removed")):
            kind = "removed"
        else:
            kind = group
        activity.append(Activity(when=event.at, text=text, url=link and link.url, kind=kind))
    return activity


def _jobs(ids: list[str]) -> dict[str, EventObject]:
    from django.urls import reverse

    from .jobs.describe import jobs_describe
    from .selectors import job_list_summary

    jobs = jobs_describe(job_list_summary().filter(pk__in=ids))
    return {
        job.pk: EventObject(url=reverse("job-detail", args=[job.pk]), name=job.title)
        for job in jobs
    }


def _webhooks(ids: list[str]) -> dict[str, EventObject]:
    """The webhooks a test ping names (its page, for the managers who read the trail)."""
    from django.urls import reverse

    from .models import Webhook

    return {
        pk: EventObject(url=reverse("webhook-detail", args=[pk]), name=url)
        for pk, url in Webhook.objects.filter(pk__in=ids).values_list("id", "url")
    }


overview_activity_register(_event_activity)
event_objects_register("job", _jobs)
event_objects_register("webhook", _webhooks)
