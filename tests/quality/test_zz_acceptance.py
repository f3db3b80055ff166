"""Scratch acceptance checks (quality15)."""

import pytest

from batches.services import batch_create, gold_set, label_submit, queue_next
from dashboard.roles import Role

from ..conftest import token_client
from ..factories import ProjectFactory, UserFactory
from .quality_fixtures import make_rows, url

pytestmark = pytest.mark.django_db

CAR = {"classes": ["car"]}
LABEL_KEYS = {"id", "project", "batch", "data_row", "author", "annotation", "status", "seconds",
              "review", "gold_score", "created_at"}


def users():
    labs = [UserFactory(username=f"al{i}", role=Role.LABELER) for i in range(3)]
    rev = UserFactory(username="arev", role=Role.REVIEWER)
    man = UserFactory(username="aman", role=Role.MANAGER)
    return labs, rev, man


def test_c01_settings_defaults_and_400(manager_api):
    p = manager_api.post("/api/v1/projects/", {"name": "x"}, format="json").json()
    assert (p["review_percentage"], p["agreement_threshold"], p["gold_percentage"]) == (0, None, 0)
    for field, bad in [("review_percentage", 2), ("agreement_threshold", -1), ("gold_percentage", 1.01)]:
        r = manager_api.patch(f"/api/v1/projects/{p['id']}/", {field: bad}, format="json")
        assert r.status_code == 400 and field in r.json()
        r = manager_api.post("/api/v1/projects/", {"name": f"y{field}", field: bad}, format="json")
        assert r.status_code == 400 and field in r.json(), r.content


def test_c02_gold_label_status_follows_review_percentage():
    labs, rev, man = users()
    project = ProjectFactory(review_percentage=1, gold_percentage=1)
    rows = make_rows(3, "g")
    batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    gold_set(project=project, rows=[{"data_row": rows[0].pk, "annotation": CAR}])
    api = token_client(labs[0])
    item = api.post(url(project, "queue/next/")).json()
    assert item["data_row"]["id"] == rows[0].pk
    gold_label = api.post(url(project, f"queue/{item['entry']}/submit/"), {"annotation": CAR}, format="json").json()
    item2 = api.post(url(project, "queue/next/")).json()
    plain_label = api.post(url(project, f"queue/{item2['entry']}/submit/"), {"annotation": CAR}, format="json").json()
    assert set(gold_label) == set(plain_label) == LABEL_KEYS
    assert gold_label["status"] == plain_label["status"] == "pending_review"


def test_c03_gold_labels_not_in_batch_progress(manager_api):
    labs, rev, man = users()
    project = ProjectFactory(gold_percentage=1)
    rows = make_rows(3, "h")
    batch, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    gold_set(project=project, rows=[{"data_row": rows[0].pk, "annotation": CAR}])
    e = queue_next(project=project, user=labs[0])
    assert e.data_row_id == rows[0].pk
    label_submit(project=project, entry_id=e.pk, user=labs[0], annotation=CAR)
    b = manager_api.get(url(project, f"batches/{batch.pk}/")).json()
    assert b["progress"] == {"rows": 2, "done": 0, "labels": 0, "pending_review": 0, "accepted": 0, "rejected": 0}, b["progress"]


def test_c04_review_shapes_and_rules(manager_api):
    labs, rev, man = users()
    project = ProjectFactory(review_percentage=1)
    rows = make_rows(3, "c")
    batch, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    ls = []
    for u in labs:
        e = queue_next(project=project, user=u)
        ls.append(label_submit(project=project, entry_id=e.pk, user=u, annotation=CAR))
    rapi = token_client(rev)
    r = rapi.post(url(project, "review/next/"))
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"label", "data_row", "batch", "other_labels", "agreement", "expires_at"}, set(body)
    assert set(body["label"]) == LABEL_KEYS
    assert set(body["data_row"]) == {"id", "global_key", "row_data"}
    assert set(body["batch"]) == {"id", "name"}
    lid = body["label"]["id"]
    a = rapi.post(url(project, f"labels/{lid}/accept/"))
    assert a.status_code == 200 and a.json()["status"] == "accepted"
    assert rapi.post(url(project, f"labels/{lid}/accept/")).status_code == 409
    assert rapi.post(url(project, f"labels/{lid}/reject/"), {"reason": "x"}, format="json").status_code == 409
    m = manager_api.post(url(project, f"labels/{lid}/reject/"), {"reason": "redo"}, format="json")
    assert m.status_code == 200 and m.json()["status"] == "rejected"
    assert manager_api.post(url(project, f"labels/{lid}/reject/"), {"reason": "redo"}, format="json").status_code == 409
    nr = rapi.post(url(project, f"labels/{ls[1].pk}/reject/"), {}, format="json")
    assert nr.status_code == 400 and "reason" in nr.json()
    # rework: author of ls[0] gets the row back, with rework
    author = token_client(labs[0])
    nxt = author.post(url(project, "queue/next/")).json()
    assert nxt["data_row"]["id"] == ls[0].data_row_id
    assert nxt["rework"] == {"label": lid, "reason": "redo", "reviewer": {"id": manager_api.handler._force_user.pk if False else nxt["rework"]["reviewer"]["id"], "username": nxt["rework"]["reviewer"]["username"]}}
    assert nxt["template"] == CAR
    # rows detail
    d = rapi.get(url(project, f"rows/{ls[0].data_row_id}/")).json()
    assert set(d) == {"data_row", "batch", "state", "labels_required", "labels", "agreement", "escalated", "gold"}
    # bulk
    bulk = rapi.post(url(project, "labels/review/"), {"label_ids": [ls[1].pk, ls[2].pk, 999999], "decision": "reject", "reason": "no"}, format="json")
    assert bulk.status_code == 200
    assert bulk.json()["rejected"] == 2 and [f["label"] for f in bulk.json()["failed"]] == ["999999"]
    assert set(bulk.json()["failed"][0]) == {"label", "reason"}
    # agreement
    ag = rapi.get(url(project, "agreement/")).json()
    assert {"rows", "mean", "below_threshold", "histogram"} <= set(ag)
    assert len(ag["histogram"]) == 10 and set(ag["histogram"][0]) == {"from", "to", "rows"}
    # batch progress/agreement
    b = rapi.get(url(project, f"batches/{batch.pk}/")).json()
    assert set(b["progress"]) == {"rows", "done", "labels", "pending_review", "accepted", "rejected"}
    assert "agreement" in b


