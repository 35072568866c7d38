"""The commands, one module each, each a short story of named steps in the order of its
log: `deploy` (preflight → create the branch → install → deploy the backend → start the
frontend → wait; `plan` says what a dry run would do), `teardown` (check the branch →
delete its stack, the action's webhooks and the branch) and `sweep` (find the stale
previews → tear each down with teardown's story).

A command is a `Command`: it is given the settings, the runner's voice, the cancellation
and the report, and raises `ActionError` where it fails; `main` picks it by the `command`
input and prints the error and the report. A new command is one new module here and one
line in `main.COMMANDS`.
"""

from __future__ import annotations

from collections.abc import Callable

from ampaction.cancellation import Cancellation
from ampaction.inputs import Settings
from ampaction.report import Report
from ampaction.workflow import Workflow

Command = Callable[[Settings, Workflow, Cancellation, Report], None]
