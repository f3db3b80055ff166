"""Sign-in throttling and password rules: failed sign-ins are counted per account and per
address (sign-in page, admin, any authenticate()); past the limit the password is not even
checked until the window ends. Weak passwords are refused; demo passwords need asking."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command

from dashboard import signin

from ..factories import UserFactory

pytestmark = pytest.mark.django_db

THROTTLED = "Too many failed sign-ins"
WRONG = "Please enter a correct username and password"


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved by hand: no sleeping."""
    now = [1_000_000.0]
    monkeypatch.setattr(signin, "clock", lambda: now[0])
    return now


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", password="right-pass-1")


def sign_in(client, username, password, path="/accounts/login/", address="10.0.0.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_forty_wrong_passwords_then_the_right_one_is_refused_until_the_window_ends(
    client, alice, clock, settings
):
    answers = [sign_in(client, "alice", f"guess-{i}").content.decode() for i in range(40)]
    limit = settings.SIGN_IN_FAILURES_PER_ACCOUNT
    assert all(WRONG in a for a in answers[:limit])
    assert all(THROTTLED in a and WRONG not in a for a in answers[limit:])

    refused = sign_in(client, "alice", "right-pass-1")
    assert refused.status_code == 200 and THROTTLED in refused.content.decode()
    assert "_auth_user_id" not in client.session

    clock[0] += settings.SIGN_IN_WINDOW_SECONDS - 1
    assert THROTTLED in sign_in(client, "alice", "right-pass-1").content.decode()
    clock[0] += 2
    welcome = sign_in(client, "alice", "right-pass-1")
    assert welcome.status_code == 302 and client.session["_auth_user_id"] == str(alice.pk)


def test_a_throttled_account_is_not_checked_at_all(client, alice, clock, monkeypatch, settings):
    for i in range(settings.SIGN_IN_FAILURES_PER_ACCOUNT):
        sign_in(client, "alice", f"guess-{i}")
    checked = []
    monkeypatch.setattr(
        type(alice), "check_password", lambda self, raw: checked.append(raw) or True
    )
    assert THROTTLED in sign_in(client, "alice", "anything").content.decode()
    assert authenticate(None, username="alice", password="anything") is None
    assert checked == []


def test_the_account_limit_holds_from_any_address(client, alice, clock, settings):
    for i in range(settings.SIGN_IN_FAILURES_PER_ACCOUNT):
        sign_in(client, "alice", f"guess-{i}", address=f"10.1.0.{i}")
    refused = sign_in(client, "alice", "right-pass-1", address="10.9.9.9")
    assert THROTTLED in refused.content.decode()


def test_the_address_limit_covers_guesses_spread_over_accounts(client, alice, clock, settings):
    bob = UserFactory(username="bob", password="bobs-pass-22")
    for i in range(settings.SIGN_IN_FAILURES_PER_ADDRESS):
        sign_in(client, f"nobody-{i}", "guess")
    assert THROTTLED in sign_in(client, "bob", "bobs-pass-22").content.decode()
    # Another address is not held back; bob signs in from there.
    assert sign_in(client, "bob", "bobs-pass-22", address="10.0.0.2").status_code == 302
    assert client.session["_auth_user_id"] == str(bob.pk)


def test_trusted_proxies_name_the_client_address(rf, settings):
    request = rf.post("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")
    assert signin.client_address(request) == "10.0.0.9"  # no proxy trusted: the header is a lie
    settings.TRUSTED_PROXIES = 1
    assert signin.client_address(request) == "5.6.7.8"


def test_a_success_clears_the_account_count(client, alice, clock, settings):
    for round in range(3):
        for i in range(settings.SIGN_IN_FAILURES_PER_ACCOUNT - 1):
            sign_in(client, "alice", f"guess-{i}", address=f"10.2.{round}.{i}")
        assert sign_in(client, "alice", "right-pass-1", address="10.3.0.1").status_code == 302
        client.logout()


def test_the_admin_sign_in_is_throttled_too(client, clock, settings):
    UserFactory(username="root", password="root-pass-77", is_staff=True, is_superuser=True)
    for i in range(settings.SIGN_IN_FAILURES_PER_ACCOUNT):
        answer = sign_in(client, "root", f"guess-{i}", path="/admin/login/")
        assert THROTTLED not in answer.content.decode()
    refused = sign_in(client, "root", "root-pass-77", path="/admin/login/")
    assert refused.status_code == 200 and THROTTLED in refused.content.decode()
    clock[0] += settings.SIGN_IN_WINDOW_SECONDS
    assert sign_in(client, "root", "root-pass-77", path="/admin/login/").status_code == 302


def test_the_counts_are_shared_by_every_web_process(client, alice, clock, settings):
    """They live in the database cache: another process reads the same table."""
    from django.core.cache import caches
    from django.db import connection

    assert settings.CACHES[signin.CACHE]["BACKEND"].endswith("DatabaseCache")
    sign_in(client, "alice", "guess")
    table = connection.ops.quote_name(settings.CACHES[signin.CACHE]["LOCATION"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        assert cursor.fetchone()[0] == 2  # the account's count and the address's
    caches[signin.CACHE].clear()


@pytest.mark.parametrize(
    "password, reason",
    [("short1!", "too short"), ("12345678901234", "entirely numeric"), ("password123", "common")],
)
def test_weak_passwords_are_refused(password, reason):
    with pytest.raises(ValidationError, match=reason):
        validate_password(password)
    validate_password("correct horse battery staple")


def test_load_demo_gives_known_passwords_only_when_asked(settings):
    settings.DEBUG = False
    call_command("load_demo", verbosity=0)
    users = get_user_model().objects.filter(username__in=["admin", "labeler", "viewer"])
    assert users.count() == 3
    assert not any(u.has_usable_password() for u in users)
    assert authenticate(None, username="admin", password="admin") is None


def test_load_demo_with_demo_users_gives_the_readme_passwords(settings):
    settings.DEBUG = False
    call_command("load_demo", "--with-demo-users", verbosity=0)
    assert authenticate(None, username="admin", password="admin") is not None
