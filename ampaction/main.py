"""One run, in the order of its log: inputs → preflight → install → deploy → trigger → wait → report.

Errors are raised where they are found and printed here, once, as an
`::error` annotation; the outputs and the job summary are written whatever
happened (the runner reads them from a failed step too).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from ampaction import (
    artifact,
    deploy,
    inputs,
    manual_deploy,
    ownership,
    preflight,
    project,
    webhook,
)
from ampaction.amplify import Amplify, console_url
from ampaction.errors import ActionError, BadInputs, Cancelled
from ampaction.inputs import Settings
from ampaction.process import Cancellation, pnpm_store
from ampaction.report import Report
from ampaction.wait import JobResult, wait_for_job
from ampaction.workflow import Workflow


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    argv = list(sys.argv[1:] if argv is None else argv)
    workflow = Workflow(
        output_file=_path(env.get("GITHUB_OUTPUT")),
        summary_file=_path(env.get("GITHUB_STEP_SUMMARY")),
    )
    # Before anything could print it: the webhook URL is a password.
    for secret in inputs.secret_inputs(env, argv):
        workflow.mask(secret)
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
    try:
        run(settings, workflow, cancellation, report)
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
    _give_back_files(settings, workflow)
    report.write(workflow)
    return code


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


def run(settings: Settings, workflow: Workflow, cancellation: Cancellation, report: Report) -> None:
    s = settings
    amplify = Amplify(s.region, s.max_attempts, s.child_env) if s.region else None
    workflow.info(
        f"Amplify app {s.app_id}, branch `{s.branch}`, region {s.region or '(none needed)'}"
        + (" — dry run: nothing will be installed, deployed or triggered." if s.dry_run else "")
    )

    # What can be known from the files alone comes first: no network, no process.
    pm = None
    if s.install or s.deploy_backend:
        pm = project.package_manager(
            s.working_directory, s.package_manager, s.child_env, pnpm_store(s.workspace)
        )
        if s.deploy_backend:
            deploy.check_cli_declared(s)

    # Preflight, only for the parts of the run that reach AWS.
    deploys_artifact = s.branch_gets_frontend and s.frontend_artifact is not None
    uses_webhook = s.branch_gets_frontend and s.frontend_artifact is None
    finds_webhook = uses_webhook and (s.webhook_url is None or s.wait_for_frontend)
    if amplify and (s.deploy_backend or finds_webhook or deploys_artifact):
        _preflight(s, amplify, workflow, report, uses_webhook=uses_webhook)
    else:
        report.skip("Preflight", "nothing in this run needs the Amplify API")

    if s.dry_run:
        _plan(s, pm, amplify, workflow, report)
        return

    _install_and_deploy(s, pm, workflow, cancellation, report)
    job_id: str | None = None
    if deploys_artifact:
        job_id = _deploy_artifact(s, amplify, workflow, cancellation, report)
        started: dt.datetime | None = dt.datetime.now(dt.UTC)
    else:
        started = _trigger(s, amplify, workflow, cancellation, report)
    if started is None:
        return
    if s.wait_for_frontend and amplify:
        _wait(s, amplify, workflow, cancellation, report, started=started, job_id=job_id)
    else:
        report.skip("Wait for the frontend build", "`wait-for-frontend` is off")


def _preflight(
    s: Settings, amplify: Amplify, workflow: Workflow, report: Report, *, uses_webhook: bool
) -> None:
    """Read-only checks; what they warn about goes to the log and the job summary."""
    with report.step("Preflight", workflow) as step:
        found = preflight.check(
            amplify, s.app_id, s.branch, workspace=s.workspace, uses_webhook=uses_webhook
        )
        for warning in found.warnings:
            workflow.warning(warning.message, title=warning.title)
            report.warnings.append(f"{warning.title}: {warning.message}")
        step.detail = "branch found" + "".join(f"; {w.title}" for w in found.warnings)


def _wait(
    s: Settings,
    amplify: Amplify,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
    *,
    started: dt.datetime,
    job_id: str | None,
) -> None:
    """Follow the frontend job: the one given (a manual deployment's), else the one the
    webhook started after `started`."""
    result = JobResult(job_id=job_id)
    with report.step("Wait for the frontend build", workflow) as step:
        try:
            wait_for_job(
                amplify,
                workflow,
                app_id=s.app_id,
                branch=s.branch,
                triggered_at=started,
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


def _install_and_deploy(
    s: Settings,
    pm: project.PackageManager | None,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
) -> None:
    if s.install and pm:
        with report.step(f"Install ({pm.name})", workflow) as step:
            deploy.install(s, pm, workflow, cancellation)
            step.detail = pm.install_command
    else:
        report.skip("Install", "`install` is off")
    if s.deploy_backend and pm:
        with report.step("Deploy backend", workflow) as step:
            written = deploy.deploy_backend(s, pm, workflow, cancellation)
            report.outputs["backend-deployed"] = "true"
            if written:
                report.outputs["amplify-outputs"] = s.shown(written)
            step.detail = "ampx pipeline-deploy"
    else:
        report.skip("Deploy backend", "`deploy-backend` is off")


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
) -> dt.datetime | None:
    """Trigger the frontend build when asked and the branch matches; when it started."""
    name = "Trigger frontend build"
    if not s.trigger_frontend:
        report.skip(name, "`trigger-frontend` is off")
        return None
    if not s.branch_gets_frontend:
        why = f"branch `{s.branch}` matches no `frontend-branches` pattern ({', '.join(s.frontend_branches)})"
        workflow.info(f"Not triggering the frontend: {why}.")
        report.skip(name, why)
        return None
    if cancellation.requested:
        raise Cancelled("the frontend trigger")
    with report.step(name, workflow) as step:
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

        def already_started(since: dt.datetime) -> bool:
            return bool(amplify and amplify.webhook_jobs_since(s.app_id, s.branch, since))

        triggered = webhook.trigger_frontend_build(
            hook.url,
            workflow=workflow,
            cancellation=cancellation,
            max_attempts=s.max_attempts,
            already_started=already_started if amplify else None,
        )
        report.outputs["frontend-triggered"] = "true"
        if s.region:
            report.outputs["job-url"] = console_url(s.region, s.app_id, s.branch)
        step.detail = f"webhook `{hook.id}`, {triggered.attempts} attempt(s)"
        workflow.info("Frontend build triggered.")
    return triggered.started_at


def _plan(
    s: Settings,
    pm: project.PackageManager | None,
    amplify: Amplify | None,
    workflow: Workflow,
    report: Report,
) -> None:
    """Say what a real run would do, touching nothing."""
    workflow.info("Plan (dry run):")
    where = f"in `{s.shown(s.working_directory)}`"
    if s.install and pm:
        command = pm.install_command
        workflow.info(f"- install: `{command}` {where}")
        report.plan("Install", command)
    if s.deploy_backend and pm:
        command = " ".join(["ampx", *deploy.pipeline_deploy_args(s)])
        workflow.info(f"- deploy: `{command}` {where}, with CI=1")
        report.plan("Deploy backend", command)
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
