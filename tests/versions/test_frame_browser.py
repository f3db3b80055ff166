"""The frame browser's reads and pages: a global-key search, a metadata filter, the global-key
order paged by keyset both ways, totals ("Showing 25–48 of 60"), refusals naming the field, the
frame page (404 for an unknown frame), and how each source is shown (versions/media.py)."""

import pytest

from dashboard.errors import Invalid
from versions import selectors
from versions.media import frame_media, media_kind
from versions.services import dataset_create, frames_add, version_commit, version_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(db):
    dataset, _ = dataset_create(name="browse")
    version, _ = version_create(dataset=dataset, name="main")
    frames_add(
        version=version,
        frames=[
            {
                "id": f"r-{29 - i:02d}",
                "global_key": f"Key-{i:02d}" if i != 7 else None,
                "sources": [{"uri": f"https://img.example/p?n={i}"}],
                "meta": {"split": "train" if i % 2 else "test", "n": i},
            }
            for i in range(30)
        ],
    )
    return version_commit(version=version)


def keys(frames):
    return [f["global_key"] for f in frames]


def test_unfiltered_pages_use_the_statistics_for_the_total(version, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        frames, more, total, capped = selectors.frames_browse(version=version, limit=10)
    assert [f["id"] for f in frames][:2] == ["r-00", "r-01"] and more
    assert (total, capped) == (30, False)


def test_a_global_key_search_ignores_case_and_counts_its_matches(version):
    frames, more, total, _ = selectors.frames_browse(version=version, key="key-1", limit=5)
    assert total == 10 and more and len(frames) == 5
    assert all(k.startswith("Key-1") for k in keys(frames))


def test_a_metadata_filter_reads_the_apis_lookups(version):
    meta = selectors.browse_meta_filter("n__gt=25")
    frames, _, total, _ = selectors.frames_browse(version=version, meta=meta, order="global_key")
    assert total == 4 and keys(frames) == ["Key-26", "Key-27", "Key-28", "Key-29"]
    meta = selectors.browse_meta_filter("split=test")
    assert selectors.frames_browse(version=version, meta=meta)[2] == 15


def test_the_global_key_order_pages_both_ways(version):
    seen, after = [], ""
    while True:
        frames, more, _, _ = selectors.frames_browse(
            version=version, order="global_key", after=after, limit=7
        )
        seen += frames
        if not more:
            break
        after = frames[-1]["id"]
    # A row without a global key sorts first (as ""); every row once, in key order.
    assert [f["global_key"] for f in seen] == [None] + sorted(
        f"Key-{i:02d}" for i in range(30) if i != 7
    )
    back, more, _, _ = selectors.frames_browse(
        version=version, order="global_key", before=seen[14]["id"], limit=7
    )
    assert back == seen[7:14] and more


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda v: selectors.browse_meta_filter("split"), "meta"),
        (lambda v: selectors.browse_meta_filter("a=" + "x" * 256), "meta"),
        (
            lambda v: selectors.frames_browse(version=v, meta={"metadata__n__regex": "1"}),
            "metadata__n__regex",
        ),
        (lambda v: selectors.frames_browse(version=v, order="size"), "order"),
        (lambda v: selectors.frames_browse(version=v, key="k" * 256), "key"),
    ],
)
def test_refusals_name_the_field(version, call, field):
    with pytest.raises(Invalid) as refused:
        call(version)
    assert refused.value.field == field


def test_the_version_page_shows_positions_and_refuses_a_bad_filter(client, manager, version):
    client.force_login(manager)
    page = client.get(f"/versions/{version.pk}/?after=r-23&at=25")
    assert "Showing 25–30 of 30 frames." in page.content.decode()
    bad = client.get(f"/versions/{version.pk}/?meta=split")
    assert bad.status_code == 400 and "key=value" in bad.content.decode()
    htmx = client.get(
        f"/versions/{version.pk}/?meta=split",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="frame-browser",
    )
    assert htmx.status_code == 200 and "key=value" in htmx.content.decode()


def test_the_frame_page(client, labeler, version):
    client.force_login(labeler)
    page = client.get(f"/versions/{version.pk}/frames/r-05/").content.decode()
    assert "Key-24" in page and 'src="https://img.example/p?n=24"' in page
    assert f'/versions/{version.pk}/frames/r-06/"' in page  # the next frame
    assert client.get(f"/versions/{version.pk}/frames/nope/").status_code == 404


@pytest.mark.parametrize(
    ("uri", "hint", "kind"),
    [
        ("https://images.example/photo?id=7", None, "image"),
        ("https://x.example/a.JPG?sig=1", None, "image"),
        ("https://x.example/a.mp3", None, "audio"),
        ("https://x.example/v.webm", None, "video"),
        ("https://x.example/stream", "video/mp4", "video"),
        ("https://x.example/doc.pdf", None, "link"),
        ("data:image/png;base64,AAAA", None, "image"),
        ("s3://bucket/a.jpg", None, "uri"),
        ("The brakes squeal.", None, "text"),
        ("", None, "text"),
    ],
)
def test_media_kinds(uri, hint, kind):
    assert media_kind(uri, hint=hint) == kind


def test_a_storage_uri_shows_its_https_preview():
    media = frame_media(
        {"sources": [{"id": "cam", "uri": "s3://b/1.jpg", "preview": {"uri": "https://cdn/1"}}]}
    )
    assert media == [
        {"name": "cam", "uri": "s3://b/1.jpg", "kind": "uri", "preview": "https://cdn/1"}
    ]


def test_the_dataset_page_links_its_rows_and_a_total_without_statistics(client, viewer, version):
    client.force_login(viewer)
    page = client.get(f"/datasets/{version.dataset_id}/").content.decode()
    assert f'href="/versions/{version.pk}/">browse its data rows</a>' in page
    version.stats = {}
    version.save(update_fields=["stats"])
    assert selectors.frames_browse(version=version, limit=5)[2:] == (30, False)
    assert selectors.frames_browse(version=version, source="https://*", limit=5)[2] is None
