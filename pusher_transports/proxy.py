"""Transports that send requests through an HTTP proxy, sync on urllib3 and async on aiohttp.

An http target goes to the proxy in absolute form (``POST http://host/path?query``).
An https target goes through a CONNECT tunnel, so the proxy learns only the host and port.
The core signs the path and query, never the absolute-form target, so a proxy that
rewrites the target to origin form leaves the signature valid.

Credentials come from the proxy URL (``http://user:password@127.0.0.1:3128``) and are
sent as ``Proxy-Authorization: Basic``. A proxy that returns 407, rejects a tunnel or
cannot be reached makes the transport raise `ProxyError`.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import ssl
import time
import urllib.request
from collections.abc import Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

# CPython has shipped this since 2.x and urllib uses it for NO_PROXY, but typeshed
# leaves it out.
from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]

import urllib3
from attrs import field, frozen
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    EmptyPoolError,
    HTTPError,
    NewConnectionError,
)
from urllib3.exceptions import ProxyError as Urllib3ProxyError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError
from urllib3.response import BaseHTTPResponse
from urllib3.util import parse_url

from pusher_core.errors import (
    ConfigurationError,
    ConnectionFailedError,
    RequestTimeoutError,
    TransportError,
)
from pusher_core.messages import Request, Response
from pusher_core.validation import validate_int
from pusher_transports._deadline import Exchange, Watchdog, current_exchange, enter_phase
from pusher_transports._tls import certificate_failure

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "AsyncProxyTransport",
    "OriginUnreachableError",
    "ProxyError",
    "ProxyRoutes",
    "ProxyTransport",
    "ProxyURL",
]

logger = logging.getLogger("pusher.transport.proxy")

_URL_FORM = "Expected http://[user:password@]host[:port]."


class ProxyError(ConnectionFailedError):
    """The proxy rejected the request (407, a rejected CONNECT) or could not be reached.

    The request never went past the proxy, so ``maybe_sent`` is False.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, maybe_sent=False)


class OriginUnreachableError(ProxyError):
    """The proxy's response states that it could not connect to the target server.

    Raised for an RFC 9209 ``Proxy-Status`` error that comes before forwarding, such
    as ``connection_refused`` or ``dns_error``, and for tinyproxy's own
    ``500 Unable to connect`` page. The target never received the request.
    """


@frozen(repr=False)
class ProxyURL:
    """A parsed HTTP proxy address with its optional Basic credentials.

    Attributes:
        host: The proxy host; an IPv6 address is in brackets.
        port: The proxy port, 80 when the URL has none.
        username: The user for ``Proxy-Authorization``, or None.
        password: The password, left out of the repr.
    """

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str, field_name: str = "proxy_url") -> ProxyURL:
        """Parse ``http://[user:password@]host[:port]``.

        Raises:
            ConfigurationError: The URL is malformed. The message names `field_name` and
                never quotes the URL, which may hold a password.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            # ``from None``: the parser's own message can quote parts of the URL.
            raise ConfigurationError(field_name, f"invalid URL. {_URL_FORM}") from None
        if parts.scheme != "http":
            raise ConfigurationError(
                field_name, f"unsupported scheme {parts.scheme!r}. {_URL_FORM}"
            )
        if not parts.hostname:
            raise ConfigurationError(field_name, f"missing host. {_URL_FORM}")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ConfigurationError(field_name, f"unexpected path or query. {_URL_FORM}")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        username = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        if password is not None and not username:
            raise ConfigurationError(field_name, f"password without a user. {_URL_FORM}")
        return cls(host=host, port=port or 80, username=username, password=password)

    @property
    def address(self) -> str:
        """The proxy URL without credentials, such as ``http://127.0.0.1:3128``."""
        return f"http://{self.host}:{self.port}"

    @property
    def authorization(self) -> str | None:
        """The ``Proxy-Authorization`` header value, or None without credentials."""
        if self.username is None:
            return None
        pair = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def __repr__(self) -> str:
        credentials = "with credentials" if self.username is not None else "no credentials"
        return f"<ProxyURL {self.address} {credentials}>"


