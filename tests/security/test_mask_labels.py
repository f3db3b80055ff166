"""`mask_labels` is checked the same way on every path that writes version metadata (create,
snapshot's `child_metadata` and `publish_metadata`, metadata PUT, the mask-labels endpoint), and
the version page never puts stored data into a `style` attribute."""

import re

import pytest

from versions.models import DatasetVersion
from versions.services import dataset_create, version_create, version_publish

pytestmark = pytest.mark.django_db

INJECTION = [{"value": ["0);background:url(https://evil.example/x)", 0, 0], "labels": ["x"]}]
BAD = [
    INJECTION,
    [{"value": [0, 0, 256], "labels": ["x"]}],
    [{"value": [1, 1, 1], "labels": "x"}],
    {"value": [1, 1, 1]},
]


@pytest.fixture
def dataset(db):
    return dataset_create(name="masks")[0]


@pytest.fixture
def draft(dataset):
    root, _ = version_create(dataset=dataset, name="v1")
    published = version_publish(version=root)
    return version_create(dataset=dataset, name="v2", parent=published)[0]


def url(path):
    return f"/api/v1/{path}"


@pytest.mark.parametrize("bad", BAD)
def test_version_create_refuses_bad_mask_labels(manager_api, dataset, bad):
    response = manager_api.post(
        url(f"datasets/{dataset.pk}/versions/"),
        {"name": "evil", "metadata": {"mask_labels": bad}},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "mask_labels" in response.json()["metadata"][0]
    assert not DatasetVersion.objects.filter(name="evil").exists()


@pytest.mark.parametrize("field", ["child_metadata", "publish_metadata"])
@pytest.mark.parametrize("bad", BAD)
def test_snapshot_refuses_bad_mask_labels_and_publishes_nothing(manager_api, draft, field, bad):
    response = manager_api.post(
        url(f"versions/{draft.pk}/snapshot/"), {field: {"mask_labels": bad}}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "mask_labels" in response.json()[field][0]
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.children.count() == 0


@pytest.mark.parametrize("bad", BAD)
def test_metadata_put_refuses_bad_mask_labels(manager_api, draft, bad):
    response = manager_api.put(
        url(f"versions/{draft.pk}/metadata/"), {"mask_labels": bad}, format="json"
    )
    assert response.status_code == 400 and "mask_labels" in response.json()


def test_good_mask_labels_are_kept_on_every_path(manager_api, dataset, draft):
    masks = [{"value": [255, 0, 16], "labels": ["car"]}]
    created = manager_api.post(
        url(f"datasets/{dataset.pk}/versions/"),
        {"name": "ok", "metadata": {"mask_labels": masks}},
        format="json",
    )
    assert created.status_code == 201 and created.json()["metadata"]["mask_labels"] == masks
    snap = manager_api.post(
        url(f"versions/{draft.pk}/snapshot/"),
        {"child_metadata": {"mask_labels": masks}, "publish_metadata": {"mask_labels": masks}},
        format="json",
    )
    assert snap.status_code == 201 and snap.json()["metadata"]["mask_labels"] == masks
    draft.refresh_from_db()
    assert draft.metadata["mask_labels"] == masks


def test_version_page_puts_no_stored_data_into_style(client, viewer, draft):
    # Data stored before validation existed (or by a path that bypassed it) is rendered inert:
    # no style attribute, and the swatch colour is made of hex digits only.
    DatasetVersion.objects.filter(pk=draft.pk).update(
        metadata={"mask_labels": [*INJECTION, {"value": [255, 0, 16], "labels": ["car"]}]}
    )
    client.force_login(viewer)
    html = client.get(f"/versions/{draft.pk}/").content.decode()
    assert not re.search(r"style=[\"'][^\"']*(evil|rgb\()", html)
    fills = re.findall(r'fill="([^"]*)"', html)
    assert "#ff0010" in fills
    assert all(re.fullmatch(r"#[0-9a-f-]*", fill) for fill in fills)
