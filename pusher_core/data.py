"""Encoding of event data and request bodies.

Event data that is not already text is JSON-encoded compactly with non-ASCII kept as
UTF-8, so the bytes match what the npm library sends and what servers measure against
their size limits.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

from pusher_core.errors import ValidationError

__all__ = [
    "check_payload_size",
    "encode_batch_entry",
    "encode_body",
    "encode_data",
    "encode_event_body",
    "to_json",
]

# Built once: `json.dumps` with options builds a new encoder on every call.
_COMPACT_STRICT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# The most UTF-8 bytes one character of a str can take (a code point above U+FFFF).
_MAX_BYTES_PER_CHARACTER = 4


def to_json(value: Any, encoder: type[json.JSONEncoder] | None, field: str) -> str:
    """Return the compact JSON text of a value, or raise naming the field.

    NaN and infinities are rejected, because JSON has no spelling for them.
    """
    try:
        if encoder is None:
            return _COMPACT_STRICT.encode(value)
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
    if limit is None or len(text) * _MAX_BYTES_PER_CHARACTER <= limit:
        return
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise ValidationError(
            field,
            f"is {size} bytes of UTF-8, over the limit of {limit}; "
            "raise Config.payload_limit if your cluster allows more",
        )


def encode_body(body: dict[str, Any], field: str = "data") -> bytes:
    """Return a request body as compact JSON in UTF-8.

    Raises:
        ValidationError: The text contains a lone surrogate, which UTF-8 cannot carry.
    """
    text = _COMPACT.encode(body)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            field, "contains a lone surrogate, which UTF-8 cannot encode"
        ) from exc


def encode_event_body(
    name: str,
    data: str,
    channels: tuple[str, ...],
    socket_id: str | None = None,
    info: str | None = None,
) -> bytes:
    """Return the body of a trigger, byte for byte what `encode_body` gives for the dict.

    The keys are in the order name, data, channels, socket_id, info. Writing the JSON
    directly from its strings skips the generic encoder, the largest cost of a publish.

    Raises:
        ValidationError: The text contains a lone surrogate, which UTF-8 cannot carry.
    """
    parts = [
        '{"name":',
        encode_basestring(name),
        ',"data":',
        encode_basestring(data),
        ',"channels":[',
        ",".join([encode_basestring(channel) for channel in channels]),
        "]",
    ]
    if socket_id is not None:
        parts += [',"socket_id":', encode_basestring(socket_id)]
    if info is not None:
        parts += [',"info":', encode_basestring(info)]
    parts.append("}")
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            "data", "contains a lone surrogate, which UTF-8 cannot encode"
        ) from exc


def encode_batch_entry(
    channel: str,
    name: str,
    data: str,
    socket_id: str | None = None,
    info: str | None = None,
) -> bytes:
    """Return one event of a ``batch_events`` body as UTF-8 JSON, keys in that order.

    Raises:
        ValidationError: The text contains a lone surrogate, which UTF-8 cannot carry.
    """
    parts = [
        '{"channel":',
        encode_basestring(channel),
        ',"name":',
        encode_basestring(name),
        ',"data":',
        encode_basestring(data),
    ]
    if socket_id is not None:
        parts += [',"socket_id":', encode_basestring(socket_id)]
    if info is not None:
        parts += [',"info":', encode_basestring(info)]
    parts.append("}")
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            "data", "contains a lone surrogate, which UTF-8 cannot encode"
        ) from exc