@frozen
class ProxyRoutes:
    """The proxy, or none, for each request.

    Attributes:
        proxies: The proxy by target scheme, ``"http"`` or ``"https"``. A scheme without
            an entry goes direct.
        no_proxy: A ``NO_PROXY`` value: comma-separated hosts, domain suffixes or
            ``*``, matched as `urllib.request.proxy_bypass_environment` matches them.
    """

    proxies: Mapping[str, ProxyURL]
    no_proxy: str | None = None

    @classmethod
    def single(cls, proxy_url: str) -> ProxyRoutes:
        """Route http and https targets through one proxy, bypassing none."""
        proxy = ProxyURL.parse(proxy_url)
        return cls(proxies={"http": proxy, "https": proxy})

    @classmethod
    def from_env(cls) -> ProxyRoutes:
        """Read HTTP_PROXY, HTTPS_PROXY and NO_PROXY (either case) from the environment.

        Raises:
            ConfigurationError: A proxy variable contains a malformed URL.
        """
        found = urllib.request.getproxies_environment()
        proxies = {
            scheme: ProxyURL.parse(found[scheme], field_name=f"{scheme}_proxy")
            for scheme in ("http", "https")
            if found.get(scheme)
        }
        return cls(proxies=proxies, no_proxy=found.get("no"))

    def proxy_for(self, request: Request) -> ProxyURL | None:
        """Return the proxy for the request, or None to connect directly."""
        proxy = self.proxies.get(request.scheme)
        if proxy is None or self._bypassed(request):
            return None
        return proxy

    def _bypassed(self, request: Request) -> bool:
        if not self.no_proxy:
            return False
        target = f"{request.host}:{request.port}"
        return bool(proxy_bypass_environment(target, {"no": self.no_proxy}))


# --- Sync, on urllib3 ------------------------------------------------------------------


# Proxies that close a client connection after every response without sending
# ``Connection: close``, matched on the product in their ``Via`` header. RFC 9112,
# section 9.6, requires that header, so a pooled connection to such a proxy looks
# reusable until its FIN arrives, and a request written in that window fails.
# tinyproxy 1.11.1 does this after every absolute-form request.
_SILENTLY_CLOSING_PROXIES = ("(tinyproxy/",)


def _closes_silently(headers: Mapping[str, str]) -> bool:
    via = headers.get("Via", "")
    return any(product in via for product in _SILENTLY_CLOSING_PROXIES)


class _ProxyHTTPConnection(HTTPConnection):
    """An `HTTPConnection` that logs its steps and obeys the current exchange's deadline."""

    def connect(self) -> None:
        enter_phase(self)
        super().connect()
        logger.debug("connection opened: %s:%s", self.host, self.port)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:
            logger.debug("connection reused: %s:%s", self.host, self.port)
        enter_phase(self)
        super().request(method, url, *args, **kwargs)

    def getresponse(self) -> BaseHTTPResponse:  # type: ignore[override]
        enter_phase(self)
        # With preload_content the body is read here, inside the deadline.
        response = super().getresponse()
        if self.proxy is not None and _closes_silently(response.headers):
            # The body is already read. A closed connection is replaced on its next
            # checkout instead of failing the request that would reuse it.
            self.close()
        return response


class _ProxyHTTPSConnection(_ProxyHTTPConnection, HTTPSConnection):
    """The TLS variant of `_ProxyHTTPConnection`, used for CONNECT tunnels."""


class _ProxyHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _ProxyHTTPConnection


class _ProxyHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _ProxyHTTPSConnection


_POOL_CLASSES = {"http": _ProxyHTTPConnectionPool, "https": _ProxyHTTPSConnectionPool}

# Headers urllib3 or http.client add unless set to SKIP_HEADER. The request carries
# everything the server needs, so the transport sends nothing else.
_SKIPPED_HEADERS = ("Accept-Encoding", "User-Agent")


