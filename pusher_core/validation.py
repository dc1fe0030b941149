"""Input checks shared by the request builders and the authorization helpers.

Every check raises `ValidationError` naming the field and the rule, and none of them
changes its input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from pusher_core.errors import ValidationError

__all__ = [
    "MAX_BATCH_EVENTS",
    "MAX_CHANNELS",
    "MAX_NAME_LENGTH",
    "RESERVED_PARAMS",
    "require_utf8",
    "validate_channel",
    "validate_channels",
    "validate_event_name",
    "validate_int",
    "validate_method",
    "validate_path",
    "validate_seconds",
    "validate_socket_id",
    "validate_user_id",
]

MAX_NAME_LENGTH = 200
MAX_CHANNELS = 100
MAX_BATCH_EVENTS = 10

# The signing params; a caller's param with one of these names would change what is signed.
RESERVED_PARAMS = frozenset(
    {"auth_key", "auth_timestamp", "auth_version", "auth_signature", "body_md5"}
)

# `re.ASCII` keeps `\d` to 0-9, and `\Z` (unlike `$`) does not accept a trailing newline.
_CHANNEL_PATTERN = re.compile(r"[A-Za-z0-9_\-=@,.;]+\Z", re.ASCII)
_SOCKET_ID_PATTERN = re.compile(r"[0-9]+\.[0-9]+\Z", re.ASCII)
_CONTROL_PATTERN = re.compile(r"[\x00-\x1f\x7f]")
_METHOD_PATTERN = re.compile(r"[A-Za-z]+\Z", re.ASCII)
# RFC 3986 path characters: unreserved, sub-delims, ':' and '@', and complete escapes.
# Everything else, '?', '#', spaces, control and non-ASCII characters included, would
# make the path sent differ from the path signed.
_PATH_PATTERN = re.compile(r"(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)+\Z", re.ASCII)
_DOT_SEGMENTS = frozenset({".", ".."})


def validate_channel(channel: object, field: str = "channel") -> str:
    """Return the channel name, or raise unless it is 1 to 200 allowed characters.

    The allowed characters are ASCII letters and digits and ``_ - = @ , . ;``.
    """
    # A bare "presence-" passes, as in the npm library, which the differential tests
    # compare against.
    if not isinstance(channel, str):
        raise ValidationError(field, f"must be a str, got {type(channel).__name__}")
    if not channel or len(channel) > MAX_NAME_LENGTH:
        raise ValidationError(
            field, f"must be 1 to {MAX_NAME_LENGTH} characters long, got {len(channel)}"
        )
    if not _CHANNEL_PATTERN.match(channel):
        raise ValidationError(
            field,
            f"{channel!r} is invalid: use only ASCII letters, digits and _ - = @ , . ;",
        )
    return channel


def validate_channels(channels: object, field: str = "channels") -> tuple[str, ...]:
    """Return the channel names as a tuple, accepting one name or an iterable of names.

    A mapping is rejected, because iterating it would silently send its keys.
    """
    if isinstance(channels, str):
        return (validate_channel(channels, field),)
    if isinstance(channels, (Mapping, bytes, bytearray)) or not isinstance(channels, Iterable):
        raise ValidationError(
            field, f"must be a channel name or an iterable of names, got {type(channels).__name__}"
        )
    names = tuple(channels)
    if not names:
        raise ValidationError(field, "must name at least one channel")
    if len(names) > MAX_CHANNELS:
        raise ValidationError(field, f"at most {MAX_CHANNELS} channels allowed, got {len(names)}")
    for index, name in enumerate(names):
        validate_channel(name, f"{field}[{index}]")
    return names


def validate_event_name(name: object, field: str = "event") -> str:
    """Return the event name, or raise unless it is 1 to 200 characters with no control ones."""
    # A "pusher:" prefix passes, as in the npm library, which the differential tests
    # compare against.
    if not isinstance(name, str):
        raise ValidationError(field, f"must be a str, got {type(name).__name__}")
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            field, f"must be 1 to {MAX_NAME_LENGTH} characters long, got {len(name)}"
        )
    if _CONTROL_PATTERN.search(name):
        raise ValidationError(field, f"{name!r} is invalid: control characters are not allowed")
    return name


def validate_socket_id(socket_id: object, field: str = "socket_id") -> str:
    """Return the socket id, or raise unless it is ASCII digits, a dot and ASCII digits."""
    # No length limit, as in the npm library, which the differential tests compare against.
    if not isinstance(socket_id, str):
        raise ValidationError(field, f"must be a str, got {type(socket_id).__name__}")
    if not _SOCKET_ID_PATTERN.match(socket_id):
        raise ValidationError(
            field, f"{socket_id!r} is invalid: expected ASCII digits, a dot, ASCII digits"
        )
    return socket_id


def validate_user_id(user_id: object, field: str = "user_id") -> str:
    """Return the user id, or raise unless it is 1 to 200 characters with no control ones."""
    if not isinstance(user_id, str):
        raise ValidationError(field, f"must be a str, got {type(user_id).__name__}")
    if not user_id or len(user_id) > MAX_NAME_LENGTH:
        raise ValidationError(
            field, f"must be 1 to {MAX_NAME_LENGTH} characters long, got {len(user_id)}"
        )
    if _CONTROL_PATTERN.search(user_id):
        raise ValidationError(field, f"{user_id!r} is invalid: control characters are not allowed")
    return user_id


def require_utf8(text: str, field: str) -> str:
    """Return the text, or raise if it contains a lone surrogate, which UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            field, "contains a lone surrogate, which UTF-8 cannot encode"
        ) from None
    return text


def validate_method(method: object, field: str = "method") -> str:
    """Return the HTTP method in upper case, or raise unless it is ASCII letters only."""
    if not isinstance(method, str) or not _METHOD_PATTERN.match(method):
        raise ValidationError(field, f"{method!r} is not an HTTP method")
    return method.upper()


def validate_path(path: object, field: str = "path") -> str:
    """Return the path, or raise unless it is an absolute path that is signed as sent.

    The path must start with ``/`` and contain only RFC 3986 path characters and
    complete percent-escapes. Dot segments (``/./``, ``/../``) are rejected, because a
    proxy or server that resolves them would route the request to another path than
    the one signed.
    """
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValidationError(field, "must be a str starting with '/'")
    if not _PATH_PATTERN.match(path):
        raise ValidationError(
            field,
            f"{path!r} is invalid: use ASCII path characters and %XX escapes, "
            "without '?', '#' or whitespace; pass query values as params",
        )
    if _DOT_SEGMENTS.intersection(path.split("/")):
        raise ValidationError(field, f"{path!r} is invalid: it contains a '.' or '..' segment")
    return path


def validate_int(value: object, field: str, minimum: int) -> int:
    """Return the value, or raise unless it is an int (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValidationError(field, f"must be at least {minimum}, got {value}")
    return value


def validate_seconds(value: object, field: str) -> float:
    """Return the value, or raise unless it is a finite int or float of at least 0 seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(field, f"must be a number of seconds, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValidationError(field, f"must be a finite number of seconds >= 0, got {value}")
    return value
