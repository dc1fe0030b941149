"""Loopback peers for the proxy tests: a tinyproxy process and a TLS origin server.

tinyproxy (Debian package ``tinyproxy-bin``, tested with 1.11.1) is a real HTTP proxy:
it forwards absolute-form requests, opens CONNECT tunnels to the ports its config
allows, and returns 407 when ``BasicAuth`` is set and the credentials are missing.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.support.node import PeerError, PeerTimeoutError
from tests.support.soketi import free_port

INSTALL_HINT = "Install it with: apt-get update && apt-get install -y tinyproxy-bin"


def tinyproxy_executable() -> str:
    """Return the path of ``tinyproxy``, raising PeerError with the install command if missing."""
    path = shutil.which("tinyproxy") or shutil.which("tinyproxy", path="/usr/bin:/usr/sbin")
    if path is None:
        raise PeerError(f"tinyproxy was not found on PATH. {INSTALL_HINT}")
    return path


@dataclass
class TinyProxy:
    """A running tinyproxy on 127.0.0.1, with its log file.

    Attributes:
        port: The port tinyproxy listens on.
        log_path: The file tinyproxy logs to at level Info, one line per request.
        credentials: The ``BasicAuth`` user and password, or None when none are needed.
    """

    port: int
    log_path: Path
    credentials: tuple[str, str] | None = None

    def url(self, user: str | None = None, password: str | None = None) -> str:
        """Return the proxy URL, with ``user:password@`` when a user is given."""
        if user is None:
            return f"http://127.0.0.1:{self.port}"
        userinfo = quote(user, safe="") + ":" + quote(password or "", safe="")
        return f"http://{userinfo}@127.0.0.1:{self.port}"

    @property
    def authorized_url(self) -> str:
        """The proxy URL with the configured credentials, if any."""
        if self.credentials is None:
            return self.url()
        return self.url(*self.credentials)

    def log_text(self) -> str:
        """Return tinyproxy's whole log so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def request_lines(self) -> list[str]:
        """List the request lines tinyproxy logged, such as ``CONNECT 127.0.0.1:8443 HTTP/1.0``.

        tinyproxy logs each line in full, query included, so keep the log in a temporary
        folder.
        """
        marker = "]: Request (file descriptor "
        lines = []
        for line in self.log_text().splitlines():
            if marker in line:
                lines.append(line.split("): ", 1)[1])
        return lines


def _write_config(
    directory: Path, port: int, credentials: tuple[str, str] | None, connect_ports: tuple[int, ...]
) -> Path:
    lines = [
        f"Port {port}",
        "Listen 127.0.0.1",
        "Allow 127.0.0.1",
        f'LogFile "{directory / "tinyproxy.log"}"',
        "LogLevel Info",
        "MaxClients 64",
        "Timeout 30",
    ]
    if credentials is not None:
        lines.append(f"BasicAuth {credentials[0]} {credentials[1]}")
    # Without any ConnectPort line tinyproxy allows CONNECT to every port, so a list
    # with no usable port still gets one line that nothing listens on.
    for connect_port in connect_ports or (1,):
        lines.append(f"ConnectPort {connect_port}")
    path = directory / "tinyproxy.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _wait_until_listening(
    process: subprocess.Popen[bytes], port: int, log_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(errors="replace") if log_path.exists() else "(no log)"
            raise PeerError(
                f"tinyproxy exited with status {process.returncode} during startup.\nLog:\n{log}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise PeerTimeoutError(
        f"tinyproxy did not accept connections on 127.0.0.1:{port} within {timeout} s"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def run_tinyproxy(
    *,
    credentials: tuple[str, str] | None = None,
    connect_ports: tuple[int, ...] = (),
    startup_timeout: float = 10.0,
) -> Iterator[TinyProxy]:
    """Run tinyproxy in the foreground on a free loopback port for the ``with`` block.

    Args:
        credentials: A user and password for ``BasicAuth``. tinyproxy then returns 407
            to requests without them.
        connect_ports: The ports CONNECT may reach. Tunnels to any other port get 403.
        startup_timeout: Seconds to wait until tinyproxy accepts connections.
    """
    executable = tinyproxy_executable()
    with tempfile.TemporaryDirectory(prefix="tinyproxy-") as folder:
        process, proxy = _start_on_free_port(
            executable, Path(folder), credentials, connect_ports, startup_timeout
        )
        try:
            yield proxy
        finally:
            _stop(process)


def _start_on_free_port(
    executable: str,
    directory: Path,
    credentials: tuple[str, str] | None,
    connect_ports: tuple[int, ...],
    startup_timeout: float,
) -> tuple[subprocess.Popen[bytes], TinyProxy]:
    # free_port() only probes, so another process can take the port first; tinyproxy
    # then exits with "Could not create listening sockets" and a new port is tried.
    for attempt in range(3):
        port = free_port()
        config = _write_config(directory, port, credentials, connect_ports)
        proxy = TinyProxy(port=port, log_path=directory / "tinyproxy.log", credentials=credentials)
        with open(directory / "stdout.log", "wb") as output:
            process = subprocess.Popen(
                [executable, "-d", "-c", str(config)],
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_listening(process, port, proxy.log_path, startup_timeout)
        except PeerError:
            _stop(process)
            if attempt == 2:
                raise
            continue
        return process, proxy
    raise AssertionError("unreachable")


# --- A TLS origin server ------------------------------------------------------------


def make_self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """Write a throwaway certificate for 127.0.0.1 and its key; return their paths.

    The certificate is its own CA, so a client trusts it with ``cafile=certificate``.
    """
    certificate = directory / "certificate.pem"
    key = directory / "key.pem"
    openssl = shutil.which("openssl")
    if openssl is None:
        raise PeerError(
            "openssl was not found on PATH. Install it with: apt-get install -y openssl"
        )
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    return certificate, key


@dataclass(frozen=True)
class TLSRequest:
    """One request as the TLS server received it."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class TLSServer:
    """A recording HTTPS server on 127.0.0.1 that responds 200 with ``{}``."""

    port: int
    certificate: Path
    requests: list[TLSRequest] = field(default_factory=list)

    @property
    def origin(self) -> str:
        """The server's origin, ``https://127.0.0.1:PORT``."""
        return f"https://127.0.0.1:{self.port}"


class _TLSHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TLSHTTPServer

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        record = TLSRequest(self.command, self.path, list(self.headers.items()), body)
        self.server.record.requests.append(record)
        reply = json.dumps({}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _TLSHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext, record: TLSServer) -> None:
        self.context = context
        self.record = record
        super().__init__(("127.0.0.1", 0), _TLSHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake runs in the request's own thread, so a stalled client
        # cannot block the accept loop.
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


@contextmanager
def run_tls_server() -> Iterator[TLSServer]:
    """Run an HTTPS server with a fresh self-signed certificate for the ``with`` block."""
    with tempfile.TemporaryDirectory(prefix="tls-origin-") as folder:
        certificate, key = make_self_signed_certificate(Path(folder))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        record = TLSServer(port=0, certificate=certificate)
        server = _TLSHTTPServer(context, record)
        record.port = server.server_address[1]
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield record
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
