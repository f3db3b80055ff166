"""The Webhooks and Activity pages' project select is bounded (the first projects by name)
and still holds the chosen project wherever it is: a webhook of a project beyond the bound
keeps its project when its page is saved."""

import re

import pytest

from batches.models import Project
from dashboard.webhooks import webhook_create
from dashboard.webhooks_forms import CHOICES_MAX as PROJECT_CHOICES_MAX

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def last_project():
    """More projects than the select lists; the returned one sorts last by name."""
    Project.objects.bulk_create(Project(name=f"p{i:04d}") for i in range(PROJECT_CHOICES_MAX + 20))
    return Project.objects.create(name="zz last")


def project_options(html: str) -> list[str]:
    select = re.search(r'<select name="project".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]*)"', select)


def test_the_project_select_is_bounded(as_manager, last_project):
    html = as_manager.get("/webhooks/").content.decode()
    assert len(project_options(html)) == PROJECT_CHOICES_MAX + 1  # and "every project"
    assert last_project.pk not in project_options(html)


def test_a_webhook_of_a_project_beyond_the_bound_keeps_it_when_saved(as_manager, last_project):
    webhook = webhook_create(url="https://example.com/hook", events=["*"], project=last_project.pk)
    html = as_manager.get(f"/webhooks/{webhook.pk}/").content.decode()
    assert re.search(rf'<option value="{last_project.pk}" selected>', html)
    response = as_manager.post(
        f"/webhooks/{webhook.pk}/",
        {
            "url": "https://example.com/other",
            "events": ["*"],
            "project": last_project.pk,
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    webhook.refresh_from_db()
    assert webhook.project == last_project.pk and webhook.url.endswith("/other")


def test_the_activity_filter_takes_a_project_beyond_the_bound(as_manager, last_project):
    response = as_manager.get("/activity/", {"project": last_project.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(rf'<option value="{last_project.pk}" selected>', html)
