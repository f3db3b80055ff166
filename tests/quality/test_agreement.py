"""Agreement kept current as labels arrive (per row, per label, per batch, per project),
escalation below the project's threshold, and `GET projects/{id}/agreement/`."""

import pytest

from batches.analytics import agreement_summary
from batches.models import Label, QueueEntry
from batches.services import batch_delete_labels

from .quality_fixtures import *  # noqa: F403  (the fixtures)
from .quality_fixtures import consensus_batch, label_next, make_rows, url

pytestmark = pytest.mark.django_db(transaction=True)

CAR, PERSON = {"classes": ["car"]}, {"classes": ["person"]}


def entry(project, row):
    return QueueEntry.objects.get(project=project, data_row_id=row.pk)


def test_row_agreement_follows_each_label(qproject, qlabelers):
    (row,) = make_rows(1)
    consensus_batch(qproject, [row], labels=3)
    first = label_next(qproject, qlabelers[0], CAR)
    assert entry(qproject, row).agreement is None
    label_next(qproject, qlabelers[1], CAR)
    assert entry(qproject, row).agreement == 1.0
    label_next(qproject, qlabelers[2], PERSON)
    e = entry(qproject, row)
    assert e.agreement == pytest.approx(1 / 3) and e.state == QueueEntry.State.DONE
    # Each label's agreement: its mean similarity to the others.
    by_author = dict(Label.objects.values_list("author__username", "agreement"))
    assert by_author == {"qlab0": 0.5, "qlab1": 0.5, "qlab2": 0.0}
    assert first.pk  # labels returned as before


def test_escalation_below_threshold_when_the_last_label_arrives(qproject, qlabelers):
    qproject.agreement_threshold = 0.5
    qproject.save()
    low, high = make_rows(2)
    consensus_batch(qproject, [low, high], labels=2)
    # Rows are served in order: labeler 0 and 1 each label `low` first, then `high`.
    label_next(qproject, qlabelers[0], CAR)
    label_next(qproject, qlabelers[0], CAR)
    second = label_next(qproject, qlabelers[1], PERSON)
    label_next(qproject, qlabelers[1], CAR)
    assert entry(qproject, low).escalated and entry(qproject, low).agreement == 0.0
    assert not entry(qproject, high).escalated and entry(qproject, high).agreement == 1.0
    statuses = set(Label.objects.filter(data_row=low).values_list("status", flat=True))
    assert statuses == {Label.Status.PENDING_REVIEW}
    assert second.status == Label.Status.PENDING_REVIEW  # the answer tells the truth
    assert set(Label.objects.filter(data_row=high).values_list("status", flat=True)) == {
        Label.Status.SUBMITTED
    }


def test_no_escalation_before_the_last_label_or_without_threshold(qproject, qlabelers):
    (row,) = make_rows(1)
    consensus_batch(qproject, [row], labels=3)
    label_next(qproject, qlabelers[0], CAR)
    label_next(qproject, qlabelers[1], PERSON)
    qproject.agreement_threshold = 0.9
    qproject.save()
    assert not entry(qproject, row).escalated  # 2 of 3 labels: not judged yet
    qproject.agreement_threshold = None
    qproject.save()
    label_next(qproject, qlabelers[2], PERSON)
    assert not entry(qproject, row).escalated


def test_deleting_a_batch_s_labels_clears_its_agreement(qproject, qlabelers):
    (row,) = make_rows(1)
    batch = consensus_batch(qproject, [row], labels=2)
    label_next(qproject, qlabelers[0], CAR)
    label_next(qproject, qlabelers[1], CAR)
    assert entry(qproject, row).agreement == 1.0
    batch_delete_labels(batch=batch)
    assert entry(qproject, row).agreement is None


