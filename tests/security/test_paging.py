"""Paging parameters are validated alike on every list: `page_size` is an integer from 1 to
1000 in ASCII digits (else a 400 naming it), `cursor` a token from a page's link (else a 404
naming it: it names no page, as DRF answers) — never a silent default, a silent cap or a
restart from the first page."""

import base64

import pytest

from batches.models import Project
from dashboard.models import Job, JobError
from tests.factories import BatchFactory
from versions.services import dataset_create, frames_add, version_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def lists(db):
    """Every paged list, as an API path."""
    dataset, _ = dataset_create(name="paged")
    version_create(dataset=dataset, name="draft-2")  # updated before `draft`: not current
    draft, _ = version_create(dataset=dataset, name="draft")
    frames_add(
        version=draft,
        frames=[{"id": f"f{i}", "sources": [{"uri": f"s3://x/{i}"}]} for i in range(3)],
    )
    dataset_create(name="paged-2")
    project = Project.objects.create(name="p")
    Project.objects.create(name="p2")
    BatchFactory(project=project)
    BatchFactory(project=project)
    Job.objects.create(kind="export", status="succeeded")
    job = Job.objects.create(kind="import", status="succeeded")
    JobError.objects.create(job=job, index=0, message="bad")
    JobError.objects.create(job=job, index=1, message="bad")
    return [
        "datasets/",
        f"datasets/{dataset.pk}/data-rows/",
        f"datasets/{dataset.pk}/versions/",
        f"versions/{draft.pk}/frames/",
        "jobs/",
        f"jobs/{job.pk}/errors/",
        "projects/",
        f"projects/{project.pk}/batches/",
    ]


BAD_PAGE_SIZES = ["0", "5000", "1001", "abc", "\u00b2", "-1", "1.5", "", " 3", "1e2"]


@pytest.mark.parametrize("value", BAD_PAGE_SIZES)
def test_a_bad_page_size_is_a_400_on_every_list(manager_api, lists, value):
    for path in lists:
        response = manager_api.get(f"/api/v1/{path}", {"page_size": value})
        assert response.status_code == 400, (path, response.status_code, response.content[:200])
        assert "page_size" in response.json(), path


def test_a_good_page_size_is_honoured_on_every_list(manager_api, lists):
    for path in lists:
        for size in ("1", "1000"):
            response = manager_api.get(f"/api/v1/{path}", {"page_size": size})
            assert response.status_code == 200, (path, response.content[:200])
            assert len(response.json()["results"]) <= int(size)


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


BAD_CURSORS = ["!!!", "abc", b64("p=\x00"), b64("\x00"), b64("o=x"), "%ff", b64("o=-1&p=1")]


@pytest.mark.parametrize("value", BAD_CURSORS)
def test_an_undecodable_cursor_is_a_404_on_every_list(manager_api, lists, value):
    for path in lists:
        response = manager_api.get(f"/api/v1/{path}", {"cursor": value})
        assert response.status_code == 404, (path, response.status_code, response.content[:200])
        assert "cursor" in response.json(), path


def test_every_list_follows_its_own_next_links(manager_api, lists):
    for path in lists:
        response = manager_api.get(f"/api/v1/{path}", {"page_size": 1})
        assert response.status_code == 200, path
        page = response.json()
        pages = 1
        while page["next"]:
            response = manager_api.get(page["next"])
            assert response.status_code == 200, (path, response.content[:200])
            page = response.json()
            pages += 1
        assert pages >= 2, path
        while page["previous"]:
            response = manager_api.get(page["previous"])
            assert response.status_code == 200, (path, response.content[:200])
            page = response.json()
            pages -= 1
        assert pages == 1, path
