"""Frames and data rows page both ways: `next` and `previous` links walk the whole list in id
order, across a copy-on-write chain (changed, added and deleted frames in the child) and with
a source filter; the first page has no `previous`, the last no `next`."""

import pytest

from versions.services import frames_add, frames_delete

from .conftest import make_frame

pytestmark = pytest.mark.django_db


@pytest.fixture
def changed_draft(draft):
    # The draft changes f1, adds f5..f9 and deletes f3; the rest come from the parent.
    frames_add(version=draft, frames=[make_frame(1, n=100)] + [make_frame(i) for i in range(5, 10)])
    frames_delete(version=draft, ids=["f3"])
    return draft


EXPECTED = ["f0", "f1", "f2", "f4", "f5", "f6", "f7", "f8", "f9"]


def walk(client, url, link):
    pages, seen = [], set()
    while url:
        assert url not in seen, "a page repeated"
        seen.add(url)
        body = client.get(url).json()
        pages.append(body)
        url = body[link]
    return pages


def ids(page):
    return [r["id"] for r in page["results"]]


@pytest.mark.parametrize("kind", ["frames", "data-rows"])
def test_next_then_previous_walk_the_whole_list_both_ways(kind, manager_api, changed_draft):
    base = (
        f"/api/v1/versions/{changed_draft.pk}/frames/?page_size=2"
        if kind == "frames"
        else f"/api/v1/datasets/{changed_draft.dataset_id}/data-rows/?page_size=2"
    )
    forward = walk(manager_api, base, "next")
    assert [i for p in forward for i in ids(p)] == EXPECTED
    assert forward[0]["previous"] is None and forward[-1]["next"] is None
    backward = walk(manager_api, forward[-1]["previous"], "previous")
    assert [i for p in reversed(backward) for i in ids(p)] == EXPECTED[:-1]
    # each previous page is exactly the forward page before it
    assert [ids(p) for p in backward] == [ids(p) for p in reversed(forward[:-1])]
    assert backward[-1]["previous"] is None
    # and from a backward page, next goes forward again
    assert ids(manager_api.get(backward[0]["next"]).json()) == ids(forward[-1])


def test_previous_keeps_the_filter_and_projection(manager_api, changed_draft):
    url = f"/api/v1/versions/{changed_draft.pk}/frames/?page_size=3&source=s3://b/*&projection=meta"
    forward = walk(manager_api, url, "next")
    metas = [f["meta"]["n"] for p in forward for f in p["results"]]
    assert metas == [0, 100, 2, 4, 5, 6, 7, 8, 9]
    assert all(set(f) == {"meta"} for p in forward for f in p["results"])
    back = manager_api.get(forward[-1]["previous"]).json()
    assert [f["meta"]["n"] for f in back["results"]] == [4, 5, 6]
    assert "source=" in forward[-1]["previous"] and "projection=meta" in forward[-1]["previous"]


def test_a_cursor_from_before_backward_paging_still_reads_forward(manager_api, changed_draft):
    import base64

    old = base64.urlsafe_b64encode(b"f4").decode()
    body = manager_api.get(
        f"/api/v1/versions/{changed_draft.pk}/frames/?page_size=2&cursor={old}"
    ).json()
    assert ids(body) == ["f5", "f6"] and body["previous"] and body["next"]
