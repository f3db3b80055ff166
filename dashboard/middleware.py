"""Pages answer a service's error with our own page: NotFound → 404, Conflict → 409,
Invalid → 400, with the reason — never a 500. (API views get the same from DRF's handler.)

Request bodies are read only once the caller is known: `RequestBodyGuard` decides from the
headers alone whether a large body may be read at all (before CSRF, which reads page forms),
and the NUL check of page forms runs after CSRF."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import FileUploadParser, MultiPartParser

from .errors import ApplicationError, Invalid
from .roles import Role, user_has_role

NUL = "\x00"
# Room for the multipart envelope (boundaries, part headers, small fields) around the file.
MULTIPART_OVERHEAD = 1024 * 1024


class ApplicationErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError):
            return None
        return error_response(request, exception)


class BodyTooLarge(ApplicationError):
    status_code = 413


class RequestBodyGuard:
    """Refuse a body that may not be read, from its headers, before anything reads it.

    Up to DATA_UPLOAD_MAX_MEMORY_SIZE (Django's 2.5 MB) any caller may send a body (the sign-in
    form, page forms, API JSON). Larger bodies are read only from a signed-in *manager*
    (session, or `Authorization: Token`): JSON under /api/ up to API_MAX_JSON_BYTES (64 MB), a
    multipart upload up to BULK_MAX_UPLOAD_BYTES to a page or to an API view that takes files.
    Everything else is a 413 without reading a byte (no memory, no temporary file).
    Runs as `process_view`, placed before CsrfViewMiddleware (whose check reads page forms)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = -1
        if size < 0:
            return error_response(request, Invalid("Not a byte count.", field="Content-Length"))
        if size <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return None
        reason = _large_body_refusal(request, view_func, size)
        return error_response(request, BodyTooLarge(reason)) if reason else None


def _mb(size: int) -> str:
    return f"{size / 2**20:g} MB"


def _large_body_refusal(request, view_func, size: int) -> str | None:
    small = _mb(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    is_api = request.path.startswith("/api/")
    if request.content_type == "multipart/form-data" and (not is_api or _takes_files(view_func)):
        limit = settings.BULK_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD
    elif request.content_type == "application/json" and is_api:
        limit = settings.API_MAX_JSON_BYTES
    else:
        return f"The body is larger than {small}: only file uploads and API JSON may be."
    if size > limit:
        return f"The body is {size} bytes; the limit here is {limit} bytes."
    user, by_token = _caller(request)
    if not user_has_role(user, Role.MANAGER):
        return f"Bodies larger than {small} are accepted from signed-in managers only."
    if not by_token and not _same_origin(request):
        return "A large body from another site is refused (Origin)."
    return None


def _takes_files(view_func) -> bool:
    view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
    parsers = getattr(view_class, "parser_classes", ())
    return any(issubclass(p, MultiPartParser | FileUploadParser) for p in parsers)


def _caller(request) -> tuple[object, bool]:
    """The user from the token header, else from the session (headers and cookies only)."""
    if get_authorization_header(request).split()[:1] == [b"Token"]:
        try:
            found = TokenAuthentication().authenticate(request)
        except AuthenticationFailed:
            return None, True
        return (found[0] if found else None), True
    return getattr(request, "user", None), False


def _same_origin(request) -> bool:
    """A browser names the page that sent a form: it must be this site (or a trusted one)."""
    origin = request.META.get("HTTP_ORIGIN")
    if not origin:
        return True
    return origin == f"{request.scheme}://{request.get_host()}" or (
        origin in settings.CSRF_TRUSTED_ORIGINS
    )


class NulCharacterMiddleware:
    """Text with a NUL character cannot be stored or even looked up in PostgreSQL: a path,
    query parameter or page form field holding one is a 400 naming it, before any query runs.
    Page forms are read only after CSRF passed and only for a signed-in user (placed after
    CsrfViewMiddleware; the sign-in form's own fields refuse NUL). API bodies are checked by
    the API's parsers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            if NUL in request.path:
                raise nul_error("path")
            refuse_nul(request.GET)
        except Invalid as exc:
            return error_response(request, exc)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.path.startswith("/api/"):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        try:
            refuse_nul(request.POST)
        except Invalid as exc:
            return error_response(request, exc)
        return None


def nul_error(field: str) -> Invalid:
    return Invalid("Text may not contain NUL characters (\\x00).", field=field)


def refuse_nul(form) -> None:
    """An Invalid naming the first field of a QueryDict whose name or a value holds NUL."""
    for key, values in form.lists():
        if NUL in key or any(NUL in v for v in values):
            raise nul_error(key.replace(NUL, ""))


def error_response(request, exception: ApplicationError):
    """The error as JSON under /api/, else our error page, with the service's status code."""
    if request.path.startswith("/api/"):
        return JsonResponse(exception.as_data(), status=exception.status_code)
    template = "404.html" if exception.status_code == 404 else "error.html"
    return render(request, template, {"reason": exception.message}, status=exception.status_code)
