"""Tests for turning responses into results and errors."""

from __future__ import annotations

import pytest

from pusher_core import (
    AuthenticationError,
    BadRequestError,
    ChannelAttributes,
    Config,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    Request,
    RequestBuilder,
    RequestError,
    Response,
    ServerError,
    UnexpectedResponseError,
)
from pusher_core.results import (
    parse_batch_response,
    parse_channel_response,
    parse_channels_response,
    parse_empty_response,
    parse_json_response,
    parse_trigger_response,
    parse_users_response,
)


@pytest.fixture
def request_() -> Request:
    return RequestBuilder(Config(app_id="1", key="k", secret="s")).trigger("c", "e", "x")


def test_trigger_empty_object(request_: Request) -> None:
    assert parse_trigger_response(Response(200, (), b"{}"), request_).channels == {}


def test_trigger_empty_body_is_success(request_: Request) -> None:
    assert parse_trigger_response(Response(200, (), b""), request_).channels == {}


def test_trigger_with_info(request_: Request) -> None:
    body = b'{"channels":{"presence-a":{"user_count":2,"subscription_count":3}}}'
    result = parse_trigger_response(Response(200, (), body), request_)
    assert result.channels["presence-a"] == ChannelAttributes(subscription_count=3, user_count=2)


def test_batch_with_info(request_: Request) -> None:
    body = b'{"batch":[{"subscription_count":1},{}]}'
    result = parse_batch_response(Response(200, (), body), request_)
    assert [entry.subscription_count for entry in result.batch] == [1, None]


def test_channels_list(request_: Request) -> None:
    body = b'{"channels":{"a":{},"presence-b":{"user_count":4}}}'
    result = parse_channels_response(Response(200, (), body), request_)
    assert sorted(result.channels) == ["a", "presence-b"]
    assert result.channels["presence-b"].user_count == 4


def test_channel_info(request_: Request) -> None:
    body = b'{"occupied":true,"subscription_count":2,"cache":{"x":1}}'
    info = parse_channel_response(Response(200, (), body), request_)
    assert info.occupied is True
    assert info.subscription_count == 2
    assert info.raw["cache"] == {"x": 1}


def test_users(request_: Request) -> None:
    body = b'{"users":[{"id":"1"},{"id":"two"}]}'
    assert [user.id for user in parse_users_response(Response(200, (), body), request_).users] == [
        "1",
        "two",
    ]


def test_generic_json(request_: Request) -> None:
    assert parse_json_response(Response(200, (), b'{"a":[1]}'), request_) == {"a": [1]}
    assert parse_json_response(Response(204, (), b""), request_) is None


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (413, PayloadTooLargeError),
        (429, RateLimitedError),
        (500, ServerError),
        (503, ServerError),
        (302, RequestError),
        (418, RequestError),
    ],
)
def test_status_errors(request_: Request, status: int, error_class: type[RequestError]) -> None:
    response = Response(status, (("retry-after", "7"),), b"Some server text")
    with pytest.raises(error_class) as caught:
        parse_trigger_response(response, request_)
    error = caught.value
    assert type(error) is error_class
    assert error.status == status
    assert error.body == "Some server text"
    assert error.method == "POST"
    assert error.path == "/apps/1/events"
    assert error.retry_after == "7"
    assert "Some server text" in str(error)
    assert "auth_signature" not in str(error)


def test_in_band_rejection_raises(request_: Request) -> None:
    body = b'{"error":"The secret authentication failed","code":401}'
    with pytest.raises(AuthenticationError) as caught:
        parse_trigger_response(Response(200, (), body), request_)
    assert caught.value.status == 401
    assert "The secret authentication failed" in caught.value.body


def test_in_band_rejection_413(request_: Request) -> None:
    body = b'{"error":"The data content of this event exceeds the allowed maximum","code":413}'
    with pytest.raises(PayloadTooLargeError):
        parse_empty_response(Response(200, (), body), request_)


@pytest.mark.parametrize(
    "body",
    [
        b'{"error":"x","code":"abc"}',
        b'{"error":"x","code":null}',
        b'{"error":"x","code":true}',
        b'{"error":"x","code":"401"}',
    ],
)
def test_in_band_rejection_with_non_int_code(request_: Request, body: bytes) -> None:
    with pytest.raises(RequestError) as failure:
        parse_trigger_response(Response(200, (), body), request_)

    assert type(failure.value) is RequestError
    assert failure.value.status == 200
    assert failure.value.body == body.decode()
    assert failure.value.path == "/apps/1/events"


def test_in_band_rejection_with_low_int_code(request_: Request) -> None:
    body = b'{"error":"x","code":0}'

    with pytest.raises(RequestError) as failure:
        parse_json_response(Response(200, (), body), request_)

    assert type(failure.value) is RequestError
    assert failure.value.status == 0


@pytest.mark.parametrize(
    "body",
    [b'{"error":"","code":"abc"}', b'{"error":null,"code":"abc"}', b'{"error":5,"code":"x"}'],
)
def test_blank_error_with_code_is_data(request_: Request, body: bytes) -> None:
    assert parse_json_response(Response(200, (), body), request_) is not None


def test_error_field_without_code_is_data(request_: Request) -> None:
    assert parse_json_response(Response(200, (), b'{"error":"x"}'), request_) == {"error": "x"}


def test_non_json_success_quotes_excerpt(request_: Request) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_trigger_response(Response(200, (), b"<html>gateway</html>"), request_)
    assert "<html>gateway</html>" in str(caught.value)
    assert caught.value.status == 200


def test_non_object_success(request_: Request) -> None:
    with pytest.raises(UnexpectedResponseError):
        parse_trigger_response(Response(200, (), b"[1]"), request_)


def test_channel_without_occupied(request_: Request) -> None:
    with pytest.raises(UnexpectedResponseError, match="occupied"):
        parse_channel_response(Response(200, (), b"{}"), request_)


def test_users_malformed(request_: Request) -> None:
    with pytest.raises(UnexpectedResponseError):
        parse_users_response(Response(200, (), b'{"users":[{"name":"x"}]}'), request_)


def test_response_repr_and_header() -> None:
    response = Response(200, (("Content-Type", "application/json"),), b"{}")
    assert repr(response) == "<Response 200>"
    assert response.header("content-type") == "application/json"
    assert response.header("missing") is None
