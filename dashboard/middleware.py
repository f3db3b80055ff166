"""Pages answer a service's error with our own page: NotFound → 404, Conflict → 409,
Invalid → 400, with the reason — never a 500. (API views get the same from DRF's handler.)"""

from django.http import JsonResponse
from django.shortcuts import render

from .errors import ApplicationError, Invalid

NUL = "\x00"


class ApplicationErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError):
            return None
        return error_response(request, exception)


class NulCharacterMiddleware:
    """Text with a NUL character cannot be stored or even looked up in PostgreSQL: a path,
    query parameter or page form field holding one is a 400 naming it, before any query runs.
    (API bodies are checked by the API's parsers.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            if NUL in request.path:
                raise nul_error("path")
            refuse_nul(request.GET)
            if request.method == "POST" and not request.path.startswith("/api/"):
                refuse_nul(request.POST)
        except Invalid as exc:
            return error_response(request, exc)
        return self.get_response(request)


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
