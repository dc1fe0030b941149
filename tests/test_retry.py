"""Tests for the retry policy and the clients' retry loop."""

from __future__ import annotations

import logging

import pytest

from pusher_core import (
    BadRequestError,
    Config,
    ConnectionFailedError,
    RateLimitedError,
    Request,
    RequestBuilder,
    RequestTimeoutError,
    Response,
    ServerError,
    UnexpectedResponseError,
    ValidationError,
)
from pusher_core.retry import RetryPolicy, parse_retry_after
from pusher_transports import Client

BUILDER = RequestBuilder(Config(app_id="1", key="k", secret="s"))
GET = BUILDER.list_channels()
POST = BUILDER.trigger("c", "e", "x")
NEVER_SENT = ConnectionFailedError("refused", maybe_sent=False)
MAYBE_SENT = ConnectionFailedError("reset", maybe_sent=True)
TIMEOUT = RequestTimeoutError("timed out")


def policy(**options: object) -> RetryPolicy:
    return RetryPolicy(random=lambda: 0.5, **options)  # type: ignore[arg-type]


def request_error(error_class: type, status: int, retry_after: str | None = None) -> object:
    return error_class(status=status, body="", method="GET", path="/", retry_after=retry_after)


@pytest.mark.parametrize(
    ("request_", "error", "retried"),
    [
        (GET, NEVER_SENT, True),
        (GET, MAYBE_SENT, True),
        (GET, TIMEOUT, True),
        (GET, request_error(ServerError, 503), True),
        (GET, request_error(RateLimitedError, 429), True),
        (GET, request_error(BadRequestError, 400), False),
        (POST, NEVER_SENT, True),
        (POST, MAYBE_SENT, False),
        (POST, TIMEOUT, False),
        (POST, request_error(ServerError, 500), False),
        (POST, request_error(RateLimitedError, 429), False),
    ],
)
def test_default_decisions(request_: Request, error: object, retried: bool) -> None:
    delay = policy().delay_after(request_, 1, error, now=0.0)  # type: ignore[arg-type]
    assert (delay is not None) is retried


@pytest.mark.parametrize("error", [MAYBE_SENT, TIMEOUT, request_error(ServerError, 502)])
def test_at_least_once_retries_publishes(error: object) -> None:
    assert policy(at_least_once=True).delay_after(POST, 1, error, now=0.0) is not None  # type: ignore[arg-type]


def test_attempts_are_bounded() -> None:
    retry = policy(max_attempts=3)
    assert retry.delay_after(GET, 2, TIMEOUT, now=0.0) is not None
    assert retry.delay_after(GET, 3, TIMEOUT, now=0.0) is None


def test_backoff_doubles_with_jitter_and_cap() -> None:
    retry = RetryPolicy(backoff=0.1, max_backoff=0.3, max_attempts=10, random=lambda: 1.0)
    delays = [retry.delay_after(GET, attempt, TIMEOUT, now=0.0) for attempt in (1, 2, 3, 4)]
    assert delays == pytest.approx([0.1, 0.2, 0.3, 0.3])
    low = RetryPolicy(backoff=0.1, random=lambda: 0.0)
    assert low.delay_after(GET, 1, TIMEOUT, now=0.0) == pytest.approx(0.05)


def test_retry_after_seconds_respected() -> None:
    error = request_error(RateLimitedError, 429, retry_after="3")
    assert policy().delay_after(GET, 1, error, now=0.0) == 3.0  # type: ignore[arg-type]


