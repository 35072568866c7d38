"""The frontend trigger: the branch's incoming webhook, found or created, and the POST to it.

The webhook URL carries the only credential Amplify asks for, so it is
masked the moment it is known and never leaves this module in a message:
errors about the POST describe what happened, not where it went.

Concurrent runs (a matrix, two pushes) converge: after creating, look
again; when several marked webhooks exist for a branch, every run keeps the
same one (oldest `createTime`, then smallest id) and deletes only extras it
made itself. A POST whose fate is unknown (a timeout, a connection dropped
after sending) is checked against the branch's jobs before it is sent again,
so a retried trigger starts one build.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ampaction import redaction
from ampaction.amplify import Amplify
from ampaction.errors import ActionError, Cancelled
from ampaction.process import Cancellation
from ampaction.workflow import Workflow

POST_TIMEOUT = (10.0, 30.0)  # connect, read
TRIGGER_BUDGET_SECONDS = 300.0  # all attempts of one trigger, sleeps included
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
# Jobs whose start is this close before our first POST could still be ours:
# the runner's clock and Amplify's are not the same clock.
CLOCK_SKEW = dt.timedelta(seconds=5)


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    created: bool


def find_webhook(
    amplify: Amplify, workflow: Workflow, app_id: str, branch: str, description: str
) -> Webhook | None:
    """The branch's webhook marked with `description`, the one every run picks; read-only."""
    marked = _marked(amplify.list_webhooks(app_id), branch, description)
    for hook in marked:
        workflow.mask(hook["webhookUrl"])
    if not marked:
        return None
    return Webhook(marked[0]["webhookId"], marked[0]["webhookUrl"], created=False)


def find_or_create_webhook(
    amplify: Amplify, workflow: Workflow, app_id: str, branch: str, description: str
) -> Webhook:
    """The branch's webhook marked with `description`, created when there is none."""
    existing = find_webhook(amplify, workflow, app_id, branch, description)
    if existing:
        return existing

    made = amplify.create_webhook(app_id, branch, description)
    workflow.mask(made["webhookUrl"])
    # Another run may have created one at the same moment: look again, and
    # let every run settle on the same one.
    settled = find_webhook(amplify, workflow, app_id, branch, description)
    keep = {"webhookId": settled.id, "webhookUrl": settled.url} if settled else made
    if keep["webhookId"] != made["webhookId"]:
        workflow.info(
            f"Another run created webhook {keep['webhookId']} at the same time: using it."
        )
        try:
            amplify.delete_webhook(made["webhookId"])
        except ActionError as e:
            workflow.warning(f"Could not delete the extra webhook {made['webhookId']}: {e.message}")
        return Webhook(keep["webhookId"], keep["webhookUrl"], created=False)
    return Webhook(made["webhookId"], made["webhookUrl"], created=True)


def _marked(webhooks: list[dict[str, Any]], branch: str, description: str) -> list[dict[str, Any]]:
    """This branch's webhooks carrying our marker, the one every run keeps first."""
    mine = [
        w
        for w in webhooks
        if w.get("branchName") == branch and (w.get("description") or "") == description
    ]
    return sorted(mine, key=lambda w: (_timestamp(w.get("createTime")), w.get("webhookId", "")))


def _timestamp(value: object) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float("inf")


