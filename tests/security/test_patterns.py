"""User patterns run in linear time and only as documented: `?source=` URI patterns (a viewer),
and the data-row filter language (lists, exports, bulk update/delete bodies) accepting only the
lookups API.md lists."""

import time

import pytest

from versions.services import dataset_create, frames_add, version_create, version_publish

pytestmark = pytest.mark.django_db

# A viewer's pattern may not cost more than this, whatever it is (generous: CI machines are slow).
GUARD_SECONDS = 5


def frame(i, *uris, **meta):
    return {"id": f"f{i:03d}", "sources": [{"uri": u} for u in uris], "meta": meta}


@pytest.fixture
def version(db):
    dataset, _ = dataset_create(name="patterns")
    root, _ = version_create(dataset=dataset, name="root")
    frames_add(
        version=root,
        frames=[
            frame(1, "s3://b/a.jpg"),
            frame(2, "s3://b/A.JPG"),
            frame(3, "s3://b/100%_x.jpg"),
            frame(4, "s3://b/1000_x.jpg"),
            frame(5, "s3://b/[x]*?.jpg"),
            frame(6, "s3://b/back\\slash.jpg"),
            frame(7, "s3://one/x", "gs://two/y"),  # two URIs: a match is within one
        ],
    )
    draft, _ = version_create(dataset=dataset, name="draft", parent=version_publish(version=root))
    return draft  # a chain of two: the filtered read goes through effective_entries


def ids(api, version, pattern):
    response = api.get(f"/api/v1/versions/{version.pk}/frames/", {"source": pattern})
    assert response.status_code == 200, response.content
    return [f["id"] for f in response.json()["results"]]


@pytest.mark.parametrize(
    "pattern,expected",
    [
        ("s3://b/a.jpg", ["f001"]),
        ("s3://b/A.JPG", ["f002"]),  # case-sensitive, on SQLite too
        ("S3://B/*", []),
        ("s3://b/*.jpg", ["f001", "f003", "f004", "f005", "f006"]),
        ("s3://b/***.jpg", ["f001", "f003", "f004", "f005", "f006"]),  # a run of * is one
        ("s3://b/100%_x.jpg", ["f003"]),  # % and _ are literal
        ("s3://b/10%", []),
        ("s3://b/1_00_x.jpg", []),
        ("s3://b/[x]*", ["f005"]),  # [ ] and ? are literal
        ("s3://b/[x]*?.jpg", ["f005"]),
        ("s3://b/?x?*", []),
        ("s3://b/back\\slash.jpg", ["f006"]),  # so is a backslash
        ("s3://b/back*", ["f006"]),
        ("s3://b/a", []),  # the whole URI, not a prefix
        ("b/a.jpg", []),
        ("s3://one/*", ["f007"]),
        ("gs://two/y", ["f007"]),
        ("s3://one/*y", []),  # never across two URIs of one frame
        ("s3://one/x*gs://two/y", []),
        ("*x\ngs*", []),
        ("*", ["f001", "f002", "f003", "f004", "f005", "f006", "f007"]),
    ],
)
def test_source_matches_one_whole_uri_literally(viewer_api, version, pattern, expected):
    assert ids(viewer_api, version, pattern) == expected


def test_source_pattern_paging_keeps_going_past_non_matching_rows(viewer_api, version):
    page = viewer_api.get(
        f"/api/v1/versions/{version.pk}/frames/", {"source": "s3://*", "page_size": 2}
    ).json()
    seen = [f["id"] for f in page["results"]]
    while page["next"]:
        page = viewer_api.get(page["next"]).json()
        seen += [f["id"] for f in page["results"]]
    assert seen == ["f001", "f002", "f003", "f004", "f005", "f006", "f007"]
    back = [f["id"] for f in page["results"]]
    while page["previous"]:
        page = viewer_api.get(page["previous"]).json()
        back = [f["id"] for f in page["results"]] + back
    assert back == seen


