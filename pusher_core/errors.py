"""The exception tree shared by the core, the transports and the clients.

Every error the SDK raises on purpose is a `PusherError`. Three branches tell a caller
what to do next:

- `ValidationError`: the caller passed bad input. It is raised before any I/O, and
  `field` names the argument or configuration field at fault.
- `RequestError`: the server received the request and rejected it. One subclass per
  status family, each carrying the status, the verbatim body, the method, the path and
  any `Retry-After` value.
- `TransportError`: the exchange failed on the way (timeout or connection failure).
  `maybe_sent` tells whether the server could have received the request.

`ClientClosedError` stands apart: a closed client raises it before it sends anything.

No message in this module quotes a secret: callers build messages from field names,
lengths and rules, never from secret values.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConnectionFailedError",
    "EncryptionError",
    "ForbiddenError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PusherError",
    "RateLimitedError",
    "RequestError",
    "RequestTimeoutError",
    "ServerError",
    "TransportError",
    "UnexpectedResponseError",
    "ValidationError",
    "WebhookError",
    "request_error_for_status",
]


class PusherError(Exception):
    """The root of every error this SDK raises on purpose."""


class ValidationError(PusherError, ValueError):
    """Bad input from the caller, raised before any I/O.

    Attributes:
        field: The name of the argument or configuration field at fault.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class ConfigurationError(ValidationError):
    """A configuration value is missing or invalid."""


class EncryptionError(PusherError):
    """Encryption or decryption failed, or the encryption extra is not installed."""


class WebhookError(PusherError):
    """A webhook was read although it is invalid.

    Attributes:
        reason: A short machine-readable reason, such as ``"bad_signature"``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class UnexpectedResponseError(PusherError):
    """The server returned a success status, but the body is not what the API defines.

    Attributes:
        status: The HTTP status code.
        excerpt: The first characters of the body, for diagnosis.
    """

    def __init__(self, message: str, *, status: int, excerpt: str) -> None:
        super().__init__(message)
        self.status = status
        self.excerpt = excerpt


class RequestError(PusherError):
    """The server rejected a request.

    Attributes:
        status: The HTTP status code, or the code in the body of a server that reports
            rejections inside a 200 response.
        body: The response body as text, verbatim (decoded as UTF-8 with replacement).
        method: The request method.
        path: The request path, without the query string.
        retry_after: The ``Retry-After`` header value, or None.
    """

    def __init__(
        self,
        *,
        status: int,
        body: str,
        method: str,
        path: str,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(f"{method} {path} failed with status {status}: {_excerpt(body)}")
        self.status = status
        self.body = body
        self.method = method
        self.path = path
        self.retry_after = retry_after


class BadRequestError(RequestError):
    """The server returned 400: the request was malformed."""


class AuthenticationError(RequestError):
    """The server returned 401: the key, secret or signature was not accepted."""


class ForbiddenError(RequestError):
    """The server answered 403: the app is disabled or over its quota."""


class NotFoundError(RequestError):
    """The server answered 404: the app or resource does not exist."""


class PayloadTooLargeError(RequestError):
    """The server answered 413: the event data exceeds the server's limit."""


class RateLimitedError(RequestError):
    """The server answered 429: too many requests. See `retry_after`."""


class ServerError(RequestError):
    """The server answered with a 5xx status."""


class TransportError(PusherError):
    """The HTTP exchange failed before a complete response arrived.

    Attributes:
        maybe_sent: False only when the request provably never reached the server, for
            example when the connection was refused. A retry of a publish is safe only
            then, because Channels has no idempotency key.
    """

    def __init__(self, message: str, *, maybe_sent: bool = True) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class ClientClosedError(PusherError):
    """A request was made through a client after its `close`.

    It is raised before any I/O, so it is not a `TransportError`: nothing was sent, and
    retrying on the same client fails the same way. Create a new client instead.
    """


class RequestTimeoutError(TransportError):
    """No complete response arrived within the configured timeout."""


class ConnectionFailedError(TransportError):
    """The connection could not be opened, or broke during the exchange."""


_ERRORS_BY_STATUS: dict[int, type[RequestError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
}


def request_error_for_status(status: int) -> type[RequestError]:
    """Return the `RequestError` subclass that stands for an HTTP status code."""
    if status >= 500:
        return ServerError
    return _ERRORS_BY_STATUS.get(status, RequestError)


def _excerpt(text: str, limit: int = 200) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + "..."
