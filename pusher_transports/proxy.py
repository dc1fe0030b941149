"""Transports that send requests through an HTTP proxy, sync on urllib3 and async on aiohttp.

An http target goes to the proxy in absolute form (``POST http://host/path?query``); an
https target goes through a CONNECT tunnel, so the proxy learns only the host and port.
The core signs the path and query, never the absolute-form target, so a proxy that
rewrites the target to origin form leaves the signature valid.

Credentials come from the proxy URL (``http://user:password@127.0.0.1:3128``) and are
sent as ``Proxy-Authorization: Basic``. A proxy that returns 407, rejects a tunnel or
cannot be reached makes the transport raise `ProxyError`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

# CPython has shipped this since 2.x and urllib uses it for NO_PROXY, but typeshed
# leaves it out.
from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]

import urllib3
from attrs import field, frozen
from urllib3.exceptions import (
    ConnectTimeoutError,
    EmptyPoolError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
)
from urllib3.exceptions import ProxyError as Urllib3ProxyError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from pusher_core.errors import (
    ConfigurationError,
    ConnectionFailedError,
    RequestTimeoutError,
    TransportError,
)
from pusher_core.messages import Request, Response
from pusher_transports.urllib3_transport import Urllib3Transport

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AsyncProxyTransport", "ProxyError", "ProxyRoutes", "ProxyTransport", "ProxyURL"]

logger = logging.getLogger("pusher.transport.proxy")

_URL_FORM = "Expected http://[user:password@]host[:port]."


class ProxyError(ConnectionFailedError):
    """The proxy rejected the request (407, a rejected CONNECT) or could not be reached.

    The request never went past the proxy, so ``maybe_sent`` is False.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, maybe_sent=False)


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


class ProxyTransport:
    """A blocking transport that sends requests through an HTTP proxy with urllib3.

    Requests that `routes` sends direct, such as hosts in ``NO_PROXY``, go through a
    plain `Urllib3Transport`.

    Args:
        proxy_url: ``http://[user:password@]host[:port]``, used for every target.
        ssl_context: The TLS context for https targets, checked at the end of the tunnel.
            By default, the system's trusted certificates.
        maxsize: Connections kept alive per proxy and per direct host.
        routes: Routes to use instead of `proxy_url`; `from_env` passes them.

    Raises:
        ConfigurationError: `proxy_url` is malformed.

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
        self._direct_pool = urllib3.PoolManager(**options)
        self._direct = Urllib3Transport(pool_manager=self._direct_pool)

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
            ProxyError: The proxy returned 407, rejected the tunnel or was unreachable.
            RequestTimeoutError: No complete response within ``request.timeout`` seconds.
            ConnectionFailedError: The connection broke.
        """
        proxy = self.routes.proxy_for(request)
        if proxy is None:
            logger.debug("request sent direct: %s %s", request.method, request.path)
            return self._direct.send(request)
        logger.debug("request sent via %s: %s %s", proxy.address, request.method, request.path)
        try:
            raw = self._managers[proxy].request(
                request.method,
                request.url,
                body=request.body or None,
                headers=dict(request.headers),
                timeout=urllib3.Timeout(connect=request.timeout, read=request.timeout),
                retries=False,
                redirect=False,
                preload_content=True,
                pool_timeout=request.timeout,
            )
        except (HTTPError, OSError) as exc:
            raise _translate_urllib3(exc, request, proxy) from exc
        response = Response(status=raw.status, headers=tuple(raw.headers.items()), body=raw.data)
        logger.debug("response status: %s for %s %s", raw.status, request.method, request.path)
        _raise_for_proxy_status(response, request, proxy)
        return response

    def close(self) -> None:
        """Close every connection to the proxies and to direct hosts."""
        for manager in self._managers.values():
            manager.clear()
        self._direct_pool.clear()

    def __enter__(self) -> ProxyTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _proxy_manager(proxy: ProxyURL, options: dict[str, Any]) -> urllib3.ProxyManager:
    headers = {"Proxy-Authorization": proxy.authorization} if proxy.authorization else None
    return urllib3.ProxyManager(proxy.address, proxy_headers=headers, **options)


def _raise_for_proxy_status(response: Response, request: Request, proxy: ProxyURL) -> None:
    # An absolute-form request gets the proxy's own 407. The Channels HTTP API
    # documents no 407 response, so this status comes from the proxy.
    if response.status == 407:
        raise ProxyError(
            f"{request.method} {request.path}: proxy {proxy.address} returned "
            f"407 Proxy Authentication Required; {_credentials_hint(proxy)}"
        )


