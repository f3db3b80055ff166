"""32 labelers over HTTP against a live server take, submit and skip until the queue is empty,
with reservations expiring on the way: no row is labelled twice by one labeler, consensus rows
end with exactly `number_of_labels` labels from different labelers, every row ends done.
Bounded: it stops by itself within a minute."""

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict

import pytest
from rest_framework.authtoken.models import Token

from batches.models import Label, QueueEntry
from batches.services import batch_create, project_create
from dashboard.roles import Role

from ..factories import DatasetFactory, UserFactory

LABELERS = 32
ROWS = 120
DEADLINE = 60


def make_rows(n):
    from versions.models import DataRow

    dataset = DatasetFactory()
    return DataRow.objects.bulk_create(
        [DataRow(id=f"c-{i:04d}", dataset=dataset, row_data=f"s3://c/{i}") for i in range(n)]
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


@pytest.mark.django_db(transaction=True)
def test_32_labelers_over_http_empty_the_queue_correctly(live_server):
    rows = make_rows(ROWS)
    project = project_create(name="race")
    # One second (below the 10 s the service allows) so reservations expire during the run.
    type(project).objects.filter(pk=project.pk).update(reservation_seconds=1)
    batch, _ = batch_create(
        project=project,
        name="b",
        data_rows=[r.id for r in rows],
        consensus_settings={"number_of_labels": 3, "coverage_percentage": 0.3},
    )
    required = dict(QueueEntry.objects.filter(batch=batch).values_list("id", "labels_required"))
    assert 3 in required.values()
    tokens = [
        Token.objects.create(user=UserFactory(username=f"c{i}", role=Role.LABELER)).key
        for i in range(LABELERS)
    ]
    base = f"{live_server.url}/api/v1/projects/{project.pk}/queue/"
    served = defaultdict(list)  # token → entries reserved (in order)
    outcomes = Counter()
    problems, stop = [], time.monotonic() + DEADLINE

    def labeler(token, seed):
        rng = random.Random(seed)
        while time.monotonic() < stop:
            status, body = post(base + "next/", token)
            if status == 204:
                return
            if status != 200:
                problems.append(("next", status, body))
                return
            entry = body["entry"]
            served[token].append(entry)
            roll = rng.random()
            if roll < 0.1:
                time.sleep(1.3)  # let the reservation expire; the submit may then be refused
            action = "skip" if roll > 0.9 else "submit"
            status, body = post(
                f"{base}{entry}/{action}/",
                token,
                {"annotation": {"ok": True}} if action == "submit" else None,
            )
            outcomes[f"{action} {status}"] += 1
            if status not in (200, 201, 409):
                problems.append((action, status, body))

    threads = [threading.Thread(target=labeler, args=(t, i)) for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE + 30)
    assert not problems, problems[:5]

    # Skips can leave rows nobody may take any more; everything else must be done, exactly.
    labels = Counter(Label.objects.filter(batch=batch).values_list("data_row_id", flat=True))
    authors = defaultdict(set)
    for row_id, author in Label.objects.filter(batch=batch).values_list("data_row_id", "author_id"):
        authors[row_id].add(author)
    for entry in QueueEntry.objects.filter(batch=batch):
        count = labels.get(entry.data_row_id, 0)
        assert count == entry.labels_count <= entry.labels_required
        assert len(authors[entry.data_row_id]) == count  # different labelers
        if entry.state == "done":
            assert count == entry.labels_required
    done = QueueEntry.objects.filter(batch=batch, state="done").count()
    print(
        f"\n{LABELERS} labelers, {ROWS} rows ({list(required.values()).count(3)} need 3 labels):"
        f" {sum(len(v) for v in served.values())} reservations, {dict(outcomes)},"
        f" {sum(labels.values())} labels, {done} rows done"
    )
    assert done >= ROWS * 0.8, f"only {done} of {ROWS} rows finished"
    assert not QueueEntry.objects.filter(
        batch=batch, state="reserved", reserved_until__gt=time_now()
    ).exists()


def time_now():
    from django.utils import timezone

    return timezone.now()
