"""Teardown: remove a branch's deployment, in this order: the action's backend-hash
tags, its backend stack, the webhooks this action made for it, the Amplify branch.

Deleting is refused outright for the app's production branch and for any branch
whose stage is `PRODUCTION`, and done only for a branch this action created (tag
`created-by` = `amplify-pipeline-deploy`) or one that matches `teardown-branches`;
any other branch is left whole, stack included. The order makes a re-run after a
failure finish the job: the branch, which carries the tag that allows the rest,
goes last, and every step counts "already gone" as done.

Only the branch's own stack is deleted: the one `ampx` names for this app and
branch, or one whose tags (which `ampx` sets) name them. `backend.stackArn` may
point at another branch's stack (teams that share a backend do this): that stack
is kept, with a warning saying whose it is. The production branch's stack is
never deleted, whatever names it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from ampaction import skip
from ampaction.amplify import CREATED_BY_TAG, Amplify, AmplifyError
from ampaction.aws import AwsError
from ampaction.cloudformation import CloudFormation, backend_stack_name
from ampaction.errors import ActionError, Cancelled
from ampaction.workflow import Workflow

FIRST_POLL_SECONDS = 1.0
POLL_CAP_SECONDS = 10.0
DELETED = "DELETE_COMPLETE"
FAILED = "DELETE_FAILED"
PRODUCTION_STAGE = "PRODUCTION"
# The tags `ampx pipeline-deploy` puts on a branch's stack (with `created-by` = `amplify`
# and `amplify:deployment-type` = `branch`): amplify-backend's main-stack creator.
APP_TAG = "amplify:app-id"
BRANCH_TAG = "amplify:branch-name"
_PERMISSION_CODES = ("AccessDenied", "AccessDeniedException")


@dataclass(frozen=True)
class Target:
    """What teardown found for the branch, and why it may delete it (None: it may not)."""

    branch: dict[str, Any] | None
    allowed_by: str | None
    tags: Mapping[str, str] = field(default_factory=dict)  # the branch's


def choose(
    amplify: Amplify,
    app: dict[str, Any],
    app_id: str,
    branch: str,
    teardown_branches: tuple[str, ...],
) -> Target:
    """Refuse the production branch; say whether this run may delete `branch`."""
    production = (app.get("productionBranch") or {}).get("branchName")
    if production and production == branch:
        raise ActionError(
            f"Branch `{branch}` is the production branch of Amplify app {app_id}: teardown "
            "never deletes it, whatever `teardown-branches` says. Nothing was deleted. "
            "Run teardown only for preview or feature branches (e.g. on `pull_request: "
            "closed` or `delete`), and delete a production branch by hand if you mean to.",
            title="Production branch refused",
        )
    try:
        found: dict[str, Any] | None = amplify.get_branch(app_id, branch)
    except AmplifyError as e:
        if e.code != "NotFoundException":
            raise
        found = None
    tags: dict[str, str] = {}
    if found is not None:
        _refuse_production_stage(found, app_id)
        try:
            tags = amplify.tags_of(found["branchArn"], f"branch `{branch}`")
        except AmplifyError as e:
            if e.code not in ("ResourceNotFoundException", "NotFoundException"):
                raise
            found = None  # a concurrent teardown deleted it a moment ago
        key, value = CREATED_BY_TAG
        if tags.get(key) == value:
            return Target(found, f"this action created it (tag `{key}` = `{value}`)", tags)
    pattern = next((p for p in teardown_branches if fnmatchcase(branch, p)), None)
    if pattern is not None:
        return Target(found, f"it matches `teardown-branches` pattern `{pattern}`", tags)
    return Target(found, None, tags)


def _refuse_production_stage(branch: dict[str, Any], app_id: str) -> None:
    """A branch Amplify serves as production is not a preview, whichever the app's
    production branch is."""
    if branch.get("stage") == PRODUCTION_STAGE:
        name = branch.get("branchName")
        raise ActionError(
            f"Branch `{name}` of Amplify app {app_id} has stage {PRODUCTION_STAGE}: teardown "
            "never deletes a production branch, whatever `teardown-branches` says. Nothing "
            "was deleted. Delete it by hand if you mean to, or give it another stage first.",
            title="Production branch refused",
        )


def not_ours_warning(branch: str, app_id: str, stack_name: str | None) -> str:
    key, value = CREATED_BY_TAG
    left = f"branch `{branch}`" + (f" and its backend stack {stack_name}" if stack_name else "")
    return (
        f"Left {left} of Amplify app {app_id} in place: this action did not create it (no tag "
        f"`{key}` = `{value}`) and it matches no `teardown-branches` pattern. To let teardown "
        f"delete it, add it to `teardown-branches` (e.g. `teardown-branches: {branch}`), or tag "
        f"the branch: `aws amplify tag-resource --resource-arn <branch ARN> --tags {key}={value}`."
    )


@dataclass(frozen=True)
class Stacks:
    """The branch's own backend stacks that still stand, and a warning about a stack
    `backend.stackArn` names that is not the branch's (kept), or ''."""

    own: tuple[dict[str, Any], ...]
    kept: str = ""

    @property
    def names(self) -> str:
        return ", ".join(str(stack["StackName"]) for stack in self.own)


