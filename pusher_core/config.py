"""The app configuration: credentials, where the API lives, and limits.

`Config` is a frozen value checked at construction, so a bad value fails where it is
written, with an error naming the field. Error messages never quote the secret, the
master key or a URL that carries them.
"""

from __future__ import annotations

import binascii
import ipaddress
import json
import math
import os
import re
from base64 import b64decode
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from attrs import Attribute, Factory, field, frozen

from pusher_core.errors import ConfigurationError

__all__ = ["DEFAULT_PAYLOAD_LIMIT", "DEFAULT_TIMEOUT", "Config"]

DEFAULT_TIMEOUT = 10.0
# Sockets reject timeouts past the platform's time_t with OverflowError, long before
# any float limit, and no single HTTP request needs more than a day.
MAX_TIMEOUT = 86400.0
# Pusher's own limit on event data, in UTF-8 bytes. Dedicated clusters may allow more.
DEFAULT_PAYLOAD_LIMIT = 10240

# Unreserved URL characters: an app id is placed in the path without escaping.
_APP_ID_PATTERN = re.compile(r"[A-Za-z0-9._~-]+\Z", re.ASCII)
_HOST_PATTERN = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)\Z", re.ASCII)
_BASE_PATH_PATTERN = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*\Z", re.ASCII)
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
_URL_PATH_PATTERN = re.compile(r"(?P<base>.*)/apps/(?P<app_id>[^/]+)/?\Z")


def _check_app_id(instance: Config, attribute: Attribute[str], value: str) -> None:
    _require_str(attribute.name, value)
    if not _APP_ID_PATTERN.match(value):
        raise ConfigurationError(
            "app_id", f"{value!r} is invalid: use 1 or more of A-Z a-z 0-9 . _ ~ -"
        )


def _check_key(instance: Config, attribute: Attribute[str], value: str) -> None:
    _require_str(attribute.name, value)
    if not value:
        raise ConfigurationError("key", "must not be empty")
    if _CONTROL_OR_SPACE.search(value) or ":" in value:
        raise ConfigurationError("key", "must not contain spaces, colons or control characters")


def _check_secret(instance: Config, attribute: Attribute[str], value: str) -> None:
    # The messages here describe the secret's shape only, never its characters.
    if not isinstance(value, str):
        raise ConfigurationError("secret", f"must be a str, got {type(value).__name__}")
    if not value:
        raise ConfigurationError("secret", "must not be empty")
    if value != value.strip():
        raise ConfigurationError("secret", "must not start or end with whitespace")


