"""A dry run of `command: deploy`: say what a real run would do, in the order it would do
it (create the branch → install → deploy the backend → the frontend), touching nothing."""

from __future__ import annotations

import shlex

from ampaction import branch as branches
from ampaction import deploy, project, skip
from ampaction.frontends import Frontend
from ampaction.run import Run
from ampaction.ssm import branch_secret_prefix


def show_plan(
    run: Run,
    pm: project.PackageManager | None,
    frontend: Frontend | None,
    *,
    creates_branch: bool = False,
    backend: skip.BackendCache | None = None,
) -> None:
    s, workflow = run.settings, run.workflow
    workflow.info("Plan (dry run):")
    if creates_branch:
        line = (
            f"create branch `{s.branch}` (stage {branches.stage_for(s.event_name)}, auto-build off)"
        )
        workflow.info(f"- branch: {line}")
        run.report.plan("Create branch", line)
    _plan_backend(run, pm, backend)
    if not s.trigger_frontend:
        workflow.info("- frontend: not triggered (`trigger-frontend` is off)")
    elif frontend is None:
        workflow.info(
            f"- frontend: not triggered (branch `{s.branch}` matches no `frontend-branches` pattern)"
        )
    else:
        frontend.plan(run)


def _plan_backend(
    run: Run, pm: project.PackageManager | None, backend: skip.BackendCache | None
) -> None:
    s, workflow, report = run.settings, run.workflow, run.report
    if backend and backend.unchanged:
        line = (
            f"skip install and deploy: the backend's files hash to {backend.files.digest[:12]}, "
            f"as at {backend.last_deploy}"
        )
        workflow.info(f"- backend: {line}")
        report.plan("Deploy backend", line)
        return
    if backend:
        workflow.info(
            f"- backend: its files hash to {backend.files.digest[:12]}, {backend.why_deploy}: "
            "install and deploy"
        )
    if s.backend_secrets and s.deploy_backend:
        names = ", ".join(f"`{secret.name}`" for secret in s.backend_secrets)
        line = f"set {names} (SecureString) under {branch_secret_prefix(s.app_id, s.branch)}"
        workflow.info(f"- backend secrets: {line}")
        report.plan("Set backend secrets", line)
    where = f"in `{s.shown(s.working_directory)}`"
    if s.install and pm:
        command = pm.install_command
        workflow.info(f"- install: `{command}` {where}")
        report.plan("Install", command)
    if s.deploy_backend and pm:
        command = shlex.join(["ampx", *deploy.pipeline_deploy_args(s)])
        workflow.info(f"- deploy: `{command}` {where}, with CI=1")
        report.plan("Deploy backend", command)
