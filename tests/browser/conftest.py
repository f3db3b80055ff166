"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

No browser is ever downloaded. Without /usr/bin/chromium the browser tests are skipped (a
newcomer still gets a green `make test`), unless `CI` is set, where that is a failure.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from dashboard.roles import Role

from ..factories import UserFactory

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told this is deliberate (fixtures and tests use the ORM).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-output" / "screenshots"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_users(transactional_db, settings):
    """A manager and a labeler (fast password hashing: only the sign-in test types one)."""
    from django.contrib.auth.models import Group

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A transactional test flushes the tables, including the role groups a migration made.
    for role in Role:
        Group.objects.get_or_create(name=role.group_name)
    return {
        "manager": UserFactory(username="manager", role=Role.MANAGER),
        "labeler": UserFactory(username="labeler", role=Role.LABELER),
    }


def _session_cookie(user, live_server_url: str) -> dict:
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    return {"name": cookie.key, "value": cookie.value, "url": live_server_url}


@pytest.fixture
def new_page(browser, live_server):
    """new_page(user=None, js=True) → a page in a fresh context, signed in as `user`."""
    contexts = []

    def make(user=None, *, js: bool = True):
        context = browser.new_context(
            java_script_enabled=js, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        if user is not None:
            context.add_cookies([_session_cookie(user, live_server.url)])
        contexts.append(context)
        page = context.new_page()
        page.base = live_server.url  # type: ignore[attr-defined]
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    """shot(page, name): a full-page screenshot under test-output/screenshots/ (not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def delayed_jobs(monkeypatch):
    """Jobs start `delay` seconds after their transaction commits (in a thread, run inline by
    django-q's sync mode), so a page can be seen polling a queued job until it ends."""
    from dashboard.jobs import services as job_services

    real_enqueue = job_services.job_enqueue
    threads: list[threading.Thread] = []

    def run_later(*, job_id: str, delay: float = 1.5) -> None:
        def target():
            try:
                real_enqueue(job_id=job_id)
            finally:
                connection.close()

        timer = threading.Timer(delay, target)
        threads.append(timer)
        timer.start()

    monkeypatch.setattr(job_services, "job_enqueue", run_later)
    yield
    for thread in threads:
        thread.join(timeout=30)