def test_retry_after_over_limit_gives_up() -> None:
    error = request_error(RateLimitedError, 429, retry_after="60")
    assert policy(max_retry_after=10).delay_after(GET, 1, error, now=0.0) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"max_attempts": 0}, "max_attempts", "must be at least 1, got 0"),
        ({"max_attempts": True}, "max_attempts", "must be an int, got bool"),
        ({"max_attempts": 2.5}, "max_attempts", "must be an int, got float"),
        ({"max_attempts": "3"}, "max_attempts", "must be an int, got str"),
        ({"backoff": "1"}, "backoff", "must be a number of seconds, got str"),
        ({"backoff": -0.1}, "backoff", "must be a finite number of seconds >= 0, got -0.1"),
        ({"backoff": float("nan")}, "backoff", "must be a finite number of seconds >= 0"),
        ({"backoff": False}, "backoff", "must be a number of seconds, got bool"),
        (
            {"max_backoff": float("inf")},
            "max_backoff",
            "must be a finite number of seconds >= 0, got inf",
        ),
        (
            {"max_retry_after": -1},
            "max_retry_after",
            "must be a finite number of seconds >= 0, got -1",
        ),
        ({"max_retry_after": None}, "max_retry_after", "must be a number of seconds, got NoneType"),
        ({"at_least_once": 1}, "at_least_once", "must be a bool, got int"),
        ({"random": 0.5}, "random", "must be callable, got float"),
    ],
)
def test_policy_rejects_invalid_field(options: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as failure:
        RetryPolicy(**options)  # type: ignore[arg-type]

    assert failure.value.field == field
    assert str(failure.value).startswith(f"{field}: {message}")


def test_policy_accepts_edge_values() -> None:
    edge = RetryPolicy(max_attempts=1, backoff=0, max_backoff=0.0, max_retry_after=0)

    assert edge.max_attempts == 1
    assert edge.delay_after(GET, 1, NEVER_SENT, now=0.0) is None


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("5", now=0.0) == 5.0
    assert parse_retry_after(None, now=0.0) is None
    assert parse_retry_after("soon", now=0.0) is None
    date = "Wed, 21 Oct 2015 07:28:05 GMT"
    assert parse_retry_after(date, now=1445412480.0) == pytest.approx(5.0)


class ScriptedTransport:
    """Returns or raises the scripted outcomes in order, recording each request."""

    def __init__(self, outcomes: list[object]) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[Request] = []

    def send(self, request: Request) -> Response:
        self.sent.append(request)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, Response)
        return outcome

    def close(self) -> None:
        pass


def client_with(
    outcomes: list[object], retry: RetryPolicy | None
) -> tuple[Client, ScriptedTransport]:
    transport = ScriptedTransport(outcomes)
    config = Config(app_id="1", key="k", secret="s")
    return Client(config, transport, retry=retry), transport


def test_retries_off_by_default() -> None:
    client, transport = client_with([NEVER_SENT, Response(200, (), b"{}")], retry=None)
    with pytest.raises(ConnectionFailedError):
        client.list_channels()
    assert len(transport.sent) == 1


def test_client_retries_read_after_503(caplog: pytest.LogCaptureFixture) -> None:
    outcomes = [Response(503, (), b"busy"), Response(200, (), b'{"channels":{}}')]
    client, transport = client_with(outcomes, policy(backoff=0.0))
    with caplog.at_level(logging.DEBUG, logger="pusher.retry"):
        assert client.list_channels().channels == {}
    assert len(transport.sent) == 2
    assert transport.sent[0] == transport.sent[1]
    assert [record.getMessage() for record in caplog.records] == [
        "retry decision: GET /apps/1/channels attempt 1 failed with ServerError; "
        "retrying in 0.000 s"
    ]


def test_client_does_not_resend_maybe_sent_publish() -> None:
    client, transport = client_with([MAYBE_SENT, Response(200, (), b"{}")], policy(backoff=0.0))
    with pytest.raises(ConnectionFailedError):
        client.trigger("c", "e", "x")
    assert len(transport.sent) == 1


def test_client_resends_publish_never_sent() -> None:
    client, transport = client_with([NEVER_SENT, Response(200, (), b"{}")], policy(backoff=0.0))
    client.trigger("c", "e", "x")
    assert len(transport.sent) == 2


def test_unexpected_body_never_retried() -> None:
    client, transport = client_with(
        [Response(200, (), b"<html>"), Response(200, (), b"{}")], policy(backoff=0.0)
    )
    with pytest.raises(UnexpectedResponseError):
        client.list_channels()
    assert len(transport.sent) == 1
