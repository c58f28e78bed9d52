"""A JSON parser that enforces size and depth limits before and while parsing."""

import json
import math
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from cases.exceptions import PayloadTooLarge


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    """Refuse numbers a float holds only as infinity or zero (1e999, 1e-999):
    storing them would silently change what the client sent."""
    value = float(text)
    mantissa = text.lower().partition("e")[0]
    if math.isinf(value) or (value == 0 and mantissa.strip("+-0.")):
        raise ValueError(f"number {text[:32]} is out of range")
    return value


class StrictJSONParser(JSONParser):
    """Refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (413), NaN/Infinity,
    numbers beyond a float's range, invalid UTF-8 and nesting deeper than
    API_MAX_JSON_DEPTH (400)."""

    def parse(
        self, stream: Any, media_type: Any = None, parser_context: Any = None
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"Request body exceeds {limit} bytes.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"JSON parse error - body is not UTF-8: {exc.reason}"
            ) from None
        if text.startswith("\ufeff"):
            raise ParseError("JSON parse error - byte order mark not allowed")
        try:
            data = json.loads(
                text, parse_float=_finite_float, parse_constant=_reject_constant
            )
        except RecursionError:
            data = None
            too_deep = True
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        else:
            too_deep = _deeper_than(data, settings.API_MAX_JSON_DEPTH)
        if too_deep:
            limit = settings.API_MAX_JSON_DEPTH
            raise ParseError(f"JSON nested deeper than {limit} levels")
        return data


def _deeper_than(data: Any, max_depth: int) -> bool:
    """Iterative, so a deep document cannot exhaust the stack here."""
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if depth > max_depth:
            return True
        stack.extend(
            (child, depth + 1) for child in item if isinstance(child, dict | list)
        )
    return False
