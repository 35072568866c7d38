"""`command: deploy`, in the order of its log: what the files say → preflight → create the
branch when asked → the checks before the deploy → the GitHub deployment goes
`in_progress` → set `backend-secrets` → install → deploy the backend (or skip both when
its files did not change) → start the frontend → wait for it → the GitHub deployment's
final state. A dry run stops after the checks with the plan.
"""

from __future__ import annotations

from typing import Any

from ampaction import backend_checks, deploy, deployment, preflight, project, skip
from ampaction import branch as branches
from ampaction.amplify import Amplify, frontend_url
from ampaction.cancellation import Cancellation
from ampaction.cloudformation import CloudFormation, backend_stack_name
from ampaction.commands import plan
from ampaction.frontends import Frontend, Job, webhook
from ampaction.inputs import Settings
from ampaction.process import pnpm_store
from ampaction.report import Report
from ampaction.run import Run, begin
from ampaction.workflow import Workflow


def run_deploy(
    settings: Settings, workflow: Workflow, cancellation: Cancellation, report: Report
) -> None:
    """The deploy, recorded as a GitHub deployment whose last state says how it ended."""
    record = deployment.DeploymentRecord(settings, workflow, cancellation)
    try:
        _deploy(settings, workflow, cancellation, report, record)
    except Exception as e:
        record.finish(report, failure=e)
        raise
    record.finish(report, failure=None)


def _deploy(
    settings: Settings,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
    record: deployment.DeploymentRecord,
) -> None:
    s = settings
    run = begin(
        s,
        workflow,
        cancellation,
        report,
        heading=f"Amplify app {s.app_id}, branch `{s.branch}`, region {s.region or '(none needed)'}",
        dry_run_means="nothing will be installed, deployed or triggered.",
    )
    frontend = choose_frontend(s) if s.branch_gets_frontend else None
    pm, files = _read_project(run)
    branch, production = _preflight(run, frontend)
    if frontend is not None and frontend.preflight is not None:
        frontend.preflight(run)
    # What the branch's tags say of its last deploy (a branch about to be created has none).
    backend = skip.BackendCache(files, (branch or {}).get("tags") or {}) if files else None
    if backend and s.region:
        backend = _check_stack(run, backend)
    if s.deploy_backend and run.amplify and not (backend and backend.unchanged):
        _check_before_deploy(run)
    if s.dry_run:
        plan.show_plan(run, pm, frontend, creates_branch=branch is None, backend=backend)
        return
    if branch is None and run.amplify:
        branch = _create_branch(run, run.amplify)
    record.start(report, production=production)
    _set_backend_secrets(run)
    if backend and backend.unchanged:
        _skip_backend(run, backend)
    else:
        _install(run, pm)
        _deploy_backend(run, pm, branch or {}, backend)
    if frontend is None:
        _say_why_no_frontend(run)
    else:
        _wait(run, frontend.start(run))
    if run.amplify and branch and report.outputs["branch-created"] != "true":
        # What sweep reads: the TTL's time, and where the deployment to deactivate is.
        branches.remember_last_deploy(run.amplify, branch, workflow, s.environment)


def _check_stack(run: Run, backend: skip.BackendCache) -> skip.BackendCache:
    """A matching tag is trusted only while the branch's stack stands."""
    s = run.settings
    assert s.region is not None  # noqa: S101 - the caller checked
    cfn = CloudFormation(
        s.region, s.max_attempts, s.child_env, mask=run.workflow.mask, cancellation=run.cancellation
    )
    return skip.check_stack(backend, cfn, backend_stack_name(s.app_id, s.branch), run.workflow)


def choose_frontend(s: Settings) -> Frontend:
    """How this run starts the branch's frontend: the one place a target is chosen."""
    if s.gen3_app:
        # Imported only then, like `manual`: the zip, the upload and Gen 3's client are its alone.
        from ampaction.frontends import gen3  # noqa: PLC0415

        return gen3.frontend()
    if s.frontend_artifact is not None:
        # Imported only then: the archive and the upload are this frontend's alone.
        from ampaction.frontends import manual  # noqa: PLC0415

        return manual.FRONTEND
    return webhook.FRONTEND


def _read_project(run: Run) -> tuple[project.PackageManager | None, skip.BackendFiles | None]:
    """What can be known from the files alone comes first: no network, no process."""
    s = run.settings
    pm, files = None, None
    if s.install or s.deploy_backend:
        pm = project.package_manager(
            s.working_directory, s.package_manager, s.child_env, pnpm_store(s.workspace)
        )
        if s.deploy_backend:
            deploy.check_cli_declared(s)
            if s.skip_unchanged_backend:
                files = _hash_backend(run)
    return pm, files


def _hash_backend(run: Run) -> skip.BackendFiles:
    s = run.settings
    files = skip.backend_hash(s.working_directory, s.backend_paths)
    for pattern in files.unmatched:
        run.workflow.warning(
            f"`backend-paths` pattern `{pattern}` matches no file in "
            f"`{s.shown(s.working_directory)}`: changes there cannot be seen.",
            title="Bad input: backend-paths",
        )
    return files


