"""Webhooks: create, update, delete, send a test ping; redeliver and replay deliveries; the
reads the API, the Webhooks page, the admin and `manage.py replay_deliveries` share.

Projects live in batches, which depends on dashboard: a project id is checked through the app
registry (`apps.get_model`), never an import.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.utils import timezone

from .errors import Invalid, NotFound
from .events import ALL_EVENTS, event_record, event_type_check, webhooks_changed
from .models import Delivery, Webhook
from .unset import UNSET
from .webhooks_http import address_refusal
from .webhooks_outbox import deliveries_enqueue

URL_MAX = 2000
SECRET_MIN, SECRET_MAX = 16, 128
DISABLED = "Not sent: the webhook was disabled."
_url_validator = URLValidator(schemes=["http", "https"])


def webhook_url_check(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise Invalid("An http:// or https:// URL is required.", field="url")
    url = url.strip()
    if len(url) > URL_MAX:
        raise Invalid(f"At most {URL_MAX} characters.", field="url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Invalid("Only http:// and https:// URLs receive webhooks.", field="url")
    if parts.username is not None or parts.password is not None:
        raise Invalid(
            "No credentials in the URL: the signature authenticates deliveries.", field="url"
        )
    try:
        _url_validator(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except (ValidationError, ValueError):
        raise Invalid("Not a valid URL.", field="url") from None
    if not url.isascii():
        raise Invalid("Percent-encode non-ASCII characters in the URL.", field="url")
    refusal = address_refusal(parts.hostname, parts.port)  # checked again at each send
    if refusal:
        raise Invalid(refusal, field="url")
    return url


def webhook_events_check(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise Invalid('A non-empty list of event types (or ["*"]).', field="events")
    checked = [event_type_check(e, field="events", wildcard=True) for e in events]
    return [ALL_EVENTS] if ALL_EVENTS in checked else list(dict.fromkeys(checked))


def webhook_project_check(project: Any) -> str:
    """The project id ("" for every project); one that names no project is invalid input (a
    400 naming the field, as for an unknown event type), not a missing webhook."""
    if project in (None, ""):
        return ""
    Project = apps.get_model("batches", "Project")
    if not isinstance(project, str) or not Project.objects.filter(pk=project).exists():
        raise Invalid(f"No project with id {project!r}.", field="project")
    return project


def webhook_secret_check(secret: Any) -> str:
    if not isinstance(secret, str) or not SECRET_MIN <= len(secret) <= SECRET_MAX:
        raise Invalid(
            f"A secret of {SECRET_MIN} to {SECRET_MAX} characters (omit it to get one).",
            field="secret",
        )
    return secret


def webhook_create(
    *,
    url: Any,
    events: Any,
    project: Any = None,
    active: bool = True,
    secret: Any = None,
    user=None,
) -> Webhook:
    """Register a webhook; its secret is generated when omitted (the caller shows it once)."""
    webhook = Webhook(
        url=webhook_url_check(url),
        events=webhook_events_check(events),
        project=webhook_project_check(project),
        active=bool(active),
        secret=secrets.token_hex(32) if secret is None else webhook_secret_check(secret),
        created_by=user if user is not None and user.pk else None,
    )
    webhook.save()
    transaction.on_commit(webhooks_changed)
    webhooks_changed()
    return webhook


def webhook_update(
    *,
    webhook: Webhook,
    url: Any = UNSET,
    events: Any = UNSET,
    project: Any = UNSET,
    active: Any = UNSET,
    secret: Any = UNSET,
) -> Webhook:
    """Change some of a webhook's fields (a new `secret` rotates it). Disabling it stops its
    deliveries still pending (retries included): they fail, saying why (redeliver or replay
    sends them again)."""
    checks = {
        "url": webhook_url_check,
        "events": webhook_events_check,
        "project": webhook_project_check,
        "active": bool,
        "secret": webhook_secret_check,
    }
    given = {"url": url, "events": events, "project": project, "active": active, "secret": secret}
    changed = [name for name, value in given.items() if value is not UNSET]
    # As stored (an admin form has already set its values on the instance).
    was_active = Webhook.objects.filter(pk=webhook.pk).values_list("active", flat=True).first()
    for name in changed:
        setattr(webhook, name, checks[name](given[name]))
    if changed:
        with transaction.atomic():
            webhook.save(update_fields=[*changed, "updated_at"])
            if was_active and not webhook.active:
                Delivery.objects.filter(webhook=webhook, status=Delivery.Status.PENDING).update(
                    status=Delivery.Status.FAILED, next_attempt_at=None, error=DISABLED
                )
        transaction.on_commit(webhooks_changed)
        webhooks_changed()
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    """Delete a webhook and its delivery log; pending deliveries are not sent."""
    webhook.delete()
    transaction.on_commit(webhooks_changed)
    webhooks_changed()


def webhook_test(*, webhook: Webhook, user=None) -> Delivery:
    """Record a `ping` event delivered to this webhook only (even when it is inactive)."""
    with transaction.atomic():
        event = event_record(
            type="ping",
            actor=user,
            project=webhook.project,
            object_type="webhook",
            object_id=webhook.pk,
            data={"webhook": webhook.pk, "url": webhook.url},
            only_webhook=webhook,
        )
        return event.deliveries.get()


def delivery_redeliver(*, delivery: Delivery, only_failed: bool = False) -> Delivery | None:
    """Send a delivery again now (same id), with a fresh set of attempts: a delivered or failed
    one, or a pending one waiting for its next retry (sent now instead). One being sent at this
    moment may reach the receiver twice (at least once; the id tells them apart). With
    `only_failed`, a delivery no longer failed is left alone (None)."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if only_failed and delivery.status != Delivery.Status.FAILED:
            return None
        delivery.status = Delivery.Status.PENDING
        delivery.attempts = 0
        delivery.error = ""
        delivery.response_status = None
        delivery.duration_ms = None
        delivery.next_attempt_at = timezone.now()
        delivery.save()
        transaction.on_commit(lambda: deliveries_enqueue([delivery.pk]), robust=True)
    return delivery


def deliveries_replay(*, since: datetime | None = None, webhook: Webhook | None = None) -> int:
    """Send the failed deliveries again (created since `since`, of `webhook`); how many."""
    failed = Delivery.objects.filter(status=Delivery.Status.FAILED)
    if since is not None:
        failed = failed.filter(created_at__gte=since)
    if webhook is not None:
        failed = failed.filter(webhook=webhook)
    count = 0
    for delivery in failed.order_by("id").iterator():
        if delivery_redeliver(delivery=delivery, only_failed=True) is not None:
            count += 1  # (one picked up meanwhile is left alone)
    return count


# --- reads ----------------------------------------------------------------------------------


def webhook_list() -> models.QuerySet[Webhook]:
    return Webhook.objects.select_related("created_by").order_by("-created_at", "-id")


def webhook_get(*, webhook_id: str) -> Webhook:
    webhook = Webhook.objects.filter(pk=webhook_id).first()
    if webhook is None:
        raise NotFound("No webhook with this id.")
    return webhook


def webhook_deliveries(*, webhook: Webhook) -> models.QuerySet[Delivery]:
    """A webhook's deliveries, newest first."""
    return Delivery.objects.filter(webhook=webhook).select_related("event").order_by("-id")


def delivery_get(*, webhook: Webhook, delivery_id: str) -> Delivery:
    delivery = Delivery.objects.filter(webhook=webhook, pk=delivery_id).first()
    if delivery is None:
        raise NotFound("No delivery with this id for this webhook.")
    return delivery
