"""What every step of one run works with: the settings, the runner's voice, the
cancellation, the report, and the Amplify client (None when the run names no region).

The commands make one `Run` and hand it to their steps and to the frontends, so that a
step's signature says what it does, not what it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from ampaction.amplify import Amplify
from ampaction.cancellation import Cancellation
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