def _preflight(run: Run, frontend: Frontend | None) -> tuple[dict[str, Any] | None, bool]:
    """Check the app and branch, only for the parts of the run that reach AWS: the branch
    ({} when not read), or None when it is missing and `create-branch` is on; and whether
    it is the app's production branch. What they warn about goes to the log and the job
    summary."""
    s, amplify, workflow, report = run.settings, run.amplify, run.workflow, run.report
    reads = frontend is not None and frontend.reads_amplify(s)
    if not (amplify and (s.deploy_backend or reads or s.create_branch)):
        report.skip("Preflight", "nothing in this run needs the Amplify API")
        return {}, False
    with report.step("Preflight", workflow) as step:
        # With `create-branch`, a missing branch is no error.
        app, branch = preflight.read_app_and_branch(
            amplify, s.app_id, s.branch, missing_ok=s.create_branch, cancellation=run.cancellation
        )
        report.outputs["frontend-url"] = frontend_url(app, s.branch)
        warnings = preflight.judge(
            app,
            branch or {"branchName": s.branch},
            workspace=s.workspace,
            uses_webhook=frontend is not None and frontend.builds_from_repository,
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


def _check_before_deploy(run: Run) -> None:
    """The CDK bootstrap, the branch's stack and its secrets (backend_checks.py)."""
    with run.report.step("Check before the deploy", run.workflow) as step:
        lines = backend_checks.before_deploy(run.settings, run.workflow, run.cancellation)
        step.detail = "; ".join(lines)


def _set_backend_secrets(run: Run) -> None:
    """`backend-secrets`, written before anything is installed or deployed (also when an
    unchanged backend is skipped: a secret's new value is not in the backend's files)."""
    s = run.settings
    if not (s.backend_secrets and s.deploy_backend):
        return
    with run.report.step("Set backend secrets", run.workflow) as step:
        store = backend_checks.secrets_client(s, run.workflow, run.cancellation)
        step.detail = backend_checks.set_secrets(
            store, run.workflow, s.app_id, s.branch, s.backend_secrets
        )


def _create_branch(run: Run, amplify: Amplify) -> dict[str, Any]:
    s, report = run.settings, run.report
    with report.step("Create branch", run.workflow) as step:
        stage = branches.stage_for(s.event_name)
        branch, created = branches.create_branch(
            amplify,
            run.workflow,
            s.app_id,
            s.branch,
            stage,
            pull_request=s.pull_request_number,
            environment=s.environment,
        )
        report.outputs["branch-created"] = "true" if created else "false"
        step.detail = f"stage {stage}" if created else "created by a concurrent run"
    return branch


def _skip_backend(run: Run, backend: skip.BackendCache) -> None:
    """The branch's last successful deploy had these very files: nothing to install or deploy."""
    s, workflow, report = run.settings, run.workflow, run.report
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


def _install(run: Run, pm: project.PackageManager | None) -> None:
    if run.settings.install and pm:
        with run.report.step(f"Install ({pm.name})", run.workflow) as step:
            step.detail = deploy.install(run.settings, pm, run.workflow, run.cancellation)
    else:
        run.report.skip("Install", "`install` is off")


def _deploy_backend(
    run: Run,
    pm: project.PackageManager | None,
    branch: dict[str, Any],
    backend: skip.BackendCache | None,
) -> None:
    s, amplify, workflow, report = run.settings, run.amplify, run.workflow, run.report
    if not (s.deploy_backend and pm):
        report.skip("Deploy backend", "`deploy-backend` is off")
        return
    with report.step("Deploy backend", workflow) as step:
        if amplify and branch:
            skip.forget_deployed_hash(amplify, branch, workflow, caching=bool(backend))
        written = deploy.deploy_backend(s, pm, workflow, run.cancellation)
        report.outputs["backend-deployed"] = "true"
        if written:
            report.outputs["amplify-outputs"] = s.shown(written)
        step.detail = "ampx pipeline-deploy"
        if amplify and backend and branch:
            skip.remember_deployed_hash(amplify, branch, backend.files, s.github_run_id, workflow)


def _say_why_no_frontend(run: Run) -> None:
    s, name = run.settings, "Trigger frontend build"
    if not s.trigger_frontend:
        run.report.skip(name, "`trigger-frontend` is off")
        return
    why = f"branch `{s.branch}` matches no `frontend-branches` pattern ({', '.join(s.frontend_branches)})"
    run.workflow.info(f"Not triggering the frontend: {why}.")
    run.report.skip(name, why)


def _wait(run: Run, job: Job | None) -> None:
    """Follow the frontend job the frontend started, when asked and it can be followed."""
    report = run.report
    if not (run.settings.wait_for_frontend and job is not None):
        report.skip("Wait for the frontend build", "`wait-for-frontend` is off")
        return
    with report.step("Wait for the frontend build", run.workflow) as step:
        try:
            result = job.wait()
        finally:
            report.outputs["job-id"] = job.result.job_id or ""
            report.outputs["job-status"] = job.result.status or ""
            report.outputs["job-url"] = job.result.url or report.outputs["job-url"]
        step.detail = f"job {result.job_id}: {result.status}"
