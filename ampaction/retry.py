"""How the action retries its plain-HTTP calls (the webhook POST, the artifact upload).

One policy for both: exponential backoff with full jitter, `Retry-After`
honoured, at most `max-attempts` attempts and a time budget for all of them,
sleeps that a cancellation cuts short, and one log line per failed attempt
that says why (never where: the URLs are credentials). The AWS API calls
retry inside botocore instead (see `amplify`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ampaction.workflow import Workflow

if TYPE_CHECKING:
    from tenacity import Retrying

BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0


class Retry(Exception):
    """One failed attempt that is worth another try; `reason` says why, for the log."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def retrying(
    what: str,
    *,
    workflow: Workflow,
    max_attempts: int,
    budget_seconds: float,
    sleep: Callable[[float], None],
) -> Retrying:
    """A tenacity loop that retries `Retry` (and nothing else) by the policy above."""
    from tenacity import (  # noqa: PLC0415 - only runs that make these calls pay for the import
        RetryCallState,
        Retrying,
        retry_if_exception_type,
        stop_after_attempt,
        stop_after_delay,
    )

    first = time.monotonic()

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = error.retry_after if isinstance(error, Retry) else None
        left = budget_seconds - (time.monotonic() - first)
        return backoff_seconds(state.attempt_number, asked, left)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        reason = error.reason if isinstance(error, Retry) else type(error).__name__
        delay = state.next_action.sleep if state.next_action else 0.0
        workflow.info(
            f"{what} attempt {state.attempt_number} of {max_attempts} failed "
            f"({reason}); trying again in {delay:.1f} s."
        )

    return Retrying(
        stop=stop_after_attempt(max_attempts) | stop_after_delay(budget_seconds),
        wait=wait,
        retry=retry_if_exception_type(Retry),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )


def backoff_seconds(attempt: int, retry_after: float | None, left: float) -> float:
    """The pause after failed attempt number `attempt`, within the `left` seconds of budget."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography
    if retry_after is not None:
        delay = max(delay, retry_after)
    return max(0.0, min(delay, left))


RETRY_AFTER_MOST = 1e8  # seconds: more is "not in this run" all the same


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: a number, or an HTTP date in any of
    its three forms (a zone-less or `-0000` date is UTC, as HTTP dates always are)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), RETRY_AFTER_MOST)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