def test_source_reads_each_frames_nearest_revision(viewer_api, version):
    from versions.services import frames_delete, frames_update

    frames_update(version=version, frames=[{"id": "f001", "sources": [{"uri": "s3://c/new"}]}])
    frames_delete(version=version, ids=["f002"])
    assert ids(viewer_api, version, "s3://b/a.jpg") == []  # the parent's URI is hidden
    assert ids(viewer_api, version, "s3://b/A.JPG") == []  # deleted in the draft
    assert ids(viewer_api, version, "s3://c/*") == ["f001"]
    assert ids(viewer_api, version.parent, "s3://b/a.jpg") == ["f001"]


def test_an_overlong_source_pattern_is_a_400(viewer_api, version):
    response = viewer_api.get(
        f"/api/v1/versions/{version.pk}/frames/", {"source": "s3://" + "x" * 5000}
    )
    assert response.status_code == 400 and "source" in response.json()


@pytest.mark.parametrize(
    "pattern",
    [
        "*" * 1000 + "Z",
        "***********Z",
        "*a" * 400 + "Z",
        "s3:/" + "/*" * 500 + "x",
    ],
)
def test_pathological_source_patterns_answer_at_once(viewer_api, client, viewer, pattern):
    dataset, _ = dataset_create(name="slow")
    root, _ = version_create(dataset=dataset, name="root")
    uri = "s3://" + "a/" * 40 + "a" * 40
    frames_add(version=root, frames=[frame(i, f"{uri}{i}") for i in range(200)])
    start = time.perf_counter()
    assert ids(viewer_api, root, pattern) == []
    client.force_login(viewer)
    page = client.get(f"/versions/{root.pk}/", {"source": pattern})
    assert page.status_code == 200
    assert time.perf_counter() - start < GUARD_SECONDS


def test_the_version_page_filters_by_source_alike(client, viewer, version):
    client.force_login(viewer)
    page = client.get(f"/versions/{version.pk}/", {"source": "s3://one/*y"}).content.decode()
    assert "f007" not in page
    page = client.get(f"/versions/{version.pk}/", {"source": "s3://one/*"}).content.decode()
    assert "f007" in page


# ---------------------------------------------------------------- the metadata filter


@pytest.fixture
def rows(db):
    dataset, _ = dataset_create(name="rows")
    draft, _ = version_create(dataset=dataset, name="draft")
    frames_add(
        version=draft,
        frames=[
            {
                "id": "r1",
                "global_key": "k1",
                "sources": [{"uri": "s3://r/1"}],
                "meta": {"split": "train", "n": 1, "deep": {"a": "x"}, "note": "50%_off"},
            },
            {
                "id": "r2",
                "global_key": "k2",
                "sources": [{"uri": "s3://r/2"}],
                "meta": {"split": "val", "n": 2, "deep": {"a": "y"}, "note": "5000ff"},
            },
        ],
    )
    return dataset


def rows_url(dataset):
    return f"/api/v1/datasets/{dataset.pk}/data-rows/"


REFUSED = [
    ("metadata__split__regex", "(a+)+$"),
    ("metadata__split__regex", "("),
    ("metadata__split__iregex", "x"),
    ("metadata__split__contained_by", "x"),
    ("metadata__split__has_key", "x"),
    ("metadata__split__startswith", "t"),
    ("metadata__split__icontains", "t"),
    ("metadata__split__gte", "1"),
    ("metadata__regex__split", "x"),
    ("metadata__contained_by", "x"),
    ("metadata__split__a__regex", "x"),
    ("metadata__deep__a__endswith", "x"),
    ("metadata__split____in", "x"),
    ("metadata", "x"),
    ("global_key__regex", "x"),
    ("row_data__iregex", "x"),
    ("created_at__year", "2020"),
    ("created_at__gt", "not a date"),
    ("updated_at__in", "2020-01-01,nope"),
]


