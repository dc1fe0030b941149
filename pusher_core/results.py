"""Turning a `Response` into a typed result or an error.

Each ``parse_*`` function takes the response and the request it belongs to, because errors
carry the request's method and path.

Some Channels-compatible servers, soketi 1.6 among them, reject a request with status
200 and a body such as ``{"error": "...", "code": 401}``. Trusting the status line alone
would report a rejected publish as a success, so such a body raises the error its
``code`` names. A body with a non-empty ``"error"`` string and a ``"code"`` that is not
an int raises a plain `RequestError` with the response's own status.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

from pusher_core.errors import UnexpectedResponseError, request_error_for_status
from pusher_core.messages import Request, Response

__all__ = [
    "BatchResult",
    "ChannelAttributes",
    "ChannelInfo",
    "ChannelList",
    "TriggerResult",
    "User",
    "UserList",
    "check_response",
    "parse_batch_response",
    "parse_channel_response",
    "parse_channels_response",
    "parse_empty_response",
    "parse_json_response",
    "parse_trigger_response",
    "parse_users_response",
]

_EXCERPT_LENGTH = 200


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@frozen
class ChannelAttributes:
    """Attributes of one channel as the server reported them.

    Attributes:
        subscription_count: The number of subscriptions, if requested and reported.
        user_count: The number of distinct users of a presence channel, if reported.
        raw: Every attribute the server sent, including ones this SDK does not name.
    """

    subscription_count: int | None = None
    user_count: int | None = None
    raw: Mapping[str, Any] = field(factory=dict, converter=_frozen_mapping, eq=False)

    @classmethod
    def from_json(cls, value: object) -> ChannelAttributes:
        """Build the attributes from a JSON object, ignoring a value of another shape."""
        if not isinstance(value, dict):
            return cls()
        return cls(
            subscription_count=_optional_int(value.get("subscription_count")),
            user_count=_optional_int(value.get("user_count")),
            raw=value,
        )


@frozen
class TriggerResult:
    """The result of a trigger: channel attributes when ``info`` was requested."""

    channels: Mapping[str, ChannelAttributes] = field(factory=dict, converter=_frozen_mapping)


@frozen
class BatchResult:
    """The result of a batch trigger: one attributes entry per event when ``info`` was set."""

    batch: tuple[ChannelAttributes, ...] = ()


@frozen
class ChannelList:
    """The occupied channels, by name, with the attributes requested by ``info``."""

    channels: Mapping[str, ChannelAttributes] = field(factory=dict, converter=_frozen_mapping)


@frozen
class ChannelInfo:
    """The state of one channel.

    Attributes:
        occupied: Whether the channel has at least one subscriber.
        subscription_count: The number of subscriptions, if requested and reported.
        user_count: The number of distinct users of a presence channel, if requested.
        raw: Every attribute the server sent.
    """

    occupied: bool
    subscription_count: int | None = None
    user_count: int | None = None
    raw: Mapping[str, Any] = field(factory=dict, converter=_frozen_mapping, eq=False)


@frozen
class User:
    """A user present on a presence channel."""

    id: str


@frozen
class UserList:
    """The users present on a presence channel."""

    users: tuple[User, ...] = ()


def _optional_int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _body_text(response: Response) -> str:
    return response.body.decode("utf-8", "replace")


def _raise_request_error(request: Request, response: Response, status: int) -> None:
    error_class = request_error_for_status(status)
    raise error_class(
        status=status,
        body=_body_text(response),
        method=request.method,
        path=request.path,
        retry_after=response.header("Retry-After"),
    )


def _unexpected(response: Response, problem: str) -> UnexpectedResponseError:
    excerpt = _body_text(response)[:_EXCERPT_LENGTH]
    return UnexpectedResponseError(
        f"status {response.status} with {problem}: {excerpt!r}",
        status=response.status,
        excerpt=excerpt,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _in_band_status(value: object, response: Response) -> int | None:
    """Return the status a 2xx body reports a rejection with, or None for no rejection."""
    if not isinstance(value, dict) or "error" not in value or "code" not in value:
        return None
    code = value["code"]
    if _is_int(code) and code >= 400:
        return int(code)
    error = value["error"]
    if not isinstance(error, str) or not error:
        return None
    # A code that is not an int names no status, so the response's own status is used.
    return int(code) if _is_int(code) else response.status


def check_response(response: Response, request: Request) -> Any:
    """Return the decoded JSON body of a successful response, or None for an empty one.

    Raises:
        RequestError: The status is not 2xx (redirects included), or a 2xx body reports a
            rejection: ``{"error": ..., "code": 4xx/5xx}``, or a non-empty ``"error"``
            string beside any other ``"code"``.
        UnexpectedResponseError: A 2xx body is not JSON.
    """
    if not 200 <= response.status < 300:
        _raise_request_error(request, response, response.status)
    if not response.body.strip():
        return None
    try:
        value = json.loads(response.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _unexpected(response, "a body that is not JSON") from None
    status = _in_band_status(value, response)
    if status is not None:
        _raise_request_error(request, response, status)
    return value


def parse_json_response(response: Response, request: Request) -> Any:
    """Return the decoded JSON body of a generic GET or POST, or None when empty."""
    return check_response(response, request)


def parse_empty_response(response: Response, request: Request) -> None:
    """Check a response whose body carries nothing the caller needs."""
    check_response(response, request)


def _object_body(response: Response, request: Request) -> dict[str, Any]:
    value = check_response(response, request)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _unexpected(response, "a JSON body that is not an object")
    return value


def _attributes_by_name(value: object) -> dict[str, ChannelAttributes]:
    if not isinstance(value, dict):
        return {}
    return {str(name): ChannelAttributes.from_json(attrs) for name, attrs in value.items()}


# The whole body of a successful trigger without ``info``. The result is immutable, so
# one instance serves every such response, and decoding the JSON is skipped.
_EMPTY_OBJECT = b"{}"
_NO_CHANNELS = TriggerResult()


def parse_trigger_response(response: Response, request: Request) -> TriggerResult:
    """Return the result of a trigger or a send to a user."""
    if response.body == _EMPTY_OBJECT and 200 <= response.status < 300:
        return _NO_CHANNELS
    body = _object_body(response, request)
    return TriggerResult(channels=_attributes_by_name(body.get("channels")))


def parse_batch_response(response: Response, request: Request) -> BatchResult:
    """Return the result of a batch trigger."""
    body = _object_body(response, request)
    entries = body.get("batch")
    if not isinstance(entries, list):
        return BatchResult()
    return BatchResult(batch=tuple(ChannelAttributes.from_json(entry) for entry in entries))


def parse_channels_response(response: Response, request: Request) -> ChannelList:
    """Return the list of occupied channels."""
    body = _object_body(response, request)
    return ChannelList(channels=_attributes_by_name(body.get("channels")))


def parse_channel_response(response: Response, request: Request) -> ChannelInfo:
    """Return the state of one channel."""
    body = _object_body(response, request)
    occupied = body.get("occupied")
    if not isinstance(occupied, bool):
        raise _unexpected(response, "no boolean 'occupied' field")
    return ChannelInfo(
        occupied=occupied,
        subscription_count=_optional_int(body.get("subscription_count")),
        user_count=_optional_int(body.get("user_count")),
        raw=body,
    )


def parse_users_response(response: Response, request: Request) -> UserList:
    """Return the users of a presence channel."""
    body = _object_body(response, request)
    entries = body.get("users")
    if not isinstance(entries, list):
        raise _unexpected(response, "no 'users' list")
    users = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise _unexpected(response, "a user entry without a string 'id'")
        users.append(User(id=entry["id"]))
    return UserList(users=tuple(users))