def test_c05_reject_at_priority(manager_api):
    labs, rev, man = users()
    project = ProjectFactory(review_percentage=1)
    rows = make_rows(4, "p")
    batch_create(project=project, name="b", data_rows=[r.pk for r in rows], priority=3)
    e = queue_next(project=project, user=labs[0])
    label = label_submit(project=project, entry_id=e.pk, user=labs[0], annotation=CAR)
    rapi = token_client(rev)
    r = rapi.post(url(project, f"labels/{label.pk}/reject/"), {"reason": "x", "priority": 5}, format="json")
    assert r.status_code == 200
    # labs[1]: rows at priority 3 come first; the reworked one at 5 last
    served = []
    api = token_client(labs[1])
    while True:
        n = api.post(url(project, "queue/next/"))
        if n.status_code == 204:
            break
        served.append((n.json()["data_row"]["id"], n.json()["priority"]))
        api.post(url(project, f"queue/{n.json()['entry']}/submit/"), {"annotation": CAR}, format="json")
    assert served[-1] == (rows[0].pk, 5), served


def test_c06_gold_put_get_delete(manager_api):
    labs, rev, man = users()
    project = ProjectFactory()
    rows = make_rows(3, "q")
    other = make_rows(1, "o")
    batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    r = manager_api.put(url(project, "gold/"), {"rows": [
        {"data_row": rows[0].pk, "annotation": CAR},
        {"global_key": other[0].global_key, "annotation": CAR},
        {"global_key": "nope", "annotation": CAR},
    ]}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["set"] == 1
    assert [set(f) for f in r.json()["failed"]] == [{"data_row", "global_key", "reason"}] * 2
    assert r.json()["failed"][0]["data_row"] == other[0].pk
    g = token_client(rev).get(url(project, "gold/"))
    assert g.status_code == 200 and len(g.json()["results"]) == 1
    assert manager_api.delete(url(project, f"gold/{rows[0].pk}/")).status_code == 204
    assert manager_api.delete(url(project, f"gold/{rows[0].pk}/")).status_code == 404


def test_c07_analytics(manager_api):
    labs, rev, man = users()
    project = ProjectFactory()
    rapi = token_client(rev)
    r = rapi.get(url(project, "analytics/labelers/?format=csv"))
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    t = rapi.get(url(project, "analytics/throughput/?bucket=hour"))
    assert t.status_code == 200 and t.json()["bucket"] == "hour" and "results" in t.json()
    bad = rapi.get(url(project, "analytics/throughput/?bucket=week"))
    assert bad.status_code == 400 and "bucket" in bad.json()
    bad = rapi.get(url(project, "analytics/labelers/?since=nope"))
    assert bad.status_code == 400 and "since" in bad.json()
    assert token_client(labs[0]).get(url(project, "analytics/labelers/")).status_code == 403


def test_c08_roles():
    labs, rev, man = users()
    project = ProjectFactory()
    lapi = token_client(labs[0])
    assert lapi.post(url(project, "review/next/")).status_code == 403
    assert lapi.get(url(project, "gold/")).status_code == 403
    rapi = token_client(rev)
    assert rapi.post(url(project, "review/next/")).status_code == 204
    assert rapi.post(url(project, "queue/next/")).status_code == 204  # reviewer works the queue
    assert rapi.put(url(project, "gold/"), {"rows": []}, format="json").status_code == 403
    assert rapi.patch(url(project, ""), {"review_percentage": 0.5}, format="json").status_code == 403
