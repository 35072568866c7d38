"""`create-branch`: the Amplify branch made when the app lacks it, before anything is installed.

Concurrent runs for the same new branch (two pushes, a re-run) converge: the
one whose `CreateBranch` loses ("already exists") reads the branch the other
made and goes on with it.

A branch made for a pull request also carries its number (tag `pull-request`), the
time of its last deploy (tag `amplify-pipeline-deploy:last-deploy`) and the GitHub
environment that deploy was recorded in (tag `amplify-pipeline-deploy:github-environment`),
both renewed by every successful deploy: what `command: sweep` reads to find stale
previews, and what it and teardown read to find the preview's GitHub deployment.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ampaction.amplify import Amplify, AmplifyError
from ampaction.workflow import Workflow

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
PULL_REQUEST_TAG = "pull-request"
LAST_DEPLOY_TAG = "amplify-pipeline-deploy:last-deploy"
ENVIRONMENT_TAG = "amplify-pipeline-deploy:github-environment"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # UTC; AWS tag values allow `:`
# Amplify's TagValue (botocore's model): `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, 256 at most.
_TAG_VALUE = re.compile(r"[\w\s.:/=+\-@]{0,256}")


def preview_tags(
    pull_request: int | None, environment: str, now: dt.datetime | None = None
) -> dict[str, str]:
    """The tags of a branch made for pull request `pull_request` (none for other branches)."""
    if pull_request is None:
        return {}
    return {PULL_REQUEST_TAG: str(pull_request), **last_deploy_tags(environment, now)}


def last_deploy_tags(environment: str, now: dt.datetime | None = None) -> dict[str, str]:
    """When the preview was last deployed, and the GitHub environment that deploy was
    recorded in: a `deployment-environment` of its own (`preview-<n>`) is known to no
    later sweep's inputs. A name no tag can hold is not recorded."""
    tags = {LAST_DEPLOY_TAG: (now or dt.datetime.now(dt.UTC)).strftime(TIME_FORMAT)}
    if _TAG_VALUE.fullmatch(environment):
        tags[ENVIRONMENT_TAG] = environment
    return tags


def last_deploy(branch: dict[str, Any]) -> dt.datetime | None:
    """When the branch was last deployed: its tag, else when Amplify last changed it."""
    text = (branch.get("tags") or {}).get(LAST_DEPLOY_TAG)
    if text:
        try:
            return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.UTC)
        except ValueError:
            pass  # edited by hand: fall back to Amplify's own time
    when = branch.get("updateTime") or branch.get("createTime")
    return when if isinstance(when, dt.datetime) else None


def remember_last_deploy(
    amplify: Amplify, branch: dict[str, Any], workflow: Workflow, environment: str
) -> None:
    """After a successful deploy of a pull request's branch: renew its last-deploy time
    and GitHub environment."""
    if PULL_REQUEST_TAG not in (branch.get("tags") or {}):
        return  # only previews are swept
    try:
        amplify.tag_branch(branch, last_deploy_tags(environment))
    except AmplifyError as e:
        workflow.warning(
            f"Could not renew tag `{LAST_DEPLOY_TAG}` on branch `{branch.get('branchName')}`: "
            f"{e.message} A sweep with `preview-ttl-days` may take this preview for a stale one.",
            title="Last deploy not recorded",
        )


def stage_for(event_name: str) -> str:
    """Amplify's stage for a branch made by this run: a preview on pull requests."""
    return "PULL_REQUEST" if event_name in PULL_REQUEST_EVENTS else "DEVELOPMENT"


def create_branch(
    amplify: Amplify,
    workflow: Workflow,
    app_id: str,
    branch: str,
    stage: str,
    *,
    pull_request: int | None = None,
    environment: str = "",
) -> tuple[dict[str, Any], bool]:
    """The branch, made now (True) or by a concurrent run a moment ago (False)."""
    try:
        tags = preview_tags(pull_request, environment)
        made = amplify.create_branch(app_id, branch, stage, tags)
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
    tagged = f", pull request #{pull_request}" if pull_request is not None else ""
    workflow.info(
        f"Created branch `{branch}` in Amplify app {app_id} (stage {stage}, auto-build off{tagged})."
    )
    return made, True
