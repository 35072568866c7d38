"""`create-branch`: the Amplify branch made when the app lacks it, before anything is installed.

Concurrent runs for the same new branch (two pushes, a re-run) converge: the
one whose `CreateBranch` loses ("already exists") reads the branch the other
made and goes on with it.
"""

from __future__ import annotations

from typing import Any

from ampaction.amplify import Amplify, AmplifyError
from ampaction.workflow import Workflow

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


def stage_for(event_name: str) -> str:
    """Amplify's stage for a branch made by this run: a preview on pull requests."""
    return "PULL_REQUEST" if event_name in PULL_REQUEST_EVENTS else "DEVELOPMENT"


def create_branch(
    amplify: Amplify, workflow: Workflow, app_id: str, branch: str, stage: str
) -> tuple[dict[str, Any], bool]:
    """The branch, made now (True) or by a concurrent run a moment ago (False)."""
    try:
        made = amplify.create_branch(app_id, branch, stage)
    except AmplifyError as create_error:
        if create_error.code != "BadRequestException":
            raise
        # Amplify's answer when another run created it first; anything else is a
        # real refusal, and the branch is still missing.
        try:
            found = amplify.get_branch(app_id, branch)
        except AmplifyError:
            raise create_error from None
        workflow.info(f"Branch `{branch}` was created by another run at the same time: using it.")
        return found, False
    workflow.info(
        f"Created branch `{branch}` in Amplify app {app_id} (stage {stage}, auto-build off)."
    )
    return made, True
