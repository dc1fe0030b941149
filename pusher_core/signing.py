"""Request signing as the Channels HTTP API defines it.

The string to sign is ``METHOD\\nPATH\\nQUERY``. QUERY contains every param except
``auth_signature``, sorted by key and joined as ``key=value`` with ``&``, the values not
escaped. ``auth_signature`` is the lowercase hex HMAC-SHA256 of that string, keyed by the
app secret. A request with a body also signs ``body_md5``, the hex MD5 of the body bytes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

from pusher_core.errors import ValidationError
from pusher_core.messages import QueryParams, encode_query
from pusher_core.validation import RESERVED_PARAMS, require_utf8

__all__ = [
    "AUTH_VERSION",
    "HmacSha256",
    "ParamValue",
    "Params",
    "QuerySigner",
    "hmac_sha256_hex",
    "normalize_params",
    "sign_query",
    "signed_query_string",
    "string_to_sign",
]

AUTH_VERSION = "1.0"

ParamValue = str | int | Iterable[str]
Params = Mapping[str, ParamValue]


def hmac_sha256_hex(secret: bytes, message: str) -> str:
    """Return the lowercase hex HMAC-SHA256 of the message's UTF-8 bytes."""
    return hmac.digest(secret, message.encode("utf-8"), "sha256").hex()


def _utf16_order(key: str) -> bytes:
    # JavaScript sorts strings by UTF-16 code units, and sorting by the big-endian UTF-16
    # bytes gives the same order. Keys outside the BMP then sort as in the npm library.
    return key.encode("utf-16-be", "surrogatepass")


def string_to_sign(method: str, path: str, params: Mapping[str, str]) -> str:
    """Return ``METHOD\\nPATH\\nQUERY`` with the params sorted by key and not escaped."""
    query = "&".join(f"{key}={params[key]}" for key in sorted(params, key=_utf16_order))
    return f"{method}\n{path}\n{query}"


def _param_value(key: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Iterable) and not isinstance(value, (Mapping, bytes)):
        items = tuple(value)
        if all(isinstance(item, str) for item in items):
            return ",".join(items)
    raise ValidationError(
        f"params[{key!r}]", f"must be a str, an int or a list of str, got {type(value).__name__}"
    )


def normalize_params(params: Params | None) -> dict[str, str]:
    """Return the caller's params as strings, joining list values with commas.

    Raises:
        ValidationError: A key is empty or reserved for signing, a value has a type
            that has no agreed text form, or a key or value contains a lone surrogate.
    """
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ValidationError("params", f"must be a mapping, got {type(params).__name__}")
    normalized: dict[str, str] = {}
    for key, value in params.items():
        if not isinstance(key, str) or not key:
            raise ValidationError("params", f"keys must be non-empty str, got {key!r}")
        if key in RESERVED_PARAMS:
            raise ValidationError(
                f"params[{key!r}]", "is reserved for request signing and set by the SDK"
            )
        field = f"params[{key!r}]"
        require_utf8(key, field)
        normalized[key] = require_utf8(_param_value(key, value), field)
    return normalized


_SHA256_BLOCK_SIZE = 64
# Byte translation tables that XOR every byte with the HMAC inner and outer pads.
_XOR_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_XOR_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))