def test_agreement_endpoint(reviewer_api, qproject, qlabelers):
    batch = consensus_batch(qproject, make_rows(2), labels=2)
    other = consensus_batch(qproject, make_rows(1, prefix="o"), labels=2, name="other")
    # Served in order r0, r1, o0. r0: agree (1.0); r1: disagree (0.0); o0: Jaccard 1/2.
    for user, annotations in (
        (qlabelers[0], [CAR, CAR, CAR]),
        (qlabelers[1], [CAR, PERSON, {"classes": ["car", "person"]}]),
    ):
        for annotation in annotations:
            label_next(qproject, user, annotation)
    qproject.agreement_threshold = 0.6
    qproject.save()
    answer = reviewer_api.get(url(qproject, "agreement/"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["rows"] == 3 and body["mean"] == 0.5
    assert body["below_threshold"] == 2 and body["threshold"] == 0.6
    assert len(body["histogram"]) == 10
    assert body["histogram"][0] == {"from": 0.0, "to": 0.1, "rows": 1}
    assert body["histogram"][5]["rows"] == 1 and body["histogram"][9]["rows"] == 1
    assert sum(b["rows"] for b in body["histogram"]) == 3
    one = reviewer_api.get(url(qproject, f"agreement/?batch_id={batch.pk}")).json()
    assert one["rows"] == 2 and one["mean"] == 0.5 and one["below_threshold"] == 1
    listed = reviewer_api.get(url(qproject, f"batches/{other.pk}/")).json()
    assert listed["agreement"] == 0.5
    assert reviewer_api.get(url(qproject, "agreement/?batch_id=nope")).status_code == 404


def test_agreement_roles_and_bad_input(qproject, labeler_api, viewer_api, manager_api):
    assert labeler_api.get(url(qproject, "agreement/")).status_code == 403
    assert viewer_api.get(url(qproject, "agreement/")).status_code == 403
    empty = manager_api.get(url(qproject, "agreement/"))
    assert empty.status_code == 200
    assert empty.json()["rows"] == 0 and empty.json()["mean"] is None
    assert empty.json()["below_threshold"] is None
    assert manager_api.get("/api/v1/projects/nope/agreement/").status_code == 404
    long = manager_api.get(url(qproject, "agreement/?batch_id=" + "x" * 100))
    assert long.status_code == 400 and "batch_id" in long.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("agreement_threshold", 1.5),
        ("agreement_threshold", -0.1),
        ("agreement_threshold", "0.5"),
        ("gold_percentage", 2),
        ("gold_percentage", None),
        ("gold_percentage", True),
    ],
)
def test_project_settings_are_bounded(manager_api, qproject, field, value):
    answer = manager_api.patch(url(qproject), {field: value}, format="json")
    assert answer.status_code == 400 and field in answer.json()


def test_project_settings_round_trip(manager_api, labeler_api, qproject):
    answer = manager_api.patch(
        url(qproject), {"agreement_threshold": 0.7, "gold_percentage": 0.25}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["agreement_threshold"] == 0.7
    assert answer.json()["gold_percentage"] == 0.25
    cleared = manager_api.patch(url(qproject), {"agreement_threshold": None}, format="json")
    assert cleared.json()["agreement_threshold"] is None
    assert (
        labeler_api.patch(url(qproject), {"gold_percentage": 0}, format="json").status_code == 403
    )


def test_a_rejection_updates_the_row_s_agreement(qproject, qlabelers, reviewer):
    from batches.services.reviews import label_reject

    (row,) = make_rows(1)
    consensus_batch(qproject, [row], labels=3)
    label_next(qproject, qlabelers[0], CAR)
    label_next(qproject, qlabelers[1], CAR)
    odd = label_next(qproject, qlabelers[2], PERSON)
    assert entry(qproject, row).agreement == pytest.approx(1 / 3)
    label_reject(project=qproject, label_id=odd.pk, user=reviewer, reason="wrong class")
    assert entry(qproject, row).agreement == 1.0
    odd.refresh_from_db()
    assert odd.agreement == 0.0  # a rejected label keeps its last value; it no longer counts


def test_the_buckets_always_match_the_rows(qproject, qlabelers, reviewer):
    """After submits, a rejection and a rework, the kept buckets equal a recount."""
    from batches.models import AgreementBucket
    from batches.services.agreement import agreement_buckets_recount
    from batches.services.reviews import label_reject

    batch = consensus_batch(qproject, make_rows(4), labels=3)
    answers = [CAR, PERSON, {"classes": ["car", "person"]}, CAR]
    labels = []
    for i, user in enumerate(qlabelers[:3]):
        for j in range(4):
            labels.append(label_next(qproject, user, answers[(i + j) % 4]))
    label_reject(project=qproject, label_id=labels[0].pk, user=reviewer, reason="again")
    label_next(qproject, qlabelers[3], PERSON)  # the rework

    def kept():
        return sorted(
            AgreementBucket.objects.filter(batch=batch, rows__gt=0).values_list("bucket", "rows")
        )

    before = kept()
    mean_before = agreement_summary(project=qproject, batch=batch)["mean"]
    agreement_buckets_recount(batch=batch)
    assert kept() == before and sum(n for _, n in before) == 4
    assert agreement_summary(project=qproject, batch=batch)["mean"] == mean_before
    stored = [e.agreement for e in QueueEntry.objects.filter(batch=batch)]
    assert mean_before == pytest.approx(sum(stored) / len(stored), abs=1e-4)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.55, 0.6, 0.99, 1.0])
