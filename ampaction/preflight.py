"""Preflight: read-only checks that fail in seconds what a deploy would fail in minutes.

The usual case costs one call: `GetBranch` answers that the credentials work,
the app exists and the branch is connected. `GetApp` runs only to tell a
wrong app ID from a missing branch.
"""

from __future__ import annotations

import shlex
from typing import Any

from ampaction.amplify import Amplify, AmplifyError
from ampaction.errors import ActionError
from ampaction.workflow import Workflow


def check_branch(
    amplify: Amplify,
    workflow: Workflow,
    app_id: str,
    branch: str,
    *,
    app_checked: bool = False,
    missing_ok: bool = False,
) -> dict[str, Any] | None:
    """The Amplify branch, or an error that says how to fix its absence.

    With `missing_ok` (`create-branch`), a missing branch is None instead, once
    the app is known to exist. `app_checked`: the caller has read the app already.
    """
    try:
        found = amplify.get_branch(app_id, branch)
    except AmplifyError as e:
        if e.code != "NotFoundException":
            raise
        if not app_checked:
            read_app(amplify, app_id)
        if missing_ok:
            return None
        raise ActionError(
            f"Branch `{branch}` is not in Amplify app {app_id} ({amplify.region}). "
            "`pipeline-deploy` only deploys branches the app already has: set "
            "`create-branch: true` to have the action create it, connect it in the "
            "Amplify console (App → Branch settings → Add branch), or run "
            f"`{_aws_amplify('create-branch', app_id, branch)}`; "
            "or set `branch` to one the app has.",
            title="Branch not in Amplify app",
        ) from None
    if found.get("enableAutoBuild"):
        workflow.warning(
            f"Auto-build is on for branch `{branch}`: every push also starts an Amplify "
            "build of its own, besides the one this action triggers. Turn it off (step 2 of "
            "Amplify's custom-pipeline guide): Amplify console → Branch settings → disable "
            f"auto build, or `{_aws_amplify('update-branch', app_id, branch, '--no-enable-auto-build')}`.",
            title="Amplify auto-build is on",
        )
    return found


def read_app(amplify: Amplify, app_id: str) -> dict[str, Any]:
    """The Amplify app, or an error that says how to find the right app ID."""
    try:
        return amplify.get_app(app_id)
    except AmplifyError as e:
        if e.code != "NotFoundException":
            raise
        raise ActionError(
            f"Amplify app {app_id} was not found in region {amplify.region} with these "
            "credentials. Check `app-id` (Amplify console → App settings → General) and "
            "`aws-region`, and that the credentials belong to the app's AWS account.",
            title="Amplify app not found",
        ) from None


def _aws_amplify(command: str, app_id: str, branch: str, *more: str) -> str:
    """A command for the user to copy: every value quoted (a branch may hold `;` or `$`)."""
    return shlex.join(
        ["aws", "amplify", command, "--app-id", app_id, "--branch-name", branch, *more]
    )