class HmacSha256:
    """An HMAC-SHA256 key prepared once, for signing many messages with it.

    HMAC is ``H((K ^ opad) || H((K ^ ipad) || message))`` (RFC 2104). Each padded key
    fills exactly one SHA-256 block, so the hash states after those blocks are computed
    here, and each message costs two state copies instead of two more block hashes. The
    result equals `hmac_sha256_hex` for the same key. The repr never shows the key.

    Args:
        secret: The key bytes, of any length.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, secret: bytes) -> None:
        if len(secret) > _SHA256_BLOCK_SIZE:
            secret = hashlib.sha256(secret).digest()
        padded = secret.ljust(_SHA256_BLOCK_SIZE, b"\0")
        self._inner = hashlib.sha256(padded.translate(_XOR_INNER_PAD))
        self._outer = hashlib.sha256(padded.translate(_XOR_OUTER_PAD))

    def hexdigest(self, message: str) -> str:
        """Return the lowercase hex HMAC-SHA256 of the message's UTF-8 bytes."""
        inner = self._inner.copy()
        inner.update(message.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def __repr__(self) -> str:
        return "<HmacSha256>"


class QuerySigner:
    """Signs requests for one app key and secret, with the secret's HMAC state made once.

    `RequestBuilder` keeps one, because every request it builds is signed with the
    same credentials. The repr shows the app key only.

    Args:
        key: The app key, sent as ``auth_key``.
        secret: The app secret's bytes.
    """

    __slots__ = ("_key", "_mac")

    def __init__(self, key: str, secret: bytes) -> None:
        self._key = key
        self._mac = HmacSha256(secret)

    def __repr__(self) -> str:
        return f"<QuerySigner key={self._key!r}>"

    def sign(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        body: bytes | None,
        timestamp: int,
    ) -> QueryParams:
        """Return the signed query params in wire order, as `sign_query` does."""
        if not params:
            return self._sign_without_params(method, path, body, timestamp)
        signed = dict(params)
        signed["auth_key"] = self._key
        signed["auth_timestamp"] = str(timestamp)
        signed["auth_version"] = AUTH_VERSION
        if body:
            signed["body_md5"] = hashlib.md5(body, usedforsecurity=False).hexdigest()
        signature = self._mac.hexdigest(string_to_sign(method, path, signed))
        ordered = [(name, signed[name]) for name in sorted(signed, key=_utf16_order)]
        ordered.append(("auth_signature", signature))
        return tuple(ordered)

    def _sign_without_params(
        self, method: str, path: str, body: bytes | None, timestamp: int
    ) -> QueryParams:
        # The common case (every publish): the signing params alone, whose names are
        # already in sorted order, so the query is written out without a sort.
        stamp = str(timestamp)
        if not body:
            query = f"auth_key={self._key}&auth_timestamp={stamp}&auth_version={AUTH_VERSION}"
            signature = self._mac.hexdigest(f"{method}\n{path}\n{query}")
            return (
                ("auth_key", self._key),
                ("auth_timestamp", stamp),
                ("auth_version", AUTH_VERSION),
                ("auth_signature", signature),
            )
        digest = hashlib.md5(body, usedforsecurity=False).hexdigest()
        query = (
            f"auth_key={self._key}&auth_timestamp={stamp}"
            f"&auth_version={AUTH_VERSION}&body_md5={digest}"
        )
        signature = self._mac.hexdigest(f"{method}\n{path}\n{query}")
        return (
            ("auth_key", self._key),
            ("auth_timestamp", stamp),
            ("auth_version", AUTH_VERSION),
            ("body_md5", digest),
            ("auth_signature", signature),
        )


def sign_query(
    *,
    key: str,
    secret: bytes,
    method: str,
    path: str,
    params: Mapping[str, str],
    body: bytes | None,
    timestamp: int,
) -> QueryParams:
    """Return the signed query params in wire order, ``auth_signature`` last.

    `params` must already be normalized; `timestamp` is in whole seconds. To sign many
    requests with one secret, keep a `QuerySigner` instead.
    """
    return QuerySigner(key, secret).sign(method, path, params, body, timestamp)


def signed_query_string(
    *,
    key: str,
    secret: bytes,
    method: str,
    path: str,
    params: Mapping[str, str],
    body: bytes | None,
    timestamp: int,
) -> str:
    """Return the wire-ready query string of `sign_query`, values percent-escaped."""
    query = sign_query(
        key=key,
        secret=secret,
        method=method,
        path=path,
        params=params,
        body=body,
        timestamp=timestamp,
    )
    return encode_query(query)
