"""The retry policy: which failures may be retried, and after how long.

Retries are off unless a client is given a `RetryPolicy`. The policy is deliberately
cautious with publishes: Channels has no idempotency key, so a trigger resent after the
server may already have received it can deliver the event twice. By default a POST is
retried only when the failure proves the request never reached the server (for example,
the connection was refused). Reads (GET) change nothing on the server, so they are also
retried on timeouts, broken connections, 5xx and 429.

The decision is pure: it takes the request, the attempt number and the error, and returns
a delay in seconds or None. Clients do the sleeping.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

from attrs import Attribute, field, frozen

from pusher_core.errors import (
    PusherError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from pusher_core.messages import Request
from pusher_core.validation import validate_int, validate_seconds

__all__ = ["RetryPolicy", "parse_retry_after"]


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Return the delay a ``Retry-After`` header requests, in seconds, or None.

    The header contains either whole seconds or an HTTP date. `now` is the current time
    in seconds since the epoch, used for the date form.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


def _check_attempts(instance: Any, attribute: Attribute[int], value: object) -> None:
    validate_int(value, attribute.name, 1)


def _check_seconds(instance: Any, attribute: Attribute[float], value: object) -> None:
    validate_seconds(value, attribute.name)


def _check_bool(instance: Any, attribute: Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError(attribute.name, f"must be a bool, got {type(value).__name__}")


def _check_callable(instance: Any, attribute: Attribute[Any], value: object) -> None:
    if not callable(value):
        raise ValidationError(attribute.name, f"must be callable, got {type(value).__name__}")


@frozen(kw_only=True)
class RetryPolicy:
    """A bounded retry policy with exponential backoff and jitter.

    Attributes:
        max_attempts: Attempts in total, the first included; 1 disables retries.
        backoff: The delay before the second attempt, in seconds; it doubles each time.
        max_backoff: The largest delay backoff may reach, in seconds.
        max_retry_after: The longest ``Retry-After`` the policy waits for, in seconds. A
            server asking for longer gets its error raised instead.
        at_least_once: Also retry publishes (POST) that may have reached the server. An
            event may then be delivered twice; leave it off unless duplicates are harmless.
        random: Returns a float in [0, 1) for jitter; tests inject a fixed one.

    Raises:
        ValidationError: A field has the wrong type or range. `max_attempts` must be an
            int of at least 1, and the three delays finite numbers of seconds >= 0.
    """

    max_attempts: int = field(default=3, validator=_check_attempts)
    backoff: float = field(default=0.1, validator=_check_seconds)
    max_backoff: float = field(default=2.0, validator=_check_seconds)
    max_retry_after: float = field(default=10.0, validator=_check_seconds)
    at_least_once: bool = field(default=False, validator=_check_bool)
    random: Callable[[], float] = field(
        default=random.random, validator=_check_callable, repr=False, eq=False
    )

    def delay_after(
        self, request: Request, attempt: int, error: PusherError, now: float
    ) -> float | None:
        """Return the seconds to wait before attempt ``attempt + 1``, or None to give up.

        Args:
            request: The request that failed.
            attempt: The number of the attempt that failed, starting at 1.
            error: What the attempt raised.
            now: The current time in seconds since the epoch, for ``Retry-After`` dates.
        """
        if attempt >= self.max_attempts or not self._may_retry(request, error):
            return None
        delay = self._backoff_delay(attempt)
        if isinstance(error, RateLimitedError | ServerError):
            requested = parse_retry_after(error.retry_after, now)
            if requested is not None:
                if requested > self.max_retry_after:
                    return None
                delay = max(delay, requested)
        return delay

    def _may_retry(self, request: Request, error: PusherError) -> bool:
        if isinstance(error, TransportError) and not error.maybe_sent:
            return True
        if request.method != "GET" and not self.at_least_once:
            return False
        return isinstance(error, TransportError | ServerError | RateLimitedError)

    def _backoff_delay(self, attempt: int) -> float:
        # Half fixed and half random ("equal jitter"): callers that failed together do not
        # retry together, and no delay falls below half the backoff.
        ceiling = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return ceiling / 2 + self.random() * ceiling / 2
