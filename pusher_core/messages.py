"""The HTTP values that cross the boundary between the core and a transport.

A transport receives a `Request` and returns a `Response`; nothing else passes between
them. Both are frozen and deeply immutable (tuples of pairs, bytes), so one request can be
sent twice, logged or shared between threads without copying.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from attrs import field, frozen

__all__ = ["Headers", "QueryParams", "Request", "Response", "encode_query"]

Headers = tuple[tuple[str, str], ...]
QueryParams = tuple[tuple[str, str], ...]

# Characters `quote(..., safe=",")` leaves as they are: RFC 3986 unreserved, and comma.
_KEPT_AS_IS_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~,-"
_KEPT_AS_IS = re.compile(f"[{re.escape(_KEPT_AS_IS_CHARACTERS)}]*\\Z", re.ASCII)
_KEPT_AS_IS_BYTES = _KEPT_AS_IS_CHARACTERS.encode("ascii")


def _escape(text: str) -> str:
    # A match is much cheaper than `quote`, and signing params nearly always match.
    if _KEPT_AS_IS.match(text):
        return text
    return quote(text, safe=",")


def encode_query(params: QueryParams) -> str:
    """Join params as ``key=value`` pairs, percent-escaping all but unreserved bytes and commas.

    Escaping makes the server decode exactly the value that was signed, whatever
    characters (``&``, ``#``, space, non-ASCII) it contains. Commas stay as they are, as
    in ``info=user_count,subscription_count``: they mean nothing special in a query
    value, and leaving them keeps the wire form equal to the npm library's.
    """
    # Signed queries nearly always need no escaping at all. Deleting every kept byte
    # from all keys and values together proves that in one pass.
    joined = "".join(map("".join, params))
    if joined.isascii() and not joined.encode("ascii").translate(None, _KEPT_AS_IS_BYTES):
        return "&".join(map("=".join, params))
    return "&".join([f"{_escape(key)}={_escape(value)}" for key, value in params])


def _to_pairs(items: object) -> tuple[tuple[str, str], ...]:
    # Converts lists of lists too, so no mutable container hides inside a frozen value.
    return tuple((str(key), str(value)) for key, value in items)  # type: ignore[attr-defined]


def _find_header(headers: Headers, name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


@frozen(repr=False)
class Request:
    """A fully signed HTTP request, ready for any transport.

    Attributes:
        method: The HTTP method, upper case.
        scheme: ``"https"`` or ``"http"``.
        host: The host, without port; an IPv6 address is in brackets.
        port: The TCP port.
        path: The path as sent, percent-escaped where needed.
        query: The query params in wire order, with their values not yet escaped. The
            signature is among them, so the repr leaves them out.
        headers: The header pairs to send.
        body: The body bytes; empty for a request without a body.
        timeout: Seconds the transport may spend on the whole exchange.
    """

    method: str
    scheme: str
    host: str
    port: int
    path: str
    query: QueryParams = field(converter=_to_pairs)
    headers: Headers = field(converter=_to_pairs)
    body: bytes = b""
    timeout: float = 10.0

    @property
    def query_string(self) -> str:
        """The query as sent, with every value percent-escaped."""
        return encode_query(self.query)

    @property
    def target(self) -> str:
        """The request target: the path, then ``?`` and the query string if there is one."""
        if not self.query:
            return self.path
        return f"{self.path}?{self.query_string}"

    @property
    def origin(self) -> str:
        """The scheme, host and port, such as ``https://api-eu.pusher.com:443``."""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The absolute URL, signature included. Treat it as a credential for a while."""
        return f"{self.origin}{self.target}"

    def header(self, name: str) -> str | None:
        """Return the first value of a header, matching the name without case."""
        return _find_header(self.headers, name)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


def trusted_request(
    method: str,
    scheme: str,
    host: str,
    port: int,
    path: str,
    query: QueryParams,
    headers: Headers,
    body: bytes,
    timeout: float,
) -> Request:
    """Build a `Request` without running its converters, for the core's request builder.

    The converters copy every pair, which costs more than signing the request. The
    builder already passes tuples of str pairs, so the copy would change nothing; other
    callers should use the `Request` constructor.
    """
    request = object.__new__(Request)
    set_field = object.__setattr__
    set_field(request, "method", method)
    set_field(request, "scheme", scheme)
    set_field(request, "host", host)
    set_field(request, "port", port)
    set_field(request, "path", path)
    set_field(request, "query", query)
    set_field(request, "headers", headers)
    set_field(request, "body", body)
    set_field(request, "timeout", timeout)
    return request


@frozen(repr=False)
class Response:
    """An HTTP response as a transport received it.

    Attributes:
        status: The status code.
        headers: The header pairs, in the order received.
        body: The complete body bytes.
    """

    status: int
    headers: Headers = field(converter=_to_pairs, default=())
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return the first value of a header, matching the name without case."""
        return _find_header(self.headers, name)

    def __repr__(self) -> str:
        return f"<Response {self.status}>"


def trusted_response(status: int, headers: Headers, body: bytes) -> Response:
    """Build a `Response` without running its converter, for the bundled transports.

    They pass a tuple of str pairs, which the converter would only copy. Other callers
    should use the `Response` constructor.
    """
    response = object.__new__(Response)
    object.__setattr__(response, "status", status)
    object.__setattr__(response, "headers", headers)
    object.__setattr__(response, "body", body)
    return response
