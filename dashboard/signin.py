"""Sign-in throttle: failed sign-ins are counted per account name and per client address in
the shared (database) cache, so every web process on every host sees the same counts. Past
SIGN_IN_FAILURES_PER_ACCOUNT or SIGN_IN_FAILURES_PER_ADDRESS failures in a window of
SIGN_IN_WINDOW_SECONDS, sign-ins are refused without checking the password until the window
that started with the first failure ends.

The backend guards every door that checks a password (the sign-in page, the admin, test
clients, any future one); the forms check first so that the page says why."""

import hashlib
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import caches
from django.core.exceptions import PermissionDenied, ValidationError

CACHE = "shared"


def clock() -> float:
    return time.time()


def client_address(request) -> str:
    """The client's address: the connection's, or the one the trusted proxies forwarded."""
    if request is None:
        return ""
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        forwarded = [a.strip() for a in forwarded if a.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _counters(request, username) -> list[tuple[str, int]]:
    def key(kind: str, value: str) -> str:
        return f"sign-in:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"

    counters = []
    if username:
        counters.append((key("account", str(username)), settings.SIGN_IN_FAILURES_PER_ACCOUNT))
    address = client_address(request)
    if address:
        counters.append((key("address", address), settings.SIGN_IN_FAILURES_PER_ADDRESS))
    return counters


def _read(key: str, now: float) -> tuple[int, float]:
    """(failures, end of the window) — a fresh window when none is running."""
    entry = caches[CACHE].get(key)
    if not entry or entry[1] <= now:
        return 0, now + settings.SIGN_IN_WINDOW_SECONDS
    return entry


def sign_in_wait(request, username) -> int | None:
    """Seconds until this account and address may try again; None when they may now."""
    now = clock()
    waits = [
        until - now
        for key, limit in _counters(request, username)
        for failures, until in [_read(key, now)]
        if failures >= limit
    ]
    return math.ceil(max(waits)) if waits else None


def sign_in_failed(request, username) -> None:
    now = clock()
    for key, _limit in _counters(request, username):
        failures, until = _read(key, now)
        caches[CACHE].set(key, (failures + 1, until), timeout=math.ceil(until - now))


def sign_in_succeeded(request, username) -> None:
    """The account's count starts again; the address's does not (one could otherwise reset
    it with an account of one's own between guesses at others)."""
    for key, _limit in _counters(request, username)[:1]:
        caches[CACHE].delete(key)


def throttled_message(wait: int) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return (
        "Too many failed sign-ins for this account or from this address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


class SignInThrottled(PermissionDenied):
    pass


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        wait = sign_in_wait(request, username)
        if wait is not None:
            # Django's authenticate() stops at this: no other backend, no password check.
            raise SignInThrottled(throttled_message(wait))
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            sign_in_failed(request, username)
        else:
            sign_in_succeeded(request, username)
        return user


class ThrottledFormMixin:
    """Says why a throttled sign-in is refused (instead of "wrong password")."""

    def clean(self):
        wait = sign_in_wait(self.request, self.cleaned_data.get("username"))
        if wait is not None:
            raise ValidationError(throttled_message(wait), code="throttled")
        return super().clean()


class SignInForm(ThrottledFormMixin, AuthenticationForm):
    pass


class AdminSignInForm(ThrottledFormMixin, AdminAuthenticationForm):
    pass
