"""Waiting for the frontend build the trigger started.

The webhook's answer holds no job id, so the job is the newest `WEB_HOOK`
job of the branch that started after the trigger. It is then polled at a
steady pace: a job's end is noticed within `POLL_SECONDS`, and a 10-minute
build costs 40 calls. Statuses this module does not know mean "still going"
(older botocore lacks `CREATED`; Amplify may add more).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from ampaction.amplify import Amplify, console_url
from ampaction.errors import ActionError, Cancelled
from ampaction.workflow import Workflow

POLL_SECONDS = 15.0
APPEAR_SECONDS = 120.0  # how long a triggered job may take to show up in ListJobs
SUCCEEDED = "SUCCEED"
FAILED = {"FAILED", "CANCELLED"}


@dataclass
class JobResult:
    job_id: str | None = None
    status: str | None = None
    url: str | None = None


def wait_for_job(
    amplify: Amplify,
    workflow: Workflow,
    *,
    app_id: str,
    branch: str,
    triggered_at: dt.datetime,
    timeout_seconds: float,
    result: JobResult,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    cancelled: Callable[[], bool] = lambda: False,
) -> JobResult:
    """Follow the triggered job to a terminal status; fill `result` as facts arrive.

    A `result` that already holds a job id (a manual deployment's, known
    exactly) is followed as it is; otherwise the webhook's job is looked for.
    """
    start = clock()
    result.url = console_url(amplify.region, app_id, branch)
    deadline = start + timeout_seconds
    appear_by = start + min(APPEAR_SECONDS, timeout_seconds)
    last_status: str | None = None
    next_poll = start + POLL_SECONDS

    while True:
        sleep(max(0.0, next_poll - clock()))
        if cancelled():
            raise Cancelled("the wait for the frontend build")
        now = clock()
        next_poll = min(now + POLL_SECONDS, deadline)
        if result.job_id is None:
            jobs = amplify.webhook_jobs_since(app_id, branch, triggered_at)
            if jobs:
                result.job_id = str(jobs[0]["jobId"])
                status = str(jobs[0].get("status", "UNKNOWN"))
                workflow.info(f"Amplify job {result.job_id} started for branch `{branch}`.")
            elif now >= appear_by:
                raise ActionError(
                    f"No build job appeared for branch `{branch}` within {int(appear_by - start)} s "
                    f"of the trigger. See {result.url}.",
                    title="Frontend build not found",
                )
            else:
                continue
        else:
            status = str(amplify.get_job(app_id, branch, result.job_id).get("status", "UNKNOWN"))
        result.status = status
        if status != last_status:
            workflow.info(f"Job {result.job_id}: {status} ({int(now - start)} s)")
            last_status = status
        if _ended(result, branch, timed_out=now >= deadline, minutes=int(timeout_seconds // 60)):
            return result
        next_poll = min(now + POLL_SECONDS, deadline)


def _ended(result: JobResult, branch: str, *, timed_out: bool, minutes: int) -> bool:
    """True when the job succeeded; raise when it failed or the wait is over; else False."""
    status = result.status
    if status == SUCCEEDED:
        return True
    if status in FAILED:
        raise ActionError(
            f"Amplify job {result.job_id} for branch `{branch}` ended {status}. "
            f"Its log: {result.url}",
            title=f"Frontend build {str(status).lower()}",
        )
    if timed_out:
        raise ActionError(
            f"Amplify job {result.job_id} was still {status} after "
            f"{minutes} minutes (`wait-timeout-minutes`). It goes on in "
            f"Amplify: {result.url}",
            title="Frontend build timed out",
        )
    return False
