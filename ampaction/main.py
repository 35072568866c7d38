"""One run, in the order of its log. Two stories: `deploy` (inputs → preflight → create the
branch when asked → install → deploy → trigger → wait → report) and `teardown` (inputs →
check the branch → delete its stack, webhooks and branch → report); on a pull request, both
end by updating the pull-request comment.

Errors are raised where they are found and printed here, once, as an
`::error` annotation; the outputs and the job summary are written whatever
happened (the runner reads them from a failed step too).
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ampaction import (
    artifact,
    deploy,
    deployment,
    inputs,
    manual_deploy,
    ownership,
    pr_comment,
    preflight,
    project,
    skip,
    sweep,
    teardown,
    trigger,
    webhook,
)
from ampaction import branch as branches
from ampaction.amplify import Amplify, console_url, frontend_url
from ampaction.cancellation import Cancellation
from ampaction.cloudformation import CloudFormation
from ampaction.errors import ActionError, BadInputs, Cancelled
from ampaction.inputs import Settings
from ampaction.process import pnpm_store
from ampaction.report import Report
from ampaction.wait import JobResult, wait_for_job
from ampaction.workflow import Workflow


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    cancellation: Cancellation | None = None,
) -> int:
    env = dict(os.environ if env is None else env)
    argv = list(sys.argv[1:] if argv is None else argv)
    workflow = Workflow(
        output_file=_path(env.get("GITHUB_OUTPUT")),
        summary_file=_path(env.get("GITHUB_STEP_SUMMARY")),
        on_github=env.get("GITHUB_ACTIONS") == "true",
    )
    # Before anything could print it: the webhook URL is a password.
    for secret in inputs.secret_inputs(env, argv):
        workflow.mask(secret)
    if cancellation is None:
        cancellation = Cancellation()
        cancellation.install()
    report = Report()

    try:
        settings = inputs.read_settings(env, argv)
    except BadInputs as bad:
        for error in bad.errors:
            workflow.error(error.message, title=error.title)
        report.failure = bad
        report.next_steps.append("Fix the inputs named above; nothing was installed or deployed.")
        report.write(workflow)
        return 1

    workflow.route_logging(settings.debug)
    report.app_id, report.branch = settings.app_id, settings.branch
    report.command = settings.command
    record = deployment.DeploymentRecord(settings, workflow)
    try:
        _run_command(settings, workflow, cancellation, report, record)
        code = 0
    except ActionError as e:
        report.failure = e
        report.next_steps.extend(_next_steps(settings, report))
        workflow.error(e.message, title=e.title)
        code = e.exit_code
    except Exception as e:  # a bug of ours: still one redacted annotation, never a raw traceback
        report.failure = ActionError(f"Unexpected {type(e).__name__}: {e}", title="Internal error")
        if settings.debug:  # for the bug report; redacted, and commands off, like any log text
            workflow.untrusted(traceback.format_exc().splitlines())
        workflow.error(report.failure.message, title=report.failure.title)
        code = 1
    record.finish(report, cancelled=cancellation.requested)
    if not cancellation.requested:  # the runner's grace period is for stopping, not commenting
        _comment(settings, workflow, report)
    _give_back_files(settings, workflow)
    report.write(workflow)
    return 1 if workflow.file_failed and code == 0 else code


def _run_command(
    settings: Settings,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
    record: deployment.DeploymentRecord,
) -> None:
    if settings.command == "sweep":
        sweep.run_sweep(settings, workflow, cancellation, report, record, teardown=run_teardown)
    elif settings.command == "teardown":
        run_teardown(settings, workflow, cancellation, report, record)
    else:
        run(settings, workflow, cancellation, report, record)


def _give_back_files(settings: Settings, workflow: Workflow) -> None:
    """Whatever happened: what the action (as root) left in the workspace goes to its owner."""
    try:
        given = ownership.give_back(settings.workspace)
    except OSError as e:
        workflow.warning(
            f"Could not give the workspace's files back to its owner ({e.strerror}): later "
            "steps that write into node_modules may fail with EACCES.",
            title="Workspace ownership",
        )
        return
    if given and given.entries:
        workflow.info(
            f"Gave {given.entries} file(s) and folder(s) this run made back to uid "
            f"{given.uid} (the workspace's owner)."
        )


def _comment(settings: Settings, workflow: Workflow, report: Report) -> None:
    """Best effort, whatever happens in it: a comment never fails the run."""
    try:
        pr_comment.update_pr_comment(settings, workflow, report)
    except Exception as e:  # best effort by contract
        workflow.warning(
            f"Could not update the pull-request comment: {type(e).__name__}.",
            title="Pull-request comment not posted",
        )


def run(
    settings: Settings,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
    record: deployment.DeploymentRecord,
) -> None:
    s = settings
    if cancellation.requested:  # a SIGTERM while the action was starting
        raise Cancelled("the start of the run")
    amplify = None
    if s.region:
        amplify = Amplify(
            s.region, s.max_attempts, s.child_env, mask=workflow.mask, cancellation=cancellation
        )
    workflow.info(
        f"Amplify app {s.app_id}, branch `{s.branch}`, region {s.region or '(none needed)'}"
        + (" — dry run: nothing will be installed, deployed or triggered." if s.dry_run else "")
    )

    # What can be known from the files alone comes first: no network, no process.
    pm, files = None, None
    if s.install or s.deploy_backend:
        pm = project.package_manager(
            s.working_directory, s.package_manager, s.child_env, pnpm_store(s.workspace)
        )
        if s.deploy_backend:
            deploy.check_cli_declared(s)
            if s.skip_unchanged_backend:
                files = _hash_backend(s, workflow)

    # Preflight, only for the parts of the run that reach AWS.
    deploys_artifact = s.branch_gets_frontend and s.frontend_artifact is not None
    uses_webhook = s.branch_gets_frontend and s.frontend_artifact is None
    finds_webhook = uses_webhook and (s.webhook_url is None or s.wait_for_frontend)
    branch: dict[str, Any] | None = {}  # None: missing, and `create-branch` is on
    production = False  # whether `branch` is the app's production branch
    if amplify and (s.deploy_backend or finds_webhook or deploys_artifact or s.create_branch):
        branch, production = _preflight(s, amplify, workflow, report, uses_webhook=uses_webhook)
    else:
        report.skip("Preflight", "nothing in this run needs the Amplify API")
    # What the branch's tags say of its last deploy (a branch about to be created has none).
    backend = skip.BackendCache(files, (branch or {}).get("tags") or {}) if files else None

    if s.dry_run:
        _plan(s, pm, amplify, workflow, report, creates_branch=branch is None, backend=backend)
        return
    if branch is None and amplify:
        branch = _create_branch(s, amplify, workflow, report)

    record.start(report, production=production)
    _install_and_deploy(
        s, pm, workflow, cancellation, report, amplify=amplify, branch=branch or {}, backend=backend
    )
    _frontend(s, amplify, workflow, cancellation, report, deploys_artifact=deploys_artifact)
    if amplify and branch and report.outputs["branch-created"] != "true":
        branches.remember_last_deploy(amplify, branch, workflow)  # what sweep's TTL reads


def _frontend(
    s: Settings,
    amplify: Amplify | None,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
    *,
    deploys_artifact: bool,
) -> None:
    """Start the frontend (the artifact's deployment, or the webhook's build), then wait."""
    job_id: str | None = None  # a manual deployment's, known exactly
    after_job_id: int | None = None  # the branch's newest job before a webhook trigger
    if deploys_artifact:
        job_id = _deploy_artifact(s, amplify, workflow, cancellation, report)
    else:
        triggered, after_job_id = _trigger(s, amplify, workflow, cancellation, report)
        if not triggered:
            return
    if s.wait_for_frontend and amplify and (job_id is not None or after_job_id is not None):
        _wait(
            s,
            amplify,
            after_job_id,
            job_id=job_id,
            workflow=workflow,
            cancellation=cancellation,
            report=report,
        )
    else:
        report.skip("Wait for the frontend build", "`wait-for-frontend` is off")


def _preflight(
    s: Settings, amplify: Amplify, workflow: Workflow, report: Report, *, uses_webhook: bool
) -> tuple[dict[str, Any] | None, bool]:
    """Check the app and branch: the branch, or None when it is missing and `create-branch`
    is on, and whether it is the app's production branch. What they warn about goes to the
    log and the job summary."""
    with report.step("Preflight", workflow) as step:
        app = None
        # With `create-branch`, the app first: a missing branch is then no error.
        if s.create_branch:
            app = preflight.read_app(amplify, s.app_id)
        branch = preflight.check_branch(
            amplify, s.app_id, s.branch, app_checked=app is not None, missing_ok=s.create_branch
        )
        if app is None:
            app = preflight.read_app(amplify, s.app_id)
        report.outputs["frontend-url"] = frontend_url(app, s.branch)
        warnings = preflight.judge(
            app,
            branch or {"branchName": s.branch},
            workspace=s.workspace,
            uses_webhook=uses_webhook,
        )
        for warning in warnings:
            workflow.warning(warning.message, title=warning.title)
            report.warnings.append(f"{warning.title}: {warning.message}")
        production = (app.get("productionBranch") or {}).get("branchName") == s.branch
        if branch is None:
            step.detail = "branch missing: `create-branch` is on"
            return None, production
        step.detail = "branch found" + "".join(f"; {w.title}" for w in warnings)
    return branch, production


def _create_branch(
    s: Settings, amplify: Amplify, workflow: Workflow, report: Report
) -> dict[str, Any]:
    with report.step("Create branch", workflow) as step:
        stage = branches.stage_for(s.event_name)
        branch, created = branches.create_branch(
            amplify, workflow, s.app_id, s.branch, stage, pull_request=s.pull_request_number
        )
        report.outputs["branch-created"] = "true" if created else "false"
        step.detail = f"stage {stage}" if created else "created by a concurrent run"
    return branch


def run_teardown(
    settings: Settings,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
    record: deployment.DeploymentRecord,
) -> None:
    """Remove the branch's deployment: its stack, then the action's webhooks, then the branch."""
    s = settings
    assert s.region is not None  # noqa: S101 - inputs require a region for teardown
    amplify = Amplify(
        s.region, s.max_attempts, s.child_env, mask=workflow.mask, cancellation=cancellation
    )
    cfn = CloudFormation(
        s.region, s.max_attempts, s.child_env, mask=workflow.mask, cancellation=cancellation
    )
    workflow.info(
        f"Teardown of branch `{s.branch}` of Amplify app {s.app_id} ({s.region})"
        + (" — dry run: nothing will be deleted." if s.dry_run else "")
    )
    with report.step("Check the branch", workflow) as step:
        app = preflight.read_app(amplify, s.app_id)
        report.outputs["frontend-url"] = frontend_url(app, s.branch)
        target = teardown.choose(amplify, app, s.app_id, s.branch, s.teardown_branches)
        stack = teardown.find_stack(cfn, s.app_id, s.branch, target.branch)
        step.detail = target.allowed_by or "not this action's to delete"
    stack_name = stack["StackName"] if stack else None
    if target.branch is None and stack is None:
        workflow.info(f"Nothing to delete: branch `{s.branch}` and its backend stack are gone.")
        report.skip("Delete", "nothing left to delete")
        if not s.dry_run:
            record.deactivate(s.environment)
        return
    if target.allowed_by is None:
        workflow.warning(
            teardown.not_ours_warning(s.branch, s.app_id, stack_name), title="Branch kept"
        )
        report.skip("Delete", "not created by this action, and not in `teardown-branches`")
        return
    workflow.info(f"May delete branch `{s.branch}`: {target.allowed_by}.")
    if s.dry_run:
        for what in (f"stack {stack_name}" if stack_name else None, "marked webhooks", "branch"):
            if what:
                workflow.info(f"- would delete the {what}")
                report.plan("Delete", what)
        return
    _teardown_steps(
        s, amplify, cfn, workflow, cancellation, report=report, stack=stack, branch=target.branch
    )
    record.deactivate(s.environment)


def _teardown_steps(
    s: Settings,
    amplify: Amplify,
    cfn: CloudFormation,
    workflow: Workflow,
    cancellation: Cancellation,
    *,
    report: Report,
    stack: dict[str, object] | None,
    branch: dict[str, object] | None,
) -> None:
    if stack:
        with report.step("Delete backend stack", workflow) as step:
            teardown.delete_stack(
                cfn,
                workflow,
                stack,
                timeout_seconds=s.wait_timeout_minutes * 60,
                sleep=cancellation.sleep,
                cancelled=lambda: cancellation.requested,
            )
            step.detail = str(stack["StackName"])
    else:
        report.skip("Delete backend stack", "no backend stack found")
    if cancellation.requested:
        raise Cancelled("the teardown, before the webhooks and the branch")
    with report.step("Delete webhooks", workflow) as step:
        gone = teardown.delete_webhooks(
            amplify, workflow, s.app_id, s.branch, s.webhook_description
        )
        step.detail = f"{gone} deleted"
    if cancellation.requested:
        raise Cancelled("the teardown, before the branch")
    if branch is None:
        report.skip("Delete branch", "already gone")
        return
    with report.step("Delete branch", workflow) as step:
        existed = teardown.delete_branch(amplify, s.app_id, s.branch)
        step.detail = "deleted" if existed else "already gone"


def _wait(
    s: Settings,
    amplify: Amplify,
    after_job_id: int | None,
    *,
    job_id: str | None = None,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
) -> None:
    """Follow the frontend job: the one given (a manual deployment's), else the webhook's
    first job after `after_job_id`."""
    result = JobResult(job_id=job_id)
    with report.step("Wait for the frontend build", workflow) as step:
        try:
            wait_for_job(
                amplify,
                workflow,
                app_id=s.app_id,
                branch=s.branch,
                after_job_id=after_job_id,
                timeout_seconds=s.wait_timeout_minutes * 60,
                result=result,
                sleep=cancellation.sleep,
                cancelled=lambda: cancellation.requested,
            )
        finally:
            report.outputs["job-id"] = result.job_id or ""
            report.outputs["job-status"] = result.status or ""
            report.outputs["job-url"] = result.url or report.outputs["job-url"]
        step.detail = f"job {result.job_id}: {result.status}"


def _hash_backend(s: Settings, workflow: Workflow) -> skip.BackendFiles:
    files = skip.backend_hash(s.working_directory, s.backend_paths)
    for pattern in files.unmatched:
        workflow.warning(
            f"`backend-paths` pattern `{pattern}` matches no file in "
            f"`{s.shown(s.working_directory)}`: changes there cannot be seen.",
            title="Bad input: backend-paths",
        )
    return files


def _install_and_deploy(
    s: Settings,
    pm: project.PackageManager | None,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
    *,
    amplify: Amplify | None,
    branch: dict[str, Any],
    backend: skip.BackendCache | None,
) -> None:
    if backend and backend.unchanged:
        _skip_backend(s, backend, workflow, report)
        return
    if s.install and pm:
        with report.step(f"Install ({pm.name})", workflow) as step:
            step.detail = deploy.install(s, pm, workflow, cancellation)
    else:
        report.skip("Install", "`install` is off")
    if s.deploy_backend and pm:
        with report.step("Deploy backend", workflow) as step:
            if amplify and branch:
                skip.forget_deployed_hash(amplify, branch, workflow, caching=bool(backend))
            written = deploy.deploy_backend(s, pm, workflow, cancellation)
            report.outputs["backend-deployed"] = "true"
            if written:
                report.outputs["amplify-outputs"] = s.shown(written)
            step.detail = "ampx pipeline-deploy"
            if amplify and backend and branch:
                skip.remember_deployed_hash(
                    amplify, branch, backend.files, s.github_run_id, workflow
                )
    else:
        report.skip("Deploy backend", "`deploy-backend` is off")


def _skip_backend(
    s: Settings, backend: skip.BackendCache, workflow: Workflow, report: Report
) -> None:
    """The branch's last successful deploy had these very files: nothing to install or deploy."""
    why = f"backend unchanged since {backend.last_deploy}"
    workflow.info(
        f"Backend unchanged: its {backend.files.count} files hash to "
        f"{backend.files.digest[:12]}, as at {backend.last_deploy} (tag `{skip.HASH_TAG}` on "
        f"branch `{s.branch}`). Skipping install and `pipeline-deploy`."
    )
    workflow.info(
        "No amplify_outputs file is written on a skipped run. Amplify Hosting's build makes "
        "its own (`npx ampx generate outputs --branch $AWS_BRANCH --app-id $AWS_APP_ID`); a "
        "later step of this job that needs it can install and run `npx ampx generate outputs "
        f"--branch {s.branch} --app-id {s.app_id}`."
    )
    report.outputs["backend-skipped"] = "true"
    report.skip("Install", why)
    report.skip("Deploy backend", why)


def _deploy_artifact(
    s: Settings,
    amplify: Amplify | None,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
) -> str:
    """Deploy the built frontend with a manual deployment; the job it started."""
    assert s.frontend_artifact is not None  # noqa: S101 - the caller checked
    if amplify is None:
        raise ActionError(
            "`frontend-artifact` deploys through the Amplify API: set `aws-region`.",
            title="Region needed",
        )
    shown = s.shown(s.frontend_artifact)
    with (
        report.step("Deploy frontend artifact", workflow) as step,
        tempfile.TemporaryDirectory(prefix="ampaction-") as scratch,
    ):
        art = artifact.prepare(s.frontend_artifact, shown, Path(scratch))
        made = f"zipped {art.files} file(s) of `{shown}`" if art.zipped_here else f"`{shown}`"
        workflow.info(f"Artifact: {made}, {manual_deploy.describe_size(art.size)}.")
        nested = artifact.index_below_root(art.zip_path)
        if nested:
            workflow.warning(
                f"The artifact has no index.html at its root, but `{nested}/index.html`: "
                f"Amplify serves the root. Point `frontend-artifact` at `{nested}` itself.",
                title="index.html not at the artifact's root",
            )
        deployed = manual_deploy.deploy_artifact(
            amplify,
            art,
            app_id=s.app_id,
            branch=s.branch,
            workflow=workflow,
            cancellation=cancellation,
            max_attempts=s.max_attempts,
        )
        report.outputs["frontend-triggered"] = "true"
        report.outputs["job-id"] = deployed.job_id
        report.outputs["job-url"] = console_url(amplify.region, s.app_id, s.branch)
        step.detail = (
            f"job {deployed.job_id}; {manual_deploy.describe_size(art.size)} uploaded in "
            f"{deployed.upload_seconds:.1f} s ({deployed.upload_attempts} attempt(s))"
        )
        workflow.info(f"Deployment job {deployed.job_id} started.")
    return deployed.job_id


def _trigger(
    s: Settings,
    amplify: Amplify | None,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
) -> tuple[bool, int | None]:
    """Trigger the frontend build when asked and the branch matches: whether it did, and
    the branch's newest job id before it (None when the run does not look at jobs)."""
    name = "Trigger frontend build"
    if not s.trigger_frontend:
        report.skip(name, "`trigger-frontend` is off")
        return False, None
    if not s.branch_gets_frontend:
        why = f"branch `{s.branch}` matches no `frontend-branches` pattern ({', '.join(s.frontend_branches)})"
        workflow.info(f"Not triggering the frontend: {why}.")
        report.skip(name, why)
        return False, None
    if cancellation.requested:
        raise Cancelled("the frontend trigger")
    with report.step(name, workflow) as step:
        hook = _webhook(s, amplify, workflow, report)
        # Before the first POST, when the run reads the branch's jobs anyway (a given
        # webhook URL and no wait: the POST is the only call the run makes).
        after: int | None = None
        if amplify and (s.webhook_url is None or s.wait_for_frontend):
            after = amplify.newest_job_id(s.app_id, s.branch)
        triggered = _post_trigger(
            s,
            amplify,
            hook,
            after=after,
            workflow=workflow,
            cancellation=cancellation,
            report=report,
        )
        report.outputs["frontend-triggered"] = "true"
        if s.region:
            report.outputs["job-url"] = console_url(s.region, s.app_id, s.branch)
        step.detail = f"webhook `{report.outputs['webhook-id']}`, {triggered.attempts} attempt(s)"
        workflow.info("Frontend build triggered.")
    return True, after


def _webhook(
    s: Settings, amplify: Amplify | None, workflow: Workflow, report: Report
) -> webhook.Webhook:
    """The webhook given, or the branch's marked one, found or created."""
    if s.webhook_url:
        hook = webhook.Webhook(_webhook_id(s.webhook_url), s.webhook_url, created=False)
    else:
        assert amplify is not None  # noqa: S101 - inputs require a region here
        hook = webhook.find_or_create_webhook(
            amplify, workflow, s.app_id, s.branch, s.webhook_description
        )
    report.outputs["webhook-id"] = hook.id
    report.outputs["webhook-created"] = "true" if hook.created else "false"
    workflow.info(f"Webhook {hook.id} ({'created' if hook.created else 'reused'}).")
    return hook


def _post_trigger(
    s: Settings,
    amplify: Amplify | None,
    hook: webhook.Webhook,
    *,
    after: int | None,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
) -> trigger.Triggered:
    """POST to the webhook; when the action's own webhook refuses, look it up again once
    (a concurrent run may have replaced it) and post to the one found."""

    def arrived() -> str | None:
        assert amplify is not None and after is not None  # noqa: S101 - only then given
        jobs = amplify.webhook_jobs_after(s.app_id, s.branch, after)
        return str(jobs[0]["jobId"]) if jobs else None

    def post(url: str) -> trigger.Triggered:
        return trigger.trigger_frontend_build(
            url,
            workflow=workflow,
            cancellation=cancellation,
            max_attempts=s.max_attempts,
            given_url=s.webhook_url is not None,
            arrived=arrived if after is not None else None,
        )

    try:
        return post(hook.url)
    except trigger.Refused as refused:
        if s.webhook_url or amplify is None or refused.status not in (401, 403, 404):
            raise
        again = _webhook(s, amplify, workflow, report)
        if again.url == hook.url:
            raise
        workflow.info(f"Webhook {hook.id} refused the trigger; posting to webhook {again.id}.")
        return post(again.url)


def _plan(
    s: Settings,
    pm: project.PackageManager | None,
    amplify: Amplify | None,
    workflow: Workflow,
    report: Report,
    *,
    creates_branch: bool = False,
    backend: skip.BackendCache | None = None,
) -> None:
    """Say what a real run would do, touching nothing."""
    workflow.info("Plan (dry run):")
    if creates_branch:
        line = (
            f"create branch `{s.branch}` (stage {branches.stage_for(s.event_name)}, auto-build off)"
        )
        workflow.info(f"- branch: {line}")
        report.plan("Create branch", line)
    _plan_backend(s, pm, workflow, report, backend)
    if not s.trigger_frontend:
        workflow.info("- frontend: not triggered (`trigger-frontend` is off)")
    elif not s.branch_gets_frontend:
        workflow.info(
            f"- frontend: not triggered (branch `{s.branch}` matches no `frontend-branches` pattern)"
        )
    elif s.frontend_artifact is not None:
        line = f"zip `{s.shown(s.frontend_artifact)}` and deploy it (CreateDeployment, upload, StartDeployment)"
        workflow.info(f"- frontend: {line}")
        report.plan("Deploy frontend artifact", line)
    else:
        if s.webhook_url:
            hook = f"the given `webhook-url` (webhook {_webhook_id(s.webhook_url)})"
        elif amplify:
            found = webhook.find_webhook(
                amplify, workflow, s.app_id, s.branch, s.webhook_description
            )
            hook = (
                f"reuse webhook {found.id}"
                if found
                else f"create a webhook marked `{s.webhook_description}`"
            )
        else:
            hook = "a webhook"
        line = f"trigger through {hook} (branch matches `{s.matching_pattern()}`)"
        workflow.info(f"- frontend: {line}")
        report.plan("Trigger frontend build", line)
        if s.wait_for_frontend:
            workflow.info(f"- then wait up to {s.wait_timeout_minutes} min for the build")


def _plan_backend(
    s: Settings,
    pm: project.PackageManager | None,
    workflow: Workflow,
    report: Report,
    backend: skip.BackendCache | None,
) -> None:
    if backend and backend.unchanged:
        line = (
            f"skip install and deploy: the backend's files hash to {backend.files.digest[:12]}, "
            f"as at {backend.last_deploy}"
        )
        workflow.info(f"- backend: {line}")
        report.plan("Deploy backend", line)
        return
    if backend:
        last = backend.tags.get(skip.HASH_TAG)
        was = f"the branch's last deploy had {last[:12]}" if last else "the branch has no hash"
        workflow.info(
            f"- backend: its files hash to {backend.files.digest[:12]}, {was}: install and deploy"
        )
    where = f"in `{s.shown(s.working_directory)}`"
    if s.install and pm:
        command = pm.install_command
        workflow.info(f"- install: `{command}` {where}")
        report.plan("Install", command)
    if s.deploy_backend and pm:
        command = shlex.join(["ampx", *deploy.pipeline_deploy_args(s)])
        workflow.info(f"- deploy: `{command}` {where}, with CI=1")
        report.plan("Deploy backend", command)


def _next_steps(s: Settings, report: Report) -> list[str]:
    """After a failure: where things stand, and what to do about it."""
    failed = next((step.name for step in report.steps if step.result == "failed"), None)
    deployed = report.outputs["backend-deployed"] == "true"
    steps = []
    if failed and (failed.startswith("Install") or failed == "Deploy backend"):
        steps.append(f"Open the `{failed}` log group above: it holds the full output.")
        if failed == "Deploy backend" and not s.debug:
            steps.append(
                "Re-run with `debug: true` (or re-run with debug logging) for the CLI's detailed log."
            )
    if deployed and report.outputs["frontend-triggered"] != "true":
        steps.append(
            "The backend is deployed but no frontend build was started: re-run the job"
            + ("." if s.frontend_artifact else ", or start the build from the Amplify console.")
        )
    if report.outputs["job-url"]:
        steps.append(f"Amplify's view of the build: {report.outputs['job-url']}")
    return steps


def _webhook_id(url: str) -> str:
    """The id in a webhook URL's query (never the token)."""
    return dict(parse_qsl(urlsplit(url).query)).get("id", "(given)")


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