def start_build_url(url: str) -> str:
    """The URL with `operation=startbuild`, as the console's curl command has it."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k == "operation" for k, _ in query):
        query.append(("operation", "startbuild"))
    return urlunsplit(parts._replace(query=urlencode(query)))


class _Retry(Exception):
    """One failed POST that is worth another try."""

    def __init__(self, reason: str, retry_after: float | None = None, unknown: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.unknown = unknown  # Amplify may have received it


@dataclass(frozen=True)
class Triggered:
    attempts: int
    started_at: dt.datetime


def trigger_frontend_build(
    url: str,
    *,
    workflow: Workflow,
    cancellation: Cancellation,
    max_attempts: int,
    already_started: Callable[[dt.datetime], bool] | None = None,
    budget_seconds: float = TRIGGER_BUDGET_SECONDS,
) -> Triggered:
    """POST `{}` to the webhook until it is accepted; one build, whatever the retries.

    Retried: 429, 5xx, connection errors and timeouts, with exponential
    backoff and full jitter, `Retry-After` honoured, at most `max_attempts`
    attempts and `budget_seconds` in all. Other 4xx fail at once.
    `already_started(since)` tells whether a POST whose fate is unknown did
    start a build after all (Amplify's response holds no job id).
    """
    import requests  # noqa: PLC0415 - only runs that trigger pay for the import
    from tenacity import (  # noqa: PLC0415
        RetryCallState,
        Retrying,
        retry_if_exception_type,
        stop_after_attempt,
        stop_after_delay,
    )

    target = start_build_url(url)
    workflow.mask(target)  # re-encoded: its query may read differently from the given URL
    started_at = dt.datetime.now(dt.UTC)
    unknown_before = False

    def post() -> None:
        nonlocal unknown_before
        if cancellation.requested:
            raise Cancelled("the frontend trigger")
        if unknown_before and already_started and already_started(started_at - CLOCK_SKEW):
            workflow.info(
                "The earlier POST did reach Amplify: its build is running; not posting again."
            )
            return
        try:
            response = requests.post(target, json={}, timeout=POST_TIMEOUT, allow_redirects=False)
        except requests.exceptions.ConnectTimeout:
            raise _Retry("connection timed out") from None
        except requests.exceptions.ConnectionError as e:
            sent = "NewConnectionError" not in repr(e) and "NameResolutionError" not in repr(e)
            unknown_before = unknown_before or sent
            raise _Retry(
                "connection dropped" if sent else "connection refused", unknown=sent
            ) from None
        except requests.exceptions.Timeout:
            unknown_before = True
            raise _Retry("no answer in time", unknown=True) from None
        except requests.exceptions.RequestException as e:
            raise ActionError(
                f"The frontend trigger failed: {type(e).__name__}.", title="Frontend trigger failed"
            ) from None
        status = response.status_code
        if status < 300:
            return
        if status == 429 or status >= 500:
            unknown_before = unknown_before or status in (500, 502, 504)
            raise _Retry(
                f"HTTP {status} {response.reason}",
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )
        # Redact before cutting: a cut token would no longer match its mask.
        body = redaction.redact(response.text.strip().replace("\n", " "))[:300]
        raise ActionError(
            f"Amplify refused the frontend trigger: HTTP {status} {response.reason}: {body or '(empty)'}. "
            + _refusal_help(status),
            title="Frontend trigger refused",
        )

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (state.attempt_number - 1))
        delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography
        if isinstance(error, _Retry) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        left = budget_seconds - (time.monotonic() - first)
        return max(0.0, min(delay, left))

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        reason = error.reason if isinstance(error, _Retry) else type(error).__name__
        delay = state.next_action.sleep if state.next_action else 0.0
        workflow.info(
            f"Frontend trigger attempt {state.attempt_number} of {max_attempts} failed "
            f"({reason}); trying again in {delay:.1f} s."
        )

    first = time.monotonic()
    retrying = Retrying(
        stop=stop_after_attempt(max_attempts) | stop_after_delay(budget_seconds),
        wait=wait,
        retry=retry_if_exception_type(_Retry),
        sleep=cancellation.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                post()
    except _Retry as e:
        attempts = retrying.statistics.get("attempt_number", max_attempts)
        if e.unknown and already_started and already_started(started_at - CLOCK_SKEW):
            return Triggered(attempts, started_at)
        raise ActionError(
            f"The frontend trigger failed after {attempts} attempts: {e.reason}. "
            "Amplify may be having trouble; re-run the job, or raise `max-attempts`.",
            title="Frontend trigger failed",
        ) from None
    if cancellation.requested:
        raise Cancelled("the frontend trigger")
    return Triggered(retrying.statistics.get("attempt_number", 1), started_at)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _refusal_help(status: int) -> str:
    if status in (401, 403):
        return (
            "The webhook's token is not valid (deleted webhook?): drop `webhook-url` to let "
            "the action create one, or create a new incoming webhook in the Amplify console."
        )
    if status == 404:
        return "The webhook does not exist any more: drop `webhook-url`, or create a new one."
    return "Check the webhook in the Amplify console (App settings → Build settings → Incoming webhooks)."