class ProxyTransport:
    """A blocking transport that sends requests through an HTTP proxy with urllib3.

    ``request.timeout`` bounds the whole exchange: waiting for a free connection,
    connecting (the CONNECT tunnel included), sending and reading the complete
    response. At the deadline a watchdog thread shuts the socket down, so a proxy that
    drip-feeds bytes cannot hold a caller past it. Requests that `routes` sends
    direct, such as hosts in ``NO_PROXY``, use a pool with the same deadline.

    Args:
        proxy_url: ``http://[user:password@]host[:port]``, used for every target.
        ssl_context: The TLS context for https targets, checked at the end of the tunnel.
            By default, the system's trusted certificates.
        maxsize: Connections kept alive per proxy and per direct host.
        routes: Routes to use instead of `proxy_url`; `from_env` passes them.

    Raises:
        ConfigurationError: `proxy_url` is malformed.
        ValidationError: `maxsize` is not an int of at least 1.

    Example:
        >>> transport = ProxyTransport("http://user:secret@127.0.0.1:3128")
        >>> transport
        <ProxyTransport proxies=http://127.0.0.1:3128>
        >>> transport.close()
    """

    def __init__(
        self,
        proxy_url: str | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        maxsize: int = 10,
        routes: ProxyRoutes | None = None,
    ) -> None:
        validate_int(maxsize, "maxsize", 1)
        if routes is None:
            if proxy_url is None:
                raise ConfigurationError("proxy_url", f"missing. {_URL_FORM}")
            routes = ProxyRoutes.single(proxy_url)
        self.routes = routes
        # block=True: callers beyond maxsize wait for a free connection, within their
        # timeout, instead of opening connections the pool would then discard.
        options: dict[str, Any] = {"maxsize": maxsize, "block": True, "retries": False}
        if ssl_context is not None:
            options["ssl_context"] = ssl_context
        self._managers = {
            proxy: _proxy_manager(proxy, options) for proxy in set(routes.proxies.values())
        }
        self._direct = urllib3.PoolManager(**options)
        self._direct.pool_classes_by_scheme = _POOL_CLASSES
        self._watchdog = Watchdog()

    @classmethod
    def from_env(
        cls, *, ssl_context: ssl.SSLContext | None = None, maxsize: int = 10
    ) -> ProxyTransport:
        """Build a transport from HTTP_PROXY, HTTPS_PROXY and NO_PROXY.

        A target scheme without a proxy variable, and a host that NO_PROXY matches, is
        sent direct.
        """
        return cls(routes=ProxyRoutes.from_env(), ssl_context=ssl_context, maxsize=maxsize)

    def __repr__(self) -> str:
        addresses = ",".join(sorted({proxy.address for proxy in self.routes.proxies.values()}))
        return f"<ProxyTransport proxies={addresses or 'none'}>"

    def send(self, request: Request) -> Response:
        """Send the request through its proxy, or direct, and return the complete response.

        Raises:
            OriginUnreachableError: The proxy reported that it could not connect to the
                target server.
            ProxyError: The proxy returned 407, rejected the tunnel or was unreachable.
            RequestTimeoutError: No complete response within ``request.timeout`` seconds.
            ConnectionFailedError: The connection broke.
        """
        proxy = self.routes.proxy_for(request)
        via = proxy.address if proxy is not None else "direct"
        logger.debug("sending request via %s: %s %s", via, request.method, request.path)
        manager = self._direct if proxy is None else self._managers[proxy]
        raw = self._exchange(manager, request, proxy)
        response = Response(status=raw.status, headers=tuple(raw.headers.items()), body=raw.data)
        logger.debug("response status: %s for %s %s", raw.status, request.method, request.path)
        if proxy is not None:
            _raise_for_proxy_status(response, raw.reason or "", request, proxy)
        return response

    def close(self) -> None:
        """Stop the deadline thread and close every connection to proxies and direct hosts."""
        self._watchdog.close()
        for manager in self._managers.values():
            manager.clear()
        self._direct.clear()

    def __enter__(self) -> ProxyTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _exchange(
        self, manager: urllib3.PoolManager, request: Request, proxy: ProxyURL | None
    ) -> BaseHTTPResponse:
        exchange = Exchange(time.monotonic() + request.timeout)
        token = current_exchange.set(exchange)
        try:
            self._watchdog.watch(exchange)
            response = manager.request(
                request.method,
                request.url,
                body=request.body or None,
                headers=_headers(request),
                timeout=urllib3.Timeout(connect=request.timeout, read=request.timeout),
                retries=False,
                redirect=False,
                preload_content=True,
                pool_timeout=request.timeout,
            )
        except (HTTPError, OSError) as exc:
            raise _translate_urllib3(exc, request, proxy, exchange) from exc
        finally:
            exchange.detach()
            self._watchdog.unwatch(exchange)
            current_exchange.reset(token)
        if exchange.expired:
            # A cut stream can pass for the end of the headers or of a body without a
            # length, so a response the deadline cut short may look complete.
            raise RequestTimeoutError(
                f"{request.method} {request.path}: timed out after {request.timeout} s"
            )
        return response


