"""The built frontend (`frontend-artifact`) deployed with Amplify Hosting's manual
deployment: zip it when it is a folder, upload it, start the deployment. Its job id is
known exactly, so the wait follows that job.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ampaction import artifact, manual_deploy
from ampaction.amplify import console_url
from ampaction.errors import ActionError
from ampaction.frontends import AmplifyJob, Frontend, Job
from ampaction.inputs import Settings
from ampaction.run import Run
from ampaction.wait import JobResult


def reads_amplify(s: Settings) -> bool:
    """The deployment is made through the Amplify API, always."""
    return True


def start(run: Run) -> Job | None:
    """Deploy the built frontend with a manual deployment: its job, to wait on."""
    s, report, workflow, amplify = run.settings, run.report, run.workflow, run.amplify
    assert s.frontend_artifact is not None  # noqa: S101 - chosen only with an artifact
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
        art = artifact.prepare(s.frontend_artifact, shown, Path(scratch), run.cancellation)
        made = f"zipped {art.files} file(s) of `{shown}`" if art.zipped_here else f"`{shown}`"
        workflow.info(f"Artifact: {made}, {manual_deploy.describe_size(art.size)}.")
        _warn_if_index_is_nested(run, art.zip_path)
        for warning in artifact.warnings(art):
            workflow.warning(warning, title="Files that may be secret in the artifact")
        deployed = manual_deploy.deploy_artifact(
            amplify,
            art,
            app_id=s.app_id,
            branch=s.branch,
            workflow=workflow,
            cancellation=run.cancellation,
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
    return AmplifyJob(amplify, run, result=JobResult(job_id=deployed.job_id))


def plan(run: Run) -> None:
    s = run.settings
    assert s.frontend_artifact is not None  # noqa: S101 - chosen only with an artifact
    line = f"zip `{s.shown(s.frontend_artifact)}` and deploy it (CreateDeployment, upload, StartDeployment)"
    run.workflow.info(f"- frontend: {line}")
    run.report.plan("Deploy frontend artifact", line)


FRONTEND = Frontend(
    builds_from_repository=False, reads_amplify=reads_amplify, plan=plan, start=start
)


def _warn_if_index_is_nested(run: Run, zip_path: Path) -> None:
    nested = artifact.index_below_root(zip_path)
    if nested:
        run.workflow.warning(
            f"The artifact has no index.html at its root, but `{nested}/index.html`: "
            f"Amplify serves the root. Point `frontend-artifact` at `{nested}` itself.",
            title="index.html not at the artifact's root",
        )
