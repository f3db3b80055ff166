"""The event log: the event types, `event_record` (the one way an event is written, in the
change's transaction, with its outbox deliveries) and `object_event` (its form for an event
about one stored object), the event's JSON, the audit-trail reads.

Dependencies point batches → versions → dashboard: projects and datasets are plain id strings.
"""

from __future__ import annotations

import time
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from rest_framework.fields import DateTimeField

from .errors import Invalid
from .ids import new_id
from .models import Delivery, Event, Webhook

EVENT_TYPES = (
    "project.created",
    "project.updated",
    "dataset.created",
    "dataset.deleted",
    "version.created",
    "version.published",
    "version.removed",
    "batch.created",
    "batch.updated",
    "batch.deleted",
    "batch.completed",
    "batch.rows_removed",
    "labels.deleted",
    "label.submitted",
    "label.accepted",
    "label.rejected",
    "priorities.changed",
    "job.succeeded",
    "job.failed",
    "job.cancelled",
    "ping",
)
ALL_EVENTS = "*"


def event_type_check(value: Any, *, field: str, wildcard: bool = False) -> str:
    """`value` if it is a known event type (or `*` where `wildcard`), else Invalid naming
    `field`."""
    if wildcard and value == ALL_EVENTS:
        return value
    if not isinstance(value, str) or value not in EVENT_TYPES:
        raise Invalid(
            f"Unknown event type {value!r}: the types are {', '.join(EVENT_TYPES)}"
            + (" (or * for all)." if wildcard else "."),
            field=field,
        )
    return value


# Who is acting, when a service records an event without naming the actor: the request being
# served (its user is read when the event is written: DRF's token authentication sets it on the
# request late), or the creator of the job being run. Set by `EventActorMiddleware` and the job
# runner; nothing (a management command, a worker's own work) records the system.
_current_actor: ContextVar[Any] = ContextVar("labelops_event_actor", default=None)
CURRENT_ACTOR: Any = object()


@contextmanager
def events_actor(actor):
    """Events recorded inside (without an explicit actor) name `actor`: a user, or a request
    whose user is read when the event is written."""
    token = _current_actor.set(actor)
    try:
        yield
    finally:
        _current_actor.reset(token)


def current_actor():
    """The user events are recorded for now (None: the system)."""
    actor = _current_actor.get()
    if actor is not None and hasattr(actor, "META"):  # a request
        actor = getattr(actor, "user", None)
    return actor


