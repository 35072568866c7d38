"""What every step of one run works with: the settings, the runner's voice, the
cancellation, the report, and the Amplify client (None when the run names no region).

The commands make one `Run` and hand it to their steps and to the frontends, so that a
step's signature says what it does, not what it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from ampaction.amplify import Amplify
from ampaction.cancellation import Cancellation
from ampaction.errors import Cancelled
from ampaction.inputs import Settings
from ampaction.report import Report
from ampaction.workflow import Workflow


@dataclass(frozen=True)
class Run:
    settings: Settings
    workflow: Workflow
    cancellation: Cancellation
    report: Report
    amplify: Amplify | None = None


def begin(
    s: Settings,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
    *,
    heading: str,
    dry_run_means: str,
) -> Run:
    """Every command's first step: stop at a SIGTERM that came while the action started,
    make the Amplify client (when the run names a region), and say what the run is about."""
    if cancellation.requested:
        raise Cancelled("the start of the run")
    amplify = None
    if s.region:
        amplify = Amplify(
            s.region, s.max_attempts, s.child_env, mask=workflow.mask, cancellation=cancellation
        )
    workflow.info(heading + (f" — dry run: {dry_run_means}" if s.dry_run else ""))
    return Run(s, workflow, cancellation, report, amplify)