def _check_cluster(instance: Config, attribute: Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    _require_str("cluster", value)
    if not _HOST_PATTERN.match(value) or "." in value or value.startswith("["):
        raise ConfigurationError("cluster", f"{value!r} is invalid: expected a name like 'eu'")


def _check_host(instance: Config, attribute: Attribute[str], value: str) -> None:
    _require_str("host", value)
    if "://" in value:
        raise ConfigurationError("host", f"{value!r} is invalid: give the host without a scheme")
    if not _HOST_PATTERN.match(value) or not _is_valid_bracketed_address(value):
        raise ConfigurationError(
            "host",
            f"{value!r} is invalid: expected a host name or address, without port, path or spaces",
        )


def _is_valid_bracketed_address(host: str) -> bool:
    # The pattern lets any hex digits, colons and dots through brackets, so the address
    # is parsed too, because a transport can connect only to a real IPv6 address.
    if not host.startswith("["):
        return True
    try:
        ipaddress.IPv6Address(host[1:-1])
    except ValueError:
        return False
    return True


def _check_port(instance: Config, attribute: Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError("port", f"must be an int, got {type(value).__name__}")
    if not 1 <= value <= 65535:
        raise ConfigurationError("port", f"must be between 1 and 65535, got {value}")


def _check_tls(instance: Config, attribute: Attribute[bool], value: bool) -> None:
    if not isinstance(value, bool):
        raise ConfigurationError("tls", f"must be a bool, got {type(value).__name__}")


def _check_base_path(instance: Config, attribute: Attribute[str], value: str) -> None:
    _require_str("base_path", value)
    if _CONTROL_OR_SPACE.search(value):
        raise ConfigurationError(
            "base_path", f"{value!r} is invalid: spaces and control characters are not allowed"
        )
    if value.endswith("/") or not _BASE_PATH_PATTERN.match(value):
        raise ConfigurationError(
            "base_path",
            f"{value!r} is invalid: expected '' or a path like '/ws', with no trailing slash",
        )
    if _has_dot_segment(value):
        raise ConfigurationError(
            "base_path", f"{value!r} is invalid: it contains a '.' or '..' segment"
        )


def _has_dot_segment(path: str) -> bool:
    # Servers and proxies decode %2E before they resolve dot segments, so the escaped
    # forms would move the request to another path as well.
    segments = path.lower().replace("%2e", ".").split("/")
    return "." in segments or ".." in segments


def _check_timeout(instance: Config, attribute: Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(
            "timeout", f"must be a number of seconds, got {type(value).__name__}"
        )
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise ConfigurationError(
            "timeout", f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds, got {value}"
        )


def _check_payload_limit(instance: Config, attribute: Attribute[Any], value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(
            "payload_limit", f"must be a positive int or None (no limit), got {value!r}"
        )


def _check_json_encoder(
    instance: Config, attribute: Attribute[type[json.JSONEncoder] | None], value: object
) -> None:
    if value is None:
        return
    if not (isinstance(value, type) and issubclass(value, json.JSONEncoder)):
        raise ConfigurationError("json_encoder", "must be a json.JSONEncoder subclass or None")


def _check_master_key(
    instance: Config, attribute: Attribute[str | None], value: str | None
) -> None:
    if value is not None:
        decode_master_key(value)


def decode_master_key(value: object) -> bytes:
    """Decode a base64 master key strictly, or raise naming its decoded length.

    The standard alphabet with padding is required, and nothing else may surround it: a
    URL-safe alphabet or a trailing newline is rejected instead of being ignored.
    """
    field_name = "encryption_master_key_base64"
    if not isinstance(value, str):
        raise ConfigurationError(field_name, f"must be a str, got {type(value).__name__}")
    try:
        key = b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ConfigurationError(
            field_name, "is not valid standard base64 (A-Z a-z 0-9 + / with = padding)"
        ) from None
    if len(key) != 32:
        raise ConfigurationError(field_name, f"must decode to 32 bytes, got {len(key)}")
    return key


def _require_str(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise ConfigurationError(name, f"must be a str, got {type(value).__name__}")


def _default_host(config: Config) -> str:
    return f"api-{config.cluster or 'mt1'}.pusher.com"


def _default_port(config: Config) -> int:
    return 443 if config.tls else 80


@frozen(kw_only=True)
class Config:
    """The settings of one Channels app.

    Build it with keywords, or with `for_cluster`, `for_url` or `from_env`. An explicit
    `host` wins over `cluster`; with neither, the host is ``api-mt1.pusher.com``. The port
    defaults to 443 with TLS and 80 without.

    Attributes:
        app_id: The app id, placed in the path unescaped, so it must be URL-safe.
        key: The app key.
        secret: The app secret. It is left out of the repr.
        cluster: The cluster name, such as ``"eu"``, used to derive the host.
        tls: Whether to use HTTPS.
        host: The API host, without scheme or port.
        port: The API port.
        base_path: A path prefix for a server behind a reverse proxy, such as ``"/ws"``.
            Requests go to ``{base_path}/apps/{app_id}/...``, but the signature covers
            ``/apps/{app_id}/...``, the path the server receives once the proxy strips
            the prefix.
        timeout: Seconds a transport may spend on one request.
        json_encoder: A `json.JSONEncoder` subclass for event data of types `json` cannot
            encode, such as datetime or Decimal.
        payload_limit: The maximum size of event data in UTF-8 bytes, or None for no limit.
        encryption_master_key_base64: The base64 of 32 random bytes, from which the keys of
            ``private-encrypted-`` channels are derived. It is left out of the repr.
    """

    app_id: str = field(validator=_check_app_id)
    key: str = field(validator=_check_key)
    secret: str = field(validator=_check_secret, repr=False)
    cluster: str | None = field(default=None, validator=_check_cluster)
    tls: bool = field(default=True, validator=_check_tls)
    host: str = field(default=Factory(_default_host, takes_self=True), validator=_check_host)
    port: int = field(default=Factory(_default_port, takes_self=True), validator=_check_port)
    base_path: str = field(default="", validator=_check_base_path)
    timeout: float = field(default=DEFAULT_TIMEOUT, validator=_check_timeout)
    json_encoder: type[json.JSONEncoder] | None = field(default=None, validator=_check_json_encoder)
    payload_limit: int | None = field(default=DEFAULT_PAYLOAD_LIMIT, validator=_check_payload_limit)
    encryption_master_key_base64: str | None = field(
        default=None, validator=_check_master_key, repr=False
    )

    @property
    def scheme(self) -> str:
        """The URL scheme, ``"https"`` or ``"http"``."""
        return "https" if self.tls else "http"

    @property
    def encryption_master_key(self) -> bytes | None:
        """The decoded 32-byte master key, or None when encryption is not configured."""
        if self.encryption_master_key_base64 is None:
            return None
        return decode_master_key(self.encryption_master_key_base64)

    @classmethod
    def for_cluster(cls, cluster: str, **options: Any) -> Config:
        """Build a configuration for the host ``api-{cluster}.pusher.com``."""
        return cls(cluster=cluster, **options)

    @classmethod
    def for_url(cls, url: str, **options: Any) -> Config:
        """Build a configuration from ``SCHEME://KEY:SECRET@HOST[:PORT][/BASE]/apps/APP_ID``.

        The scheme sets TLS, an explicit port is kept, and a path before ``/apps/`` becomes
        the base path. Keyword options override nothing from the URL; they add the rest.

        Raises:
            ConfigurationError: The URL is malformed, or an option repeats a setting the
                URL makes. The message never quotes the URL, because it carries the secret.
        """
        settings = _parse_url(url)
        repeated = sorted(settings.keys() & options.keys())
        if repeated:
            raise ConfigurationError(repeated[0], "is already set by the URL, so change it there")
        return cls(**settings, **options)

    @classmethod
    def from_env(
        cls, variable: str = "PUSHER_URL", environ: Mapping[str, str] | None = None, **options: Any
    ) -> Config:
        """Build a configuration from the URL in an environment variable (`PUSHER_URL`).

        Raises:
            ConfigurationError: The variable is unset or empty, `environ` is not a
                mapping, or `for_url` rejects the URL.
        """
        if not isinstance(variable, str) or not variable:
            raise ConfigurationError("variable", f"must be a non-empty str, got {variable!r}")
        env = os.environ if environ is None else environ
        if not isinstance(env, Mapping):
            raise ConfigurationError("environ", f"must be a mapping, got {type(env).__name__}")
        url = env.get(variable)
        if not url:
            raise ConfigurationError(variable, "the environment variable is not set or empty")
        return cls.for_url(url, **options)


_URL_SHAPE = "expected http(s)://KEY:SECRET@HOST[:PORT]/apps/APP_ID"


def _parse_url(url: object) -> dict[str, Any]:
    if not isinstance(url, str):
        raise ConfigurationError("url", f"must be a str, got {type(url).__name__}")
    if _CONTROL_OR_SPACE.search(url):
        raise ConfigurationError(
            "url", f"must not contain spaces or control characters: {_URL_SHAPE}"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigurationError("url", f"is malformed: {_URL_SHAPE}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError("url", f"has an unsupported scheme: {_URL_SHAPE}")
    if not parts.username or not parts.password or not parts.hostname:
        raise ConfigurationError("url", f"lacks the key, the secret or the host: {_URL_SHAPE}")
    match = _URL_PATH_PATTERN.match(parts.path)
    if match is None or parts.query or parts.fragment:
        raise ConfigurationError("url", f"has an unexpected path: {_URL_SHAPE}")
    host = parts.hostname
    settings: dict[str, Any] = {
        "app_id": unquote(match["app_id"]),
        "key": unquote(parts.username),
        "secret": unquote(parts.password),
        "host": f"[{host}]" if ":" in host else host,
        "tls": parts.scheme == "https",
        "base_path": match["base"],
    }
    if port is not None:
        settings["port"] = port
    return settings
