"""Teardown: remove a branch's deployment, in this order: its backend stack, the
webhooks this action made for it, the Amplify branch.

Deleting is refused outright for the app's production branch, and done only for
a branch this action created (tag `created-by` = `amplify-pipeline-deploy`) or
one that matches `teardown-branches`; any other branch is left whole, stack
included. The order makes a re-run after a failure finish the job: the branch,
which carries the tag that allows the rest, goes last, and every step counts
"already gone" as done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from ampaction.amplify import CREATED_BY_TAG, Amplify, AmplifyError
from ampaction.cloudformation import CloudFormation, backend_stack_name
from ampaction.errors import ActionError, Cancelled
from ampaction.workflow import Workflow

FIRST_POLL_SECONDS = 1.0
POLL_CAP_SECONDS = 10.0
DELETED = "DELETE_COMPLETE"
FAILED = "DELETE_FAILED"


@dataclass(frozen=True)
class Target:
    """What teardown found for the branch, and why it may delete it (None: it may not)."""

    branch: dict[str, Any] | None
    allowed_by: str | None


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
    if found is not None:
        try:
            tags = amplify.tags_of(found["branchArn"], f"branch `{branch}`")
        except AmplifyError as e:
            if e.code not in ("ResourceNotFoundException", "NotFoundException"):
                raise
            found, tags = None, {}  # a concurrent teardown deleted it a moment ago
        key, value = CREATED_BY_TAG
        if tags.get(key) == value:
            return Target(found, f"this action created it (tag `{key}` = `{value}`)")
    pattern = next((p for p in teardown_branches if fnmatchcase(branch, p)), None)
    if pattern is not None:
        return Target(found, f"it matches `teardown-branches` pattern `{pattern}`")
    return Target(found, None)


def not_ours_warning(branch: str, app_id: str, stack_name: str | None) -> str:
    key, value = CREATED_BY_TAG
    left = f"branch `{branch}`" + (f" and its backend stack {stack_name}" if stack_name else "")
    return (
        f"Left {left} of Amplify app {app_id} in place: this action did not create it (no tag "
        f"`{key}` = `{value}`) and it matches no `teardown-branches` pattern. To let teardown "
        f"delete it, add it to `teardown-branches` (e.g. `teardown-branches: {branch}`), or tag "
        f"the branch: `aws amplify tag-resource --resource-arn <branch ARN> --tags {key}={value}`."
    )


def find_stack(
    cfn: CloudFormation, app_id: str, branch_name: str, branch: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The branch's backend stack while it still exists: `backend.stackArn`, else the
    stack `pipeline-deploy` names for it."""
    arn = ((branch or {}).get("backend") or {}).get("stackArn")
    stack = cfn.find_stack(arn) if arn else None
    if stack is None:
        stack = cfn.find_stack(backend_stack_name(app_id, branch_name))
    if stack is None or stack.get("StackStatus") == DELETED:
        return None
    return stack


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
