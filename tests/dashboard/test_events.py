"""The event log: job events written in the transaction that ends the job (and delivered),
none for a rolled-back change, the audit trail's API and Activity page, retention."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from dashboard.errors import Invalid
from dashboard.events import EVENT_TYPES, event_record, events_prune
from dashboard.jobs import runner
from dashboard.jobs.services import job_cancel, job_create, jobs_reap
from dashboard.models import Delivery, Event, Job
from dashboard.webhooks import webhook_create
from dashboard.webhooks_outbox import events_fan_out_once

from . import job_kinds  # noqa: F401 - registers the test job kinds
from .conftest import SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def job_hook(receiver):
    return webhook_create(
        url=receiver.url, events=["job.succeeded", "job.failed", "job.cancelled"], secret=SECRET
    )


def test_job_succeeded_failed_and_cancelled_are_recorded_and_delivered(
    job_hook, receiver, run_jobs, manager
):
    with run_jobs():
        ok = job_create(kind="test_count", params={"items": [1, 2, "x"]}, user=manager)
    with run_jobs():
        failed = job_create(kind="test_boom")
    queued = job_create(kind="test_count", params={"items": [1]})
    job_cancel(job=queued)
    events = {e.object_id: e for e in Event.objects.filter(type__startswith="job.")}
    assert events[ok.pk].type == "job.succeeded" and events[ok.pk].actor_username == "manager"
    assert events[ok.pk].data == {
        "kind": "test_count",
        "counts": {"created": 2, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 1},
        "result": {"total": 3},
    }
    assert events[failed.pk].type == "job.failed" and events[failed.pk].actor_user_id is None
    assert events[queued.pk].type == "job.cancelled"
    assert len(events) == 3
    assert [r["json"]["type"] for r in receiver.requests] == ["job.succeeded", "job.failed"]
    assert all(r["signed"] for r in receiver.requests)
    sent = receiver.requests[0]["json"]
    assert sent["object"] == {"type": "job", "id": ok.pk}
    assert sent["actor"] == {"id": manager.pk, "username": "manager"}
    assert sent["data"]["result"] == {"total": 3}
    # the cancel's fan-out waits for its transaction's commit (here: the test's, never)
    assert events[queued.pk].fanout and not events[queued.pk].deliveries.exists()


def test_a_job_cancelled_while_running_and_a_reaped_job_have_their_event(run_jobs, settings):
    with run_jobs():
        job = job_create(kind="test_count", params={"items": [1, 2, 3, 4], "cancel_at": [2]})
    assert Job.objects.get(pk=job.pk).status == "cancelled"
    assert Event.objects.get(object_id=job.pk).type == "job.cancelled"
    stale = Job.objects.create(kind="test_count", status="running")
    Job.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(days=1))
    assert jobs_reap() == 1
    assert Event.objects.get(object_id=stale.pk).type == "job.failed"


def test_the_job_event_rolls_back_with_the_job_end(monkeypatch, job_hook, receiver, run_jobs):
    """The transaction that ends the job fails after the event was written: neither the end
    nor the event nor its delivery remain."""

    def broken(job):
        runner.event_record(type=f"job.{job.status}", object_type="job", object_id=job.pk)
        raise RuntimeError("disk full")

    monkeypatch.setattr(runner, "job_event_record", broken)
    job = job_create(kind="test_count", params={"items": [1]})
    with run_jobs(), pytest.raises(RuntimeError, match="disk full"):
        runner.run_job(job.pk)
    assert Job.objects.get(pk=job.pk).status == "running"
    assert not Event.objects.exists() and not Delivery.objects.exists()
    assert not receiver.requests


def test_event_record_opens_a_transaction_and_checks_the_type():
    event = event_record(type="ping", object_type="x", object_id=1)
    assert event.object_id == "1" and event.actor_user_id is None
    with pytest.raises(Invalid) as refused:
        event_record(type="thing.happened", object_type="x", object_id="1")
    assert refused.value.field == "type"
    assert "ping" in EVENT_TYPES and len(set(EVENT_TYPES)) == len(EVENT_TYPES)


# --- the audit trail ----------------------------------------------------------------------------


@pytest.fixture
def trail(manager, labeler):
    base = timezone.now() - timedelta(hours=10)
    made = []
    for i, (type_, actor, project, dataset) in enumerate(
        [
            ("project.created", manager, "p1", None),
            ("dataset.created", manager, None, "d1"),
            ("label.submitted", labeler, "p1", "d1"),
            ("label.submitted", labeler, "p2", "d1"),
            ("job.failed", None, None, None),
        ]
    ):
        event = event_record(
            type=type_,
            actor=actor,
            project=project,
            dataset=dataset,
            object_type="thing",
            object_id=str(i),
        )
        Event.objects.filter(pk=event.pk).update(at=base + timedelta(hours=i))
        made.append(event.pk)
        time.sleep(0.002)  # ids sort by the millisecond: one event per millisecond here
    return base, made


def ids(answer):
    assert answer.status_code == 200, answer.data
    return [int(e["object"]["id"]) for e in answer.data["results"]]


def test_events_api_filters_newest_first(manager_api, trail, labeler):
    base, _ = trail
    assert ids(manager_api.get("/api/v1/events/")) == [4, 3, 2, 1, 0]
    assert ids(manager_api.get("/api/v1/events/?type=label.submitted,job.failed")) == [4, 3, 2]
    assert ids(manager_api.get("/api/v1/events/?project=p1")) == [2, 0]
    assert ids(manager_api.get("/api/v1/events/?dataset=d1")) == [3, 2, 1]
    assert ids(manager_api.get("/api/v1/events/?actor=labeler")) == [3, 2]
    assert ids(manager_api.get(f"/api/v1/events/?actor={labeler.pk}")) == [3, 2]
    since = (base + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    until = (base + timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    assert ids(manager_api.get(f"/api/v1/events/?since={since}&until={until}")) == [2, 1]
    first = manager_api.get("/api/v1/events/?page_size=2")
    assert ids(first) == [4, 3]
    assert ids(manager_api.get(first.data["next"])) == [2, 1]
    event = manager_api.get("/api/v1/events/?page_size=1").data["results"][0]
    assert set(event) == {"id", "type", "at", "actor", "project", "dataset", "object", "data"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=nope", "type"),
        ("type=,", "type"),
        ("since=yesterday", "since"),
        ("until=1e9", "until"),
    ],
)
def test_events_api_bad_filters_are_400_naming_the_field(manager_api, query, field):
    answer = manager_api.get(f"/api/v1/events/?{query}")
    assert answer.status_code == 400 and field in answer.data, answer.data


def test_events_are_managers_only(viewer_api, labeler_api, client, viewer):
    assert viewer_api.get("/api/v1/events/").status_code == 403
    assert labeler_api.get("/api/v1/events/").status_code == 403
    client.force_login(viewer)
    assert client.get("/activity/").status_code == 403


def test_activity_page_filters(client, manager, trail):
    client.force_login(manager)
    page = client.get("/").content.decode()
    assert 'href="/activity/"' in page and 'href="/webhooks/"' in page
    html = client.get("/activity/").content.decode()
    assert html.count("<code>label.submitted</code>") == 2 and "project.created" in html
    html = client.get("/activity/?actor=manager").content.decode()
    assert "<code>label.submitted</code>" not in html and "<code>dataset.created</code>" in html
    html = client.get("/activity/?type=job.failed").content.decode()
    assert "<code>job.failed</code>" in html and "<code>dataset.created</code>" not in html
    partial = client.get("/activity/?dataset=d1", headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="activity-table"') and body.count("<tr>") == 4
    assert "Enter a valid date" in client.get("/activity/?since=never").content.decode()
    # The filters change the table alone (htmx): a refused filter says why inside it.
    partial = client.get("/activity/?since=never", headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="activity-table"')
    assert 'role="alert">Since: Enter a valid date/time.' in body


def test_activity_page_pages_by_keyset(client, manager, trail, monkeypatch):
    from dashboard import views

    monkeypatch.setattr(views, "ACTIVITY_PER_PAGE", 2)
    client.force_login(manager)
    first = client.get("/activity/")
    older = first.context["older"]
    assert [e.object_id for e in first.context["events"]] == ["4", "3"]
    second = client.get(f"/activity/?{older}")
    assert [e.object_id for e in second.context["events"]] == ["2", "1"]


# --- retention ------------------------------------------------------------------------------------


def test_old_events_and_their_deliveries_are_deleted(settings, receiver):
    settings.EVENT_RETENTION_DAYS = 30
    hook = webhook_create(url=receiver.url, events=["*"], secret=SECRET)
    with transaction.atomic():
        old = event_record(type="ping", object_type="x", object_id="old")
        new = event_record(type="ping", object_type="x", object_id="new")
    events_fan_out_once()  # the workers' fan-out: one delivery each
    Event.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=31))
    assert events_prune() >= 1
    assert list(Event.objects.values_list("pk", flat=True)) == [new.pk]
    assert list(Delivery.objects.values_list("event_id", flat=True)) == [new.pk]
    assert hook.deliveries.count() == 1


def test_the_sweeper_and_the_retention_are_scheduled():
    funcs = set(Schedule.objects.values_list("func", flat=True))
    assert {"dashboard.webhooks_outbox.deliveries_sweep", "dashboard.events.events_prune"} <= funcs


def test_retention_deletes_in_chunks_and_keeps_the_recent(settings, receiver, monkeypatch):
    """Old events go a chunk at a time (never a day's events loaded at once), with their
    deliveries; recent ones and theirs stay."""
    from dashboard import events as events_module

    monkeypatch.setattr(events_module, "PRUNE_CHUNK", 2)
    settings.EVENT_RETENTION_DAYS = 7
    webhook_create(url=receiver.url, events=["*"], secret=SECRET)
    with transaction.atomic():
        made = [event_record(type="ping", object_type="x", object_id=str(i)) for i in range(7)]
    events_fan_out_once()
    assert Delivery.objects.count() == 7
    old = [e.pk for e in made[:5]]
    Event.objects.filter(pk__in=old).update(at=timezone.now() - timedelta(days=8))
    assert events_prune() == 5
    assert set(Event.objects.values_list("pk", flat=True)) == {e.pk for e in made[5:]}
    assert set(Delivery.objects.values_list("event_id", flat=True)) == {e.pk for e in made[5:]}
    assert events_prune() == 0


# --- ordering, the actor filter, job events' dataset ---------------------------------------------


def test_events_of_one_change_are_listed_newest_first(manager_api):
    """Events recorded in the same millisecond (one change's, say a label and the batch it
    completes) keep their order: the newest first."""
    with transaction.atomic():
        made = [event_record(type="ping", object_type="x", object_id=str(i)) for i in range(200)]
    answer = manager_api.get("/api/v1/events/?page_size=1000")
    assert [e["id"] for e in answer.data["results"]] == [e.pk for e in reversed(made)]


def test_the_actor_filter_takes_an_id_or_a_username_made_of_digits(manager_api, manager):
    from ..factories import UserFactory

    digits = UserFactory(username="1234")
    event_record(type="ping", actor=digits, object_type="x", object_id="by-digits")
    event_record(type="ping", actor=manager, object_type="x", object_id="by-manager")
    by_name = manager_api.get("/api/v1/events/?actor=1234").data["results"]
    assert [e["object"]["id"] for e in by_name] == ["by-digits"]
    by_id = manager_api.get(f"/api/v1/events/?actor={manager.pk}").data["results"]
    assert [e["object"]["id"] for e in by_id] == ["by-manager"]
    big = manager_api.get("/api/v1/events/?actor=99999999999999999999999")
    assert big.status_code == 200 and big.data["results"] == []


def test_a_job_on_a_version_names_its_dataset(manager_api, manager):
    """Row updates, deletes and recounts name only the version in their params: their job event
    still carries the dataset, so `?dataset=` finds it."""
    from versions.bulk.start import rows_update_start
    from versions.services import version_create

    from ..factories import DatasetFactory

    dataset = DatasetFactory()
    draft = version_create(dataset=dataset, name="v1")[0]
    job = rows_update_start(version=draft, filter={}, set={"metadata": {"s": 1}}, user=manager)
    assert runner.run_job(job.pk) == Job.Status.SUCCEEDED
    event = Event.objects.get(type="job.succeeded")
    assert event.dataset == dataset.pk and event.data["kind"] == "update_rows"
    listed = manager_api.get(f"/api/v1/events/?dataset={dataset.pk}&type=job.succeeded")
    assert [e["object"]["id"] for e in listed.data["results"]] == [job.pk]


# --- the Activity page ----------------------------------------------------------------------------


def test_activity_page_filters_by_a_project_beyond_its_list_or_deleted(client, manager):
    """The project box lists the first CHOICES_MAX projects; another project's id (a
    link, or a project deleted since: the trail outlives it) still filters, and shows."""
    from batches.services import project_create

    kept = project_create(name="kept")
    event_record(type="ping", project="0gone0", object_type="x", object_id="of-gone")
    client.force_login(manager)
    page = client.get("/activity/?project=0gone0")
    assert page.status_code == 200 and page.context["form"].is_valid()
    assert [e.object_id for e in page.context["events"]] == ["of-gone"]
    assert '<option value="0gone0" selected>0gone0 (deleted)</option>' in page.content.decode()
    page = client.get(f"/activity/?project={kept.pk}")
    assert [e.type for e in page.context["events"]] == ["project.created"]
    assert "field-error" in client.get("/activity/?project=Not-An-Id").content.decode()


def test_activity_page_picks_a_dataset_by_name(client, manager):
    from ..factories import DatasetFactory

    street = DatasetFactory(name="street")
    event_record(type="ping", dataset=street.pk, object_type="x", object_id="on-street")
    event_record(type="ping", dataset="0gone0", object_type="x", object_id="on-gone")
    client.force_login(manager)
    html = client.get("/activity/").content.decode()
    assert f'<option value="{street.pk}">street</option>' in html
    page = client.get(f"/activity/?dataset={street.pk}")
    assert [e.object_id for e in page.context["events"]] == ["on-street"]
    page = client.get("/activity/?dataset=0gone0")
    assert [e.object_id for e in page.context["events"]] == ["on-gone"]


def test_a_test_ping_links_to_its_webhook_while_it_exists(client, manager, receiver, run_jobs):
    from dashboard.webhooks import webhook_delete, webhook_test

    hook = webhook_create(url=receiver.url, events=["*"], secret=SECRET)
    with run_jobs():
        webhook_test(webhook=hook, user=manager)
    client.force_login(manager)
    html = client.get("/activity/?type=ping").content.decode()
    assert f'<a href="/webhooks/{hook.pk}/">webhook {hook.pk}</a>' in html
    hook_id = hook.pk
    webhook_delete(webhook=hook)
    html = client.get("/activity/?type=ping").content.decode()
    assert f"<td>webhook {hook_id}</td>" in html and f'href="/webhooks/{hook_id}/"' not in html


def test_the_overview_feed_leaves_out_test_pings(client, viewer, receiver, run_jobs, manager):
    from batches.services import project_create
    from dashboard.webhooks import webhook_test

    hook = webhook_create(url=receiver.url, events=["*"], secret=SECRET)
    project_create(name="cams")
    with run_jobs():
        webhook_test(webhook=hook, user=manager)
    client.force_login(viewer)
    feed = client.get("/").context["activity"]
    assert [a.text for a in feed] == ["Created project cams"]
    assert f"/webhooks/{hook.pk}/" not in client.get("/").content.decode()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EVENT_RETENTION_DAYS", "0"),
        ("EVENT_RETENTION_DAYS", "a year"),
        ("WEBHOOK_TIMEOUT", "0"),
        ("WEBHOOK_RETRY_SECONDS", "-1"),
        ("WEBHOOK_MAX_ATTEMPTS", "0"),
    ],
)
def test_a_bad_event_or_webhook_setting_stops_the_start_naming_it(variable, value):
    """Settings as in API.md: a value that would fail every delivery (or delete every event at
    once) is refused when the process starts, naming the variable."""
    import os
    import subprocess
    import sys

    code = "import dashboard.settings"
    env = {**os.environ, variable: value}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert f"ImproperlyConfigured: {variable} must be" in done.stderr