def _headers(request: Request) -> urllib3.HTTPHeaderDict:
    headers = urllib3.HTTPHeaderDict()
    for name, value in request.headers:
        headers.add(name, value)
    for name in _SKIPPED_HEADERS:
        if name not in headers:
            headers[name] = urllib3.util.SKIP_HEADER
    return headers


class _ExactProxyManager(urllib3.ProxyManager):
    """A `ProxyManager` that forwards the request's headers as they are.

    urllib3 2.8 adds ``Accept: */*`` to every absolute-form request and copies the
    headers into a plain dict, which merges repeated fields. This override of its
    private hook adds only the ``Host`` header that HTTP/1.1 requires.
    """

    def _set_proxy_headers(
        self, url: str, headers: Mapping[str, str] | None = None
    ) -> Mapping[str, str]:
        exact = urllib3.HTTPHeaderDict(headers or {})
        netloc = parse_url(url).netloc
        if netloc and "Host" not in exact:
            exact["Host"] = netloc
        return exact


def _proxy_manager(proxy: ProxyURL, options: dict[str, Any]) -> urllib3.ProxyManager:
    headers = {"Proxy-Authorization": proxy.authorization} if proxy.authorization else None
    manager = _ExactProxyManager(proxy.address, proxy_headers=headers, **options)
    manager.pool_classes_by_scheme = _POOL_CLASSES
    return manager


def _raise_for_proxy_status(
    response: Response, reason: str, request: Request, proxy: ProxyURL
) -> None:
    """Raise for a response that the proxy wrote itself instead of forwarding."""
    where = f"{request.method} {request.path}"
    # An absolute-form request gets the proxy's own 407. The Channels HTTP API
    # documents no 407 response, so this status comes from the proxy.
    if response.status == 407:
        raise ProxyError(
            f"{where}: proxy {proxy.address} returned "
            f"407 Proxy Authentication Required; {_credentials_hint(proxy)}"
        )
    failure = _unreached_origin(response, reason)
    if failure is not None:
        # The cause records the proxy's own status line, since no library raised.
        cause = _ProxyStatus(f"{response.status} {reason}".strip())
        raise OriginUnreachableError(
            f"{where}: proxy {proxy.address} could not reach {request.origin}: {failure}"
        ) from cause


class _ProxyStatus(Exception):
    """The status line of an error response that a proxy wrote itself."""


# RFC 9209 error types that a proxy reports before it forwards anything to the next
# hop: name resolution, routing, connecting and the TLS handshake with the next hop.
_NOT_FORWARDED_ERRORS = frozenset(
    {
        "dns_timeout",
        "dns_error",
        "destination_not_found",
        "destination_unavailable",
        "destination_ip_prohibited",
        "destination_ip_unroutable",
        "connection_refused",
        "connection_timeout",
        "connection_limit_reached",
        "tls_protocol_error",
        "tls_certificate_error",
        "tls_alert_received",
    }
)


