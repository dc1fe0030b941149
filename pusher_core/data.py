"""Encoding of event data and request bodies.

Event data that is not already text is JSON-encoded compactly with non-ASCII kept as
UTF-8, so the bytes match what the npm library sends and what servers measure against
their size limits.
"""

from __future__ import annotations

import json
from typing import Any

from pusher_core.errors import ValidationError

__all__ = ["check_payload_size", "encode_body", "encode_data", "to_json"]


def to_json(value: Any, encoder: type[json.JSONEncoder] | None, field: str) -> str:
    """Return the compact JSON text of a value, or raise naming the field.

    NaN and infinities are rejected, because JSON has no spelling for them.
    """
    try:
        return json.dumps(
            value, cls=encoder, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError(field, f"cannot be encoded as JSON: {exc}") from exc


def encode_data(data: Any, encoder: type[json.JSONEncoder] | None, field: str = "data") -> str:
    """Return event data as the text to send.

    A str is sent as it is, bytes are decoded as UTF-8, and anything else is encoded as
    JSON.
    """
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(field, f"bytes must be valid UTF-8: {exc.reason}") from exc
    return to_json(data, encoder, field)


def check_payload_size(text: str, limit: int | None, field: str = "data") -> None:
    """Raise unless the text fits the payload limit in UTF-8 bytes (None means no limit)."""
    if limit is None:
        return
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise ValidationError(
            field,
            f"is {size} bytes of UTF-8, over the limit of {limit}; "
            "raise Config.payload_limit if your cluster allows more",
        )


def encode_body(body: dict[str, Any], field: str = "data") -> bytes:
    """Return a request body as compact JSON in UTF-8.

    Raises:
        ValidationError: The text holds a lone surrogate, which UTF-8 cannot carry.
    """
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            field, "contains a lone surrogate, which UTF-8 cannot encode"
        ) from exc
