"""Response headers every answer carries: a Content-Security-Policy without inline script.

The UI loads scripts and styles only from /static/ (no inline `<script>`, event handler,
`javascript:` link or `style` attribute), so the policy needs no 'unsafe-inline' or
'unsafe-eval'; htmx is told not to inject its indicator styles and not to eval (base.html)."""

from django.conf import settings

# Where the images, audio and video of data rows may come from (their URIs point anywhere:
# a bucket's https URLs, an image service). Narrow it with MEDIA_SOURCES="https://cdn.example".
MEDIA_SOURCES = getattr(settings, "MEDIA_SOURCES", "https: http:")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data: {MEDIA_SOURCES}".strip(),
        f"media-src 'self' data: {MEDIA_SOURCES}".strip(),
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