def test_below_threshold_matches_a_direct_count(qproject, qlabelers, threshold):
    consensus_batch(qproject, make_rows(4), labels=2)
    pairs = [(CAR, CAR), (CAR, PERSON), (CAR, {"classes": ["car", "person"]}), (PERSON, PERSON)]
    for first, _ in pairs:
        label_next(qproject, qlabelers[0], first)
    for _, second in pairs:
        label_next(qproject, qlabelers[1], second)
    qproject.agreement_threshold = threshold
    qproject.save()
    direct = QueueEntry.objects.filter(project=qproject, agreement__lt=threshold).count()
    assert agreement_summary(project=qproject)["below_threshold"] == direct


def test_means_are_not_cut_to_a_few_decimals(reviewer_api, qproject, qlabelers):
    """A row agreeing 1/3 answers 1/3 (not 0.3333) in the agreement summary, the batch and the
    labelers' analytics, as the row itself answers it."""
    (row,) = make_rows(1)
    batch = consensus_batch(qproject, [row], labels=3)
    for user, annotation in zip(qlabelers, (CAR, CAR, PERSON), strict=False):
        label_next(qproject, user, annotation)
    summary = reviewer_api.get(url(qproject, "agreement/")).json()
    assert summary["mean"] == pytest.approx(1 / 3, rel=1e-9, abs=1e-12)
    one = reviewer_api.get(url(qproject, f"batches/{batch.pk}/")).json()
    assert one["agreement"] == pytest.approx(1 / 3, rel=1e-9, abs=1e-12)
    listed = reviewer_api.get(url(qproject, "batches/")).json()["results"][0]
    assert listed["agreement"] == pytest.approx(1 / 3, rel=1e-9, abs=1e-12)
    detail = reviewer_api.get(url(qproject, f"rows/{row.pk}/")).json()
    assert detail["agreement"] == pytest.approx(1 / 3, rel=1e-9, abs=1e-12)
    gold_row = make_rows(1, prefix="g")
    from batches.services import batch_create, gold_set

    batch_create(project=qproject, name="g", data_rows=[gold_row[0].pk])
    box = {"class": "car", "bbox": [0, 0, 10, 10]}
    gold_set(
        project=qproject, rows=[{"data_row": gold_row[0].pk, "annotation": {"objects": [box]}}]
    )
    qproject.gold_percentage = 1
    qproject.save()
    far = [{"class": "car", "bbox": [100 * i, 100, 10, 10]} for i in (1, 2)]
    label_next(qproject, qlabelers[3], {"objects": [box, *far]})  # gold score 1/3
    lines = reviewer_api.get(url(qproject, "analytics/labelers/")).json()["results"]
    line = next(line for line in lines if line["user"]["username"] == qlabelers[3].username)
    assert line["gold_score"] == pytest.approx(1 / 3, rel=1e-9, abs=1e-12)
    # A sum that drifted by a hair still answers a round value.
    from batches.analytics import score_mean

    assert score_mean(0.1 + 0.2 + 0.2, 1) == 0.5 and score_mean(1.0000000000000002, 1) == 1.0
    assert score_mean(0.0, 0) is None and score_mean(-1e-17, 1) == 0.0
