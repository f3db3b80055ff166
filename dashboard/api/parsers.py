"""The API's body parsers: strict JSON everywhere (see dashboard.strict_json), multipart only on
upload endpoints (`UPLOAD_PARSERS`). A form body where JSON is expected is a 400 that says so
(never misread); a multipart field may not hold NUL (PostgreSQL cannot store it) nor be given
twice (it would be dropped silently) — a 400 naming the field."""

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, DataAndFiles, MultiPartParser

from dashboard.errors import Invalid
from dashboard.middleware import refuse_nul
from dashboard.strict_json import json_parse


class StrictJSONParser(BaseParser):
    """JSON up to API_MAX_JSON_BYTES. Not a JSONParser subclass on purpose: DRF would read
    such a parser's body through `request.body`, capped at DATA_UPLOAD_MAX_MEMORY_SIZE (the
    small form limit); this one reads the stream, whose size RequestBodyGuard has allowed."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.API_MAX_JSON_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise ParseError(f"The body is larger than {limit} bytes.")
        try:
            if encoding.lower().replace("-", "") != "utf8":
                body = body.decode(encoding).encode("utf-8")
        except (ValueError, LookupError) as exc:
            raise ParseError(f"The body is not valid JSON: {exc}.") from None
        self.check(body, parser_context or {})
        try:
            return json_parse(body)
        except ValueError as exc:
            raise ParseError(f"The body is not valid JSON: {exc}.") from None

    def check(self, body: bytes, parser_context: dict) -> None:
        """Hook: refuse a body from its bytes before it is parsed (e.g. count a long list)."""


def refuse_repeated(*forms) -> None:
    """An Invalid naming the first field of these QueryDicts / MultiValueDicts given twice."""
    for form in forms:
        for key, values in form.lists():
            if len(values) > 1:
                raise Invalid(f"Given {len(values)} times: send it once.", field=key)


class StrictMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None) -> DataAndFiles:
        parsed = super().parse(stream, media_type, parser_context)
        refuse_nul(parsed.data)
        refuse_repeated(parsed.data, parsed.files)
        return parsed


# Endpoints that take an uploaded file (multipart field `file`) as well as JSON.
UPLOAD_PARSERS = [StrictJSONParser, StrictMultiPartParser]
