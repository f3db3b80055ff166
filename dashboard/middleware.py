"""Pages answer a service's error with our own page: NotFound → 404, Conflict → 409,
Invalid → 400, with the reason — never a 500. (API views get the same from DRF's handler.)"""

from django.shortcuts import render

from .errors import ApplicationError


class ApplicationErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError):
            return None
        if request.path.startswith("/api/"):
            from django.http import JsonResponse

            return JsonResponse(exception.as_data(), status=exception.status_code)
        template = "404.html" if exception.status_code == 404 else "error.html"
        return render(
            request, template, {"reason": exception.message}, status=exception.status_code
        )
