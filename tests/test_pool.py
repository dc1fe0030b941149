"""Tests of the keep-alive pool: its pure policy, then the transport against scripted servers."""

from __future__ import annotations

import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pusher_core.errors import ConfigurationError, ConnectionFailedError, RequestTimeoutError
from pusher_core.messages import Request
from pusher_transports import pool as pool_module
from pusher_transports.pool import (
    Checkout,
    FailureKind,
    KeepAlivePool,
    PoolPolicy,
    PoolStats,
    ResponseFacts,
)
from tests.support.soketi import free_port
from tests.support.tinyproxy import run_tls_server

SIGNATURE = "SIGNATURE-NEVER-LOGGED"

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def make_request(
    port: int, *, timeout: float = 2.0, scheme: str = "http", **changes: object
) -> Request:
    request = Request(
        method="POST",
        scheme=scheme,
        host="127.0.0.1",
        port=port,
        path="/apps/1/events",
        query=(("auth_key", "key"), ("auth_signature", SIGNATURE)),
        headers=(("Content-Type", "application/json"),),
        body=b'{"name":"e"}',
        timeout=timeout,
    )
    return attrs.evolve(request, **changes)


# --- Policy, without sockets --------------------------------------------------------------


def test_policy_reuses_fresh_idle_connection() -> None:
    policy = PoolPolicy(idle_expiry=5.0)

    verdict = policy.check_idle(idle_seconds=1.0, idle_limit=5.0, readable=False)

    assert verdict is Checkout.REUSE


def test_policy_discards_expired_connection() -> None:
    policy = PoolPolicy(idle_expiry=5.0)

    verdict = policy.check_idle(idle_seconds=5.0, idle_limit=5.0, readable=False)

    assert verdict is Checkout.EXPIRED


def test_policy_discards_readable_connection() -> None:
    policy = PoolPolicy(idle_expiry=5.0)

    verdict = policy.check_idle(idle_seconds=0.0, idle_limit=5.0, readable=True)

    assert verdict is Checkout.CLOSED_BY_SERVER


@pytest.mark.parametrize(
    ("facts", "kept"),
    [
        (ResponseFacts(version=11), True),
        (ResponseFacts(version=11, connection="close"), False),
        (ResponseFacts(version=11, framed=False), False),
        (ResponseFacts(version=10), False),
        (ResponseFacts(version=10, connection="keep-alive"), True),
        (ResponseFacts(version=10, connection="keep-alive", framed=False), False),
        (ResponseFacts(version=11, keep_alive_timeout=1.0), False),
        (ResponseFacts(version=11, keep_alive_timeout=5.0), True),
    ],
)
def test_policy_keeps_only_reusable_responses(facts: ResponseFacts, kept: bool) -> None:
    assert PoolPolicy().keeps(facts) is kept


def test_policy_idle_limit_follows_server_timeout() -> None:
    policy = PoolPolicy(idle_expiry=30.0)

    assert policy.idle_limit(ResponseFacts(version=11)) == 30.0
    assert policy.idle_limit(ResponseFacts(version=11, keep_alive_timeout=5.0)) == 4.0
    assert policy.idle_limit(ResponseFacts(version=11, keep_alive_timeout=60.0)) == 30.0
    assert policy.idle_limit(ResponseFacts(version=11, keep_alive_timeout=0.5)) == 0.0


@pytest.mark.parametrize(
    ("kind", "reused", "resent", "resend", "maybe_sent"),
    [
        (FailureKind.CONNECT, False, False, False, False),
        (FailureKind.WRITE, True, False, True, False),
        (FailureKind.WRITE, False, False, False, False),
        (FailureKind.WRITE, True, True, False, False),
        (FailureKind.READ, True, False, False, True),
        (FailureKind.READ, False, False, False, True),
    ],
)
def test_policy_failure_decisions(
    kind: FailureKind, reused: bool, resent: bool, resend: bool, maybe_sent: bool
) -> None:
    decision = PoolPolicy().on_failure(kind, reused=reused, resent=resent)

    assert decision.resend is resend
    assert decision.maybe_sent is maybe_sent


