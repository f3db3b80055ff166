"""Fixtures for the versions tests: a dataset with a published root and frames."""

import pytest

from versions.services import dataset_create, frames_add, version_create, version_publish


def make_frame(i, **meta):
    return {
        "id": f"f{i}",
        "global_key": f"gk-{i}",
        "sources": [{"uri": f"s3://b/{i}.jpg"}],
        "meta": meta or {"n": i},
        "rois": [{"label": ["car"], "bbox": [0, 0, 1, 1]}],
    }


@pytest.fixture
def dataset(db):
    return dataset_create(name="cars")[0]


@pytest.fixture
def published(dataset):
    root, _ = version_create(dataset=dataset, name="v1")
    frames_add(version=root, frames=[make_frame(i) for i in range(5)])
    return version_publish(version=root)


@pytest.fixture
def draft(dataset, published):
    return version_create(dataset=dataset, name="v2", parent=published)[0]
