"""Staged uploads: a file previewed on a page without JavaScript is kept for a while, so the
import can start without choosing the file again (a page reload forgets a file input).

A staged file is bounded (STAGED_UPLOAD_MAX_BYTES), owned by the user who staged it and
expires (STAGED_UPLOAD_SECONDS). The page carries only a signed token naming the file, its
owner and its name; expired files are swept away (on every staging, and hourly).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.core import signing
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.utils import timezone

from dashboard.errors import Invalid
from dashboard.ids import new_id

log = logging.getLogger(__name__)

STAGED_DIR = "uploads/staged"
SALT = "labelops.staged-upload"
DEFAULT_MAX_BYTES = 50 * 1024**2
DEFAULT_SECONDS = 60 * 60
TOKEN_MAX_LENGTH = 600  # a token names a path, a user and a file name of at most 120 characters
NAME_MAX_LENGTH = 120
SWEEP_LIMIT = 1000  # files looked at per sweep

EXPIRED = "The file kept from the preview has expired or is not yours: choose the file again."


def staged_max_bytes() -> int:
    return int(getattr(settings, "STAGED_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def staged_seconds() -> int:
    return int(getattr(settings, "STAGED_UPLOAD_SECONDS", DEFAULT_SECONDS))


def staged_upload_create(*, fileobj: IO[bytes], filename: str, size: int, user) -> str | None:
    """Keep an uploaded file for `user`; its token, or None when the file is larger than
    STAGED_UPLOAD_MAX_BYTES (it is then not kept: the user chooses it again)."""
    if size > staged_max_bytes() or getattr(user, "pk", None) is None:
        return None
    staged_uploads_sweep()
    fileobj.seek(0)
    path = default_storage.save(f"{STAGED_DIR}/u{user.pk}-{new_id()}", File(fileobj))
    fileobj.seek(0)
    name = (filename or "upload")[-NAME_MAX_LENGTH:]
    return signing.dumps({"p": path, "u": user.pk, "n": name, "s": size}, salt=SALT)


def staged_upload_name(*, token: str, user) -> str | None:
    """The file name a token names, when it is still usable by `user` (else None)."""
    try:
        return _staged(token, user)["n"]
    except Invalid:
        return None


def staged_upload_open(*, token: str, user) -> dict:
    """The staged file as upload keywords (`fileobj`, `filename`, `size`); a token that is
    expired, forged, another user's or whose file is gone → `Invalid` naming `file`."""
    staged = _staged(token, user)
    try:
        fileobj = default_storage.open(staged["p"], "rb")
    except OSError:
        raise Invalid(EXPIRED, field="file") from None
    return {"fileobj": fileobj, "filename": staged["n"], "size": staged["s"]}


def staged_upload_drop(*, token: str, user) -> None:
    """Remove a staged file once its import has started (a bad token: nothing to do)."""
    try:
        path = _staged(token, user)["p"]
    except Invalid:
        return
    default_storage.delete(path)


def _staged(token: str, user) -> dict:
    if not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH:
        raise Invalid(EXPIRED, field="file")
    try:
        staged = signing.loads(token, salt=SALT, max_age=staged_seconds())
    except signing.BadSignature:  # SignatureExpired included
        raise Invalid(EXPIRED, field="file") from None
    path = staged.get("p") if isinstance(staged, dict) else None
    owner = staged.get("u") if isinstance(staged, dict) else None
    if not isinstance(path, str) or not path.startswith(f"{STAGED_DIR}/u{owner}-"):
        raise Invalid(EXPIRED, field="file")
    if owner is None or owner != getattr(user, "pk", None) or not default_storage.exists(path):
        raise Invalid(EXPIRED, field="file")
    return staged


def staged_uploads_sweep() -> int:
    """Delete staged files older than STAGED_UPLOAD_SECONDS (at most SWEEP_LIMIT looked at).
    Called on every staging and scheduled hourly; returns how many were deleted."""
    try:
        _, names = default_storage.listdir(STAGED_DIR)
    except (FileNotFoundError, NotImplementedError):
        return 0
    cutoff = timezone.now() - timedelta(seconds=staged_seconds())
    deleted = 0
    for name in names[:SWEEP_LIMIT]:
        path = f"{STAGED_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                deleted += 1
        except (FileNotFoundError, NotImplementedError):  # gone meanwhile
            continue
    if deleted:
        log.info("staged uploads: %d expired files deleted", deleted)
    return deleted
