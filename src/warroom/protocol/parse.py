"""Reads a raw client frame into a typed one, or says precisely what is wrong with it."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from warroom.domain.errors import DomainError, ErrorCode
from warroom.protocol.frames import CLIENT_FRAME_ADAPTER, ClientFrame

_TOO_LONG = {"string_too_long", "too_long"}


def parse_client_frame(raw: str | bytes) -> ClientFrame:
    """The typed frame in `raw`, read strictly: a JSON value of the wrong type is refused, never
    converted (`"severity": true` is not SEV1, `"incident_id": "7"` is not 7). Times are ISO 8601
    strings with a zone, as JSON has no time type.

    Raises:
        DomainError: with `bad_frame`, `unknown_type`, `too_large` or `invalid`.
    """
    if isinstance(raw, bytes):
        raise DomainError(ErrorCode.BAD_FRAME, "frames are JSON text, not binary")
    try:
        return CLIENT_FRAME_ADAPTER.validate_json(raw, strict=True)
    except ValidationError as exc:
        raise _refusal(exc) from None


class _OnlyTheId(BaseModel):
    """A frame read for its `id` alone: the other fields are skipped by the JSON reader, not
    built into Python objects."""

    model_config = ConfigDict(extra="ignore")
    id: Any = None


def frame_id(raw: str | bytes) -> str | None:
    """The client's `id` in a frame that failed to parse, so the error can answer it.

    Read without building the rest of the frame: `json.loads` of a refused 256 KiB frame of
    25,000 keys cost the server 11-25 ms, 5-10x the refusal itself, and every connection may
    send one such frame a second within its byte rate (docs/performance.md, hostile8). An `id`
    that is an array or object is never read: the JSON reader skips the fields the model does
    not name but builds the ones it does, so an `id` of 80,000 empty arrays cost 34 ms
    (hostile10); it could not be echoed anyway."""
    if isinstance(raw, bytes):
        if _COMPOSITE_ID_BYTES.search(raw) is not None:
            return None
    elif _COMPOSITE_ID.search(raw) is not None:
        return None
    try:
        value = _OnlyTheId.model_validate_json(raw).id
    except ValueError:  # not JSON, not an object, nested too deep
        return None
    # Echo the id only if the reply can carry it: a lone surrogate cannot be encoded.
    if isinstance(value, str) and len(value) <= 64 and _encodable(value):
        return value
    return None


_COMPOSITE_ID = re.compile(r'"(?:i|\\u0069)(?:d|\\u0064)"\s*:\s*[\[{]')
"""A key `id` (as JSON may spell it, `\\u0069\\u0064` too) whose value opens an array or an
object, anywhere in the frame: a client frame has no nested `id`, so this is the frame's own."""
_COMPOSITE_ID_BYTES = re.compile(_COMPOSITE_ID.pattern.encode())


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refusal(exc: ValidationError) -> DomainError:
    errors = exc.errors(include_url=False)
    for error in errors:
        if error["type"] == "json_invalid":
            return DomainError(ErrorCode.BAD_FRAME, f"not JSON: {error['msg']}")
        if error["type"] in {"dict_type", "model_type"} and not error["loc"]:
            return DomainError(ErrorCode.BAD_FRAME, "a frame must be a JSON object")
    if any(e["type"] in {"union_tag_invalid", "union_tag_not_found"} for e in errors):
        return DomainError(ErrorCode.UNKNOWN_TYPE, "missing or unknown frame type")
    code = ErrorCode.TOO_LARGE if any(e["type"] in _TOO_LONG for e in errors) else ErrorCode.INVALID
    return DomainError(code, "; ".join(_problem(e) for e in errors[:5]))


def _problem(error: ErrorDetails) -> str:
    """`field: what was expected (got what)`; the value itself is not repeated back."""
    field = ".".join(str(p) for p in error["loc"][1:]) or "frame"
    value = error["input"]
    # Say what came only when its JSON type was wrong: `(got a string)` after "should be 'ic',
    # 'cl', ..." would not help someone who sent the string "boss".
    wrong_type = error["type"] in _TYPE_ERRORS or not isinstance(value, str)
    got = f" (got {_json_type(value)})" if wrong_type and error["type"] != "missing" else ""
    # Enum members in pydantic's wording (`<Role.IC: 'ic'>`) become the JSON value (`'ic'`).
    message = _ENUM_MEMBER.sub(r"\1", error["msg"])
    return f"{field}: {message}{got}"


_ENUM_MEMBER = re.compile(r"<\w+\.\w+: ('[^']*'|\d+)>")


_TYPE_ERRORS = {
    "int_type",
    "string_type",
    "bool_type",
    "list_type",
    "dict_type",
    "model_type",
    "datetime_type",
    "int_from_float",
    "severity_type",
}


def _json_type(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case dict():
            return "an object"
    return type(value).__name__
