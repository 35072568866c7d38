"""Waiting for the frontend build the trigger started.

The webhook's answer holds no job id. Amplify's job ids count up per branch,
so the job is the oldest `WEB_HOOK` job newer than the branch's newest job
before the trigger (no clock is compared: the runner's and Amplify's differ).
When more than one such job appears, another run triggered the same branch
and which build is this run's cannot be told: the wait says so rather than
claim a result. The job is polled at a steady pace, every other poll listing
the branch's jobs (to see a second one appear) instead of reading ours, so a
job's end is noticed within `POLL_SECONDS` and a 10-minute build costs 40
calls. Statuses this module does not know mean "still going" (older botocore
lacks `CREATED`; Amplify may add more).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ampaction.amplify import Amplify, console_url
from ampaction.errors import ActionError, Cancelled
from ampaction.workflow import Workflow

POLL_SECONDS = 15.0
APPEAR_SECONDS = 120.0  # how long a triggered job may take to show up in ListJobs
SUCCEEDED = "SUCCEED"
FAILED = {"FAILED", "CANCELLED"}
CONCURRENCY_HELP = (
    "Give the workflow a `concurrency` group per branch (e.g. `concurrency: "
    "amplify-${{ github.ref_name }}`) so that runs on one branch take turns."
)


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
    after_job_id: int | None,
    timeout_seconds: float,
    result: JobResult,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    cancelled: Callable[[], bool] = lambda: False,
) -> JobResult:
    """Follow the triggered job to a terminal status; fill `result` as facts arrive.

    A `result` that already holds a job id (a manual deployment's, known
    exactly) is followed as it is, with `after_job_id` None: no job list is read.
    Otherwise the webhook's job is the first one after `after_job_id`.
    """
    start = clock()
    result.url = console_url(amplify.region, app_id, branch)
    deadline = start + timeout_seconds
    appear_by = start + min(APPEAR_SECONDS, timeout_seconds)
    last_status: str | None = None
    next_poll = start + POLL_SECONDS
    polls = 0

    while True:
        sleep(max(0.0, next_poll - clock()))
        if cancelled():
            raise Cancelled("the wait for the frontend build")
        now = clock()
        next_poll = min(now + POLL_SECONDS, deadline)
        polls += 1
        jobs: list[dict[str, Any]] = []
        if after_job_id is not None and (result.job_id is None or polls % 2 == 0):
            jobs = amplify.webhook_jobs_after(app_id, branch, after_job_id)
        if jobs:
            status = _status_of_ours(jobs, result, workflow, branch)
        elif result.job_id is not None:
            status = str(amplify.get_job(app_id, branch, result.job_id).get("status", "UNKNOWN"))
        elif now >= appear_by:
            raise ActionError(
                f"No build job appeared for branch `{branch}` within "
                f"{int(appear_by - start)} s of the trigger. See {result.url}.",
                title="Frontend build not found",
            )
        else:
            continue
        result.status = status
        if status != last_status:
            workflow.info(f"Job {result.job_id}: {status} ({int(now - start)} s)")
            last_status = status
        if _ended(status, result, branch, now >= deadline, timeout_seconds):
            return result


def _status_of_ours(
    jobs: list[dict[str, Any]], result: JobResult, workflow: Workflow, branch: str
) -> str:
    """The status of the one new webhook job; an error when there are more."""
    if len(jobs) > 1:
        ids = ", ".join(f"{j['jobId']} ({j.get('status', '?')})" for j in jobs)
        result.job_id = result.status = None  # no claim either way
        raise ActionError(
            f"{len(jobs)} builds were started through the webhook of branch `{branch}` since "
            f"this run's trigger (jobs {ids}): another run triggered the same branch, and "
            "Amplify's answer names no job, so which build is this run's cannot be told. "
            f"Not claiming a result: see them in {result.url}. {CONCURRENCY_HELP}",
            title="Frontend build uncertain",
        )
    if result.job_id is None:
        result.job_id = str(jobs[0]["jobId"])
        workflow.info(f"Amplify job {result.job_id} started for branch `{branch}`.")
    return str(jobs[0].get("status", "UNKNOWN"))


def _ended(status: str, result: JobResult, branch: str, late: bool, timeout: float) -> bool:
    """True when the job succeeded; an error when it failed or the wait is over."""
    if status == SUCCEEDED:
        return True
    if status in FAILED:
        raise ActionError(
            f"Amplify job {result.job_id} for branch `{branch}` ended {status}. "
            f"Its log: {result.url}",
            title=f"Frontend build {status.lower()}",
        )
    if late:
        raise ActionError(
            f"Amplify job {result.job_id} was still {status} after "
            f"{int(timeout // 60)} minutes (`wait-timeout-minutes`). It goes on in "
            f"Amplify: {result.url}",
            title="Frontend build timed out",
        )
    return False
