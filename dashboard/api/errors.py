"""Turns every error into a DRF-shaped response: 400/404/409, never a 500 for bad input.

Every error body is an object (`{"detail": …}` or field errors) with a stable, machine-readable
`code` beside the message (API.md, "Errors")."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import status
from rest_framework.exceptions import APIException, UnsupportedMediaType
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from dashboard.errors import ApplicationError

log = logging.getLogger(__name__)


def exception_handler(exc, context):
    response = answer(exc, context)
    if response is not None:
        response.data = with_code(response.data, error_code(exc))
    return response


def error_code(exc) -> str:
    if isinstance(exc, ApplicationError):
        return exc.code
    if isinstance(exc, IntegrityError):
        return "conflict"
    if isinstance(exc, Http404):
        return "not_found"
    if isinstance(exc, APIException):
        return exc.default_code
    return "invalid"


def with_code(data, code: str) -> dict:
    """`data` as an error object carrying `code` (a bare list of messages becomes `detail`)."""
    if isinstance(data, list):
        data = {"detail": " ".join(str(message) for message in data)}
    if isinstance(data, dict):
        data = {**data, "code": data.get("code", code)}
    return data


def answer(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_data(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        data = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        # A constraint caught what validation did not (e.g. a concurrent duplicate).
        log.info("integrity error answered as 409: %s", exc)
        return Response(
            {
                "detail": "The change conflicts with the current data (a unique or check "
                "constraint refused it). Reload and try again."
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        return Response({"detail": str(exc) or "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, UnsupportedMediaType):
        # A body in a media type the endpoint does not read is invalid input like any other
        # (API.md: 400), with the reason and its own code.
        return Response(
            {
                "detail": f"{exc.detail} Send the body as JSON (Content-Type: "
                "application/json); multipart/form-data is read only where a file is uploaded."
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)