@given(kind=st.sampled_from(FailureKind), reused=st.booleans(), resent=st.booleans())
def test_policy_resends_only_unsent_requests(kind: FailureKind, reused: bool, resent: bool) -> None:
    decision = PoolPolicy().on_failure(kind, reused=reused, resent=resent)

    if decision.resend:
        assert not decision.maybe_sent
        assert reused
        assert not resent


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_connections": 0}, "max_connections"),
        ({"max_connections": 1.5}, "max_connections"),
        ({"idle_expiry": 0}, "idle_expiry"),
        ({"idle_expiry": -1.0}, "idle_expiry"),
    ],
)
def test_pool_rejects_invalid_options(options: dict[str, float], field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        KeepAlivePool(**options)  # type: ignore[arg-type]

    assert caught.value.field == field


def test_stats_are_frozen() -> None:
    stats = PoolStats()

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        stats.reuses = 1  # type: ignore[misc]


# --- A scripted HTTP/1.1 server ----------------------------------------------------------


Handler = Callable[[socket.socket, "ScriptedServer"], None]


class ScriptedServer:
    """A loopback TCP server that runs `handler` on each accepted connection in a thread."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.connections = 0
        self.active = 0
        self.max_active = 0
        self.requests: list[bytes] = []
        self.closed = threading.Event()
        self.received = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self._sockets.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self.handler(conn, self)
        except OSError:
            pass
        finally:
            with self.lock:
                self.active -= 1
            conn.close()
            self.closed.set()

    def read_request(self, conn: socket.socket) -> bytes | None:
        """Read one request with a Content-Length body; None at EOF."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            body += conn.recv(65536)
        request = head + b"\r\n\r\n" + body
        with self.lock:
            self.requests.append(request)
        self.received.set()
        return request

    def close(self) -> None:
        # On Linux, close() alone does not wake a thread blocked in accept().
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self.lock:
            sockets = list(self._sockets)
        for conn in sockets:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._accepting.join()
        for thread in self._threads:
            thread.join()


@contextmanager
def scripted_server(handler: Handler) -> Iterator[ScriptedServer]:
    server = ScriptedServer(handler)
    try:
        yield server
    finally:
        server.close()


def keep_alive(conn: socket.socket, server: ScriptedServer) -> None:
    while server.read_request(conn) is not None:
        conn.sendall(OK)


def answer_once_then_close(conn: socket.socket, server: ScriptedServer) -> None:
    server.read_request(conn)
    conn.sendall(OK)


def answer_once_then_reset(conn: socket.socket, server: ScriptedServer) -> None:
    server.read_request(conn)
    conn.sendall(OK)
    time.sleep(0.05)
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def wait_until_closed(server: ScriptedServer) -> None:
    assert server.closed.wait(5)
    server.closed.clear()
    time.sleep(0.05)


# --- The transport ---------------------------------------------------------------------


def test_pool_reuses_one_connection() -> None:
    with scripted_server(keep_alive) as server, KeepAlivePool() as pool:
        for _ in range(3):
            response = pool.send(make_request(server.port))
            assert response.status == 200
            assert response.body == b"{}"

        stats = pool.stats

    assert stats == PoolStats(connections_opened=1, requests_sent=3, reuses=2)
    assert server.connections == 1


def test_pool_writes_request_intact() -> None:
    request = make_request(0, headers=(("X-Twice", "1"), ("X-Twice", "2")))
    with scripted_server(keep_alive) as server, KeepAlivePool() as pool:
        pool.send(attrs.evolve(request, port=server.port))

    raw = server.requests[0]
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == f"POST {request.target} HTTP/1.1".encode()
    assert b"X-Twice: 1" in lines
    assert b"X-Twice: 2" in lines
    assert f"Host: 127.0.0.1:{server.port}".encode() in lines
    assert b"Content-Length: 12" in lines
    assert body == b'{"name":"e"}'


def test_pool_discards_connection_server_closed() -> None:
    with scripted_server(answer_once_then_close) as server, KeepAlivePool() as pool:
        pool.send(make_request(server.port))
        wait_until_closed(server)

        response = pool.send(make_request(server.port))
        stats = pool.stats

    assert response.status == 200
    assert stats.stale_discarded == 1
    assert stats.connections_opened == 2
    assert stats.resends == 0


def test_pool_resends_after_write_to_reset_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # With the pre-send check blinded, the reset shows only when the write fails.
    monkeypatch.setattr(pool_module, "_is_readable", lambda sock: False)
    with scripted_server(answer_once_then_reset) as server, KeepAlivePool() as pool:
        pool.send(make_request(server.port))
        wait_until_closed(server)

        response = pool.send(make_request(server.port))
        stats = pool.stats

    assert response.status == 200
    assert stats.resends == 1
    assert stats.connections_opened == 2
    assert len(server.requests) == 2


def test_pool_does_not_resend_written_request(monkeypatch: pytest.MonkeyPatch) -> None:
    # The write succeeds into a connection the server half-closed, so the request
    # may have arrived, and the error must report that.
    monkeypatch.setattr(pool_module, "_is_readable", lambda sock: False)
    with scripted_server(answer_once_then_close) as server, KeepAlivePool() as pool:
        pool.send(make_request(server.port))
        wait_until_closed(server)

        with pytest.raises(ConnectionFailedError) as caught:
            pool.send(make_request(server.port))
        stats = pool.stats

    assert caught.value.maybe_sent is True
    assert SIGNATURE not in str(caught.value)
    assert stats.resends == 0
    assert stats.connections_opened == 1


def test_pool_closes_after_connection_close_header() -> None:
    def close_header(conn: socket.socket, server: ScriptedServer) -> None:
        while server.read_request(conn) is not None:
            conn.sendall(OK.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))

    with scripted_server(close_header) as server, KeepAlivePool() as pool:
        pool.send(make_request(server.port))
        pool.send(make_request(server.port))
        stats = pool.stats

    assert stats.connections_opened == 2
    assert stats.reuses == 0