def _unreached_origin(response: Response, reason: str) -> str | None:
    """Return why the proxy could not reach the origin, or None if it did or may have."""
    for error in _proxy_status_errors(response):
        if error in _NOT_FORWARDED_ERRORS:
            return error
    # tinyproxy 1.11 sends no Proxy-Status. Its own error page carries its Server
    # header and no Via, which it adds to every response it forwards.
    server = response.header("Server") or ""
    if (
        response.status == 500
        and reason == "Unable to connect"
        and server.startswith("tinyproxy/")
        and response.header("Via") is None
    ):
        return "connection failed"
    return None


def _proxy_status_errors(response: Response) -> list[str]:
    """List the ``error`` parameters of every ``Proxy-Status`` member (RFC 9209).

    This is a small subset of the structured-field syntax of RFC 8941: members are
    split on commas and parameters on semicolons, so a quoted ``details`` string
    that contains either character can hide a later parameter of the same member.
    """
    errors = []
    for name, value in response.headers:
        if name.lower() != "proxy-status":
            continue
        for member in value.split(","):
            for parameter in member.split(";")[1:]:
                key, _, token = parameter.partition("=")
                if key.strip() == "error":
                    errors.append(token.strip())
    return errors


# tinyproxy 1.11.1 rejects a CONNECT with wrong credentials with 401, not 407. Only
# the proxy responds to a CONNECT, so either status there is about proxy credentials.
_AUTH_STATUSES = frozenset({"401", "407"})


def _credentials_hint(proxy: ProxyURL) -> str:
    if proxy.username is None:
        return "add user:password@ to the proxy URL"
    return "check the user and password in the proxy URL"


def _translate_urllib3(
    exc: HTTPError | OSError, request: Request, proxy: ProxyURL | None, exchange: Exchange
) -> TransportError:
    """Map a urllib3 failure to our error, without the signed query."""
    where = f"{request.method} {request.path}"
    # urllib3 wraps failures before the proxy connection was up in its ProxyError,
    # with the cause as the second argument.
    if isinstance(exc, Urllib3ProxyError) and len(exc.args) > 1:
        exc = exc.args[1]
    certificate = certificate_failure(exc)
    if certificate is not None:
        return ConnectionFailedError(f"{where}: {certificate}", maybe_sent=False)
    if proxy is not None and isinstance(exc, NewConnectionError):
        return ProxyError(f"{where}: could not connect to proxy {proxy.address}")
    reason = str(exc)
    if proxy is not None and reason.startswith("Tunnel connection failed: "):
        return _tunnel_error(where, reason.removeprefix("Tunnel connection failed: "), proxy)
    if isinstance(exc, NewConnectionError):
        return ConnectionFailedError(
            f"{where}: connection failed: {type(exc).__name__}", maybe_sent=False
        )
    if isinstance(exc, EmptyPoolError):
        return RequestTimeoutError(
            f"{where}: no free connection within {request.timeout} s", maybe_sent=False
        )
    if isinstance(exc, ConnectTimeoutError):
        return RequestTimeoutError(f"{where}: connecting timed out", maybe_sent=False)
    # A failure after the deadline is the watchdog's doing, or a read that it cut short.
    if exchange.remaining() <= 0 or isinstance(exc, Urllib3TimeoutError | TimeoutError):
        return RequestTimeoutError(f"{where}: timed out after {request.timeout} s")
    return _broken_connection(where, exc, request, proxy)


def _tunnel_error(where: str, reason: str, proxy: ProxyURL) -> ProxyError:
    message = f"{where}: proxy {proxy.address} rejected the tunnel: {reason}"
    if reason[:3] in _AUTH_STATUSES:
        message += f"; {_credentials_hint(proxy)}"
    return ProxyError(message)


def _broken_connection(
    where: str, exc: BaseException, request: Request, proxy: ProxyURL | None
) -> ConnectionFailedError:
    message = f"{where}: connection broke: {type(exc).__name__}"
    if proxy is not None and request.scheme == "http":
        # NOTE: a proxy that rejects a request with a body, such as tinyproxy 1.11
        # with a 407, may close before reading the body. The reset can then destroy
        # its response before urllib3 reads it, so this case cannot be distinguished
        # from a broken forward and keeps maybe_sent=True.
        message += f"; if proxy {proxy.address} requires credentials, {_credentials_hint(proxy)}"
    return ConnectionFailedError(message)


