"""The ways to start a branch's frontend and follow it, one module each, all of one shape:
`webhook` (the branch's incoming webhook: Amplify builds from the repository), `manual`
(Hosting's manual deployment of `frontend-artifact`) and `gen3` (Amplify Gen 3, `gen3-app`).

A `Frontend` says whether it needs the Amplify API (then preflight checks the app and
branch first), whether Amplify builds it from the connected repository, what a dry run
would do (`plan`), what it checks of its own before install (`preflight`, optional), and
how to `start` it: start returns a `Job` to wait on, or None when
the run has nothing to follow. `Job.wait()` follows the job to its end and gives the
`JobResult`, filling `Job.result` as facts arrive (so the outputs hold what was known
when the wait fails). A new target is one new module here, chosen in
`commands.deploy.choose_frontend`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ampaction.amplify import Amplify
from ampaction.inputs import Settings
from ampaction.run import Run
from ampaction.wait import JobResult, wait_for_job


class Job(Protocol):
    """A started frontend job to wait on."""

    result: JobResult  # filled as facts arrive, also when `wait` raises

    def wait(self) -> JobResult: ...


@dataclass(frozen=True)
class Frontend:
    """One way to start a branch's frontend and follow it."""

    builds_from_repository: bool  # Amplify builds it from the app's connected repository
    reads_amplify: Callable[[Settings], bool]  # starting or following it calls Amplify's API
    plan: Callable[[Run], None]  # log and report what a real run would do, touching nothing
    start: Callable[[Run], Job | None]  # None: started, but nothing this run can follow
    # Checks of its own before anything is installed (Gen 3's app and environment).
    preflight: Callable[[Run], None] | None = None


@dataclass
class AmplifyJob:
    """An Amplify Hosting job: the one in `result` (a manual deployment's, known exactly),
    else the webhook's first job after `after_job_id`."""

    amplify: Amplify
    run: Run
    after_job_id: int | None = None
    result: JobResult = field(default_factory=JobResult)

    def wait(self) -> JobResult:
        s, cancellation = self.run.settings, self.run.cancellation
        return wait_for_job(
            self.amplify,
            self.run.workflow,
            app_id=s.app_id,
            branch=s.branch,
            after_job_id=self.after_job_id,
            timeout_seconds=s.wait_timeout_minutes * 60,
            result=self.result,
            sleep=cancellation.sleep,
            cancelled=lambda: cancellation.requested,
        )
