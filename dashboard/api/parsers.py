"""The API's body parsers: strict JSON (see dashboard.strict_json), and forms whose fields may
not hold NUL (PostgreSQL cannot store it) — a 400 naming the problem."""

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser

from dashboard.middleware import refuse_nul
from dashboard.strict_json import json_parse


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        body = stream.read() if stream is not None else b""
        try:
            if encoding.lower().replace("-", "") != "utf8":
                body = body.decode(encoding).encode("utf-8")
            return json_parse(body)
        except (ValueError, LookupError) as exc:
            raise ParseError(f"The body is not valid JSON: {exc}.") from None


class StrictFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_nul(data)
        return data


class StrictMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None) -> DataAndFiles:
        parsed = super().parse(stream, media_type, parser_context)
        refuse_nul(parsed.data)
        return parsed
