"""A loopback HTTP server that records requests, for auth endpoints and webhook receivers."""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.node import PeerError, PeerTimeoutError

logger = logging.getLogger(__name__)

Headers = list[tuple[str, str]]
ResponseHeaders = Mapping[str, str] | Sequence[tuple[str, str]]
Response = tuple[int, ResponseHeaders, bytes]
Handler = Callable[[str, str, Headers, bytes], Response]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it.

    ``path`` is the raw request target, query string included, and ``headers``
    keeps the names' case and order as sent.
    """

    method: str
    path: str
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name``, compared case-insensitively."""
        for header_name, value in self.headers:
            if header_name.lower() == name.lower():
                return value
        return None

    def form(self) -> dict[str, str]:
        """Parse the body as ``application/x-www-form-urlencoded``, one value per field."""
        fields = parse_qs(self.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        return {name: values[-1] for name, values in fields.items()}

    def json(self) -> Any:
        """Parse the body as UTF-8 JSON."""
        return json.loads(self.body.decode("utf-8"))

    @property
    def route(self) -> str:
        """The path without the query string."""
        return urlsplit(self.path).path


def reply_json(status: int, value: Any) -> Response:
    """Build a handler response with a JSON body."""
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode("utf-8")


def _reply_empty_json(method: str, path: str, headers: Headers, body: bytes) -> Response:
    return reply_json(200, {})


class _RecordingHandler(BaseHTTPRequestHandler):
    server: _RecordingHTTPServer

    def _handle(self) -> None:
        body = self._read_body()
        request = RecordedRequest(self.command, self.path, list(self.headers.items()), body)
        self.server.owner._record(request)
        try:
            status, headers, response_body = self.server.owner.handler(
                request.method, request.path, request.headers, request.body
            )
        except Exception:  # reported by LoopbackHTTPServer.close()
            self.server.owner._record_error(traceback.format_exc())
            status, headers, response_body = 500, {"Content-Type": "text/plain"}, b"handler failed"
        self._send(status, headers, response_body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked_body()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length)

    def _read_chunked_body(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                # Skip optional trailers up to the blank line that ends the body.
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, status: int, headers: ResponseHeaders, body: bytes) -> None:
        self.send_response(status)
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in pairs:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class _RecordingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: LoopbackHTTPServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _RecordingHandler)


class LoopbackHTTPServer:
    """An HTTP server on a free port of 127.0.0.1 that records every request.

    ``handler(method, path, headers, body)`` returns ``(status, headers, body)``.
    The default handler replies 200 with ``{}``. If the handler raises, the
    client gets a 500 and close() raises PeerError with the traceback, unless
    the ``with`` block already failed.
    """

    def __init__(self, handler: Handler = _reply_empty_json) -> None:
        self.handler = handler
        self._requests: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._condition = threading.Condition()
        self._server: _RecordingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _record(self, request: RecordedRequest) -> None:
        with self._condition:
            self._requests.append(request)
            self._condition.notify_all()

    def _record_error(self, error: str) -> None:
        logger.error("loopback HTTP handler failed: %s", error)
        with self._condition:
            self._errors.append(error)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._server is None:
            raise PeerError("HTTP server has not been started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The root URL, ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, path: str) -> str:
        """Return the absolute URL of ``path``, which must start with ``/``."""
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        return self.url + path

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, in arrival order."""
        with self._condition:
            return list(self._requests)

    def wait_for_requests(
        self,
        count: int,
        timeout: float = 10.0,
        match: Callable[[RecordedRequest], bool] = lambda request: True,
    ) -> list[RecordedRequest]:
        """Return the first ``count`` requests that ``match`` accepts.

        Raises PeerTimeoutError, listing every request, if fewer arrive within
        ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [request for request in self._requests if match(request)]
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = (
                        "\n".join(f"{r.method} {r.path} {r.body!r}" for r in self._requests)
                        or "(none)"
                    )
                    raise PeerTimeoutError(
                        f"timed out after {timeout} s waiting for {count} request(s), "
                        f"{len(found)} matched. Requests so far:\n{seen}"
                    )
                self._condition.wait(remaining)

    def start(self) -> None:
        """Bind a free loopback port and serve requests on a background thread."""
        if self._server is not None:
            raise PeerError("HTTP server is already running")
        self._server = _RecordingHTTPServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="loopback-http",
            daemon=True,
        )
        self._thread.start()

    def close(self, raise_handler_errors: bool = True) -> None:
        """Stop serving, close the socket and join the thread.

        Raises PeerError if the handler failed and ``raise_handler_errors`` is true.
        """
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if raise_handler_errors and self._errors:
            raise PeerError("loopback HTTP handler failed:\n" + "\n".join(self._errors))

    def __enter__(self) -> LoopbackHTTPServer:
        self.start()
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        self.close(raise_handler_errors=exc_type is None)


@contextmanager
def run_http_server(handler: Handler = _reply_empty_json) -> Iterator[LoopbackHTTPServer]:
    """Run a LoopbackHTTPServer for the duration of the ``with`` block."""
    with LoopbackHTTPServer(handler) as server:
        yield server
