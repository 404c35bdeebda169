"""A JSON parser that bounds what a client can make the server hold.

DRF's stock parser reads the whole stream and accepts ``NaN`` and
``Infinity``, which are not JSON. This one caps the body at
``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes and refuses those constants, and a
body nested too deeply for the decoder answers 400 instead of crashing.
"""

import json
from collections.abc import Mapping
from typing import Any, NoReturn

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as BaseJSONParser

from .exceptions import PayloadTooLarge


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(BaseJSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        try:
            text = raw.decode("utf-8")
            return json.loads(text, parse_constant=_refuse_constant)
        except UnicodeDecodeError as exc:
            raise ParseError("The request body is not valid UTF-8.") from exc
        except RecursionError as exc:
            raise ParseError("The JSON body is nested too deeply.") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