def test_pool_reads_body_sent_after_connection_close_head() -> None:
    # The head announces that the connection will close, and the body follows in a later packet.
    # http.client closes the connection as soon as it has the head, so the body must
    # still be readable from the response's own reference to the socket.
    def split_close(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n")
        time.sleep(0.05)
        conn.sendall(b'{"a":123}')

    for _ in range(3):
        with scripted_server(split_close) as server, KeepAlivePool() as pool:
            response = pool.send(make_request(server.port))
        assert response.body == b'{"a":123}'


def test_pool_closes_after_http10_response() -> None:
    def http10(conn: socket.socket, server: ScriptedServer) -> None:
        while server.read_request(conn) is not None:
            conn.sendall(OK.replace(b"HTTP/1.1", b"HTTP/1.0", 1))

    with scripted_server(http10) as server, KeepAlivePool() as pool:
        pool.send(make_request(server.port))
        pool.send(make_request(server.port))
        stats = pool.stats

    assert stats.connections_opened == 2
    assert stats.reuses == 0


def test_pool_reports_truncated_body() -> None:
    def truncated(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")

    with scripted_server(truncated) as server, KeepAlivePool() as pool:
        with pytest.raises(ConnectionFailedError) as caught:
            pool.send(make_request(server.port))
        stats = pool.stats

    assert caught.value.maybe_sent is True
    assert "IncompleteRead" in str(caught.value)
    assert stats.requests_sent == 1


def test_pool_reports_refused_connection() -> None:
    with KeepAlivePool() as pool, pytest.raises(ConnectionFailedError) as caught:
        pool.send(make_request(free_port()))

    assert caught.value.maybe_sent is False
    assert SIGNATURE not in str(caught.value)


def test_pool_expires_idle_connections() -> None:
    now = [100.0]
    with (
        scripted_server(keep_alive) as server,
        KeepAlivePool(idle_expiry=5.0, clock=lambda: now[0]) as pool,
    ):
        pool.send(make_request(server.port))
        now[0] += 4.0
        pool.send(make_request(server.port))
        now[0] += 5.0
        pool.send(make_request(server.port))
        stats = pool.stats

    assert stats == PoolStats(
        connections_opened=2, requests_sent=3, reuses=1, stale_discarded=1, resends=0
    )


def test_pool_honours_server_keep_alive_timeout() -> None:
    def short_keep_alive(conn: socket.socket, server: ScriptedServer) -> None:
        while server.read_request(conn) is not None:
            conn.sendall(OK.replace(b"\r\n\r\n", b"\r\nKeep-Alive: timeout=3\r\n\r\n", 1))

    now = [100.0]
    with (
        scripted_server(short_keep_alive) as server,
        KeepAlivePool(idle_expiry=30.0, clock=lambda: now[0]) as pool,
    ):
        pool.send(make_request(server.port))
        now[0] += 1.5
        pool.send(make_request(server.port))
        now[0] += 2.5
        pool.send(make_request(server.port))
        stats = pool.stats

    assert stats.reuses == 1
    assert stats.stale_discarded == 1


def test_pool_shared_by_16_threads() -> None:
    def slow_keep_alive(conn: socket.socket, server: ScriptedServer) -> None:
        while server.read_request(conn) is not None:
            time.sleep(0.005)
            conn.sendall(OK)

    errors: list[BaseException] = []
    with scripted_server(slow_keep_alive) as server, KeepAlivePool(max_connections=2) as pool:

        def work() -> None:
            try:
                for _ in range(5):
                    assert pool.send(make_request(server.port, timeout=10.0)).status == 200
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stats = pool.stats

    assert errors == []
    assert server.max_active <= 2
    assert stats.connections_opened <= 2
    assert stats.requests_sent == 80
    assert stats.reuses == 80 - stats.connections_opened


def test_pool_wait_for_free_connection_times_out() -> None:
    release = threading.Event()

    def blocking(conn: socket.socket, server: ScriptedServer) -> None:
        while server.read_request(conn) is not None:
            release.wait(5)
            conn.sendall(OK)

    with scripted_server(blocking) as server, KeepAlivePool(max_connections=1) as pool:
        holder = threading.Thread(target=pool.send, args=(make_request(server.port),))
        holder.start()
        assert server.received.wait(5)

        started = time.monotonic()
        with pytest.raises(RequestTimeoutError) as caught:
            pool.send(make_request(server.port, timeout=0.3))
        elapsed = time.monotonic() - started

        release.set()
        holder.join()

    assert caught.value.maybe_sent is False
    assert 0.25 <= elapsed < 1.5
    assert server.connections == 1


def test_pool_deadline_covers_slow_headers() -> None:
    stop = threading.Event()

    def dribble(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(50):
            if stop.wait(0.1):
                return
            conn.sendall(b"X")

    with scripted_server(dribble) as server, KeepAlivePool() as pool:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError) as caught:
            pool.send(make_request(server.port, timeout=0.5))
        elapsed = time.monotonic() - started
        stop.set()

    assert caught.value.maybe_sent is True
    assert elapsed < 1.5


def test_pool_logs_steps_without_signature(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pusher.transport.pool")
    with scripted_server(answer_once_then_close) as server, KeepAlivePool() as pool:
        pool.send(make_request(server.port))
        wait_until_closed(server)
        pool.send(make_request(server.port))

    messages = [record.getMessage() for record in caplog.records]
    text = "\n".join(messages)
    assert "connection opened" in text
    assert "request sent: POST /apps/1/events" in text
    assert "response status: 200" in text
    assert "stale connection discarded" in text
    assert SIGNATURE not in text
    assert "auth_signature" not in text


def test_pool_logs_reuse_and_retry_decision(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG, logger="pusher.transport.pool")
    with scripted_server(keep_alive) as server, KeepAlivePool() as pool:
        pool.send(make_request(server.port))
        pool.send(make_request(server.port))
    monkeypatch.setattr(pool_module, "_is_readable", lambda sock: False)
    with scripted_server(answer_once_then_reset) as server, KeepAlivePool() as pool:
        pool.send(make_request(server.port))
        wait_until_closed(server)
        pool.send(make_request(server.port))

    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "connection reused" in text
    assert "retry decision: resend" in text
    assert SIGNATURE not in text


def test_pool_over_tls_reuses_connection() -> None:
    with run_tls_server() as server:
        context = ssl.create_default_context(cafile=str(server.certificate))
        with KeepAlivePool(ssl_context=context) as pool:
            for _ in range(2):
                response = pool.send(make_request(server.port, scheme="https"))
                assert response.status == 200
            stats = pool.stats

    assert stats.connections_opened == 1
    assert stats.reuses == 1
    assert server.requests[0].path.startswith("/apps/1/events?auth_key=key")


def test_pool_rejects_requests_after_close() -> None:
    pool = KeepAlivePool()
    pool.close()

    with pytest.raises(ConnectionFailedError) as caught:
        pool.send(make_request(free_port()))

    assert caught.value.maybe_sent is False


def test_pool_repr_shows_settings_only() -> None:
    pool = KeepAlivePool(max_connections=3, idle_expiry=2.0)

    assert repr(pool) == "<KeepAlivePool max_connections=3 idle_expiry=2.0>"
