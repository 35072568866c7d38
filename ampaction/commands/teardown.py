"""`command: teardown`, in the order of its log: check the branch (is it this action's to
delete? which stacks are its own?) → remove its backend-hash tags → delete its backend
stack → its backend secrets (never the shared ones) → the action's webhooks for it → the
branch → its GitHub deployment goes `inactive`. A dry run stops after the check with what
it would delete; in doubt, everything is kept. `command: sweep` runs this same story for
each stale preview.
"""

from __future__ import annotations

import shlex
from typing import Any

from ampaction import backend_checks, deployment, preflight, teardown
from ampaction import branch as branches
from ampaction.amplify import Amplify, frontend_url
from ampaction.aws import AwsError
from ampaction.cancellation import Cancellation
from ampaction.cloudformation import CloudFormation
from ampaction.errors import Cancelled
from ampaction.inputs import Settings
from ampaction.report import Report
from ampaction.run import Run, begin
from ampaction.ssm import branch_secret_prefix
from ampaction.workflow import Workflow


def run_teardown(
    settings: Settings, workflow: Workflow, cancellation: Cancellation, report: Report
) -> None:
    """Remove the branch's deployment: its stack, then the action's webhooks, then the branch."""
    record = deployment.DeploymentRecord(settings, workflow, cancellation)
    tear_down(settings, workflow, cancellation, report, record)


def tear_down(
    settings: Settings,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
    record: deployment.DeploymentRecord,
) -> None:
    """Teardown's story for `settings.branch`; `record` deactivates its GitHub deployment."""
    s = settings
    assert s.region is not None  # noqa: S101 - inputs require a region for teardown
    run = begin(
        s,
        workflow,
        cancellation,
        report,
        heading=f"Teardown of branch `{s.branch}` of Amplify app {s.app_id} ({s.region})",
        dry_run_means="nothing will be deleted.",
    )
    amplify = run.amplify
    assert amplify is not None  # noqa: S101 - a region gives one
    cfn = CloudFormation(
        s.region, s.max_attempts, s.child_env, mask=workflow.mask, cancellation=cancellation
    )
    target, stacks = _check_branch(run, amplify, cfn)
    if not _may_delete(run, target, stacks):
        if target.branch is None and not stacks.own and not s.dry_run:
            record.deactivate(s)  # gone already: its deployment goes too
        return
    if s.dry_run:
        _plan(run, stacks)
        return
    teardown.forget_backend_hash(amplify, workflow, target)
    _delete_stacks(run, cfn, stacks.own)
    _delete_secrets(run)
    if cancellation.requested:
        raise Cancelled("the teardown, before the webhooks and the branch")
    _delete_webhooks(run, amplify)
    if cancellation.requested:
        raise Cancelled("the teardown, before the branch")
    _delete_branch(run, amplify, target.branch)
    record.deactivate(s, recorded=target.tags.get(branches.ENVIRONMENT_TAG))


def _check_branch(
    run: Run, amplify: Amplify, cfn: CloudFormation
) -> tuple[teardown.Target, teardown.Stacks]:
    s, report = run.settings, run.report
    with report.step("Check the branch", run.workflow) as step:
        app = preflight.read_app(amplify, s.app_id)
        report.outputs["frontend-url"] = frontend_url(app, s.branch)
        target = teardown.choose(amplify, app, s.app_id, s.branch, s.teardown_branches)
        stacks = teardown.find_stacks(cfn, app, s.app_id, s.branch, target.branch)
        step.detail = target.allowed_by or "not this action's to delete"
    return target, stacks


