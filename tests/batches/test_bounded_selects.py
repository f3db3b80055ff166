"""The batches-from-a-dataset page's selects stay bounded whatever the number of datasets
and versions: a share of them, the chosen one always, and a name search for the rest."""

import re
from datetime import UTC, datetime

import pytest

from dashboard.list_controls import CHOICES_MAX
from versions.models import Dataset, DatasetVersion

pytestmark = pytest.mark.django_db

MANY = CHOICES_MAX + 100
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def many_datasets():
    Dataset.objects.bulk_create(Dataset(name=f"d{i:04d}") for i in range(MANY))
    return Dataset.objects.order_by("name")


def options(html: str, select_id: str) -> list[str]:
    select = re.search(rf'<select id="{select_id}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]+)"', select)


def page(client, project, **params):
    response = client.get(f"/projects/{project.pk}/batches/from-dataset/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_dataset_select_lists_a_bounded_share_and_offers_a_search(
    client, manager, project, many_datasets, django_assert_max_num_queries
):
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        html = page(client, project)
    assert len(options(html, "id_dataset")) == CHOICES_MAX
    assert 'name="dataset_q"' in html and f"The first {CHOICES_MAX} datasets" in html


def test_a_name_search_finds_a_dataset_beyond_the_share(client, manager, project, many_datasets):
    client.force_login(manager)
    last = many_datasets.last()
    assert last.pk not in options(page(client, project), "id_dataset")
    html = page(client, project, dataset_q=last.name)
    assert options(html, "id_dataset") == [last.pk]
    assert f'value="{last.name}"' in html


def test_the_chosen_dataset_stays_listed_with_its_versions(client, manager, project, many_datasets):
    client.force_login(manager)
    last = many_datasets.last()
    DatasetVersion.objects.bulk_create(
        DatasetVersion(dataset=last, name=f"v{i:04d}") for i in range(MANY)
    )
    html = page(client, project, dataset_id=last.pk)
    assert last.pk in options(html, "id_dataset")
    assert re.search(rf'<option value="{last.pk}" selected>', html)
    assert len(options(html, "id_version")) == CHOICES_MAX
    assert f"The {CHOICES_MAX} versions changed last are listed" in html
    oldest = DatasetVersion.objects.filter(dataset=last).first()
    DatasetVersion.objects.filter(pk=oldest.pk).update(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert oldest.pk not in options(page(client, project, dataset_id=last.pk), "id_version")
    partial = client.get(
        f"/projects/{project.pk}/batches/from-dataset/",
        {"dataset_id": last.pk, "version_id": oldest.pk},
        **HTMX,
    ).content.decode()
    assert oldest.pk in options(partial, "id_version")  # the chosen one, though old


def test_a_few_datasets_are_all_listed_without_a_search(client, manager, project):
    Dataset.objects.bulk_create(Dataset(name=f"d{i}") for i in range(3))
    client.force_login(manager)
    html = page(client, project)
    assert len(options(html, "id_dataset")) == 3
    assert 'name="dataset_q"' not in html


def test_a_search_too_long_is_cut_not_a_500(client, manager, project, many_datasets):
    client.force_login(manager)
    response = client.post(
        f"/projects/{project.pk}/batches/from-dataset/",
        {"action": "show-versions", "dataset_q": "d" * 5000, "name_prefix": "x"},
    )
    assert response.status_code == 200
    assert options(response.content.decode(), "id_dataset") == []
