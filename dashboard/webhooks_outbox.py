"""The outbox. A change marks its event for fan-out (`Event.fanout`, in its own transaction:
no extra row, no task, nothing but a flag in the request). Once it commits, `fan_out_kick` wakes a
worker — at most once per FAN_OUT_DEBOUNCE seconds per process — whose `events_fan_out` writes
the deliveries of every marked event (one per webhook that wants it, unique per event and
webhook) and clears the marks in one transaction, then enqueues the sends. Each delivery is its
own short django-q2 task (`delivery_send`); a sweeper (`deliveries_sweep`, every minute) fans out
what no worker took (a broker that was down, a worker killed) and sends what is due or lost.

A kick skipped by the debounce is covered: kicks are decided after the commit, and a woken
fan-out keeps looking until FAN_OUT_DEBOUNCE (+ FAN_OUT_TAIL) seconds after its kick, so it sees
every change committed before the next kick would have been due. Latency: none added (the first
commit after a quiet spell kicks at once); a broker that is down delays to the next sweep.

A delivery is claimed before it is sent: its attempt is counted and `next_attempt_at` becomes a
lease (timeout + grace). A worker killed mid-send leaves it `pending` with an expired lease, so
the sweeper sends it again, with the same id (at least once). Claims take row locks with SKIP
LOCKED on PostgreSQL; on SQLite the claim is one conditional UPDATE (writes are serialized).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from .events import event_payload, subscribers, subscriptions_active
from .models import Delivery, Event

log = logging.getLogger(__name__)

TASK_PATH = "dashboard.webhooks_outbox.delivery_send"
FAN_OUT_PATH = "dashboard.webhooks_outbox.deliveries_enqueue"
LEASE_GRACE_SECONDS = 30  # past timeout: a delivery still "sending" after this was lost
SWEEP_LIMIT = 1000  # deliveries enqueued per sweep (the next sweep takes the rest)
ERROR_BODY_BYTES = 200  # of a refusing receiver's answer, kept in `error`
FAN_OUT_PATH_EVENTS = "dashboard.webhooks_outbox.events_fan_out"
# A process wakes the fan-out at most once a second: under steady labeling that is one extra
# small commit a second and about one fan-out task alive per web process (it lives
# FAN_OUT_DEBOUNCE + FAN_OUT_TAIL), whatever the rate of events.
FAN_OUT_DEBOUNCE = 1.0  # seconds
FAN_OUT_TAIL = 0.1  # seconds past the debounce: room for the clocks of web and worker hosts
FAN_OUT_BATCH = 500  # events fanned out per transaction
FAN_OUT_IDLE = 0.1  # seconds between looks when nothing is marked


# --- Fan-out: from marked events to deliveries ---------------------------------------------------

_last_kick = 0.0


def fan_out_kick() -> None:
    """After a commit that marked events: wake a worker to fan them out (debounced)."""
    global _last_kick
    if Conf.SYNC:  # tasks run in this process (tests, benches): fan out now, no waiting
        async_task(FAN_OUT_PATH_EVENTS)
        return
    now = time.monotonic()
    if now - _last_kick < FAN_OUT_DEBOUNCE:
        return  # the fan-out woken less than FAN_OUT_DEBOUNCE ago will see this commit
    _last_kick = now
    # In a transaction of its own: django-q2's database broker closes a connection it is given
    # in autocommit (CONN_MAX_AGE=0), and the request would open (and prepare) a new one.
    with transaction.atomic():
        async_task(FAN_OUT_PATH_EVENTS, time.time(), task_name="events-fan-out")


def events_fan_out(kicked_at: float | None = None) -> int:
    """The task: fan out the marked events, looking again until FAN_OUT_DEBOUNCE + FAN_OUT_TAIL
    after the kick (without `kicked_at`: until none is left). Returns the events fanned out."""
    until = kicked_at + FAN_OUT_DEBOUNCE + FAN_OUT_TAIL if kicked_at else 0.0
    total = 0
    while True:
        started = time.time()
        done = events_fan_out_once()
        total += done
        if started >= until and done < FAN_OUT_BATCH:
            return total  # a look begun after the deadline found every marked event
        if not done:
            time.sleep(min(FAN_OUT_IDLE, max(0.0, until - time.time())))


def events_fan_out_once() -> int:
    """One transaction: up to FAN_OUT_BATCH marked events (oldest first; on PostgreSQL locked,
    skipping those another worker holds) get their deliveries, lose their mark, and the sends
    are enqueued with them. Returns the number of events taken."""
    with transaction.atomic():
        marked = Event.objects.filter(fanout=True).order_by("id")
        if connection.vendor == "postgresql":
            marked = marked.select_for_update(skip_locked=True)
        events = list(marked.only("id", "type", "project", "at")[:FAN_OUT_BATCH])
        if not events:
            return 0
        subscriptions = subscriptions_active()  # as they are now: a disabled webhook gets none
        deliveries = [
            Delivery(webhook_id=hook_id, event_id=event.pk, next_attempt_at=event.at)
            for event in events
            for hook_id in subscribers(subscriptions, type=event.type, project=event.project)
        ]
        # ignore_conflicts: a fan-out repeated after a lost commit adds nothing (unique pair).
        Delivery.objects.bulk_create(deliveries, batch_size=1000, ignore_conflicts=True)
        Event.objects.filter(pk__in=[event.pk for event in events]).update(fanout=False)
        for start in range(0, len(deliveries), SWEEP_LIMIT):
            part = deliveries[start : start + SWEEP_LIMIT]
            deliveries_dispatch(delivery_ids=[d.pk for d in part])
    return len(events)


# --- Sending ------------------------------------------------------------------------------------


def deliveries_dispatch(*, delivery_ids: list[str]) -> None:
    """Called in the transaction that records the event: one task for its deliveries (one
    delivery's own task, or a fan-out task for several). With the database broker the task row
    is written in this transaction (no extra commit; a rollback takes it too), with another
    broker (or in-process tasks) it is enqueued when the transaction commits."""
    if len(delivery_ids) == 1:
        args = (TASK_PATH, delivery_ids[0])
        options = {"task_name": f"delivery-{delivery_ids[0]}", "timeout": send_timeout()}
    else:
        args = (FAN_OUT_PATH, delivery_ids)
        options = {"task_name": f"deliveries-{delivery_ids[0]}"}

    def enqueue():
        async_task(*args, **options)

    if Conf.ORM and not Conf.SYNC:
        enqueue()
    else:
        # robust: a broker that cannot be reached must not turn a committed change into an
        # error; the sweeper sends pending deliveries anyway.
        transaction.on_commit(enqueue, robust=True)


def send_timeout() -> int:
    """How long a send task may run before django-q2 stops it."""
    return int(settings.WEBHOOK_TIMEOUT) + LEASE_GRACE_SECONDS


def deliveries_enqueue(delivery_ids: list[str]) -> None:
    """One task per delivery: a slow receiver holds up only its own (also the fan-out task)."""
    for delivery_id in delivery_ids:
        async_task(
            TASK_PATH,
            delivery_id,
            task_name=f"delivery-{delivery_id}",
            timeout=send_timeout(),
        )


def deliveries_sweep() -> int:
    """Enqueue the pending deliveries that are due: retries whose time has come and sends whose
    worker died (lease expired). Also resumes lost jobs under brokers that do not redeliver.
    Scheduled every minute; returns the number of deliveries enqueued."""
    from .jobs.resume import jobs_resume

    jobs_resume()
    events_fan_out()  # events no woken worker fanned out (their deliveries are due at once)
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:SWEEP_LIMIT]
    )
    deliveries_enqueue(due)
    return len(due)


def delivery_claim(*, delivery_id: str) -> Delivery | None:
    """Take a due pending delivery for one attempt (None if it is not due, done, or another
    worker holds it): count the attempt and set the lease, committed before the send."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT + LEASE_GRACE_SECONDS)
    due = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            locked = due.select_for_update(skip_locked=True).values_list("id", flat=True)
            due = Delivery.objects.filter(pk__in=list(locked))
        # A delivery whose every attempt was taken and lost (the send never recorded an
        # outcome: its worker died or overran) fails instead of being claimed forever.
        due.filter(attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS).update(
            status=Delivery.Status.FAILED,
            next_attempt_at=None,
            error="No outcome after the last attempt (the sending worker stopped).",
        )
        claimed = due.filter(attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS).update(
            attempts=models.F("attempts") + 1, next_attempt_at=lease
        )
    if not claimed:
        return None
    return Delivery.objects.select_related("webhook", "event").get(pk=delivery_id)


def delivery_body(delivery: Delivery) -> bytes:
    """The exact bytes sent (and signed): the event's JSON."""
    return json.dumps(event_payload(delivery.event), separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def address_refusal(host: str | None, port: int | None) -> str:
    """Why `host` may not receive webhooks ("" if it may): with WEBHOOK_ALLOW_PRIVATE false, a
    host that is, or resolves to, an address that is not public (loopback, private, link-local,
    reserved, multicast). A name that does not resolve is left to the send to report."""
    if settings.WEBHOOK_ALLOW_PRIVATE or not host:
        return ""
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, port or 80)}
    except (OSError, UnicodeError):
        return ""
    for address in sorted(found):
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            return (
                f"{host} is a non-public address ({address}): refused while "
                "WEBHOOK_ALLOW_PRIVATE is false."
            )
    return ""