def find_stacks(
    cfn: CloudFormation,
    app: dict[str, Any],
    app_id: str,
    branch_name: str,
    branch: dict[str, Any] | None,
) -> Stacks:
    """The branch's backend stacks: the one `pipeline-deploy` names for it, and the one
    `backend.stackArn` names when that stack's tags say it is this branch's."""
    own_name = backend_stack_name(app_id, branch_name)
    production = (app.get("productionBranch") or {}).get("branchName")
    found, kept = [], ""
    arn = ((branch or {}).get("backend") or {}).get("stackArn")
    # An ARN of the name we look up anyway adds nothing: by name, a stale ARN's stack
    # (deleted, then deployed again) is the live one.
    if arn and _name_in_arn(arn) != own_name:
        try:
            linked = _standing(cfn.find_stack(arn))
        except AwsError as e:
            if e.code not in _PERMISSION_CODES:
                raise
            linked, kept = None, _unreadable_warning(branch_name, arn, e.message)
        if linked and _is_branchs(linked, app_id, branch_name, production):
            found.append(linked)
        elif linked:
            kept = _kept_warning(
                branch_name, linked["StackName"], _whose(linked, app_id, production)
            )
    by_name = _standing(cfn.find_stack(own_name))
    if by_name:
        found.append(by_name)
    return Stacks(tuple(found), kept)


def _standing(stack: dict[str, Any] | None) -> dict[str, Any] | None:
    """By ARN, a deleted stack is still found: it is gone all the same."""
    return None if stack is None or stack.get("StackStatus") == DELETED else stack


def _name_in_arn(arn: str) -> str:
    """`arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>` -> name."""
    parts = arn.split(":", 5)
    resource = parts[5] if len(parts) == 6 else arn
    return resource.split("/")[1] if resource.startswith("stack/") else arn


def _tags(stack: dict[str, Any]) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value")) for t in stack.get("Tags") or []}


def _is_branchs(stack: dict[str, Any], app_id: str, branch: str, production: str | None) -> bool:
    """The stack's tags name this app and branch, and nothing says it is production's."""
    tags = _tags(stack)
    if production and stack["StackName"] == backend_stack_name(app_id, production):
        return False
    return tags.get(APP_TAG) == app_id and tags.get(BRANCH_TAG) == branch


def _whose(stack: dict[str, Any], app_id: str, production: str | None) -> str:
    tags = _tags(stack)
    owner, app = tags.get(BRANCH_TAG), tags.get(APP_TAG)
    if production and stack["StackName"] == backend_stack_name(app_id, production):
        owner, app = production, app_id
    if not owner:
        return "a stack whose tags name no branch"
    whose = f"branch `{owner}`" + (f" of app {app}" if app and app != app_id else "") + "'s"
    if owner == production and app in (None, app_id):
        whose = f"the production branch `{owner}`'s"
    return whose


def _kept_warning(branch: str, stack: str, whose: str) -> str:
    return (
        f"Kept stack {stack}: the `backend.stackArn` of branch `{branch}` names it, but it is "
        f"{whose}, not this branch's (its name is not the one `ampx` gives this branch's "
        "stack, and its tags do not name this app and branch). A shared backend stays with "
        "its owner; teardown deletes only the branch's own stack. Delete that stack by hand "
        "if it is indeed unused."
    )


def _unreadable_warning(branch: str, arn: str, why: str) -> str:
    return (
        f"Kept stack {arn}: the `backend.stackArn` of branch `{branch}` names it, but this "
        f"role may not read it, so whose it is cannot be told ({why}). Teardown deletes only "
        "the branch's own stack; delete that one by hand if it is indeed this branch's."
    )


