"""Preflight: read-only checks that fail in seconds what a deploy would fail in minutes.

Two reads, made at the same time: `GetBranch` answers that the credentials work,
the app exists and the branch is connected; `GetApp` tells a wrong app ID from a
missing branch, whether the app has a repository that a webhook could build, and
which build spec Amplify runs. What would go wrong later without failing the run
is a warning: auto-build on, or a build spec that deploys the backend a second time.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ampaction.amplify import Amplify, AmplifyError
from ampaction.cancellation import Cancellation
from ampaction.errors import ActionError, Cancelled

# Amplify's custom-pipeline guide: the Hosting build spec writes the outputs
# of the backend that the pipeline deployed, and deploys nothing.
GENERATE_OUTPUTS = "npx ampx generate outputs --branch $AWS_BRANCH --app-id $AWS_APP_ID"
WORKSPACE_SPEC = "amplify.yml"


@dataclass(frozen=True)
class Warning:
    title: str
    message: str


class BranchMissing(ActionError):
    """The branch is not in the app (`GetBranch` said NotFound)."""


def read_app_and_branch(
    amplify: Amplify, app_id: str, branch: str, *, missing_ok: bool, cancellation: Cancellation
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The app and the branch (None when missing and `missing_ok`), both read at once:
    neither read needs the other's answer, so they cost one round trip, not two.

    The error shown is the one reading them one after the other would show: with
    `missing_ok` (`create-branch`) the app's first; otherwise the branch's, except
    that a branch is reported missing only from an app that is there.
    """
    app = cancellation.start(lambda: read_app(amplify, app_id), "the AWS call to read the app")
    try:
        found = check_branch(amplify, app_id, branch, app_checked=True, missing_ok=missing_ok)
    except Cancelled:
        raise
    except BranchMissing:
        app.result()
        raise
    except ActionError:
        if missing_ok:
            app.result()
        raise
    return app.result(), found


def has_repository(app: dict[str, Any]) -> bool:
    """Whether the app is connected to a repository (a webhook can build it)."""
    return bool(str(app.get("repository") or "").strip())


def judge(
    app: dict[str, Any],
    branch: dict[str, Any],
    *,
    workspace: Path,
    uses_webhook: bool,
) -> list[Warning]:
    """What the app and branch mean for this run: an error when the webhook cannot build
    the frontend, warnings for what would make Amplify build or deploy twice."""
    app_id, name = str(app.get("appId", "")), str(branch.get("branchName", ""))
    if uses_webhook and not has_repository(app):
        raise ActionError(
            f"Amplify app {app_id} has no connected repository (a manual-deploy app), so no "
            "webhook can build its frontend. Give `frontend-artifact` the folder your build "
            "writes (e.g. `dist`) to deploy it with Amplify's manual deployment, or set "
            "`trigger-frontend: false` to deploy the backend only. Nothing was installed.",
            title="App has no repository",
        )
    warnings = []
    if branch.get("enableAutoBuild"):
        warnings.append(_auto_build_warning(app_id, name))
    if has_repository(app):  # an app deployed by hand runs no build spec
        spec = build_spec_warning(branch, app, workspace, name)
        if spec:
            warnings.append(spec)
    return warnings


def check_branch(
    amplify: Amplify,
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
        return amplify.get_branch(app_id, branch)
    except AmplifyError as e:
        if e.code != "NotFoundException":
            raise
        if not app_checked:
            read_app(amplify, app_id)
        if missing_ok:
            return None
        raise BranchMissing(
            f"Branch `{branch}` is not in Amplify app {app_id} ({amplify.region}). "
            "`pipeline-deploy` only deploys branches the app already has: set "
            "`create-branch: true` to have the action create it, connect it in the "
            "Amplify console (App → Branch settings → Add branch), or run "
            f"`{_aws_amplify('create-branch', app_id, branch)}`; "
            "or set `branch` to one the app has.",
            title="Branch not in Amplify app",
        ) from None


def _auto_build_warning(app_id: str, branch: str) -> Warning:
    return Warning(
        "Amplify auto-build is on",
        f"Auto-build is on for branch `{branch}`: every push also starts an Amplify "
        "build of its own, besides the one this action triggers. Turn it off (step 2 of "
        "Amplify's custom-pipeline guide): Amplify console → Branch settings → disable "
        f"auto build, or `{_aws_amplify('update-branch', app_id, branch, '--no-enable-auto-build')}`.",
    )


def build_spec_warning(
    branch: dict[str, Any], app: dict[str, Any], workspace: Path, name: str
) -> Warning | None:
    """A warning when the build spec Amplify runs still deploys the backend.

    The spec is the branch's, else the app's, else `amplify.yml` at the root
    of the workspace; the first one found is the one judged.
    """
    spec_file = workspace / WORKSPACE_SPEC
    candidates = [
        (f"the build spec of branch `{name}` (Amplify console → Branch settings)", branch.get("buildSpec")),
        ("the app's build spec (Amplify console → Hosting → Build settings)", app.get("buildSpec")),
        (f"`{WORKSPACE_SPEC}` at the root of the repository", _read(spec_file)),
    ]  # fmt: skip
    where, text = next(((w, t) for w, t in candidates if t and str(t).strip()), ("", None))
    if not text:
        return None
    for number, line in enumerate(str(text).splitlines(), start=1):
        code = line.split("#", 1)[0]
        if "pipeline-deploy" in code:
            return Warning(
                "Build spec deploys the backend again",
                f"{where[0].upper()}{where[1:]} still runs `pipeline-deploy` (line {number}: "
                f"`{line.strip()[:200]}`): every Amplify build of this branch would deploy the "
                "backend a second time, racing this pipeline's deploy. Change that line to "
                f"`{GENERATE_OUTPUTS}` (Amplify's custom-pipeline guide).",
            )
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    except OSError:
        return None


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
