"""Channel authorization and user authentication for pusher-js clients.

An app's auth endpoint signs, with the app secret, the subscription or sign-in that a
connection requests, and the Channels server checks that signature:

- Private channel: ``auth`` is ``KEY:HEX``, HEX being the hex HMAC-SHA256 of
  ``socket_id:channel``.
- Presence channel: the member data is serialised as ``channel_data`` and signed as
  ``socket_id:channel:channel_data``.
- ``private-encrypted-`` channel: signed as a private channel, plus ``shared_secret``, the
  channel key in base64 that pusher-js needs to decrypt events.
- User sign-in: ``user_data`` is serialised and signed as ``socket_id::user::user_data``.

Data is serialised as compact JSON with non-ASCII kept as UTF-8, which is also what the
npm ``pusher`` library produces, and the signature always covers the exact string
returned. Every result is a new dict of str values, ready for `json.dumps`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pusher_core import encryption
from pusher_core.data import to_json
from pusher_core.errors import ValidationError
from pusher_core.forms import parse_form
from pusher_core.signing import hmac_sha256_hex
from pusher_core.validation import validate_channel, validate_socket_id, validate_user_id

if TYPE_CHECKING:
    from pusher_core.config import Config

__all__ = [
    "ChannelDataProvider",
    "UserDataProvider",
    "authenticate_user",
    "authenticate_user_form",
    "authorize_channel",
    "authorize_channel_form",
]

ChannelDataProvider = Callable[[str, str], Mapping[str, Any] | None]
UserDataProvider = Callable[[str], Mapping[str, Any]]

_PRIVATE_PREFIX = "private-"
_PRESENCE_PREFIX = "presence-"


def _serialise(value: Mapping[str, Any], config: Config, field: str) -> str:
    text = to_json(dict(value), config.json_encoder, field)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            field, "contains a lone surrogate, which UTF-8 cannot encode"
        ) from None
    return text


def _sign(config: Config, message: str) -> str:
    return f"{config.key}:{hmac_sha256_hex(config.secret.encode('utf-8'), message)}"


def _presence_data(channel_data: object, config: Config) -> str:
    if not isinstance(channel_data, Mapping):
        raise ValidationError(
            "channel_data",
            f"presence channels need a mapping with a user_id, got {type(channel_data).__name__}",
        )
    user_id = channel_data.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise ValidationError("channel_data.user_id", "must be a non-empty str")
    return _serialise(channel_data, config, "channel_data")


def _channel_kind(channel: object) -> str:
    name = validate_channel(channel)
    if not name.startswith((_PRIVATE_PREFIX, _PRESENCE_PREFIX)):
        raise ValidationError(
            "channel",
            f"{name!r} is a public channel; only private- and presence- channels "
            "need authorization",
        )
    return name


def authorize_channel(
    config: Config,
    socket_id: str,
    channel: str,
    channel_data: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Sign a connection's subscription to a private or presence channel.

    Args:
        config: The app configuration; its key, secret and, for ``private-encrypted-``
            channels, master key are used.
        socket_id: The connection's socket id, such as ``"123.456"``.
        channel: A ``private-``, ``private-encrypted-`` or ``presence-`` channel name.
        channel_data: For presence channels only, the member: a mapping with a
            non-empty str ``user_id`` and optionally ``user_info``. It is read, never
            changed.

    Returns:
        ``{"auth": "KEY:HEX"}``, plus ``channel_data`` (the signed JSON text) for
        presence channels and ``shared_secret`` (base64 text) for encrypted channels.

    Raises:
        ValidationError: The socket id or channel is invalid, the channel is public,
            presence member data is missing or invalid, or member data was given for a
            channel that is not a presence channel.
        ConfigurationError: The channel is encrypted and no master key is configured.
    """
    socket = validate_socket_id(socket_id)
    name = _channel_kind(channel)

    if name.startswith(_PRESENCE_PREFIX):
        serialised = _presence_data(channel_data, config)
        return {
            "auth": _sign(config, f"{socket}:{name}:{serialised}"),
            "channel_data": serialised,
        }

    if channel_data is not None:
        raise ValidationError("channel_data", f"only presence channels take it, not {name!r}")
    result = {"auth": _sign(config, f"{socket}:{name}")}
    if encryption.is_encrypted_channel(name):
        result["shared_secret"] = encryption.shared_secret(config, name)
    return result


def authenticate_user(
    config: Config, socket_id: str, user_data: Mapping[str, Any]
) -> dict[str, str]:
    """Sign a connection's sign-in as a user.

    Args:
        config: The app configuration.
        socket_id: The connection's socket id.
        user_data: A mapping with the user's ``id`` (a non-empty str of at most 200
            characters without control characters) and any other fields, such as
            ``user_info`` and ``watchlist``, which pass through unchanged.

    Returns:
        ``{"auth": "KEY:HEX", "user_data": JSON}``, the signature covering
        ``socket_id::user::JSON``.

    Raises:
        ValidationError: The socket id or the user data is invalid.
    """
    socket = validate_socket_id(socket_id)
    if not isinstance(user_data, Mapping):
        raise ValidationError(
            "user_data", f"must be a mapping with an id, got {type(user_data).__name__}"
        )
    validate_user_id(user_data.get("id"), "user_data.id")

    serialised = _serialise(user_data, config, "user_data")
    return {"auth": _sign(config, f"{socket}::user::{serialised}"), "user_data": serialised}


def authorize_channel_form(
    config: Config,
    body: str | bytes,
    channel_data: Mapping[str, Any] | ChannelDataProvider | None = None,
) -> dict[str, str]:
    """Authorize the channel that a pusher-js form body requests.

    Args:
        config: The app configuration.
        body: The raw ``socket_id=...&channel_name=...`` form body.
        channel_data: The presence member data, used for presence channels only. It may
            also be a callable ``(socket_id, channel) -> mapping | None``, called for
            every channel. The callable returns the member data for presence channels and
            None for the others, and raises an exception of the app's choosing to deny
            access.

    Returns:
        The result of `authorize_channel`.

    Raises:
        ValidationError: The body is not a form, ``socket_id`` or ``channel_name`` is
            missing or repeated, or `authorize_channel` rejects the values.
        ConfigurationError: The channel is encrypted and no master key is configured.
    """
    form = parse_form(body, ("socket_id", "channel_name"))
    socket = validate_socket_id(form["socket_id"])
    name = validate_channel(form["channel_name"], "channel_name")

    if callable(channel_data):
        member = channel_data(socket, name)
    elif name.startswith(_PRESENCE_PREFIX):
        member = channel_data
    else:
        member = None
    return authorize_channel(config, socket, name, member)


def authenticate_user_form(
    config: Config,
    body: str | bytes,
    user_data: Mapping[str, Any] | UserDataProvider,
) -> dict[str, str]:
    """Authenticate the user that a pusher-js sign-in form body comes from.

    Args:
        config: The app configuration.
        body: The raw ``socket_id=...`` form body.
        user_data: The signed-in user's data, or a callable ``(socket_id) -> mapping``
            that returns it and raises an exception of the app's choosing to deny.

    Returns:
        The result of `authenticate_user`.

    Raises:
        ValidationError: The body is not a form, ``socket_id`` is missing or repeated,
            or `authenticate_user` rejects the values.
    """
    form = parse_form(body, ("socket_id",))
    socket = validate_socket_id(form["socket_id"])
    data = user_data(socket) if callable(user_data) else user_data
    return authenticate_user(config, socket, data)