def forget_backend_hash(amplify: Amplify, workflow: Workflow, target: Target) -> None:
    """Before the stack goes: remove `skip-unchanged-backend`'s tags, so that a teardown
    that stops halfway leaves no hash a later deploy could take for the stack's state.
    (That deploy also checks the stack is there: a failure here only warns.)"""
    if target.branch is not None:
        skip.forget_deployed_hash(amplify, target.branch, workflow, caching=False, tags=target.tags)


def delete_stack(
    cfn: CloudFormation,
    workflow: Workflow,
    stack: dict[str, Any],
    *,
    timeout_seconds: float,
    sleep: Callable[[float], None],
    cancelled: Callable[[], bool],
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """`DeleteStack`, then follow it to `DELETE_COMPLETE`, a log line per resource change."""
    stack_id, name = stack["StackId"], stack["StackName"]
    seen = {e["EventId"] for e in cfn.recent_events(stack_id)}
    if stack.get("StackStatus") != "DELETE_IN_PROGRESS":  # a re-run joins the delete under way
        cfn.delete_stack(stack_id)
    workflow.info(f"Deleting stack {name} ({stack.get('StackStatus')} before).")
    start, pause = clock(), FIRST_POLL_SECONDS
    failures: list[dict[str, Any]] = []
    while True:
        sleep(pause)
        if cancelled():
            raise Cancelled(
                f"the deletion of stack {name} (it goes on in CloudFormation; the branch was kept)"
            )
        # Status first, then events: every event up to that status is then in hand.
        now = cfn.find_stack(stack_id)
        status = now.get("StackStatus") if now else DELETED
        fresh = [e for e in cfn.recent_events(stack_id) if e["EventId"] not in seen]
        for event in reversed(fresh):  # oldest first, as they happened
            seen.add(event["EventId"])
            workflow.info(_event_line(event))
            if event.get("ResourceStatus") == FAILED and event["LogicalResourceId"] != name:
                failures.append(event)
        if status == DELETED:
            return
        if status == FAILED:
            raise _delete_failed(name, failures, now)
        if clock() - start >= timeout_seconds:
            raise ActionError(
                f"Stack {name} was still {status} after {int(timeout_seconds // 60)} minutes "
                "(`wait-timeout-minutes`). It goes on in CloudFormation; the Amplify branch was "
                "kept: re-run the teardown to finish once the stack is gone.",
                title="Stack deletion timed out",
            )
        pause = min(POLL_CAP_SECONDS, pause * 1.5)


def _event_line(event: dict[str, Any]) -> str:
    reason = str(event.get("ResourceStatusReason") or "").strip()
    line = (
        f"  {event.get('LogicalResourceId')} ({event.get('ResourceType')}): "
        f"{event.get('ResourceStatus')}"
    )
    return line + (f" — {reason}" if reason else "")


def _delete_failed(
    name: str, failures: list[dict[str, Any]], stack: dict[str, Any] | None
) -> ActionError:
    why = "; ".join(
        f"{e['LogicalResourceId']} ({e.get('ResourceType')}): "
        f"{str(e.get('ResourceStatusReason') or 'no reason given').strip()}"
        for e in failures
    ) or str((stack or {}).get("StackStatusReason") or "CloudFormation gave no reason")
    return ActionError(
        f"Stack {name} could not be deleted (DELETE_FAILED). Failed: {why}. The Amplify "
        "branch and its webhooks were kept so that a re-run can finish: fix what blocks "
        "these resources (or delete them by hand), then run the teardown again.",
        title="Stack deletion failed",
    )


def delete_webhooks(
    amplify: Amplify, workflow: Workflow, app_id: str, branch: str, description: str
) -> int:
    """Delete the branch's webhooks that carry this action's marker; how many went."""
    gone = 0
    for hook in amplify.list_webhooks(app_id):
        if hook.get("branchName") != branch or (hook.get("description") or "") != description:
            continue
        workflow.mask(hook["webhookUrl"])
        try:
            amplify.delete_webhook(hook["webhookId"])
        except AmplifyError as e:
            if e.code != "NotFoundException":  # a concurrent teardown took it
                raise
        workflow.info(f"Deleted webhook {hook['webhookId']}.")
        gone += 1
    return gone


def delete_branch(amplify: Amplify, app_id: str, branch: str) -> bool:
    """Delete the Amplify branch; False when it was already gone."""
    try:
        amplify.delete_branch(app_id, branch)
    except AmplifyError as e:
        if e.code == "NotFoundException":
            return False
        raise
    return True
