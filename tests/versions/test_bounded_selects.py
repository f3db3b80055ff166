"""The dataset and version pages' version selects stay bounded whatever the number of
versions: the ones changed last, and the chosen one always."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.list_controls import CHOICES_MAX
from versions.models import DatasetVersion

pytestmark = pytest.mark.django_db

MANY = CHOICES_MAX + 100
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def many_published(dataset, published):
    """MANY more published versions, newer than `published` (the one made first)."""
    now = datetime.now(UTC)
    DatasetVersion.objects.bulk_create(
        DatasetVersion(
            dataset=dataset,
            name=f"s{i:04d}",
            status=DatasetVersion.Status.PUBLISHED,
            published_at=now + timedelta(seconds=i),
            parent=published,
            depth=1,
        )
        for i in range(MANY)
    )
    DatasetVersion.objects.filter(pk=published.pk).update(updated_at=LONG_AGO)
    return published


def options(html: str, select: str) -> list[str]:
    found = re.search(rf"<select [^>]*{select}.*?</select>", html, re.S).group(0)
    return [v for v in re.findall(r'<option value="([^"]*)"', found) if v]


def test_the_new_version_form_lists_a_bounded_share_of_the_parents(
    as_manager, dataset, many_published
):
    html = as_manager.get(f"/datasets/{dataset.pk}/").content.decode()
    parents = options(html, 'name="parent"')
    assert len(parents) == CHOICES_MAX and many_published.pk not in parents
    assert f"The {CHOICES_MAX} changed last are listed." in html


def test_a_parent_beyond_the_share_is_still_taken(as_manager, dataset, many_published):
    response = as_manager.post(
        f"/datasets/{dataset.pk}/",
        {"name": "from-the-oldest", "description": "", "parent": many_published.pk},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert DatasetVersion.objects.get(name="from-the-oldest").parent_id == many_published.pk


def test_a_parent_that_is_no_published_version_is_refused(as_manager, dataset, draft):
    response = as_manager.post(
        f"/datasets/{dataset.pk}/", {"name": "x", "description": "", "parent": draft.pk}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_the_compare_select_lists_a_bounded_share_and_the_one_compared(
    as_manager, draft, many_published
):
    html = as_manager.get(f"/versions/{draft.pk}/diff/", {"against": "nothing"}).content.decode()
    assert len(options(html, 'id="id_against"')) == CHOICES_MAX
    assert f"The {CHOICES_MAX} versions changed last are listed" in html
    # The draft's parent (changed long ago) is compared with by default, and listed.
    html = as_manager.get(f"/versions/{draft.pk}/diff/").content.decode()
    assert many_published.pk in options(html, 'id="id_against"')
    assert re.search(rf'<option value="{many_published.pk}" selected>', html)


def test_the_version_page_does_not_read_the_other_versions(as_manager, draft, many_published):
    with CaptureQueriesContext(connection) as captured:
        html = as_manager.get(f"/versions/{draft.pk}/").content.decode()
    assert "Compare…" in html
    table = DatasetVersion._meta.db_table
    unbounded = [
        q["sql"]
        for q in captured.captured_queries
        if f'FROM "{table}"' in q["sql"] and "LIMIT" not in q["sql"] and "COUNT(" not in q["sql"]
    ]
    assert unbounded == []
