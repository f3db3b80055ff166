"""Webhooks against a real receiver on 127.0.0.1: signed deliveries after the commit, retries
with backoff on a 500, a timeout, a closed connection and a redirect, then `failed` with the
reason; redeliver and replay (same delivery id); every door (API, page, admin) for managers."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from batches.services import project_create
from dashboard.events import event_record
from dashboard.models import Delivery, Event, Webhook
from dashboard.roles import Role
from dashboard.webhooks import webhook_create
from dashboard.webhooks_outbox import deliveries_sweep

from .conftest import SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(receiver):
    return webhook_create(url=receiver.url, events=["*"], secret=SECRET)


def record(run_jobs, **kwargs):
    """An event in its own committed transaction (its deliveries leave on commit)."""
    with run_jobs():
        return event_record(object_type="thing", object_id="t1", **kwargs)


def fanned_out(event):
    """The worker's fan-out of the marked events (its sends are not run here); the delivery."""
    from dashboard.webhooks_outbox import events_fan_out_once

    events_fan_out_once()
    return event.deliveries.get()


def due_now(delivery):
    """Fast-forward: as if the delivery's next attempt (or lease) were due."""
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


# --- the API ----------------------------------------------------------------------------------


def test_create_answers_the_secret_once_and_never_again(manager_api, receiver):
    created = manager_api.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["job.failed"]}, format="json"
    )
    assert created.status_code == 201, created.data
    assert len(created.data["secret"]) == 64
    assert created.data["project"] is None and created.data["active"] is True
    webhook_id = created.data["id"]
    detail = manager_api.get(f"/api/v1/webhooks/{webhook_id}/")
    assert detail.status_code == 200 and "secret" not in detail.data
    listed = manager_api.get("/api/v1/webhooks/")
    assert [w["id"] for w in listed.data["results"]] == [webhook_id]
    assert "secret" not in listed.data["results"][0]
    given = manager_api.post(
        "/api/v1/webhooks/",
        {"url": receiver.url, "events": ["*"], "secret": SECRET, "active": False},
        format="json",
    )
    assert given.status_code == 201 and given.data["secret"] == SECRET


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x", "events": ["*"]}, "url"),
        ({"url": "http://user:pw@example.com/x", "events": ["*"]}, "url"),
        ({"url": "not a url", "events": ["*"]}, "url"),
        ({"url": "http://example.com:99999/x", "events": ["*"]}, "url"),
        ({"url": "http://example.com/\u00fc", "events": ["*"]}, "url"),
        ({"url": "http://example.com/x", "events": ["label.exploded"]}, "events"),
        ({"url": "http://example.com/x", "events": []}, "events"),
        ({"url": "http://example.com/x", "events": "*"}, "events"),
        ({"url": "http://example.com/x", "events": ["*"], "project": "nope"}, "project"),
        ({"url": "http://example.com/x", "events": ["*"], "secret": "short"}, "secret"),
        ({"url": "http://example.com/x", "events": ["*"], "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(manager_api, body, field):
    answer = manager_api.post("/api/v1/webhooks/", body, format="json")
    # A project id that names none is invalid input too (issue 17: "400 naming the field").
    assert answer.status_code == 400, answer.data
    assert field in answer.data, answer.data
    assert not Webhook.objects.exists()


def test_an_unknown_project_is_a_400_on_patch_and_a_blank_one_means_every_project(
    manager_api, hook
):
    url = f"/api/v1/webhooks/{hook.pk}/"
    answer = manager_api.patch(url, {"project": "nope"}, format="json")
    assert answer.status_code == 400 and "project" in answer.data, answer.data
    project = project_create(name="p")
    assert manager_api.patch(url, {"project": project.pk}, format="json").data["project"]
    cleared = manager_api.patch(url, {"project": ""}, format="json")
    assert cleared.status_code == 200 and cleared.data["project"] is None, cleared.data
    created = manager_api.post(
        "/api/v1/webhooks/", {"url": hook.url, "events": ["*"], "project": ""}, format="json"
    )
    assert created.status_code == 201 and created.data["project"] is None, created.data


def test_patch_and_delete(manager_api, hook):
    project = project_create(name="p")
    answer = manager_api.patch(
        f"/api/v1/webhooks/{hook.pk}/",
        {"events": ["batch.created"], "project": project.pk, "active": False},
        format="json",
    )
    assert answer.status_code == 200, answer.data
    assert answer.data["events"] == ["batch.created"] and answer.data["project"] == project.pk
    assert answer.data["active"] is False and "secret" not in answer.data
    bad = manager_api.patch(f"/api/v1/webhooks/{hook.pk}/", {"url": "gopher://x"}, format="json")
    assert bad.status_code == 400 and "url" in bad.data
    assert manager_api.delete(f"/api/v1/webhooks/{hook.pk}/").status_code == 204
    assert manager_api.get(f"/api/v1/webhooks/{hook.pk}/").status_code == 404


def test_viewers_and_labelers_are_refused(viewer_api, labeler_api, hook):
    for client in (viewer_api, labeler_api):
        assert client.get("/api/v1/webhooks/").status_code == 403
        assert client.get(f"/api/v1/webhooks/{hook.pk}/deliveries/").status_code == 403
        assert client.post(f"/api/v1/webhooks/{hook.pk}/test/").status_code == 403


# --- deliveries ---------------------------------------------------------------------------------


def test_a_test_ping_is_delivered_signed_after_the_commit(manager_api, hook, receiver, run_jobs):
    with run_jobs():
        answer = manager_api.post(f"/api/v1/webhooks/{hook.pk}/test/")
        assert answer.status_code == 202, answer.data
        assert not receiver.requests  # never inside the request's transaction
    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    assert sent["signed"] and sent["path"] == "/hook"
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sent["headers"]["X-Labelops-Event"] == "ping"
    assert sent["headers"]["X-Labelops-Delivery"] == answer.data["id"]
    event = sent["json"]
    assert event["type"] == "ping" and event["object"] == {"type": "webhook", "id": hook.pk}
    assert event["actor"]["username"] == "manager"
    assert event == manager_api.get("/api/v1/events/").data["results"][0]
    log = manager_api.get(f"/api/v1/webhooks/{hook.pk}/deliveries/").data["results"]
    assert len(log) == 1
    assert log[0]["id"] == answer.data["id"] and log[0]["event"]["type"] == "ping"
    assert log[0]["status"] == "succeeded" and log[0]["attempts"] == 1
    assert log[0]["response_status"] == 200 and log[0]["duration_ms"] >= 0
    assert log[0]["error"] == "" and log[0]["next_attempt_at"] is None


def test_subscriptions_by_type_project_and_active(receiver, run_jobs):
    project, other = project_create(name="a"), project_create(name="b")
    by_type = webhook_create(url=receiver.url, events=["label.submitted"], secret=SECRET)
    by_project = webhook_create(url=receiver.url, events=["*"], project=project.pk, secret=SECRET)
    webhook_create(url=receiver.url, events=["*"], active=False, secret=SECRET)
    record(run_jobs, type="label.submitted", project=project.pk)
    record(run_jobs, type="label.submitted", project=other.pk)
    record(run_jobs, type="batch.created", project=project.pk)
    record(run_jobs, type="batch.created", project=other.pk)
    got = sorted((d.webhook_id, d.event.type, d.event.project) for d in Delivery.objects.all())
    assert got == sorted(
        [
            (by_type.pk, "label.submitted", project.pk),
            (by_type.pk, "label.submitted", other.pk),
            (by_project.pk, "label.submitted", project.pk),
            (by_project.pk, "batch.created", project.pk),
        ]
    )
    assert len(receiver.requests) == 4 and all(r["signed"] for r in receiver.requests)


def test_a_500_is_retried_with_doubling_backoff_then_failed(hook, receiver, run_jobs, settings):
    settings.WEBHOOK_RETRY_SECONDS = 30
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.default = 500
    record(run_jobs, type="batch.created")
    delivery = Delivery.objects.get()
    waits = []
    for attempt in (1, 2):
        delivery.refresh_from_db()
        assert delivery.status == "pending" and delivery.attempts == attempt
        assert delivery.response_status == 500 and delivery.error == "HTTP 500: nope"
        waits.append((delivery.next_attempt_at - timezone.now()).total_seconds())
        assert deliveries_sweep() == 0  # not due yet: nothing sent
        due_now(delivery)
        with run_jobs():
            assert deliveries_sweep() == 1
    assert 25 < waits[0] <= 30 and 55 < waits[1] <= 60
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 3
    assert delivery.error == "HTTP 500: nope Gave up after 3 attempts."
    assert delivery.next_attempt_at is None
    ids = {r["headers"]["X-Labelops-Delivery"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and ids == {delivery.pk}
    assert len({r["body"] for r in receiver.requests}) == 1  # the same exact body each time


@pytest.mark.parametrize(
    ("action", "status", "reason"),
    [
        (("sleep", 1.5), None, "No answer within 0.3 seconds."),
        ("close", None, "The receiver closed the connection without answering."),
        ("redirect", 302, "HTTP 302: redirects are not followed (Location: /elsewhere)."),
    ],
)
def test_timeout_closed_connection_and_redirect_are_retried_then_failed(
    hook, receiver, run_jobs, settings, action, status, reason
):
    settings.WEBHOOK_TIMEOUT = 0.3
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.plan = [action, action]
    record(run_jobs, type="job.failed")
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.response_status == status and delivery.error == reason
    due_now(delivery)
    with run_jobs():
        deliveries_sweep()
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 2
    assert delivery.error == f"{reason} Gave up after 2 attempts."
    assert [r["path"] for r in receiver.requests] == ["/hook", "/hook"]  # no redirect followed


def test_a_dead_receiver_is_retried(hook, run_jobs, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    Webhook.objects.filter(pk=hook.pk).update(url="http://127.0.0.1:9/nothing-listens")
    record(run_jobs, type="ping")
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and "Could not deliver" in delivery.error


def test_a_lost_send_is_sent_again_once_its_lease_expires(hook, receiver, run_jobs):
    """A worker that died mid-send left the delivery pending with its lease: the sweeper sends
    it again after the lease, with the same id, and not before."""
    with transaction.atomic():
        event = event_record(type="ping", object_type="thing", object_id="x")
    delivery = fanned_out(event)
    from dashboard.webhooks_outbox import delivery_claim

    assert delivery_claim(delivery_id=delivery.pk) is not None  # the dead worker's claim
    assert delivery_claim(delivery_id=delivery.pk) is None  # held: nobody else sends it
    assert deliveries_sweep() == 0
    due_now(delivery)
    with run_jobs():
        assert deliveries_sweep() == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    assert [r["headers"]["X-Labelops-Delivery"] for r in receiver.requests] == [delivery.pk]


def test_no_event_and_no_delivery_for_a_rolled_back_change(hook, receiver, run_jobs):
    class Boom(Exception):
        pass

    with run_jobs(), pytest.raises(Boom), transaction.atomic():
        event = event_record(type="batch.deleted", object_type="batch", object_id="b1")
        assert Event.objects.get(pk=event.pk).fanout  # marked for the fan-out, in this change
        raise Boom
    assert not Event.objects.exists() and not Delivery.objects.exists()
    assert not receiver.requests


def test_redeliver_sends_the_same_delivery_again(manager_api, hook, receiver, run_jobs, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.plan = [503]
    record(run_jobs, type="job.failed")
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    url = f"/api/v1/webhooks/{hook.pk}/deliveries/{delivery.pk}/redeliver/"
    with run_jobs():
        answer = manager_api.post(url)
    assert answer.status_code == 202 and answer.data["id"] == delivery.pk
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 1
    assert [r["headers"]["X-Labelops-Delivery"] for r in receiver.requests] == [delivery.pk] * 2
    assert (
        manager_api.post(f"/api/v1/webhooks/{hook.pk}/deliveries/nope/redeliver/").status_code
        == 404
    )


def test_redeliver_sends_a_delivery_waiting_for_its_retry_now(
    manager_api, hook, receiver, run_jobs
):
    """API.md: redeliver → 202, whatever the delivery's state: one waiting out its backoff
    after a failed attempt is sent now, with the same id and a fresh set of attempts."""
    receiver.plan = [500]
    record(run_jobs, type="job.failed")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at > timezone.now()  # waiting 30 s
    url = f"/api/v1/webhooks/{hook.pk}/deliveries/{delivery.pk}/redeliver/"
    with run_jobs():
        answer = manager_api.post(url)
    assert answer.status_code == 202, answer.data
    assert answer.data["id"] == delivery.pk and answer.data["status"] == "pending"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == ("succeeded", 1, "")
    assert [r["headers"]["X-Labelops-Delivery"] for r in receiver.requests] == [delivery.pk] * 2


def test_the_page_redelivers_a_pending_delivery(client, manager, hook, receiver, run_jobs):
    receiver.plan = [500]
    record(run_jobs, type="ping")
    delivery = Delivery.objects.get()
    client.force_login(manager)
    assert "Send now" in client.get(f"/webhooks/{hook.pk}/").content.decode()
    with run_jobs():
        page = client.post(f"/webhooks/{hook.pk}/deliveries/{delivery.pk}/redeliver/", follow=True)
    assert page.status_code == 200 and "The delivery is sent again." in page.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and len(receiver.requests) == 2


def test_replay_deliveries_command(hook, receiver, run_jobs, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    other = webhook_create(url=receiver.url, events=["ping"], secret=SECRET)
    receiver.plan = [500, 500]
    record(run_jobs, type="ping")
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}
    out = StringIO()
    with run_jobs():
        call_command("replay_deliveries", "--webhook", other.pk, stdout=out)
    assert "1 failed deliveries sent again" in out.getvalue()
    assert Delivery.objects.get(webhook=other).status == "succeeded"
    assert Delivery.objects.get(webhook=hook).status == "failed"
    with run_jobs():
        call_command("replay_deliveries", "--since", "2000-01-01", stdout=out)
    assert Delivery.objects.get(webhook=hook).status == "succeeded"
    with run_jobs():
        call_command("replay_deliveries", stdout=out)
    assert out.getvalue().endswith("0 failed deliveries sent again.\n")


@pytest.mark.parametrize("since", ["2026-02-30", "2026-13-01T00:00", "yesterday"])
def test_replay_deliveries_refuses_a_bad_since_with_a_message(since):
    with pytest.raises(CommandError, match="--since"):
        call_command("replay_deliveries", "--since", since)


# --- the page and the admin ---------------------------------------------------------------------


def test_webhooks_page_creates_edits_tests_and_redelivers(client, manager, receiver, run_jobs):
    client.force_login(manager)
    page = client.post(
        "/webhooks/", {"url": receiver.url, "events": ["ping", "job.failed"], "active": "on"}
    )
    assert page.status_code == 200
    hook = Webhook.objects.get()
    assert hook.secret in page.content.decode() and hook.events == ["ping", "job.failed"]
    assert hook.secret not in client.get("/webhooks/").content.decode()
    bad = client.post("/webhooks/", {"url": "ftp://x/y", "events": ["ping"]})
    assert "Only http:// and https:// URLs" in bad.content.decode()
    assert Webhook.objects.count() == 1
    edited = client.post(f"/webhooks/{hook.pk}/", {"url": receiver.url, "events": ["*"]})
    assert edited.status_code == 302
    hook.refresh_from_db()
    assert hook.events == ["*"] and hook.active is False  # unchecked: disabled
    with run_jobs():
        client.post(f"/webhooks/{hook.pk}/test/")
    delivery = Delivery.objects.get()
    assert delivery.status == "succeeded" and receiver.events() == ["ping"]
    detail = client.get(f"/webhooks/{hook.pk}/").content.decode()
    assert delivery.pk in detail and "Redeliver" in detail
    with run_jobs():
        client.post(f"/webhooks/{hook.pk}/deliveries/{delivery.pk}/redeliver/")
    assert receiver.events() == ["ping", "ping"]
    partial = client.get(
        f"/webhooks/{hook.pk}/", headers={"HX-Request": "true", "HX-Target": "deliveries"}
    )
    assert partial.content.decode().lstrip().startswith('<div id="deliveries"')
    client.post(f"/webhooks/{hook.pk}/delete/")
    assert not Webhook.objects.exists()


def test_the_page_names_the_field_of_every_bad_input_without_js(client, manager, receiver):
    """No-JS form posts: each refusal is a message under the field it names, never a 500."""
    client.force_login(manager)
    cases = [
        ({}, "events", "This field is required."),  # an empty form is still a submitted one
        ({"url": receiver.url}, "events", "This field is required."),
        ({"url": "ftp://x/y", "events": ["*"]}, "url", "Only http:// and https://"),
        ({"url": receiver.url, "events": ["nope"]}, "events", "Select a valid choice"),
        (
            {"url": receiver.url, "events": ["*"], "project": "nope"},
            "project",
            "No project with id",
        ),
        ({"url": receiver.url, "events": ["*"], "secret": "short"}, "secret", "16 to 128"),
    ]
    for data, field, message in cases:
        page = client.post("/webhooks/", data)
        assert page.status_code == 200, (data, page.status_code)
        assert message in str(page.context["form"].errors.get(field)), (data, field)
        assert 'class="field-error" role="alert"' in page.content.decode()
    assert not Webhook.objects.exists()


def test_the_page_takes_and_keeps_a_project_beyond_its_list(client, manager, receiver, monkeypatch):
    """The project list shows the first CHOICES_MAX projects by name; another one given
    by id is taken, and a webhook's project is kept when it is edited."""
    from dashboard import webhooks_forms

    monkeypatch.setattr(webhooks_forms, "CHOICES_MAX", 1)
    project_create(name="a first")
    late = project_create(name="z late")
    client.force_login(manager)
    data = {"url": receiver.url, "events": ["*"], "project": late.pk, "active": "on"}
    assert client.post("/webhooks/", data).context["created"] is not None
    hook = Webhook.objects.get()
    assert hook.project == late.pk
    listed = client.get("/webhooks/").content.decode()
    assert f'<a href="/projects/{late.pk}/">z late</a>' in listed  # by name, linked
    edit = client.get(f"/webhooks/{hook.pk}/").content.decode()
    assert f'<option value="{late.pk}" selected>z late</option>' in edit
    saved = client.post(f"/webhooks/{hook.pk}/", {**data, "events": ["ping"]})
    assert saved.status_code == 302
    hook.refresh_from_db()
    assert hook.project == late.pk and hook.events == ["ping"]


def test_the_page_pages_through_older_deliveries(client, manager, hook, monkeypatch):
    from dashboard import views

    monkeypatch.setattr(views, "DELIVERIES_SHOWN", 2)
    made = [
        fanned_out(event_record(type="ping", object_type="x", object_id=str(i))) for i in range(3)
    ]
    client.force_login(manager)
    first = client.get(f"/webhooks/{hook.pk}/")
    assert [d.pk for d in first.context["deliveries"]] == [made[2].pk, made[1].pk]
    assert f'href="?before={made[1].pk}"' in first.content.decode()
    older = client.get(f"/webhooks/{hook.pk}/?before={made[1].pk}")
    assert [d.pk for d in older.context["deliveries"]] == [made[0].pk]
    assert older.context["older"] is None and "← Newest" in older.content.decode()
    junk = client.get(f"/webhooks/{hook.pk}/?before=%3Cscript%3E")
    assert junk.status_code == 200 and len(junk.context["deliveries"]) == 2


def test_disabling_a_webhook_stops_its_pending_deliveries(
    client, manager, manager_api, hook, receiver, run_jobs
):
    """A disabled webhook gets nothing more: its retries fail, saying why, from the API, the
    page and the admin alike; redeliver sends one again on demand."""
    from dashboard.webhooks import DISABLED

    from ..factories import UserFactory

    def waiting_retry():
        receiver.plan = [500]
        record(run_jobs, type="ping")
        delivery = Delivery.objects.order_by("-id").first()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        return delivery

    url = f"/api/v1/webhooks/{hook.pk}/"
    first = waiting_retry()
    assert manager_api.patch(url, {"active": False}, format="json").status_code == 200
    first.refresh_from_db()
    assert (first.status, first.error, first.next_attempt_at) == ("failed", DISABLED, None)
    manager_api.patch(url, {"active": True}, format="json")
    second = waiting_retry()
    client.force_login(manager)
    client.post(f"/webhooks/{hook.pk}/", {"url": hook.url, "events": ["*"]})  # unchecked
    second.refresh_from_db()
    assert second.status == "failed" and second.error == DISABLED
    manager_api.patch(url, {"active": True}, format="json")
    third = waiting_retry()
    boss = UserFactory(username="boss", role=Role.MANAGER, is_staff=True, is_superuser=True)
    client.force_login(boss)
    changed = client.post(
        f"/admin/dashboard/webhook/{hook.pk}/change/",
        {"url": hook.url, "events": '["*"]', "project": ""},
    )
    assert changed.status_code == 302, changed.content.decode()[:2000]
    third.refresh_from_db()
    assert third.status == "failed" and third.error == DISABLED
    sent = len(receiver.requests)
    with run_jobs():
        manager_api.post(f"{url}deliveries/{third.pk}/redeliver/")
    third.refresh_from_db()
    assert third.status == "succeeded" and len(receiver.requests) == sent + 1


def test_pages_are_managers_only(client, viewer, labeler, hook):
    for user in (viewer, labeler):
        client.force_login(user)
        assert client.get("/webhooks/").status_code == 403
        assert client.get(f"/webhooks/{hook.pk}/").status_code == 403
        assert "/webhooks/" not in client.get("/").content.decode()


def test_admin_reads_deliveries_and_managers_edit_webhooks(client, receiver, run_jobs):
    from dashboard.roles import Role

    from ..factories import UserFactory

    manager = UserFactory(username="boss", role=Role.MANAGER, is_staff=True, is_superuser=True)
    # Django's permissions all given: the role alone refuses.
    viewer = UserFactory(username="peek", role=Role.VIEWER, is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(content_type__app_label="dashboard"))
    client.force_login(manager)
    added = client.post(
        "/admin/dashboard/webhook/add/",
        {"url": receiver.url, "events": '["ping"]', "project": "", "active": "on", "secret": ""},
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    hook = Webhook.objects.get()
    assert len(hook.secret) == 64
    record(run_jobs, type="ping")
    delivery = Delivery.objects.get()
    assert client.get("/admin/dashboard/delivery/").status_code == 200
    change = client.get(f"/admin/dashboard/delivery/{delivery.pk}/change/")
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert client.get(f"/admin/dashboard/webhook/{hook.pk}/change/").status_code == 200
    assert (
        hook.secret.encode()
        not in client.get(f"/admin/dashboard/webhook/{hook.pk}/change/").content
    )
    client.force_login(viewer)
    assert client.get("/admin/dashboard/webhook/").status_code == 403
    assert client.get("/admin/dashboard/delivery/").status_code == 403
    assert client.get("/admin/dashboard/event/").status_code == 403


def test_the_change_writes_no_task_and_one_fan_out_task_wakes_after_the_commit(
    monkeypatch, receiver, run_jobs
):
    """Webhooks cost the change only the event's fan-out mark: no delivery and no task in its
    transaction (a rollback takes the mark). After the commit, one fan-out task (debounced for
    the events that follow) writes a delivery per webhook and sends them."""
    from django_q.conf import Conf
    from django_q.models import OrmQ

    from dashboard import webhooks_outbox

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(webhooks_outbox, "_last_kick", 0.0)
    for _ in range(3):
        webhook_create(url=receiver.url, events=["ping"], secret=SECRET)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        event_record(type="ping", object_type="x", object_id="1")
        assert not OrmQ.objects.exists() and not Delivery.objects.exists()
        raise Boom
    assert not OrmQ.objects.exists() and not Event.objects.exists()
    with transaction.atomic():
        event = event_record(type="ping", object_type="x", object_id="2")
        assert not OrmQ.objects.exists() and not Delivery.objects.exists()
    webhooks_outbox.fan_out_kick()  # what the commit runs
    webhooks_outbox.fan_out_kick()  # a second commit at once: the woken fan-out covers it
    task = OrmQ.objects.get().task
    assert task["func"] == "dashboard.webhooks_outbox.events_fan_out"
    monkeypatch.setattr(Conf, "SYNC", True)
    monkeypatch.setattr(webhooks_outbox, "FAN_OUT_DEBOUNCE", 0.0)  # no waiting for more
    monkeypatch.setattr(webhooks_outbox, "FAN_OUT_TAIL", 0.0)
    with run_jobs():
        assert webhooks_outbox.events_fan_out(*task["args"]) == 1  # the worker runs it
    assert not Event.objects.get(pk=event.pk).fanout
    assert len(receiver.requests) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert webhooks_outbox.events_fan_out_once() == 0  # done: a second fan-out adds nothing
    assert Delivery.objects.count() == 3


def test_a_delivery_whose_every_attempt_was_lost_fails_instead_of_looping(hook, settings):
    """A send that never records an outcome (its worker died or overran, every time) is not
    claimed again past WEBHOOK_MAX_ATTEMPTS: it fails with the reason."""
    from dashboard.webhooks_outbox import delivery_claim

    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with transaction.atomic():
        event = event_record(type="ping", object_type="thing", object_id="x")
    delivery = fanned_out(event)
    for _ in range(2):
        assert delivery_claim(delivery_id=delivery.pk) is not None
        due_now(delivery)
    assert delivery_claim(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 2
    assert "No outcome" in delivery.error


def test_an_unreachable_broker_does_not_fail_the_committed_change(hook, monkeypatch, run_jobs):
    """The enqueue after the commit is robust: the change stands and the sweeper sends later."""
    import dashboard.webhooks_outbox as outbox

    calls = []

    def broker_down(*args, **kwargs):
        calls.append(args)
        raise ConnectionError("broker unreachable")

    working = outbox.async_task
    monkeypatch.setattr(outbox, "async_task", broker_down)
    with run_jobs(), transaction.atomic():
        event = event_record(type="ping", object_type="thing", object_id="x")
    assert calls, "the enqueue ran after the commit"
    assert Event.objects.get(pk=event.pk).fanout  # still marked: nothing is lost
    monkeypatch.setattr(outbox, "async_task", working)
    with run_jobs():
        deliveries_sweep()  # the sweeper fans out what no worker took, and sends it
    assert not Event.objects.get(pk=event.pk).fanout
    assert event.deliveries.get().status == "succeeded"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_addresses_are_refused_when_not_allowed(manager_api, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    answer = manager_api.post("/api/v1/webhooks/", {"url": url, "events": ["*"]}, format="json")
    assert answer.status_code == 400 and "WEBHOOK_ALLOW_PRIVATE" in answer.data["url"][0]
    hook = webhook_create(url="http://93.184.216.34/hook", events=["*"])  # a public address
    answer = manager_api.patch(f"/api/v1/webhooks/{hook.pk}/", {"url": url}, format="json")
    assert answer.status_code == 400 and "url" in answer.data


def test_a_private_address_is_refused_again_at_the_send(hook, receiver, run_jobs, settings):
    """Registered while allowed (the default), refused once WEBHOOK_ALLOW_PRIVATE is false: the
    delivery is not sent and says why (a name could also come to resolve elsewhere)."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    record(run_jobs, type="batch.created")
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and "WEBHOOK_ALLOW_PRIVATE" in delivery.error
    assert delivery.error.startswith("Not sent: 127.0.0.1 is a non-public address")
    assert not receiver.requests


def test_a_name_is_resolved_once_and_the_checked_address_is_the_one_connected(
    receiver, run_jobs, settings, monkeypatch
):
    """DNS rebinding: a name that resolves to an allowed address for the check and to a private
    one a moment later. The send connects to the address it checked, naming the host (Host)."""
    import socket

    from dashboard import webhooks_http

    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    answers = ["127.0.0.1"]  # the first answer: the receiver, playing a public host
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host != "hooks.example.test":
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        address = answers.pop(0) if answers else "10.255.255.1"  # then a private address
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(webhooks_http, "address_is_public", lambda a: a == "127.0.0.1")
    settings.WEBHOOK_TIMEOUT = 2
    webhook_create(url=f"http://hooks.example.test:{port}/hook", events=["*"], secret=SECRET)
    lookups.clear()
    answers[:] = ["127.0.0.1"]
    settings.WEBHOOK_ALLOW_PRIVATE = False
    record(run_jobs, type="batch.created")
    delivery = Delivery.objects.get()
    assert delivery.status == "succeeded", delivery.error
    assert lookups == ["hooks.example.test"]  # resolved once, for the check and the connect
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.test:{port}"
    # Resolving to the private address now: refused, nothing sent there.
    record(run_jobs, type="batch.updated")
    refused = Delivery.objects.get(event__type="batch.updated")
    assert refused.status == "pending" and "10.255.255.1" in refused.error
    assert len(receiver.requests) == 1


def test_a_webhook_s_deliveries_go_out_together_from_one_sender(
    hook, receiver, run_jobs, monkeypatch
):
    """One sender task per webhook sends every due delivery (a batch claimed at once); one
    whose window has passed is released, still due with its attempt uncounted, and sent by the
    next sender."""
    from django_q.conf import Conf
    from django_q.models import OrmQ

    from dashboard import webhooks_outbox

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(webhooks_outbox, "_last_kick", 0.0)
    with transaction.atomic():
        for i in range(3):
            event_record(type="batch.created", object_type="thing", object_id=str(i))
    OrmQ.objects.all().delete()  # the kick's fan-out task: run here instead
    webhooks_outbox.events_fan_out_once()  # the database broker: the sends are queued tasks
    tasks = [t.task for t in OrmQ.objects.all()]
    assert [(t["func"], t["args"]) for t in tasks] == [
        ("dashboard.webhooks_outbox.webhook_send", (hook.pk,))
    ]
    monkeypatch.setattr(webhooks_outbox, "SEND_WINDOW", 0.0)  # one send per claim, then released
    monkeypatch.setattr(Conf, "SYNC", True)
    with run_jobs():
        assert webhooks_outbox.webhook_send(hook.pk) == 1
        released = Delivery.objects.filter(status="pending")
        assert released.count() == 2 and {d.attempts for d in released} == {0}
        with transaction.atomic():
            webhooks_outbox.webhooks_dispatch(webhook_ids=[hook.pk])
    assert set(Delivery.objects.values_list("status", "attempts")) == {("succeeded", 1)}
    assert len(receiver.requests) == 3
    assert len({r["headers"]["X-Labelops-Delivery"] for r in receiver.requests}) == 3
