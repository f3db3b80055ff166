"""The role matrix, generated from the URL resolver so no endpoint can be forgotten.

For every API and page pattern and every method it serves: anonymous → 401 (API) or the login
page (pages); a user one role below what the policy allows → 403; a user with that role → not
refused (and never a 5xx, even with made-up ids and empty bodies). The policy is DESIGN.md's
and API.md's: viewers read, labelers also work the queue (and read their own labels),
reviewers also review labels and read rows with their labels, managers do everything.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from dashboard.roles import Role

from ..factories import UserFactory

pytestmark = pytest.mark.django_db

SAFE = {"GET", "HEAD", "OPTIONS"}
SKIP_PREFIXES = ("admin/", "api/schema/", "api/docs/", "accounts/", "static/", "media/")
LABELER_WRITES = re.compile(r"(queue/next/|queue/[^/]+/(submit|skip)/|/label/)$")
# Reads that take their question in a POST body (too many ids for a URL): viewers read.
READS_BY_POST = re.compile(r"/frames/query/$")


# Pages that perform, or show the form / confirmation of, a manager's action.
MANAGER_PAGES = re.compile(
    r"/(cancel|retry|metadata|mask-labels|frames|commit|snapshot|remove|new|from-dataset|priority|"
    r"move|delete-labels|delete|remove-queued|export|import|reorder|update)/$"
)


# Reviewing: the review queue, accept / reject, bulk review, a row with its labels, the page.
REVIEWER_PATHS = re.compile(
    r"/(review/next/|labels/review/|labels/[^/]+/(accept|reject)/|rows/[^/]+/|review/)$"
)
# The labels list: labelers read their own (viewers none).
LABELER_READS = re.compile(r"/(label|labels)/$")

# The audit trail and webhooks are managers' only, reading included (API.md).
MANAGER_ONLY = re.compile(r"^/(api/v1/)?(events|webhooks|activity)/")


def policy(path: str, method: str, kind: str = "api") -> Role:
    """The least role DESIGN.md allows for this request."""
    if MANAGER_ONLY.search(path):
        return Role.MANAGER
    if kind == "page" and MANAGER_PAGES.search(path):
        return Role.MANAGER
    if REVIEWER_PATHS.search(path):
        return Role.REVIEWER
    if method in SAFE:
        return Role.LABELER if LABELER_READS.search(path) else Role.VIEWER
    if LABELER_WRITES.search(path):
        return Role.LABELER
    if kind == "api" and READS_BY_POST.search(path):
        return Role.VIEWER
    if path == "/profile/":
        return Role.VIEWER  # anyone signed in manages their own API token
    return Role.MANAGER


def walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def concrete(route: str) -> str:
    path = re.sub(
        r"<(?:\w+:)?(\w+)>", lambda m: "1" if m.group(1).endswith("entry_id") else "x", route
    )
    return "/" + path.lstrip("^").rstrip("$")


def endpoints():
    found = []
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES) or "(?P<format>" in route:
            continue
        view = pattern.callback
        cls = getattr(view, "cls", None)
        path = concrete(route)
        if cls is not None:  # a DRF API view
            methods = [
                m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)
            ]
            for method in methods:
                found.append(("api", path, method, view))
        else:
            found.append(("page", path, "GET", view))
    return found


ENDPOINTS = endpoints()


def below(role: Role) -> Role | None:
    return Role(role - 1) if role > Role.VIEWER else None


@pytest.fixture
def users(db):
    return {role: UserFactory(username=f"u-{role.name.lower()}", role=role) for role in Role}


def call(client, method: str, path: str):
    kwargs = {"format": "json"} if isinstance(client, APIClient) else {}
    if method in ("POST", "PUT", "PATCH"):
        return getattr(client, method.lower())(path, {}, **kwargs)
    return getattr(client, method.lower())(path)


def test_every_api_view_and_page_declares_a_role():
    missing = []
    for kind, path, _method, view in ENDPOINTS:
        if (
            kind == "page"
            and not hasattr(view, "required_role")
            and not hasattr(getattr(view, "view_class", None), "required_role")
        ):
            missing.append(path)
    assert not missing, f"pages without a role guard: {missing}"


@pytest.mark.parametrize(
    ("kind", "path", "method"),
    [e[:3] for e in ENDPOINTS],
    ids=[f"{e[2]} {e[1]}" for e in ENDPOINTS],
)
def test_role_matrix(kind, path, method, users):
    view = next(e[3] for e in ENDPOINTS if e[:3] == (kind, path, method))
    if kind == "api":
        cls = view.cls
        needed = getattr(
            cls,
            "read_role" if method in SAFE else "write_role",
            Role.VIEWER if method in SAFE else Role.MANAGER,
        )
        assert needed == policy(path, method), f"{method} {path} asks {needed.name}"
        anonymous = call(APIClient(), method, path)
        assert anonymous.status_code == 401, (method, path, anonymous.status_code)
        make_client = APIClient
    else:
        from django.test import Client

        needed = getattr(view, "required_role", None) or view.view_class.required_role
        assert needed == policy(path, method, "page"), f"page {path} asks {needed.name}"
        probe = Client()
        probe.force_login(users[Role.MANAGER])
        if probe.get(path).status_code == 405:
            method = "POST"  # a POST-only page (the verb behind a form)
        anonymous = call(Client(), method, path)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        make_client = Client

    weaker = below(needed)
    if weaker is not None:
        client = make_client()
        client.force_login(users[weaker])
        refused = call(client, method, path)
        assert refused.status_code == 403, (method, path, weaker.name, refused.status_code)

    client = make_client()
    client.force_login(users[needed])
    allowed = call(client, method, path)
    assert allowed.status_code not in (401, 403), (method, path, allowed.status_code)
    assert allowed.status_code < 500, (method, path, allowed.status_code)
