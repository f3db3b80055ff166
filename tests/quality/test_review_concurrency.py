"""Real concurrent clients over HTTP against a live server, on SQLite and PostgreSQL alike:
reviewers working one review queue never hold the same label; a label accepted and rejected at
once ends in exactly one state; a row re-queued for rework is served to one labeler only."""

import json
import threading
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from batches.models import Label, QueueEntry
from batches.services import batch_create, label_submit, project_create, queue_next
from dashboard.roles import Role

from ..factories import DatasetFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def make_rows(n, prefix="c"):
    from versions.models import DataRow

    dataset = DatasetFactory()
    return DataRow.objects.bulk_create(
        [DataRow(id=f"{prefix}-{i:04d}", dataset=dataset, row_data=f"s3://c/{i}") for i in range(n)]
    )


def post(url, token, body=None):
    request = urllib.request.Request(
        url,
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def token_of(username, role):
    return Token.objects.create(user=UserFactory(username=username, role=role)).key


def labelled_project(rows: int, labelers: int = 2):
    """A project whose every row is reviewed, each row labelled once."""
    project = project_create(name="race", review_percentage=1)
    data_rows = make_rows(rows)
    batch_create(project=project, name="b", data_rows=[r.id for r in data_rows])
    authors = [UserFactory(username=f"a{i}", role=Role.LABELER) for i in range(labelers)]
    for i in range(rows):
        author = authors[i % labelers]
        entry = queue_next(project=project, user=author)
        label_submit(project=project, entry_id=entry.pk, user=author, annotation={"n": i})
    return project


def run_all(workers):
    threads = [threading.Thread(target=w) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client hung"
    connection.close()


def test_reviewers_never_hold_the_same_label(live_server):
    project = labelled_project(40)
    reviewers = [token_of(f"rev{i}", Role.REVIEWER) for i in range(8)]
    base = f"{live_server.url}/api/v1/projects/{project.pk}/"
    guard = threading.Lock()
    holders: dict[int, str] = {}
    decided, problems = Counter(), []
    start = threading.Barrier(len(reviewers))

    def reviewer(token, n):
        start.wait()
        for _ in range(200):
            status, body = post(base + "review/next/", token)
            if status == 204:
                return
            if status != 200:
                problems.append((status, body))
                return
            label = body["label"]["id"]
            with guard:
                if label in holders and holders[label] != token:
                    problems.append(f"label {label} held by two reviewers")
                holders[label] = token
            if n % 2:
                status, body = post(base + f"labels/{label}/accept/", token)
            else:
                status, body = post(base + f"labels/{label}/reject/", token, {"reason": "x"})
            with guard:
                holders.pop(label, None)
            if status != 200:
                problems.append((label, status, body))
                return
            decided[label] += 1

    run_all([lambda t=t, n=n: reviewer(t, n) for n, t in enumerate(reviewers)])
    assert problems == []
    assert sorted(decided) == sorted(Label.objects.values_list("id", flat=True))
    assert set(decided.values()) == {1}
    assert Label.objects.filter(status="pending_review").count() == 0
    assert Label.objects.filter(review_reserved_by__isnull=False).count() == 0


def test_accept_and_reject_at_once_end_in_exactly_one_state(live_server):
    project = labelled_project(12)
    accepter = token_of("accepter", Role.REVIEWER)
    rejecter = token_of("rejecter", Role.REVIEWER)
    base = f"{live_server.url}/api/v1/projects/{project.pk}/labels/"
    outcomes: dict[int, dict[str, int]] = {}
    labels = list(Label.objects.order_by("id").values_list("id", flat=True))

    for label in labels:
        start = threading.Barrier(2)
        result: dict[str, int] = {}

        def accept(label=label, start=start, result=result):
            start.wait()
            result["accept"] = post(base + f"{label}/accept/", accepter)[0]

        def reject(label=label, start=start, result=result):
            start.wait()
            result["reject"] = post(base + f"{label}/reject/", rejecter, {"reason": "no"})[0]

        run_all([accept, reject])
        outcomes[label] = result

    for label, result in outcomes.items():
        assert sorted(result.values()) == [200, 409], (label, result)
        winner = "accepted" if result["accept"] == 200 else "rejected"
        stored = Label.objects.get(pk=label)
        assert stored.status == winner
        assert stored.decision == ("accept" if winner == "accepted" else "reject")
        entry = QueueEntry.objects.get(data_row_id=stored.data_row_id)
        # A rejection took the label off its row exactly once.
        assert entry.labels_count == (1 if winner == "accepted" else 0)
        assert entry.state == ("done" if winner == "accepted" else "queued")
    from dashboard.models import Event

    events = Counter(Event.objects.values_list("type", flat=True))
    assert events["label.accepted"] + events["label.rejected"] == len(labels)


def test_a_rework_row_is_served_once(live_server):
    project = labelled_project(1)
    label = Label.objects.get()
    reviewer = token_of("rev", Role.REVIEWER)
    labelers = [token_of(f"lab{i}", Role.LABELER) for i in range(8)]
    base = f"{live_server.url}/api/v1/projects/{project.pk}/"
    assert post(base + f"labels/{label.pk}/reject/", reviewer, {"reason": "redo"})[0] == 200
    start = threading.Barrier(len(labelers))
    served, problems = [], []

    def labeler(token):
        start.wait()
        status, body = post(base + "queue/next/", token)
        if status == 204:
            return
        if status != 200:
            problems.append((status, body))
            return
        served.append(token)
        if (body.get("rework") or {}).get("reason") != "redo":
            problems.append(("no rework note", body))
        status, body = post(base + f"queue/{body['entry']}/submit/", token, {"annotation": {}})
        if status != 201:
            problems.append((status, body))

    run_all([lambda t=t: labeler(t) for t in labelers])
    assert problems == [] and len(served) == 1
    entry = QueueEntry.objects.get()
    assert (entry.state, entry.labels_count, entry.rework_label_id) == ("done", 1, None)
    assert Label.objects.exclude(status="rejected").count() == 1
    # Nobody else is served it afterwards.
    assert post(base + "queue/next/", labelers[0])[0] == 204
