"""The API's JSON body parser: strict JSON (see dashboard.jsontext), a 400 naming the problem."""

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from dashboard.jsontext import json_parse


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