def http_post(url: str, body: bytes, headers: dict[str, str], *, timeout: float):
    """POST without following redirects; (status or None, error message or "")."""
    try:
        parts = urlsplit(url)
        refusal = address_refusal(parts.hostname, parts.port)
        if refusal:
            return None, f"Not sent: {refusal}"
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        client = connection_class(parts.hostname, parts.port, timeout=timeout)
    except ValueError as exc:
        return None, f"Could not deliver: {exc}"
    try:
        client.request("POST", target, body=body, headers=headers)
        response = client.getresponse()
        answer = response.read(ERROR_BODY_BYTES)
    except TimeoutError:
        return None, f"No answer within {settings.WEBHOOK_TIMEOUT:g} seconds."
    except http.client.RemoteDisconnected:
        return None, "The receiver closed the connection without answering."
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, f"Could not deliver: {type(exc).__name__}: {exc}"
    finally:
        client.close()
    status = response.status
    if 200 <= status < 300:
        return status, ""
    if 300 <= status < 400:
        where = response.getheader("Location", "")
        return status, f"HTTP {status}: redirects are not followed (Location: {where[:200]})."
    text = answer.decode("utf-8", "replace").strip()
    return status, f"HTTP {status}" + (f": {text}" if text else ".")


def delivery_send(delivery_id: str) -> str | None:
    """The task: claim, POST the signed event, record the outcome (delivered, to be retried
    after WEBHOOK_RETRY_SECONDS doubling, or failed after WEBHOOK_MAX_ATTEMPTS)."""
    delivery = delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return None
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Labelops-Webhooks",
        "X-Labelops-Event": delivery.event.type,
        "X-Labelops-Delivery": delivery.id,
        "X-Labelops-Signature-256": signature(delivery.webhook.secret, body),
    }
    started = time.monotonic()
    status, error = http_post(delivery.webhook.url, body, headers, timeout=settings.WEBHOOK_TIMEOUT)
    duration_ms = int((time.monotonic() - started) * 1000)
    return delivery_outcome(delivery=delivery, status=status, error=error, duration_ms=duration_ms)


def delivery_outcome(*, delivery: Delivery, status: int | None, error: str, duration_ms: int):
    """Record one attempt's outcome; returns the delivery's status."""
    now = timezone.now()
    if not error:
        result, next_at = Delivery.Status.SUCCEEDED, None
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        result, next_at = Delivery.Status.FAILED, None
        error = f"{error} Gave up after {delivery.attempts} attempts."
    else:
        wait = settings.WEBHOOK_RETRY_SECONDS * 2 ** (delivery.attempts - 1)
        result, next_at = Delivery.Status.PENDING, now + timedelta(seconds=wait)
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
        status=result,
        response_status=status,
        duration_ms=duration_ms,
        error=error[:2000],
        next_attempt_at=next_at,
    )
    if error:
        log.info("delivery %s to %s: %s", delivery.pk, delivery.webhook.url, error)
    return result
