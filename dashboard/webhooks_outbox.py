"""The outbox. A change marks its event for fan-out (`Event.fanout`, in its own transaction:
no extra row, no task, nothing but a flag in the request). Once it commits, `fan_out_kick` wakes a
worker — at most once per FAN_OUT_DEBOUNCE seconds per process — whose `events_fan_out` writes
the deliveries of every marked event (one per webhook that wants it, unique per event and
webhook) and clears the marks in one transaction, then enqueues the sends: one sender task per
webhook (`webhook_send`), which claims its due deliveries SEND_BATCH at a time and posts them
over one kept-alive connection (a slow receiver holds up only its own webhook; a task per
delivery cost the workers ~15 ms of CPU each). A test ping or a redelivery is its own task
(`delivery_send`). A sweeper (`deliveries_sweep`, every minute) fans out what no worker took (a
broker that was down, a worker killed) and sends what is due or lost.

A kick skipped by the debounce is covered: kicks are decided after the commit, and a woken
fan-out keeps looking until FAN_OUT_DEBOUNCE (+ FAN_OUT_TAIL) seconds after its kick, so it sees
every change committed before the next kick would have been due. Latency: none added (the first
commit after a quiet spell kicks at once); a broker that is down delays to the next sweep.

A delivery is claimed before it is sent: its attempt is counted and `next_attempt_at` becomes a
lease (timeout + grace). A worker killed mid-send leaves it `pending` with an expired lease, so
the sweeper sends it again, with the same id (at least once). Claims take row locks with SKIP
LOCKED on PostgreSQL; on SQLite writes are serialized. A batch is sent only within SEND_WINDOW
of its claim, so every send ends before its lease; the rest is released, still due.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from .events import event_payload, subscribers, subscriptions_active
from .ids import new_id
from .models import Delivery, Event, Webhook
from .webhooks_http import Poster, http_post

log = logging.getLogger(__name__)

TASK_PATH = "dashboard.webhooks_outbox.delivery_send"
FAN_OUT_PATH = "dashboard.webhooks_outbox.deliveries_enqueue"
LEASE_GRACE_SECONDS = 30  # past timeout: a delivery still "sending" after this was lost
SWEEP_LIMIT = 1000  # deliveries enqueued per sweep (the next sweep takes the rest)
WEBHOOK_SEND_PATH = "dashboard.webhooks_outbox.webhook_send"
SEND_BATCH = 100  # deliveries a webhook's sender claims at once
# A claimed delivery is sent only this long after its claim, so its send ends (WEBHOOK_TIMEOUT)
# before its lease does; what is left is released, still due.
SEND_WINDOW = LEASE_GRACE_SECONDS / 2
# A sender keeps looking for new deliveries of its webhook this long after its last find, so
# the fan-out enqueues a sender per webhook about once a second under steady traffic, not one
# per look (a django-q2 task costs the workers ~10 ms of CPU).
SENDER_LINGER = 1.0
# A retry due within this many seconds is sent at its time by its webhook's sender (which waits
# for it); a later one by the sweeper, which runs about once a minute.
RETRY_HOLD = 10.0
FAN_OUT_PATH_EVENTS = "dashboard.webhooks_outbox.events_fan_out"
# A process wakes the fan-out at most once a second: under steady labeling that is one extra
# small commit a second and about one fan-out task alive per web process (it lives
# FAN_OUT_DEBOUNCE + FAN_OUT_TAIL), whatever the rate of events.
FAN_OUT_DEBOUNCE = 1.0  # seconds
FAN_OUT_TAIL = 0.1  # seconds past the debounce: room for the clocks of web and worker hosts
FAN_OUT_BATCH = 500  # events fanned out per transaction
FAN_OUT_IDLE = 0.1  # seconds between looks (the latency a fan-out may add)


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
        if done < FAN_OUT_BATCH:
            # A pause between looks, found something or not: the events of a pause go out
            # together (one sender task per webhook per look, not per event).
            time.sleep(min(FAN_OUT_IDLE, max(0.0, until - time.time())))


def events_fan_out_once() -> int:
    """One transaction: up to FAN_OUT_BATCH marked events (oldest first; on PostgreSQL locked,
    skipping those another worker holds) get their deliveries, lose their mark, and the sends
    are enqueued with them. Returns the number of events taken."""
    marked = Event.objects.filter(fanout=True).order_by("id")
    # Read (and the deliveries' rows made) before the write transaction: on SQLite, which has one
    # writer at a time, the labelers wait out whatever it holds. A fan-out that another worker
    # repeats meanwhile adds nothing (one delivery per event and webhook).
    events = list(marked.values_list("id", "type", "project", "at")[:FAN_OUT_BATCH])
    if not events:
        return 0
    subscriptions = subscriptions_active()  # as they are now: a disabled webhook gets none
    deliveries = {
        event_id: [
            delivery_row(webhook_id=hook_id, event_id=event_id, due=at)
            for hook_id in subscribers(subscriptions, type=type, project=project)
        ]
        for event_id, type, project, at in events
    }
    with transaction.atomic():
        if connection.vendor == "postgresql":  # those another worker holds are its own
            taken = marked.filter(pk__in=list(deliveries)).select_for_update(skip_locked=True)
            deliveries = {pk: deliveries[pk] for pk in taken.values_list("id", flat=True)}
            if not deliveries:
                return 0
        rows = [row for rows in deliveries.values() for row in rows]
        deliveries_insert(rows)
        Event.objects.filter(pk__in=list(deliveries)).update(fanout=False)
        webhooks_dispatch(webhook_ids=list(dict.fromkeys(row[1] for row in rows)), again=False)
    return len(deliveries)


DELIVERY_COLUMNS = (
    "id",
    "webhook_id",
    "event_id",
    "status",
    "attempts",
    "error",
    "created_at",
    "next_attempt_at",
)


def delivery_row(*, webhook_id: str, event_id: str, due) -> tuple:
    """A new pending delivery's values in DELIVERY_COLUMNS' order, ready for the database."""
    adapt = connection.ops.adapt_datetimefield_value
    now = timezone.now()
    return (new_id(), webhook_id, event_id, Delivery.Status.PENDING, 0, "", adapt(now), adapt(due))


def deliveries_insert(rows: list[tuple]) -> None:
    """Insert new deliveries (`delivery_row`s) with one prepared statement, skipping any that an
    event already has for that webhook (a repeated fan-out)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = "INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING".format(
        table=quote(Delivery._meta.db_table),
        columns=", ".join(quote(c) for c in DELIVERY_COLUMNS),
        values=", ".join(["%s"] * len(DELIVERY_COLUMNS)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


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


# webhook id → when this process last enqueued its sender (time.monotonic()).
_dispatched: dict[str, float] = {}


def webhooks_dispatch(*, webhook_ids: list[str], again: bool = True) -> None:
    """One sender task per webhook (`webhook_send`: its due deliveries, a batch at a time),
    enqueued like `deliveries_dispatch`'s: with the database broker in this transaction, else
    after the commit. Without `again` (the fan-out), a webhook whose sender this process
    enqueued less than SENDER_LINGER / 2 ago gets none: that sender looks for new deliveries
    until at least SENDER_LINGER after it starts, so it sends these too."""
    now = time.monotonic()
    if not again and not Conf.SYNC:  # (in-process tasks do not linger)
        webhook_ids = [
            w for w in webhook_ids if now - _dispatched.get(w, -SENDER_LINGER) >= SENDER_LINGER / 2
        ]
    for webhook_id in webhook_ids:
        _dispatched[webhook_id] = now

    def enqueue():
        for webhook_id in webhook_ids:
            async_task(
                WEBHOOK_SEND_PATH,
                webhook_id,
                task_name=f"webhook-{webhook_id}",
                timeout=send_timeout(),
                save=False,  # its outcome is the deliveries' own
            )

    if Conf.ORM and not Conf.SYNC:
        enqueue()
    elif webhook_ids:
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
        .values_list("id", "webhook_id")[:SWEEP_LIMIT]
    )
    # One sender per webhook with due deliveries: it takes them (and any others due) in batches.
    webhook_ids = list(dict.fromkeys(webhook_id for _, webhook_id in due))
    with transaction.atomic():
        webhooks_dispatch(webhook_ids=webhook_ids)
    return len(due)


def deliveries_claim(due: models.QuerySet[Delivery], *, limit: int) -> list[Delivery]:
    """Take up to `limit` of the `due` pending deliveries for one attempt each (none that another
    worker holds: SKIP LOCKED on PostgreSQL, one writer at a time on SQLite): count the attempt
    and set the lease, committed before the sends. Returns them with their events."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT + LEASE_GRACE_SECONDS)
    due = due.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
    if not due.exists():
        return []  # a read first: on SQLite a write transaction would block the labelers
    with transaction.atomic():
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        ids = list(due.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
        if not ids:
            return []
        taken = Delivery.objects.filter(pk__in=ids)
        # A delivery whose every attempt was taken and lost (the send never recorded an
        # outcome: its worker died or overran) fails instead of being claimed forever.
        taken.filter(attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS).update(
            status=Delivery.Status.FAILED,
            next_attempt_at=None,
            error="No outcome after the last attempt (the sending worker stopped).",
        )
        claimed = taken.filter(attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS).update(
            attempts=models.F("attempts") + 1, next_attempt_at=lease
        )
    if not claimed:
        return []
    # Read after the commit (the write lock is held for the writes alone): ours are the ones
    # with our lease, which nobody else takes before it ends.
    taken = taken.filter(status=Delivery.Status.PENDING, next_attempt_at=lease)
    return list(taken.select_related("event").order_by("next_attempt_at", "id"))


def delivery_claim(*, delivery_id: str) -> Delivery | None:
    """Take one due pending delivery for an attempt (None if it is not due, done, or another
    worker holds it)."""
    claimed = deliveries_claim(Delivery.objects.filter(pk=delivery_id), limit=1)
    if not claimed:
        return None
    claimed[0].webhook  # noqa: B018 - loaded now, as the send needs it
    return claimed[0]


def delivery_body(delivery: Delivery) -> bytes:
    """The exact bytes sent (and signed): the event's JSON."""
    return json.dumps(event_payload(delivery.event), separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_send(delivery_id: str) -> str | None:
    """The task: claim, POST the signed event, record the outcome (delivered, to be retried
    after WEBHOOK_RETRY_SECONDS doubling, or failed after WEBHOOK_MAX_ATTEMPTS)."""
    delivery = delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return None
    body, headers = delivery_request(delivery, delivery.webhook)
    started = time.monotonic()
    status, error = http_post(delivery.webhook.url, body, headers, timeout=settings.WEBHOOK_TIMEOUT)
    duration_ms = int((time.monotonic() - started) * 1000)
    result = delivery_outcome(
        delivery=delivery, status=status, error=error, duration_ms=duration_ms
    )
    if result == Delivery.Status.PENDING and not Conf.SYNC:
        if (
            retry_delay(delivery.attempts) <= RETRY_HOLD
        ):  # its webhook's sender waits for the retry (see webhook_send)
            with transaction.atomic():
                webhooks_dispatch(webhook_ids=[delivery.webhook_id])
    return result


def delivery_request(delivery: Delivery, webhook: Webhook) -> tuple[bytes, dict[str, str]]:
    """The exact body and the headers of a delivery's POST."""
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Labelops-Webhooks",
        "X-Labelops-Event": delivery.event.type,
        "X-Labelops-Delivery": delivery.id,
        "X-Labelops-Signature-256": signature(webhook.secret, body),
    }
    return body, headers


def webhook_send(webhook_id: str) -> int:
    """The task: send a webhook's due deliveries, SEND_BATCH claimed at a time, one after the
    other over one kept-alive connection (a slow receiver holds up only its own webhook's
    sender), looking again until SENDER_LINGER after the last find; successes recorded
    together after each batch, failures at once. A batch not sent within SEND_WINDOW of its
    claim is released (still due, its attempt not counted) and a new sender is enqueued for it,
    as when this one has run SEND_WINDOW. Returns the deliveries sent."""
    webhook = Webhook.objects.filter(pk=webhook_id).first()
    if webhook is None:
        return 0
    poster = Poster(webhook.url, timeout=settings.WEBHOOK_TIMEOUT)
    linger = 0.0 if Conf.SYNC else SENDER_LINGER  # (in-process tasks: tests, benches)
    began = found = time.monotonic()
    sent = 0
    try:
        while True:
            claimed = deliveries_claim(webhook.deliveries.all(), limit=SEND_BATCH)
            done = deliveries_post(claimed, webhook=webhook, poster=poster)
            sent += done
            if done < len(claimed) or (claimed and time.monotonic() - began > SEND_WINDOW):
                with transaction.atomic():
                    webhooks_dispatch(webhook_ids=[webhook.pk])  # the rest, by a new sender
                return sent
            if claimed:
                found = time.monotonic()
                if len(claimed) == SEND_BATCH:
                    continue
            if time.monotonic() - found >= linger:
                # Every due delivery sent, and nothing new for SENDER_LINGER: done, unless a
                # retry of this webhook comes due within RETRY_HOLD (the sweeper would send it
                # up to a minute late): within this sender's window it waits for it, past it
                # a new sender does.
                wait = retry_wait(webhook) if linger else None
                if wait is None:
                    return sent
                if time.monotonic() - began + wait > SEND_WINDOW:
                    with transaction.atomic():
                        webhooks_dispatch(webhook_ids=[webhook.pk])
                    return sent
                found = time.monotonic() + wait - linger  # looks again from when it is due
                time.sleep(min(wait, FAN_OUT_IDLE))
                continue
            time.sleep(FAN_OUT_IDLE)
    finally:
        poster.close()


def retry_wait(webhook: Webhook) -> float | None:
    """Seconds until the webhook's next retry (0: due now) if it is due within RETRY_HOLD, else
    None. (A delivery being sent is leased for longer than that.)"""
    now = timezone.now()
    due = (
        webhook.deliveries.filter(
            status=Delivery.Status.PENDING,
            attempts__gt=0,
            next_attempt_at__lte=now + timedelta(seconds=RETRY_HOLD),
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return None if due is None else max(0.0, (due - now).total_seconds())


def deliveries_post(claimed: list[Delivery], *, webhook: Webhook, poster: Poster) -> int:
    """Send claimed deliveries in order while within SEND_WINDOW of the claim; record their
    outcomes; release the ones not sent. Returns how many were sent."""
    started, succeeded = time.monotonic(), []
    for done, delivery in enumerate(claimed):
        if done and time.monotonic() - started > SEND_WINDOW:  # (the first always goes)
            Delivery.objects.filter(pk__in=[d.pk for d in claimed[done:]]).update(
                attempts=models.F("attempts") - 1, next_attempt_at=timezone.now()
            )
            break
        body, headers = delivery_request(delivery, webhook)
        sending = time.monotonic()
        status, error = poster.post(body, headers)
        duration_ms = int((time.monotonic() - sending) * 1000)
        if error:
            delivery.webhook = webhook
            delivery_outcome(delivery=delivery, status=status, error=error, duration_ms=duration_ms)
        else:
            delivery.status, delivery.response_status = Delivery.Status.SUCCEEDED, status
            delivery.duration_ms, delivery.error, delivery.next_attempt_at = duration_ms, "", None
            succeeded.append(delivery)
    else:
        done = len(claimed)
    deliveries_succeeded(succeeded)
    return done


def deliveries_succeeded(succeeded: list[Delivery]) -> None:
    """Record the successes of a batch: one prepared UPDATE run for each (executemany), its SQL
    made before the transaction begins. (`bulk_update` compiles a CASE per row and column inside
    its transaction: on SQLite, which has one writer at a time, the labelers waited out those
    ~60 ms of Python on every batch.)"""
    if not succeeded:
        return
    quote = connection.ops.quote_name
    columns = ("status", "response_status", "duration_ms", "error", "next_attempt_at")
    sql = "UPDATE {table} SET {sets} WHERE {id} = %s AND {status} = %s".format(
        table=quote(Delivery._meta.db_table),
        sets=", ".join(f"{quote(c)} = %s" for c in columns),
        id=quote("id"),
        status=quote("status"),
    )
    done, pending = Delivery.Status.SUCCEEDED, Delivery.Status.PENDING
    rows = [(done, d.response_status, d.duration_ms, "", None, d.pk, pending) for d in succeeded]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def retry_delay(attempts: int) -> float:
    """Seconds until the next try after the `attempts`-th failed: WEBHOOK_RETRY_SECONDS,
    doubling each time."""
    return settings.WEBHOOK_RETRY_SECONDS * 2 ** (attempts - 1)


def delivery_outcome(*, delivery: Delivery, status: int | None, error: str, duration_ms: int):
    """Record one attempt's outcome; returns the delivery's status."""
    now = timezone.now()
    if not error:
        result, next_at = Delivery.Status.SUCCEEDED, None
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        result, next_at = Delivery.Status.FAILED, None
        error = f"{error} Gave up after {delivery.attempts} attempts."
    else:
        wait = retry_delay(delivery.attempts)
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
