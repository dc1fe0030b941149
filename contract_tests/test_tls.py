"""Contract: an https target gets TLS, and a certificate that fails the check gets nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contract_tests.harness import Subject, elapsed
from pusher_core import Config, RequestBuilder
from pusher_core.errors import ConnectionFailedError
from tests.support.tinyproxy import TLSServer, run_tls_server

TIMEOUT = 2.0
MARGIN = 0.75


@pytest.fixture
def untrusted_origin() -> Iterator[TLSServer]:
    # Its certificate is self-signed, so the default check rejects it.
    with run_tls_server() as server:
        yield server


# The registry's proxies may not CONNECT to arbitrary ports; tests/test_tls.py runs
# this case through a proxy that may.
@pytest.mark.without_transport_tags("proxy")
async def test_untrusted_certificate_rejected(
    subject: Subject, untrusted_origin: TLSServer
) -> None:
    config = Config(
        app_id="1",
        key="key",
        secret="tls-secret",
        host="127.0.0.1",
        port=untrusted_origin.port,
        timeout=TIMEOUT,
    )
    request = RequestBuilder(config).trigger("my-channel", "my-event", {"a": 1})

    seconds, error = await elapsed(lambda: subject.send(request))

    # Without TLS, the request would go out in clear text and the server would reset
    # the connection. Without the certificate check, it would get a 200.
    assert isinstance(error, ConnectionFailedError)
    assert error.maybe_sent is False
    assert "certificate" in str(error)
    assert untrusted_origin.requests == []
    assert seconds < TIMEOUT + MARGIN
