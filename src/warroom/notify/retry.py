"""Retries an outbound HTTP delivery with exponential backoff and reports how it went."""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Awaitable, Callable

import httpx
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
"""How the retry loop waits between attempts; tests pass one that records the delays."""

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Statuses that may succeed on a later try; any other non-2xx is the sender's fault and final."""

_MAX_REASON = 120
"""A reason longer than this is cut: it goes into logs and timeline notes, not a transcript."""

_ERROR_CODE = re.compile(r"[a-z]+(?:_[a-z]+)+")
"""A reply body kept as the reason: Slack-style error codes such as `channel_is_archived`.
Nothing with digits, `/` or `:` can match, so an echoed URL or routing key never does."""

_URL = re.compile(r"\S+://\S*")


class RetryPolicy(BaseModel):
    """How hard to try before giving up on one delivery."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=5, ge=1, le=20)
    """Attempts in total, the first one included."""
    initial_delay: float = Field(default=1.0, ge=0)
    """Seconds to wait before the second attempt."""
    multiplier: float = Field(default=2.0, ge=1)
    """Each further wait is this many times the previous one."""
    max_delay: float = Field(default=30.0, ge=0)
    """No single wait is longer than this, whatever the backoff or a `Retry-After` asks for."""
    jitter: float = Field(default=0.0, ge=0, le=1)
    """Fraction of each wait that may be randomly cut, so many senders do not retry in lockstep.
    Off by default so delays are exact and predictable."""

    def delay_before(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before attempt number `attempt` (2 for the first retry)."""
        delay = min(self.initial_delay * self.multiplier ** (attempt - 2), self.max_delay)
        if self.jitter:
            delay *= 1 - self.jitter * rng()
        return delay


class DeliveryOutcome(BaseModel):
    """What happened to one delivery after all its attempts."""

    model_config = ConfigDict(frozen=True)

    target: str
    """What was being delivered to, for logs and timeline entries: "pagerduty trigger"."""
    ok: bool
    attempts: int
    status: int | None = None
    """HTTP status of the last response; None when the last attempt got no response at all."""
    error: str | None = None
    """Why the last attempt failed, in a few words safe to log: the transport error's kind, or the
    HTTP reason phrase and a Slack-style error code. Never the reply body itself, which a remote
    may fill with anything, including the webhook URL or routing key it was sent to."""


DELIVERY_OBSERVERS: list[Callable[[DeliveryOutcome], None]] = []
"""Told every finished delivery's outcome; the node counts them for its /metrics."""


async def send_with_retry(
    target: str,
    send: Callable[[], Awaitable[httpx.Response]],
    policy: RetryPolicy,
    *,
    sleep: Sleep = asyncio.sleep,
    rng: Callable[[], float] = random.random,
) -> DeliveryOutcome:
    """Call `send` until it answers 2xx, a final error, or `policy.max_attempts` runs out.

    HTTP errors and transport failures never raise; they come back in the outcome, and a delivery
    that gives up is logged as a warning so that no notification disappears without a trace.

    Args:
        target: Names the delivery in the outcome and the log.
        send: Makes one attempt; called again for each retry, so it must rebuild the request.
        policy: Attempts and backoff.
        sleep: Waits between attempts.
        rng: Source of jitter, in [0, 1).

    Returns:
        The outcome of the last attempt, with the number of attempts made.
    """
    outcome = await _attempts(target, send, policy, sleep, rng)
    for observe in DELIVERY_OBSERVERS:
        observe(outcome)
    return outcome


async def _attempts(
    target: str,
    send: Callable[[], Awaitable[httpx.Response]],
    policy: RetryPolicy,
    sleep: Sleep,
    rng: Callable[[], float],
) -> DeliveryOutcome:
    outcome = DeliveryOutcome(target=target, ok=False, attempts=0)
    for attempt in range(1, policy.max_attempts + 1):
        retry_after: float | None = None
        try:
            response = await send()
        except httpx.UnsupportedProtocol as exc:
            # A misconfigured URL will not get better by asking again.
            outcome = DeliveryOutcome(
                target=target, ok=False, attempts=attempt, error=_exception_reason(exc)
            )
            break
        except httpx.TransportError as exc:
            # Timeouts, refused connections and dropped connections are usually passing trouble.
            outcome = DeliveryOutcome(
                target=target, ok=False, attempts=attempt, error=_exception_reason(exc)
            )
        except httpx.HTTPError as exc:
            outcome = DeliveryOutcome(
                target=target, ok=False, attempts=attempt, error=_exception_reason(exc)
            )
            break
        else:
            if response.is_success:
                return DeliveryOutcome(
                    target=target, ok=True, attempts=attempt, status=response.status_code
                )
            outcome = DeliveryOutcome(
                target=target,
                ok=False,
                attempts=attempt,
                status=response.status_code,
                error=_response_reason(response),
            )
            if response.status_code not in RETRYABLE_STATUSES:
                break
            retry_after = _retry_after(response)
        if attempt < policy.max_attempts:
            delay = policy.delay_before(attempt + 1, rng)
            if retry_after is not None:
                # A rate-limited endpoint says how long it wants; asking sooner only earns another
                # 429, but the policy's ceiling still bounds how long a page can be held up.
                delay = min(max(delay, retry_after), policy.max_delay)
            await sleep(delay)
    log.warning(
        "%s failed after %d attempt(s): status=%s error=%s",
        target,
        outcome.attempts,
        outcome.status,
        outcome.error,
    )
    return outcome


def _response_reason(response: httpx.Response) -> str:
    """The reason phrase, plus the body when it is no more than an error code."""
    reason = response.reason_phrase or f"HTTP {response.status_code}"
    code = response.text.strip()
    if len(code) <= 64 and _ERROR_CODE.fullmatch(code):
        return f"{reason}: {code}"
    return reason


def _exception_reason(exc: httpx.HTTPError) -> str:
    """The exception's kind and message, with any URL in it replaced and the length bounded."""
    message = _URL.sub("<url>", str(exc))
    reason = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 1] + "…"


def _retry_after(response: httpx.Response) -> float | None:
    """The `Retry-After` header in seconds, when given as a number (the form Slack uses)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