# --- Async, on aiohttp -----------------------------------------------------------------


class AsyncProxyTransport:
    """An asyncio transport that sends requests through an HTTP proxy with aiohttp.

    Requires the aiohttp extra. ``request.timeout`` bounds the whole exchange. The
    transport is bound to the event loop that first uses it.

    Args:
        proxy_url: ``http://[user:password@]host[:port]``, used for every target.
        ssl_context: The TLS context for https targets. By default, the system's
            trusted certificates.
        limit: Connections open at once, to proxies and direct hosts together.
        routes: Routes to use instead of `proxy_url`; `from_env` passes them.

    Raises:
        ConfigurationError: `proxy_url` is malformed.
        ValidationError: `limit` is not an int of at least 1.
    """

    def __init__(
        self,
        proxy_url: str | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        limit: int = 100,
        routes: ProxyRoutes | None = None,
    ) -> None:
        if routes is None:
            if proxy_url is None:
                raise ConfigurationError("proxy_url", f"missing. {_URL_FORM}")
            routes = ProxyRoutes.single(proxy_url)
        self.routes = routes
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        # aiohttp reads a limit of 0 as "no limit", so it is rejected like other ints below 1.
        self._limit = validate_int(limit, "limit", 1)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_env(
        cls, *, ssl_context: ssl.SSLContext | None = None, limit: int = 100
    ) -> AsyncProxyTransport:
        """Build a transport from HTTP_PROXY, HTTPS_PROXY and NO_PROXY, as `ProxyTransport`."""
        return cls(routes=ProxyRoutes.from_env(), ssl_context=ssl_context, limit=limit)

    def __repr__(self) -> str:
        addresses = ",".join(sorted({proxy.address for proxy in self.routes.proxies.values()}))
        return f"<AsyncProxyTransport proxies={addresses or 'none'}>"

    async def send(self, request: Request) -> Response:
        """Send the request through its proxy, or direct, and return the complete response.

        Raises:
            OriginUnreachableError: The proxy reported that it could not connect to the
                target server.
            ProxyError: The proxy returned 407, rejected the tunnel or was unreachable.
            RequestTimeoutError: No complete response within ``request.timeout`` seconds.
            ConnectionFailedError: The connection broke.
        """
        import aiohttp

        from pusher_transports._aiohttp_errors import strip_signed_query

        proxy = self.routes.proxy_for(request)
        via = proxy.address if proxy is not None else "direct"
        logger.debug("sending request via %s: %s %s", via, request.method, request.path)
        try:
            response, reason = await self._exchange(self._get_session(), request, proxy)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            strip_signed_query(exc)
            raise _translate_aiohttp(exc, request, proxy) from exc
        logger.debug("response status: %s for %s %s", response.status, request.method, request.path)
        if proxy is not None:
            _raise_for_proxy_status(response, reason, request, proxy)
        return response

    async def close(self) -> None:
        """Close the session and every connection it holds."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> AsyncProxyTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _get_session(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None:
            tracing = aiohttp.TraceConfig()
            tracing.on_connection_create_end.append(_log_connection_opened)
            tracing.on_connection_reuseconn.append(_log_connection_reused)
            self._session = aiohttp.ClientSession(
                connector=_connector_class()(limit=self._limit),
                # A cookie jar would add Cookie headers the request never asked for.
                cookie_jar=aiohttp.DummyCookieJar(),
                trace_configs=[tracing],
            )
        return self._session

    async def _exchange(
        self, session: aiohttp.ClientSession, request: Request, proxy: ProxyURL | None
    ) -> tuple[Response, str]:
        import aiohttp
        import yarl

        headers = list(request.headers)
        proxy_options: dict[str, Any] = {}
        if proxy is not None:
            proxy_options["proxy"] = proxy.address
        if proxy is not None and proxy.authorization is not None:
            # aiohttp 3.14 sends proxy_headers on the CONNECT request only, so an
            # absolute-form request carries the credentials among its own headers. A
            # tunnelled request must not, or the origin would receive them.
            if request.scheme == "http":
                headers.append(("Proxy-Authorization", proxy.authorization))
            else:
                proxy_options["proxy_headers"] = {"Proxy-Authorization": proxy.authorization}
        # encoded=True: the target is already percent-escaped and signed as it is.
        async with session.request(
            request.method,
            yarl.URL(request.url, encoded=True),
            data=request.body or None,
            headers=headers,
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
            allow_redirects=False,
            ssl=self._ssl,
            timeout=aiohttp.ClientTimeout(total=request.timeout),
            trace_request_ctx=SimpleNamespace(peer=_peer(request, proxy)),
            **proxy_options,
        ) as raw:
            body = await raw.read()
            received = tuple(
                (name.decode("latin-1"), value.decode("latin-1")) for name, value in raw.raw_headers
            )
            return Response(status=raw.status, headers=received, body=body), raw.reason or ""


@functools.cache
def _connector_class() -> type[aiohttp.TCPConnector]:
    """Return a `TCPConnector` that never reuses a connection for absolute-form requests.

    aiohttp releases a connection before the caller sees the response headers, so the
    transport cannot close it after a response from a proxy that closes silently, as
    the sync transport does. Plain-http targets through a proxy therefore get a new
    connection to the proxy for each request. CONNECT tunnels and direct connections
    are reused as usual.
    """
    import aiohttp
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ConnectionKey

    class _AbsoluteFormClosingConnector(aiohttp.TCPConnector):
        # Overrides a private hook of aiohttp 3.14, the one place that receives each
        # connection's key as it is released.
        def _release(
            self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool = False
        ) -> None:
            absolute_form = key.proxy is not None and not key.is_ssl
            super()._release(key, protocol, should_close=should_close or absolute_form)

    return _AbsoluteFormClosingConnector


async def _log_connection_opened(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: object
) -> None:
    logger.debug("connection opened: %s", context.trace_request_ctx.peer)


async def _log_connection_reused(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: object
) -> None:
    logger.debug("connection reused: %s", context.trace_request_ctx.peer)


def _peer(request: Request, proxy: ProxyURL | None) -> str:
    """Return the ``host:port`` the transport connects to: the proxy, or the target."""
    if proxy is None:
        return f"{request.host}:{request.port}"
    return f"{proxy.host}:{proxy.port}"


def _translate_aiohttp(
    exc: BaseException, request: Request, proxy: ProxyURL | None
) -> TransportError:
    """Map an aiohttp failure to our error; aiohttp's messages quote the URL, so none is copied."""
    import aiohttp

    where = f"{request.method} {request.path}"
    if proxy is not None and isinstance(exc, aiohttp.ClientHttpProxyError):
        message = f"{where}: proxy {proxy.address} rejected the tunnel: {exc.status} {exc.message}"
        if str(exc.status) in _AUTH_STATUSES:
            message += f"; {_credentials_hint(proxy)}"
        return ProxyError(message)
    if proxy is not None and isinstance(exc, aiohttp.ClientProxyConnectionError):
        return ProxyError(f"{where}: could not connect to proxy {proxy.address}")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return RequestTimeoutError(
            f"{where}: no connection opened within {request.timeout} s", maybe_sent=False
        )
    if isinstance(exc, asyncio.TimeoutError):
        return RequestTimeoutError(f"{where}: timed out after {request.timeout} s")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        reason = certificate_failure(exc.certificate_error) or "certificate rejected"
        return ConnectionFailedError(f"{where}: {reason}", maybe_sent=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectionFailedError(
            f"{where}: connection failed: {type(exc.os_error).__name__}", maybe_sent=False
        )
    return ConnectionFailedError(f"{where}: connection broke: {type(exc).__name__}")
