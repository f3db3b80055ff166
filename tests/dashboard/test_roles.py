"""Roles and auth: anonymous → 401 / login redirect, viewers read, managers write, CSRF on."""

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dashboard.models import Job
from dashboard.roles import Role, user_role

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def test_role_groups_exist_after_migrations():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {
        "manager",
        "reviewer",
        "labeler",
        "viewer",
    }


def test_anonymous_api_request_is_401_with_www_authenticate():
    response = APIClient().get("/api/v1/jobs/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("path", ["/", "/jobs/", "/datasets/", "/projects/", "/profile/"])
def test_anonymous_page_request_redirects_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_user_without_role_is_forbidden(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/").status_code == 403
    assert user_role(user) is None


def test_viewer_reads_but_cannot_write(viewer_api):
    job = Job.objects.create(kind="recount_stats")
    assert viewer_api.get("/api/v1/jobs/").status_code == 200
    response = viewer_api.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert response.status_code == 403
    assert "role" in response.json()["detail"]


def test_labeler_cannot_manage(labeler_api):
    job = Job.objects.create(kind="recount_stats")
    assert labeler_api.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 403


def test_manager_can_manage(manager_api):
    job = Job.objects.create(kind="recount_stats")
    assert manager_api.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 200


def test_role_hierarchy_and_superuser():
    assert Role.MANAGER > Role.REVIEWER > Role.LABELER > Role.VIEWER
    assert user_role(UserFactory(is_superuser=True)) == Role.MANAGER


def test_session_authenticated_writes_need_csrf(manager):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager)
    job = Job.objects.create(kind="recount_stats")
    response = client.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_bad_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/jobs/").status_code == 401


def test_issue_token_command_prints_a_working_token(manager, capsys):
    call_command("issue_token", "manager")
    key = capsys.readouterr().out.strip()
    assert Token.objects.get(user=manager).key == key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/jobs/").status_code == 200
    call_command("issue_token", "manager")
    assert capsys.readouterr().out.strip() == key  # stable until replaced
    call_command("issue_token", "manager", "--new")
    assert capsys.readouterr().out.strip() != key


def test_issue_token_for_unknown_user_is_an_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user"):
        call_command("issue_token", "ghost")


def test_profile_page_issues_a_token(client, viewer):
    client.force_login(viewer)
    assert "no API token" in client.get("/profile/").content.decode()
    html = client.post("/profile/", follow=True).content.decode()
    assert Token.objects.get(user=viewer).key in html


def test_login_and_logout(client, viewer):
    response = client.post("/accounts/login/", {"username": "viewer", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_login_refuses_open_redirects(client, viewer):
    response = client.post(
        "/accounts/login/?next=https://evil.example/",
        {"username": "viewer", "password": "pw", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_wrong_password_shows_an_error(client, viewer):
    response = client.post("/accounts/login/", {"username": "viewer", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_role_required_mixin_guards_class_based_pages(rf, viewer, labeler):
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponse
    from django.views import View

    from dashboard.roles import RoleRequiredMixin

    class QueuePage(RoleRequiredMixin, View):
        required_role = Role.VIEWER
        write_role = Role.LABELER

        def get(self, request):
            return HttpResponse("ok")

        post = get

    view = QueuePage.as_view()
    anonymous = rf.get("/queue/")
    anonymous.user = AnonymousUser()
    assert view(anonymous).status_code == 302
    read = rf.get("/queue/")
    read.user = viewer
    assert view(read).status_code == 200
    write = rf.post("/queue/")
    write.user = viewer
    with pytest.raises(PermissionDenied):
        view(write)
    write.user = labeler
    assert view(write).status_code == 200