class EventActorMiddleware:
    """Events recorded while a request is served name its user (session or API token)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with events_actor(request):
            return self.get_response(request)


def event_record(
    *,
    type: str,
    actor=CURRENT_ACTOR,
    project: str | None = None,
    dataset: str | None = None,
    object_type: str,
    object_id: str,
    data: dict[str, Any] | None = None,
    only_webhook: Webhook | None = None,
) -> Event:
    """Record an event inside the change's transaction. Without `actor`, the current one
    (`events_actor`: the request's user, a job's creator).

    Webhooks cost the change one flag: an event some active webhook wants is marked for fan-out
    (`Event.fanout`, in the same row), and once the transaction commits a worker writes its
    deliveries (one per webhook, each with its id for every attempt) and sends them; a rollback
    leaves nothing. `only_webhook` (a test ping) writes its one delivery at once."""
    columns = event_columns(
        type=type, actor=actor, project=project, dataset=dataset, fanout=only_webhook is None
    )
    # A change calls this inside its transaction; alone (say, a ping) it opens its own.
    with nullcontext() if connection.in_atomic_block else transaction.atomic():
        event = Event.objects.create(
            **columns, object_type=object_type, object_id=str(object_id), data=data or {}
        )
        if only_webhook is not None:
            from .webhooks_outbox import deliveries_dispatch

            delivery = Delivery.objects.create(
                webhook=only_webhook, event=event, next_attempt_at=event.at
            )
            deliveries_dispatch(delivery_ids=[delivery.pk])
        else:
            event_written(fanout=event.fanout)
    return event


def object_event(
    type: str,
    obj: models.Model,
    object_type: str,
    *,
    data: dict[str, Any],
    actor=CURRENT_ACTOR,
    project: str | None = None,
    dataset: str | None = None,
) -> None:
    """`event_record` for an event about one stored object (a project, dataset, batch,
    version): the object is its pk."""
    event_record(
        type=type,
        actor=actor,
        project=project,
        dataset=dataset,
        object_type=object_type,
        object_id=obj.pk,
        data=data,
    )


def event_columns(
    *, type: str, actor=CURRENT_ACTOR, project=None, dataset=None, fanout: bool = True
) -> dict:
    """The columns of a new event but its object and data: its id and time, the actor (the
    current one by default), and the outbox mark (`fanout`: some active webhook wants it, from
    the subscriptions cached for a second; never for a ping to one webhook). `event_record`
    writes them with the ORM; a serving statement on PostgreSQL (the label's `label.submitted`)
    with its own SQL, then calls `event_written`."""
    event_type_check(type, field="type")
    if actor is CURRENT_ACTOR:
        actor = current_actor()
    signed_in = actor is not None and getattr(actor, "pk", None) is not None
    return {
        "id": new_id(),
        "type": type,
        "at": timezone.now(),
        "actor_user_id": actor.pk if signed_in else None,
        "actor_username": actor.get_username() if signed_in else "",
        "project": project or "",
        "dataset": dataset or "",
        "fanout": fanout and subscribed(type=type, project=project or ""),
    }


def event_written(*, fanout: bool) -> None:
    """After an event marked for fan-out is written in the current transaction: once it
    commits, a worker is woken (at most once a second per process; nothing in the request)."""
    if fanout:
        from .webhooks_outbox import fan_out_kick

        transaction.on_commit(fan_out_kick, robust=True)


# The active subscriptions, read at most once a second per process (every event asks):
# cleared at once by this process's webhook writes, so a change elsewhere applies within 1 s.
SUBSCRIPTIONS_TTL = 1.0
_subscriptions: tuple[float, list[tuple[str, str, list[str]]]] = (0.0, [])


def webhooks_changed() -> None:
    """Forget the cached subscriptions (called by every webhook write)."""
    global _subscriptions
    _subscriptions = (0.0, [])


def subscriptions_active() -> list[tuple[str, str, list[str]]]:
    """(id, project, events) of every active webhook, read now."""
    return list(Webhook.objects.filter(active=True).values_list("id", "project", "events"))


def subscribers(subscriptions, *, type: str, project: str) -> list[str]:
    """The ids of the subscriptions that want an event of `type` in `project`."""
    return [
        hook_id
        for hook_id, hook_project, events in subscriptions
        if (not hook_project or hook_project == project)
        and (type in events or ALL_EVENTS in events)
    ]


def subscribed(*, type: str, project: str) -> bool:
    """Whether some active webhook wants the event (the subscriptions cached for a second)."""
    global _subscriptions
    read_at, subscriptions = _subscriptions
    if time.monotonic() - read_at > SUBSCRIPTIONS_TTL:
        subscriptions = subscriptions_active()
        _subscriptions = (time.monotonic(), subscriptions)
    return bool(subscriptions) and bool(subscribers(subscriptions, type=type, project=project))


_datetime = DateTimeField()


def event_payload(event: Event) -> dict[str, Any]:
    """The event as the API shows it and as webhooks receive it."""
    actor = None
    if event.actor_user_id is not None or event.actor_username:
        actor = {"id": event.actor_user_id, "username": event.actor_username}
    return {
        "id": event.id,
        "type": event.type,
        "at": _datetime.to_representation(event.at),
        "actor": actor,
        "project": event.project or None,
        "dataset": event.dataset or None,
        "object": {"type": event.object_type, "id": event.object_id},
        "data": event.data,
    }


def events_list(
    *,
    types: list[str] | None = None,
    project: str | None = None,
    dataset: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: str | None = None,
) -> models.QuerySet[Event]:
    """Events newest first, filtered; `actor` is a user id or a username; `since` is
    inclusive, `until` exclusive; `before` an event id (keyset paging of the Activity page)."""
    events = Event.objects.all()
    if types:
        events = events.filter(type__in=[event_type_check(t, field="type") for t in types])
    if project:
        events = events.filter(project=project)
    if dataset:
        events = events.filter(dataset=dataset)
    if actor:
        if actor.isascii() and actor.isdigit() and len(actor) <= 18:  # a bigint
            # A user id, or a username made of digits.
            events = events.filter(
                models.Q(actor_user_id=int(actor)) | models.Q(actor_username=actor)
            )
        else:
            events = events.filter(actor_username=actor)
    if since:
        events = events.filter(at__gte=since)
    if until:
        events = events.filter(at__lt=until)
    if before:
        events = events.filter(id__lt=before)
    return events.order_by("-id")


PRUNE_CHUNK = 5000  # events deleted per transaction


def events_prune() -> int:
    """Delete events older than EVENT_RETENTION_DAYS (and their deliveries), PRUNE_CHUNK at a
    time, each chunk in a short transaction of its own (nothing loads a day's events at once,
    and the labelers' writes never wait long). Scheduled daily; returns the events deleted."""
    cutoff = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)
    old = Event.objects.filter(at__lt=cutoff).order_by("at")  # (the `at` index)
    deleted = 0
    while ids := list(old.values_list("id", flat=True)[:PRUNE_CHUNK]):
        with transaction.atomic():
            Delivery.objects.filter(event_id__in=ids).delete()
            deleted += Event.objects.filter(pk__in=ids).delete()[1].get(Event._meta.label, 0)
    return deleted


# What an event says in words (the overview's feed, the Activity page): `{key}` from its data.
SUMMARIES = {
    "project.created": "created project {name}",
    "project.updated": "edited project {name}",
    "dataset.created": "created dataset {name}",
    "dataset.deleted": "deleted dataset {name}",
    "version.created": "created version {name}",
    "version.published": "published version {name}",
    "version.removed": "removed version {name}",
    "batch.created": "created batch {name} ({size} rows)",
    "batch.updated": "edited batch {name}",
    "batch.deleted": "deleted batch {name}",
    "batch.completed": "completed batch {name} ({size} rows)",
    "batch.rows_removed": "removed {removed} queued rows from batch {name}",
    "labels.deleted": "deleted {count} labels of batch {name}",
    "label.submitted": "labelled row {data_row}",
    "label.accepted": "accepted label {label}",
    "label.rejected": "rejected label {label}",
    "priorities.changed": "changed the serving order",
    "job.succeeded": "job {kind} succeeded",
    "job.failed": "job {kind} failed",
    "job.cancelled": "job {kind} cancelled",
    "ping": "ping",
}


class _Data(dict):
    def __missing__(self, key):
        return "?"


def event_summary(event: Event) -> str:
    """One line: who did what (`labeler labelled row r-1`; `Created batch b (4 rows)` when
    nobody signed in did it)."""
    data = _Data(event.data if isinstance(event.data, dict) else {})
    data.setdefault("label", event.object_id)
    text = SUMMARIES.get(event.type, event.type).format_map(data)
    if event.actor_username:
        return f"{event.actor_username} {text}"
    return text[:1].upper() + text[1:]
