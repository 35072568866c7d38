"""The frontend trigger: POST `{}` to the webhook until Amplify accepts it, starting one build.

Two parts. `classify_response` and `classify_exception` are the decision: pure,
they say of one attempt whether it is done, worth another try (known not to
have reached Amplify, or of unknown fate), or failed, and why. The loop in
`trigger_frontend_build` acts on it: backoff with full jitter, `Retry-After`
honoured, bounded attempts and time. A POST of unknown fate (no answer, a
connection dropped after sending, a gateway error) may have started a build,
and Amplify lists a webhook job only some seconds after it accepted the POST:
before posting again the loop looks, for up to `LOOK_SECONDS`, for a webhook job
newer than the ones the branch had before the first POST (`arrived`).
Amplify's job ids grow per branch, so no clock is compared.

Every wait here ends within a moment of a cancellation: the POST runs in a
worker thread that is abandoned, and a POST that was on its way is reported
as one that may have started a build.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ampaction import redaction
from ampaction.cancellation import Cancellation
from ampaction.errors import ActionError, Cancelled
from ampaction.retry import backoff_seconds, retry_after_seconds
from ampaction.workflow import Workflow

if TYPE_CHECKING:
    import requests

POST_TIMEOUT = (10.0, 30.0)  # connect, read
TRIGGER_BUDGET_SECONDS = 300.0  # all attempts of one trigger, sleeps and looks included
LOOK_SECONDS = 60.0  # how long a build that a lost POST started may take to be listed
LOOK_EVERY_SECONDS = 5.0
BODY_SHOWN = 300  # characters of a refusal's body quoted in the error

# Amplify (or its front door) refused before doing anything: safe to send again.
NOT_ARRIVED = {429: "throttled", 503: "service unavailable"}
# A gateway error: the request may have been passed on and accepted.
FATE_UNKNOWN = {500: "internal error", 502: "bad gateway", 504: "gateway timeout"}

# What to do about a refusal, for a `webhook-url` the user gave…
_GIVEN_URL_INVALID = (
    "The webhook's token is not valid (deleted webhook?): drop `webhook-url` to let the "
    "action create one, or create a new incoming webhook in the Amplify console."
)
GIVEN_URL_REFUSED = {
    401: _GIVEN_URL_INVALID,
    403: _GIVEN_URL_INVALID,
    404: "The webhook does not exist any more: drop `webhook-url`, or create a new one.",
}
# …and for the webhook the action found or created (already looked up again once).
_MANAGED_WEBHOOK_INVALID = (
    "The webhook the action found refused its own token, also after looking it up again: "
    "re-run the job; if it fails again, delete the branch's webhook marked with "
    "`webhook-description` in the Amplify console, and the action will create a new one."
)
MANAGED_WEBHOOK_REFUSED = {
    401: _MANAGED_WEBHOOK_INVALID,
    403: _MANAGED_WEBHOOK_INVALID,
    404: "The webhook the action found was deleted while it ran: re-run the job, and the "
    "action will create a new one.",
}
OTHER_REFUSAL = (
    "Check the webhook in the Amplify console (App settings → Build settings → Incoming webhooks)."
)


class Verdict(enum.Enum):
    DONE = "done"
    RETRY = "retry: known not to have reached Amplify"
    RETRY_FATE_UNKNOWN = "retry: may have reached Amplify"
    FAIL = "fail"


@dataclass(frozen=True)
class Outcome:
    """One attempt, judged: what to do next, and why in a few words (or the whole error)."""

    verdict: Verdict
    reason: str
    retry_after: float | None = None  # seconds Amplify asked for
    status: int | None = None


@dataclass(frozen=True)
class Triggered:
    attempts: int
    job_id: str | None = None  # known when a lost POST's build was found


class Refused(ActionError):
    """Amplify refused the POST (4xx): no build was started."""

    def __init__(self, message: str, status: int):
        super().__init__(message, title="Frontend trigger refused")
        self.status = status


def classify_response(
    status: int,
    reason: str,
    headers: Mapping[str, str],
    body: str,
    *,
    given_url: bool,
    now: dt.datetime,
) -> Outcome:
    """The verdict on an HTTP answer to the POST; a refusal's reason is the whole error."""
    if status < 300:
        return Outcome(Verdict.DONE, f"HTTP {status}", status=status)
    said = f"HTTP {status} {reason}".strip()
    if status in NOT_ARRIVED or status in FATE_UNKNOWN or status >= 500:
        verdict = Verdict.RETRY_FATE_UNKNOWN if status in FATE_UNKNOWN else Verdict.RETRY
        wait = retry_after_seconds(headers.get("Retry-After"), now)
        return Outcome(verdict, said, retry_after=wait, status=status)
    # Redact before cutting: a cut token would no longer match its mask.
    shown = redaction.redact(" ".join(body.split()))[:BODY_SHOWN] or "(empty)"
    help_by_status = GIVEN_URL_REFUSED if given_url else MANAGED_WEBHOOK_REFUSED
    message = f"Amplify refused the frontend trigger: {said}: {shown}. " + help_by_status.get(
        status, OTHER_REFUSAL
    )
    return Outcome(Verdict.FAIL, message, status=status)