@pytest.mark.parametrize("key,value", REFUSED)
def test_a_lookup_api_md_does_not_list_is_a_400_naming_it(viewer_api, rows, key, value):
    response = viewer_api.get(rows_url(rows), {key: value})
    assert response.status_code == 400, response.content
    assert key in response.json()


@pytest.mark.parametrize("key,value", REFUSED)
def test_exports_refuse_the_same_lookups(viewer_api, rows, key, value):
    response = viewer_api.get(rows_url(rows) + "export/", {key: value, "format": "ndjson"})
    assert response.status_code == 400, response.content
    assert key in response.json()


@pytest.mark.parametrize("key,value", REFUSED)
@pytest.mark.parametrize("verb", ["update", "delete"])
def test_bulk_update_and_delete_filters_refuse_the_same_lookups(
    manager_api, rows, verb, key, value
):
    body = {"filter": {key: value}}
    if verb == "update":
        body["set"] = {"metadata": {"seen": True}}
    response = manager_api.post(rows_url(rows) + f"{verb}/", body, format="json")
    assert response.status_code == 400, response.content
    assert key in str(response.json())


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"metadata__split": "train"}, ["r1"]),
        ({"metadata__split__in": "val,test"}, ["r2"]),
        ({"metadata__n__gt": "1"}, ["r2"]),
        ({"metadata__n__lt": "2"}, ["r1"]),
        ({"metadata__split__contains": "rai"}, ["r1"]),
        ({"metadata__note__contains": "%_"}, ["r1"]),  # LIKE wildcards are literal
        ({"metadata__note__contains": "0%"}, ["r1"]),
        ({"metadata__note__contains": "_"}, ["r1"]),
        ({"metadata__deep__a": "y"}, ["r2"]),  # nested keys are allowed
        ({"metadata__deep__a__in": "x,z"}, ["r1"]),
        ({"metadata__missing__isnull": "true"}, ["r1", "r2"]),
        ({"metadata__split__isnull": "true"}, []),
        ({"global_key__in": "k2,k9"}, ["r2"]),
        ({"row_data__contains": "/1"}, ["r1"]),
        ({"row_data__contains": "S3://R/1"}, ["r1"]),  # case-insensitive on both engines
        ({"metadata__split__contains": "RAI"}, ["r1"]),
        ({"row_data__contains": "%"}, []),
        ({"created_at__gt": "2000-01-01T00:00:00Z"}, ["r1", "r2"]),
    ],
)
def test_the_listed_lookups_still_work(viewer_api, rows, query, expected):
    response = viewer_api.get(rows_url(rows), query)
    assert response.status_code == 200, response.content
    assert [r["id"] for r in response.json()["results"]] == expected


def test_an_exponential_regexp_never_runs(viewer_api, rows):
    start = time.perf_counter()
    response = viewer_api.get(rows_url(rows), {"metadata__split__regex": "^(a|a?)+$"})
    assert response.status_code == 400
    assert time.perf_counter() - start < GUARD_SECONDS


@pytest.mark.parametrize(
    "filter_",
    [
        {"created_at__lt": 5},
        {"created_at__in": [{"a": 1}]},
        {"id__in": [{"a": 1}]},
        {"global_key": {"a": 1}},
        {"metadata__split__isnull": "maybe"},
        {"id__in": "r1"},
    ],
)
def test_bulk_filter_values_of_the_wrong_type_are_a_400(manager_api, rows, filter_):
    response = manager_api.post(rows_url(rows) + "delete/", {"filter": filter_}, format="json")
    assert response.status_code == 400, response.content
    assert next(iter(filter_)) in str(response.json())


@pytest.mark.parametrize("path", ["", "export/"])
def test_a_filter_given_twice_is_a_400_not_the_last_one(viewer_api, rows, path):
    response = viewer_api.get(rows_url(rows) + path + "?metadata__split=train&metadata__split=val")
    assert response.status_code == 400
    assert "metadata__split" in response.json()
