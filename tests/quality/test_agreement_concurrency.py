"""Real concurrent clients over HTTP, on SQLite and PostgreSQL alike: a submit and a rejection
racing on one consensus row both succeed, never deadlock, and leave the row's agreement, its
labels' agreement and the batch's buckets equal to a recount from the counted labels."""

import json
import threading
import urllib.error
import urllib.request

import pytest
from rest_framework.authtoken.models import Token

from batches.models import AgreementBucket, Label, QueueEntry
from batches.services import queue_next
from batches.services.agreement import _label_agreements, agreement_buckets_recount
from dashboard.roles import Role

from ..factories import UserFactory
from .quality_fixtures import *  # noqa: F403  (the fixtures)
from .quality_fixtures import consensus_batch, label_next, make_rows

pytestmark = pytest.mark.django_db(transaction=True)

CAR, PERSON = {"classes": ["car"]}, {"classes": ["person"]}


def post(url, token, body):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_submit_and_reject_racing_on_one_row(live_server, qproject, qlabelers):
    rows = make_rows(6, prefix="race")
    batch = consensus_batch(qproject, rows, labels=3)
    first = [label_next(qproject, qlabelers[0], CAR) for _ in rows]
    for _ in rows:
        label_next(qproject, qlabelers[1], PERSON)
    third = qlabelers[2]
    reviewer = UserFactory(username="racer", role=Role.REVIEWER)
    tokens = {u.pk: Token.objects.create(user=u).key for u in (third, reviewer)}
    base = f"{live_server.url}/api/v1/projects/{qproject.pk}/"
    answers = []
    for label in first:
        entry = queue_next(project=qproject, user=third)
        assert entry.data_row_id == label.data_row_id
        barrier = threading.Barrier(2)

        def submit(entry_id=entry.pk, barrier=barrier):
            barrier.wait()
            answers.append(
                (
                    "submit",
                    post(f"{base}queue/{entry_id}/submit/", tokens[third.pk], {"annotation": CAR}),
                )
            )

        def reject(label_id=label.pk, barrier=barrier):
            barrier.wait()
            answers.append(
                (
                    "reject",
                    post(f"{base}labels/{label_id}/reject/", tokens[reviewer.pk], {"reason": "no"}),
                )
            )

        threads = [threading.Thread(target=submit), threading.Thread(target=reject)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
    assert sorted(answers) == sorted([("submit", 201), ("reject", 200)] * len(rows))
    for row in rows:
        counted = list(
            Label.objects.filter(project=qproject, data_row=row)
            .exclude(status=Label.Status.REJECTED)
            .order_by("id")
        )
        per_label, expected = _label_agreements([label.annotation for label in counted])
        assert QueueEntry.objects.get(project=qproject, data_row=row).agreement == expected
        assert [label.agreement for label in counted] == per_label
    kept = sorted(
        AgreementBucket.objects.filter(batch=batch, rows__gt=0).values_list("bucket", "rows")
    )
    agreement_buckets_recount(batch=batch)
    assert kept == sorted(
        AgreementBucket.objects.filter(batch=batch, rows__gt=0).values_list("bucket", "rows")
    )
