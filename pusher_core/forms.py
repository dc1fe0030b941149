"""Parsing of the form bodies that pusher-js posts to auth endpoints.

pusher-js sends ``application/x-www-form-urlencoded`` bodies such as
``socket_id=123.456&channel_name=private-chat``. They are parsed with the rules of
`urllib.parse.parse_qs`: ``+`` is a space, and each percent-escape is decoded exactly
once, as UTF-8.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qs

from pusher_core.errors import ValidationError

__all__ = ["MAX_FORM_FIELDS", "parse_form"]

# pusher-js sends two fields plus any params the app adds, so a body with more fields
# is not from pusher-js. The cap bounds the work an anonymous client can cause.
MAX_FORM_FIELDS = 100


def _form_text(body: object) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            return bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("body", "is not valid UTF-8") from None
    raise ValidationError("body", f"must be str or bytes, got {type(body).__name__}")


def _parse_fields(text: str) -> dict[str, list[str]]:
    try:
        return parse_qs(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise ValidationError("body", "a percent-escape does not decode as UTF-8") from None
    except ValueError:
        raise ValidationError(
            "body",
            f"is not a form body of at most {MAX_FORM_FIELDS} name=value fields joined by &",
        ) from None


def parse_form(body: str | bytes, required: Iterable[str] = ()) -> dict[str, str]:
    """Parse an ``application/x-www-form-urlencoded`` body into one value per field.

    Args:
        body: The raw request body. Bytes must be UTF-8.
        required: Field names that must be present.

    Returns:
        A new dict mapping each field name to its decoded value. Blank values are kept
        as empty strings.

    Raises:
        ValidationError: The body is not a form, a field appears more than once (the
            field names it), or a required field is missing.
    """
    fields = _parse_fields(_form_text(body))
    for name, values in fields.items():
        if len(values) > 1:
            raise ValidationError(name, f"appears {len(values)} times in the form body")
    for name in required:
        if name not in fields:
            raise ValidationError(name, "is missing from the form body")
    return {name: values[0] for name, values in fields.items()}
