"""Reads a raw client frame into a typed one, or says precisely what is wrong with it."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from warroom.domain.errors import DomainError, ErrorCode
from warroom.protocol.frames import CLIENT_FRAME_ADAPTER, ClientFrame

_TOO_LONG = {"string_too_long", "too_long"}


def parse_client_frame(raw: str | bytes) -> ClientFrame:
    """The typed frame in `raw`.

    Raises:
        DomainError: with `bad_frame`, `unknown_type`, `too_large` or `invalid`.
    """
    if isinstance(raw, bytes):
        raise DomainError(ErrorCode.BAD_FRAME, "frames are JSON text, not binary")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise DomainError(ErrorCode.BAD_FRAME, f"not JSON: {exc}") from None
    except RecursionError:
        raise DomainError(ErrorCode.BAD_FRAME, "JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise DomainError(ErrorCode.BAD_FRAME, "a frame must be a JSON object")
    try:
        return CLIENT_FRAME_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise _refusal(exc) from None


def frame_id(raw: str | bytes) -> str | None:
    """The client's `id` in a frame that failed to parse, so the error can answer it."""
    try:
        data: Any = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict):
        value = data.get("id")
        # Echo the id only if the reply can carry it: a lone surrogate cannot be encoded.
        if isinstance(value, str) and len(value) <= 64 and _encodable(value):
            return value
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refusal(exc: ValidationError) -> DomainError:
    errors = exc.errors(include_url=False, include_input=False)
    if any(e["type"] in {"union_tag_invalid", "union_tag_not_found"} for e in errors):
        return DomainError(ErrorCode.UNKNOWN_TYPE, "missing or unknown frame type")
    code = ErrorCode.TOO_LARGE if any(e["type"] in _TOO_LONG for e in errors) else ErrorCode.INVALID
    detail = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'][1:]) or 'frame'}: {e['msg']}" for e in errors[:5]
    )
    return DomainError(code, detail)