def _may_delete(run: Run, target: teardown.Target, stacks: teardown.Stacks) -> bool:
    """Whether anything is left, and this action's to delete; the log and report say why not."""
    s, workflow, report = run.settings, run.workflow, run.report
    stack_name = stacks.names or None
    if target.branch is None and not stacks.own:
        workflow.info(f"Nothing to delete: branch `{s.branch}` and its backend stack are gone.")
        report.skip("Delete", "nothing left to delete")
        _say_secrets_kept(run)
        return False
    if target.allowed_by is None:
        workflow.warning(
            teardown.not_ours_warning(s.branch, s.app_id, stack_name), title="Branch kept"
        )
        report.skip("Delete", "not created by this action, and not in `teardown-branches`")
        return False
    workflow.info(f"May delete branch `{s.branch}`: {target.allowed_by}.")
    if stacks.kept:
        workflow.warning(stacks.kept, title="Shared stack kept")
    return True


def _say_secrets_kept(run: Run) -> None:
    """A branch deleted elsewhere (the console) may leave its backend secrets. With no
    branch and no created-by tag, nothing shows they were this action's: kept, and named."""
    s = run.settings
    store = backend_checks.secrets_client(s, run.workflow, run.cancellation)
    try:
        names = backend_checks.branch_secret_names(store, s.app_id, s.branch)
    except AwsError as e:
        if e.code not in backend_checks.PERMISSION_CODES:
            raise
        return  # may not look: nothing to say
    if names:
        command = shlex.join(
            ["aws", "ssm", "delete-parameters", "--region", str(s.region), "--names", *names]
        )
        run.workflow.warning(
            f"Branch `{s.branch}` is gone, but its backend secrets are still in SSM: "
            f"{', '.join(names)}. They were kept: with the branch gone, nothing shows they "
            f"were this action's. If nothing needs them, delete them: `{command}`",
            title="Backend secrets kept",
        )


def _plan(run: Run, stacks: teardown.Stacks) -> None:
    stack_name = stacks.names or None
    secrets = (
        f"backend secrets under {branch_secret_prefix(run.settings.app_id, run.settings.branch)}"
    )
    for what in (
        f"stack {stack_name}" if stack_name else None,
        secrets,
        "marked webhooks",
        "branch",
    ):
        if what:
            run.workflow.info(f"- would delete the {what}")
            run.report.plan("Delete", what)


def _delete_stacks(run: Run, cfn: CloudFormation, stacks: tuple[dict[str, Any], ...]) -> None:
    if not stacks:
        run.report.skip("Delete backend stack", "no backend stack found")
    cancellation = run.cancellation
    for stack in stacks:
        with run.report.step("Delete backend stack", run.workflow) as step:
            teardown.delete_stack(
                cfn,
                run.workflow,
                stack,
                timeout_seconds=run.settings.wait_timeout_minutes * 60,
                sleep=cancellation.sleep,
                cancelled=lambda: cancellation.requested,
            )
            step.detail = str(stack["StackName"])


def _delete_secrets(run: Run) -> None:
    """The branch's own backend secrets; without the SSM permissions, a warning: they stay."""
    s = run.settings
    with run.report.step("Delete backend secrets", run.workflow) as step:
        store = backend_checks.secrets_client(s, run.workflow, run.cancellation)
        try:
            gone = backend_checks.delete_branch_secrets(store, run.workflow, s.app_id, s.branch)
        except AwsError as e:
            if e.code not in backend_checks.PERMISSION_CODES:
                raise
            run.workflow.warning(
                f"Kept branch `{s.branch}`'s backend secrets: {e.message}",
                title="Backend secrets kept",
            )
            step.detail = "kept: permission missing"
            return
        step.detail = f"{gone} deleted"


def _delete_webhooks(run: Run, amplify: Amplify) -> None:
    s = run.settings
    with run.report.step("Delete webhooks", run.workflow) as step:
        gone = teardown.delete_webhooks(
            amplify, run.workflow, s.app_id, s.branch, s.webhook_description
        )
        step.detail = f"{gone} deleted"


def _delete_branch(run: Run, amplify: Amplify, branch: dict[str, Any] | None) -> None:
    if branch is None:
        run.report.skip("Delete branch", "already gone")
        return
    with run.report.step("Delete branch", run.workflow) as step:
        existed = teardown.delete_branch(amplify, run.settings.app_id, run.settings.branch)
        step.detail = "deleted" if existed else "already gone"