# tinyproxy 1.11.1 refuses a CONNECT with wrong credentials with 401, not 407. Only
# the proxy answers a CONNECT, so either status there is about proxy credentials.
_AUTH_STATUSES = frozenset({"401", "407"})


def _credentials_hint(proxy: ProxyURL) -> str:
    if proxy.username is None:
        return "add user:password@ to the proxy URL"
    return "check the user and password in the proxy URL"


def _translate_urllib3(
    exc: HTTPError | OSError, request: Request, proxy: ProxyURL
) -> TransportError:
    """Map a urllib3 failure through a proxy to our error, without the signed query."""
    where = f"{request.method} {request.path}"
    if isinstance(exc, Urllib3ProxyError):
        # urllib3 wraps the cause: a NewConnectionError when the proxy is unreachable,
        # or an OSError("Tunnel connection failed: 407 ...") when CONNECT is refused.
        cause = exc.args[1] if len(exc.args) > 1 else exc
        if isinstance(cause, NewConnectionError):
            return ProxyError(f"{where}: could not connect to proxy {proxy.address}")
        reason = str(cause).removeprefix("Tunnel connection failed: ")
        message = f"{where}: proxy {proxy.address} rejected the tunnel: {reason}"
        if reason[:3] in _AUTH_STATUSES:
            message += f"; {_credentials_hint(proxy)}"
        return ProxyError(message)
    if isinstance(exc, NewConnectionError):
        return ProxyError(f"{where}: could not connect to proxy {proxy.address}")
    if isinstance(exc, ProtocolError) and request.scheme == "http":
        # NOTE: a proxy that rejects a request with a body, such as tinyproxy 1.11
        # answering 407, may close before reading the body. The reset can then destroy
        # its answer before urllib3 reads it, so this case cannot be told apart from a
        # broken forward and keeps maybe_sent=True.
        return ConnectionFailedError(
            f"{where}: proxy {proxy.address} closed the connection without a complete "
            f"response ({type(exc).__name__}); if the proxy requires credentials, "
            f"{_credentials_hint(proxy)}"
        )
    return _translate_common(exc, request)


def _translate_common(exc: BaseException, request: Request) -> TransportError:
    where = f"{request.method} {request.path}"
    if isinstance(exc, EmptyPoolError):
        return RequestTimeoutError(
            f"{where}: no free connection within {request.timeout} s", maybe_sent=False
        )
    if isinstance(exc, ConnectTimeoutError):
        return RequestTimeoutError(f"{where}: connecting timed out", maybe_sent=False)
    if isinstance(exc, Urllib3TimeoutError | TimeoutError):
        return RequestTimeoutError(f"{where}: timed out after {request.timeout} s")
    return ConnectionFailedError(f"{where}: connection broke: {type(exc).__name__}")


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
        self._limit = limit
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
            ProxyError: The proxy returned 407, rejected the tunnel or was unreachable.
            RequestTimeoutError: No complete response within ``request.timeout`` seconds.
            ConnectionFailedError: The connection broke.
        """
        import aiohttp

        proxy = self.routes.proxy_for(request)
        via = proxy.address if proxy is not None else "direct"
        logger.debug("request sent via %s: %s %s", via, request.method, request.path)
        try:
            response = await self._exchange(self._get_session(), request, proxy)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise _translate_aiohttp(exc, request, proxy) from exc
        logger.debug("response status: %s for %s %s", response.status, request.method, request.path)
        if proxy is not None:
            _raise_for_proxy_status(response, request, proxy)
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
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit),
                # A cookie jar would add Cookie headers the request never asked for.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def _exchange(
        self, session: aiohttp.ClientSession, request: Request, proxy: ProxyURL | None
    ) -> Response:
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
            **proxy_options,
        ) as raw:
            body = await raw.read()
            received = tuple(
                (name.decode("latin-1"), value.decode("latin-1")) for name, value in raw.raw_headers
            )
            return Response(status=raw.status, headers=received, body=body)


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
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectionFailedError(
            f"{where}: connection failed: {type(exc.os_error).__name__}", maybe_sent=False
        )
    return ConnectionFailedError(f"{where}: connection broke: {type(exc).__name__}")