def classify_exception(error: Exception) -> Outcome:
    """The verdict on a POST that got no HTTP answer."""
    import requests  # noqa: PLC0415 - only runs that trigger pay for the import

    exceptions = requests.exceptions
    if isinstance(error, exceptions.ConnectTimeout):
        return Outcome(Verdict.RETRY, "connection timed out")
    if isinstance(error, exceptions.SSLError):
        return Outcome(Verdict.RETRY, "TLS handshake failed")
    if isinstance(error, exceptions.ConnectionError):
        if "NewConnectionError" in repr(error) or "NameResolutionError" in repr(error):
            return Outcome(Verdict.RETRY, "connection refused")
        return Outcome(Verdict.RETRY_FATE_UNKNOWN, "connection dropped")
    if isinstance(error, exceptions.Timeout):
        return Outcome(Verdict.RETRY_FATE_UNKNOWN, "no answer in time")
    return Outcome(Verdict.FAIL, f"The frontend trigger failed: {type(error).__name__}.")


def trigger_frontend_build(
    url: str,
    *,
    workflow: Workflow,
    cancellation: Cancellation,
    max_attempts: int,
    given_url: bool,
    arrived: Callable[[], str | None] | None = None,
    budget_seconds: float = TRIGGER_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Triggered:
    """POST to the webhook until it is accepted; one build, whatever the retries.

    `arrived()` names a webhook job newer than the branch's jobs before the first
    POST, if one is listed; without it, a POST of unknown fate is not sent again.
    """
    target = start_build_url(url)
    workflow.mask(target)  # re-encoded: its query may read differently from the given URL
    deadline = clock() + budget_seconds
    attempt = 0
    while True:
        attempt += 1
        outcome = _post(target, cancellation, given_url)
        if outcome.verdict is Verdict.DONE:
            return Triggered(attempt)
        if outcome.verdict is Verdict.FAIL:
            if outcome.status is not None:
                raise Refused(outcome.reason, outcome.status)
            raise ActionError(outcome.reason, title="Frontend trigger failed")
        if outcome.verdict is Verdict.RETRY_FATE_UNKNOWN:
            job_id = _look_for_build(
                outcome,
                arrived=arrived,
                cancellation=cancellation,
                workflow=workflow,
                deadline=deadline,
                clock=clock,
            )
            if job_id is not None:
                return Triggered(attempt, job_id)
        if attempt >= max_attempts or clock() >= deadline:
            raise ActionError(
                f"The frontend trigger failed after {attempt} attempts: {outcome.reason}. "
                "Amplify may be having trouble; re-run the job, or raise `max-attempts`.",
                title="Frontend trigger failed",
            )
        delay = _delay(outcome, attempt, deadline - clock())
        workflow.info(
            f"Frontend trigger attempt {attempt} of {max_attempts} failed "
            f"({outcome.reason}); trying again in {delay:.1f} s."
        )
        cancellation.sleep(delay)
        if cancellation.requested:
            raise Cancelled("the frontend trigger")


def _post(target: str, cancellation: Cancellation, given_url: bool) -> Outcome:
    """One POST, judged; a cancellation while it is on its way is said as such."""
    import requests  # noqa: PLC0415 - only runs that trigger pay for the import

    def send() -> requests.Response:
        return requests.post(target, json={}, timeout=POST_TIMEOUT, allow_redirects=False)

    if cancellation.requested:
        raise Cancelled("the frontend trigger")
    try:
        response = cancellation.interruptibly(send, "the frontend trigger")
    except Cancelled:
        raise Cancelled("the frontend trigger", outcome=IN_FLIGHT) from None
    except requests.exceptions.RequestException as e:
        return classify_exception(e)
    return classify_response(
        response.status_code,
        response.reason or "",
        response.headers,
        response.text,
        given_url=given_url,
        now=dt.datetime.now(dt.UTC),
    )


IN_FLIGHT = (
    "its POST was on its way to Amplify and may have started a build: see the "
    "branch's builds in the Amplify console."
)


def _look_for_build(
    outcome: Outcome,
    *,
    arrived: Callable[[], str | None] | None,
    cancellation: Cancellation,
    workflow: Workflow,
    deadline: float,
    clock: Callable[[], float],
) -> str | None:
    """After a POST of unknown fate: the build it started, if one is listed in time."""
    if arrived is None:
        raise ActionError(
            f"The frontend trigger's POST got no clear answer ({outcome.reason}): Amplify may "
            "have started a build. Not posting again, so as not to start two: see the "
            "branch's builds in the Amplify console, and re-run the job if none started. "
            "(With `aws-region` and `wait-for-frontend: true` the action can check itself.)",
            title="Frontend trigger uncertain",
        )
    workflow.info(
        f"The frontend trigger's POST got no clear answer ({outcome.reason}); looking for "
        f"the build it may have started before posting again (up to {LOOK_SECONDS:.0f} s)."
    )
    end = min(clock() + LOOK_SECONDS, deadline)
    while True:
        job_id = arrived()
        if job_id is not None:
            workflow.info(
                f"The earlier POST did reach Amplify: its build (job {job_id}) is running; "
                "not posting again."
            )
            return job_id
        if clock() >= end:
            return None
        cancellation.sleep(min(LOOK_EVERY_SECONDS, end - clock()))
        if cancellation.requested:
            raise Cancelled("the frontend trigger", outcome=IN_FLIGHT)


def _delay(outcome: Outcome, attempt: int, time_left: float) -> float:
    """Backoff with full jitter, or what Amplify asked for; failing when it asks too much."""
    if outcome.retry_after is not None and outcome.retry_after > time_left:
        back = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=outcome.retry_after)
        raise ActionError(
            f"Amplify asked the frontend trigger to come back in {outcome.retry_after:.0f} s "
            f"(Retry-After, after {outcome.reason}), at {back:%Y-%m-%d %H:%M:%S} UTC: later "
            f"than the {TRIGGER_BUDGET_SECONDS:.0f} s a trigger may take. Re-run the job after "
            "that time.",
            title="Frontend trigger throttled",
        )
    return backoff_seconds(attempt, outcome.retry_after, time_left)


def start_build_url(url: str) -> str:
    """The URL with `operation=startbuild`, as the console's curl command has it."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k == "operation" for k, _ in query):
        query.append(("operation", "startbuild"))
    return urlunsplit(parts._replace(query=urlencode(query)))
