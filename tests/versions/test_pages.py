"""Dataset and version pages: tag filter, version tree, forms with errors where they happened,
confirmations for snapshot and remove, frame browser partial, diff, and the admin actions."""

import pytest

from versions.models import Dataset, DatasetVersion

from .conftest import make_frame

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


def test_dataset_list_filters_by_tags_and_serves_the_table_partial(as_manager):
    Dataset.objects.create(name="kept", tags=["best"])
    Dataset.objects.create(name="dropped", tags=["best", "debug"])
    html = as_manager.get("/datasets/?tags=best+-debug").content.decode()
    assert ">kept<" in html and ">dropped<" not in html
    partial = as_manager.get("/datasets/?tags=debug", HTTP_HX_TARGET="dataset-table", **HTMX)
    body = partial.content.decode()
    assert "<html" not in body and ">dropped<" in body and ">kept<" not in body
    bad = as_manager.get("/datasets/?tags=__$nope").content.decode()
    assert "Unknown tag operator" in bad


def test_create_dataset_form_and_duplicate_name_error(as_manager):
    response = as_manager.post("/datasets/", {"name": "cars", "tags": "a, b"})
    dataset = Dataset.objects.get(name="cars")
    assert response.status_code == 302 and dataset.tags == ["a", "b"]
    again = as_manager.post("/datasets/", {"name": "cars"})
    assert again.status_code == 400 and "already exists" in again.content.decode()


def test_viewer_cannot_post_forms(client, viewer):
    client.force_login(viewer)
    assert client.post("/datasets/", {"name": "x"}).status_code == 403
    assert not Dataset.objects.exists()


def test_dataset_page_draws_the_version_tree(as_manager, dataset, published, draft):
    html = as_manager.get(f"/datasets/{dataset.pk}/").content.decode()
    assert html.index(">v1<") < html.index(">v2<")  # parent drawn above its child
    assert html.count('class="tree"') == 2  # the child sits in a nested list
    assert "badge-published" in html and "badge-draft" in html


def test_create_version_form_with_parent_and_errors(as_manager, dataset, published):
    response = as_manager.post(f"/datasets/{dataset.pk}/", {"name": "v9", "parent": published.pk})
    version = DatasetVersion.objects.get(name="v9")
    assert response.status_code == 302 and version.parent == published
    empty = as_manager.post(f"/datasets/{dataset.pk}/", {"name": ""})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()


def test_version_page_shows_stats_frames_and_pages_through_them(as_manager, draft, monkeypatch):
    from versions import views

    monkeypatch.setattr(views, "FRAMES_PER_PAGE", 2)
    html = as_manager.get(f"/versions/{draft.pk}/").content.decode()
    assert ">f0<" in html and ">f1<" in html and ">f2<" not in html
    assert "after=f1" in html
    partial = as_manager.get(
        f"/versions/{draft.pk}/?after=f1", HTTP_HX_TARGET="frame-browser", **HTMX
    ).content.decode()
    assert "<html" not in partial and ">f2<" in partial and ">f3<" in partial
    assert "before=f2" in partial and "after=f3" in partial
    back = as_manager.get(f"/versions/{draft.pk}/?before=f2").content.decode()
    assert ">f0<" in back and ">f1<" in back and ">f2<" not in back
    assert "before=" not in back and "after=f1" in back  # the first page again
    filtered = as_manager.get(f"/versions/{draft.pk}/?source=s3://b/4.jpg").content.decode()
    assert ">f4<" in filtered and ">f0<" not in filtered


def test_frame_previews_only_for_web_images(as_manager, draft):
    from versions.services import frames_add

    frames_add(
        version=draft, frames=[{"id": "web", "sources": [{"uri": "https://example.org/cat.png"}]}]
    )
    html = as_manager.get(f"/versions/{draft.pk}/?source=https://*").content.decode()
    assert '<img src="https://example.org/cat.png"' in html
    assert 'src="s3://' not in as_manager.get(f"/versions/{draft.pk}/").content.decode()


def test_metadata_and_mask_label_editors(as_manager, draft):
    response = as_manager.post(
        f"/versions/{draft.pk}/metadata/", {"metadata": '{"a": 1}'}, follow=True
    )
    assert "Metadata saved" in response.content.decode()
    bad = as_manager.post(
        f"/versions/{draft.pk}/metadata/", {"metadata": '{"a.b": 1}'}, follow=True
    )
    assert "may not contain" in bad.content.decode()
    broken = as_manager.post(f"/versions/{draft.pk}/metadata/", {"metadata": "{nope"}, follow=True)
    assert "Not valid JSON" in broken.content.decode()
    masks = '[{"value": [1, 2, 3], "labels": ["cat"]}]'
    as_manager.post(f"/versions/{draft.pk}/mask-labels/", {"mask_labels": masks})
    draft.refresh_from_db()
    assert draft.metadata == {"a": 1, "mask_labels": [{"value": [1, 2, 3], "labels": ["cat"]}]}


def test_add_frames_form_reports_failures(as_manager, draft):
    body = '[{"id": "n1", "sources": [{"uri": "s3://n/1"}]}, {"sources": []}]'
    html = as_manager.post(
        f"/versions/{draft.pk}/frames/", {"frames": body}, follow=True
    ).content.decode()
    assert "1 frame(s) added" in html and "Frame 1 not added (validation)" in html


def test_snapshot_confirmation_then_publish(as_manager, draft):
    confirm = as_manager.get(f"/versions/{draft.pk}/snapshot/").content.decode()
    assert "locks" in confirm and "draft child" in confirm
    response = as_manager.post(f"/versions/{draft.pk}/snapshot/", {"child_name": "next"})
    child = DatasetVersion.objects.get(name="next")
    assert response.status_code == 302 and response["Location"] == f"/versions/{child.pk}/"
    draft.refresh_from_db()
    assert draft.is_published and child.parent == draft
    again = as_manager.post(f"/versions/{draft.pk}/snapshot/", {})
    assert again.status_code == 400 and "published" in again.content.decode()


def test_remove_confirmation_needs_force_for_published(as_manager, published, draft):
    confirm = as_manager.get(f"/versions/{published.pk}/remove/").content.decode()
    assert "1 child version" in confirm and "force" in confirm
    refused = as_manager.post(f"/versions/{published.pk}/remove/", {})
    assert refused.status_code == 409 and "force" in refused.content.decode()
    done = as_manager.post(f"/versions/{published.pk}/remove/", {"force": "on"})
    assert done.status_code == 302
    published.refresh_from_db()
    assert published.removed  # hidden, kept for its child
    assert ">f3<" in as_manager.get(f"/versions/{draft.pk}/").content.decode()


def test_diff_page_compares_with_the_parent_by_default(as_manager, published, draft):
    from versions.services import frames_add

    frames_add(version=draft, frames=[make_frame(1, n="x"), make_frame(42)])
    html = as_manager.get(f"/versions/{draft.pk}/diff/").content.decode()
    assert "<code>f42</code>" in html and "<code>f1</code>" in html


def test_admin_actions_publish_snapshot_commit(client, manager, draft):
    manager.is_staff = manager.is_superuser = True
    manager.save()
    client.force_login(manager)
    url = "/admin/versions/datasetversion/"
    client.post(url, {"action": "commit", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.stats["frame_count"] == 5
    client.post(url, {"action": "snapshot", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.is_published and draft.children.count() == 1
    child = draft.children.get()
    client.post(url, {"action": "publish", "_selected_action": [child.pk]})
    child.refresh_from_db()
    assert child.is_published
