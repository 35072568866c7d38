"""The frontend on Amplify Gen 3 (`gen3-app`): check the app and environment, start a
deployment, follow it. Amplify Hosting is not touched.

Preflight reads the app (`GetApp`) and the environment (`GetEnvironment`): a
missing one is an error before anything is installed. The deploy zips the
source (or takes `frontend-artifact` as a prebuilt artifact), asks for a source
upload with the zip's digest (`CreateSourceUpload`), `PUT`s the zip to the
pre-signed URL it gets (the manual deployment's upload: masked, retried,
streamed) and creates the deployment (`CreateDeployment`). A source deploy is
built by Amplify, whose build runs `ampx generate outputs` for the Gen 2 app
and branch: they reach it as two build variables of the environment (see
docs/amplify-gen3.md). The deployment's id is known exactly, so the wait reads
that one deployment (`GetDeployment`) at the pace and under the cancellation
and timeout rules of the other waits (`wait.py`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ampaction import artifact, manual_deploy, source
from ampaction.aws import AwsError
from ampaction.cancellation import Cancellation
from ampaction.errors import ActionError, Cancelled
from ampaction.frontends import Frontend, Job
from ampaction.gen3 import (
    GEN2_APP_ID_VARIABLE,
    GEN2_BRANCH_VARIABLE,
    PREBUILT_ARTIFACT,
    SOURCE_CODE,
    AmplifyGen3,
    console_url,
)
from ampaction.inputs import Settings
from ampaction.run import Run
from ampaction.wait import POLL_SECONDS, JobResult
from ampaction.workflow import Workflow

SUCCEEDED = "SUCCEEDED"
FAILED = {"FAILED", "EXPIRED", "CANCELLED"}
# When the pre-signed URL was signed with the checksum header, the PUT must send it.
CHECKSUM_HEADER = "x-amz-checksum-sha256"


@dataclass
class Gen3Deployment:
    """One deployment, as far as it is known: filled in as facts arrive."""

    deployment_id: str = ""
    status: str = ""
    domain: str = ""
    url: str = ""
    # The build variables this run set for it (a source deploy), to check it was built so.
    built_with: dict[str, str] = field(default_factory=dict)


def check_app_and_environment(gen3: AmplifyGen3, app: str, environment: str) -> dict[str, Any]:
    """The Gen 3 app; an error naming the app or the environment that is missing."""
    where = f"in region {gen3.region}"
    try:
        found = gen3.get_app(app)
    except AwsError as e:
        if e.code != "ResourceNotFoundException":
            raise
        raise ActionError(
            f"Input `gen3-app`: there is no Amplify Gen 3 app `{app}` {where}. Create it "
            "(`aws amplifygen3 create`) or correct the name. Nothing was installed.",
            title="Gen 3 app not found",
        ) from None
    try:
        gen3.get_environment(app, environment)
    except AwsError as e:
        if e.code != "ResourceNotFoundException":
            raise
        raise ActionError(
            f"Input `gen3-environment`: Amplify Gen 3 app `{app}` has no environment "
            f"`{environment}` {where}. Use one of its environments (`preview` and "
            "`production` by default). Nothing was installed.",
            title="Gen 3 environment not found",
        ) from None
    return found


def start_deployment(
    s: Settings,
    gen3: AmplifyGen3,
    app: dict[str, Any],
    workflow: Workflow,
    cancellation: Cancellation,
) -> Gen3Deployment:
    """Zip, upload and deploy; the new deployment (its id and first status)."""
    assert s.gen3_app is not None  # noqa: S101 - the caller checked
    with tempfile.TemporaryDirectory(prefix="ampaction-") as scratch:
        zipped, source_type = _zip(s, app, workflow, Path(scratch), cancellation)
        built_with = {}
        if source_type == SOURCE_CODE:
            built_with = link_gen2_backend(gen3, s, workflow)
        upload_id = _upload(gen3, zipped, s, workflow, cancellation)
    if cancellation.requested:
        raise Cancelled("the Gen 3 deployment", outcome="the source was uploaded, not deployed.")
    created = gen3.create_deployment(
        s.gen3_app,
        s.gen3_environment,
        upload_id,
        source_type,
        f"Gen 2 app {s.app_id}, branch {s.branch} (amplify-pipeline-deploy)"[:256],
    )
    deployment = Gen3Deployment(str(created["DeploymentId"]), str(created.get("Status", "")))
    deployment.built_with = built_with
    deployment.url = console_url(
        gen3.region, s.gen3_app, s.gen3_environment, deployment.deployment_id
    )
    workflow.info(
        f"Gen 3 deployment {deployment.deployment_id} created in environment "
        f"`{s.gen3_environment}` of app `{s.gen3_app}` ({source_type}, {deployment.status})."
    )
    return deployment


def link_gen2_backend(gen3: AmplifyGen3, s: Settings, workflow: Workflow) -> dict[str, str]:
    """Tell the Gen 3 build which Gen 2 backend to read (`ampx generate outputs`); the
    variables set."""
    assert s.gen3_app is not None  # noqa: S101 - the caller checked
    variables = {GEN2_APP_ID_VARIABLE: s.app_id, GEN2_BRANCH_VARIABLE: s.branch}
    gen3.put_build_variables(s.gen3_app, s.gen3_environment, variables)
    workflow.info(
        f"Build variables of environment `{s.gen3_environment}`: {GEN2_APP_ID_VARIABLE}="
        f"{s.app_id}, {GEN2_BRANCH_VARIABLE}={s.branch}."
    )
    return variables


def _prebuilt_zip(
    s: Settings, workflow: Workflow, scratch: Path, cancellation: Cancellation
) -> source.SourceZip:
    """`frontend-artifact` as it was built (checked, and zipped when a folder)."""
    assert s.frontend_artifact is not None  # noqa: S101 - the caller checked
    shown = s.shown(s.frontend_artifact)
    art = artifact.prepare(s.frontend_artifact, shown, scratch, cancellation)
    workflow.info(
        f"Prebuilt artifact: `{shown}`, {art.files} file(s), "
        f"{manual_deploy.describe_size(art.size)}."
    )
    for warning in artifact.warnings(art):
        workflow.warning(warning, title="Files that may be secret in the artifact")
    return source.SourceZip(art.zip_path, art.size, art.files, source.digest_of(art.zip_path))


def _zip(
    s: Settings,
    app: dict[str, Any],
    workflow: Workflow,
    scratch: Path,
    cancellation: Cancellation,
) -> tuple[source.SourceZip, str]:
    """The zip to upload and its source type: `frontend-artifact` as it is built, else the
    working directory's source."""
    if s.frontend_artifact is not None:
        return _prebuilt_zip(s, workflow, scratch, cancellation), PREBUILT_ARTIFACT
    output = str(((app.get("Web") or {}).get("BuildConfig") or {}).get("OutputDirectory") or "")
    zipped = source.zip_source(
        s.working_directory, scratch, output_directory=output, cancellation=cancellation
    )
    workflow.info(
        f"Source: {zipped.files} file(s) of `{s.shown(s.working_directory)}`, "
        f"{manual_deploy.describe_size(zipped.size)} (without node_modules, .git"
        f"{', ' + output if output else ''} and what {source.IGNORE_FILE} lists)."
    )
    if zipped.links_left_out:
        shown_links = ", ".join(f"`{link}`" for link in zipped.links_left_out[:5])
        workflow.warning(
            f"Symbolic links are not uploaded (one could point out of the workspace): "
            f"{shown_links}{' …' if len(zipped.links_left_out) > 5 else ''}. List them in "
            f"{source.IGNORE_FILE}, or replace them with the files they point to.",
            title="Symbolic links left out",
        )
    return zipped, SOURCE_CODE


def _upload(
    gen3: AmplifyGen3,
    zipped: source.SourceZip,
    s: Settings,
    workflow: Workflow,
    cancellation: Cancellation,
) -> str:
    """A source upload for the zip, and the zip `PUT` to it; the upload's id."""
    if cancellation.requested:
        raise Cancelled("the Gen 3 deployment")
    created = gen3.create_source_upload(zipped.digest)
    upload_id, url = str(created["SourceUploadId"]), str(created["ZipUpload"]["UploadUrl"])
    manual_deploy.mask_upload_url(workflow, url)
    start = time.monotonic()
    attempts = manual_deploy.upload(
        url,
        zipped.zip_path,
        workflow=workflow,
        cancellation=cancellation,
        max_attempts=s.max_attempts,
        headers=signed_checksum(url, zipped.digest),
    )
    workflow.info(
        f"Source upload {upload_id}: {manual_deploy.describe_size(zipped.size)} in "
        f"{time.monotonic() - start:.1f} s ({attempts} attempt(s))."
    )
    return upload_id


def signed_checksum(url: str, digest: str) -> dict[str, str]:
    """The checksum header, when the URL's signature covers it (else S3 would refuse an
    unsigned `x-amz-` header)."""
    query = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query)}
    signed = query.get("x-amz-signedheaders", "").lower().split(";")
    return {CHECKSUM_HEADER: digest} if CHECKSUM_HEADER in signed else {}


def wait_for_deployment(
    gen3: AmplifyGen3,
    workflow: Workflow,
    *,
    app: str,
    environment: str,
    deployment: Gen3Deployment,
    timeout_seconds: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    cancelled: Callable[[], bool] = lambda: False,
) -> Gen3Deployment:
    """Follow the deployment to `SUCCEEDED`; an error when it fails, expires, is cancelled,
    or the wait is over. `deployment` is filled in as its status changes."""
    start = clock()
    deadline = start + timeout_seconds
    next_poll = start + POLL_SECONDS
    last_status = ""
    while True:
        sleep(max(0.0, next_poll - clock()))
        if cancelled():
            raise Cancelled("the wait for the Gen 3 deployment")
        now = clock()
        next_poll = min(now + POLL_SECONDS, deadline)
        found = gen3.get_deployment(app, environment, deployment.deployment_id)
        deployment.status = str(found.get("Status", "UNKNOWN"))
        deployment.domain = str(found.get("DomainName") or deployment.domain)
        if deployment.status != last_status:
            workflow.info(
                f"Gen 3 deployment {deployment.deployment_id}: {deployment.status} "
                f"({int(now - start)} s)"
            )
            last_status = deployment.status
        _check_built_with(found, deployment)
        if _ended(found, deployment, late=now >= deadline, timeout=timeout_seconds):
            return deployment


def _check_built_with(found: dict[str, Any], deployment: Gen3Deployment) -> None:
    """An error when the deployment recorded other build variables than this run set: a
    run of another branch set the environment's between this run's and its deployment,
    and this frontend reads that branch's backend."""
    recorded = {
        str(v.get("Key")): str(v.get("Value"))
        for v in found.get("EnvironmentVariables") or []
        if v.get("Key") in deployment.built_with
    }
    other = {k: v for k, v in recorded.items() if v != deployment.built_with[k]}
    if other:
        shown = ", ".join(f"{k}=`{v}`" for k, v in sorted(other.items()))
        raise ActionError(
            f"Gen 3 deployment {deployment.deployment_id} was created with {shown}, not this "
            "run's values: another run set the environment's build variables at the same "
            "time, and this deployment reads that backend. Re-run, and give the workflow a "
            "`concurrency` group per Gen 3 environment so that runs take turns. "
            f"See {deployment.url}",
            title="Gen 3 deployment built against another backend",
        )


def _ended(
    found: dict[str, Any], deployment: Gen3Deployment, *, late: bool, timeout: float
) -> bool:
    """True when the deployment succeeded; an error when it ended otherwise or time is up."""
    status = deployment.status
    if status == SUCCEEDED:
        return True
    if status in FAILED:
        code = found.get("StatusReasonCode") or "no reason code"
        reason = str(found.get("StatusReason") or "no reason given").strip()
        raise ActionError(
            f"Gen 3 deployment {deployment.deployment_id} ended {status} ({code}): {reason}. "
            f"See {deployment.url}",
            title=f"Gen 3 deployment {status.lower()}",
        )
    if late:
        raise ActionError(
            f"Gen 3 deployment {deployment.deployment_id} was still {status} after "
            f"{int(timeout // 60)} minutes (`wait-timeout-minutes`). It goes on in "
            f"Amplify: {deployment.url}",
            title="Gen 3 deployment timed out",
        )
    return False


def frontend_url(domain: str) -> str:
    """The deployment's address, from its `DomainName` (a host name)."""
    if not domain:
        return ""
    return domain if domain.startswith(("https://", "http://")) else f"https://{domain}"


# ---- The frontend's shape (see `ampaction.frontends`) ------------------------------------


@dataclass
class Gen3Job:
    """A started Gen 3 deployment to wait on; `result` holds its id, status and page."""

    gen3: AmplifyGen3
    run: Run
    deployment: Gen3Deployment
    result: JobResult = field(default_factory=JobResult)

    def wait(self) -> JobResult:
        s, cancellation = self.run.settings, self.run.cancellation
        assert s.gen3_app is not None  # noqa: S101 - chosen only with `gen3-app`
        try:
            wait_for_deployment(
                self.gen3,
                self.run.workflow,
                app=s.gen3_app,
                environment=s.gen3_environment,
                deployment=self.deployment,
                timeout_seconds=s.wait_timeout_minutes * 60,
                sleep=cancellation.sleep,
                cancelled=lambda: cancellation.requested,
            )
        finally:
            self.result.status = self.deployment.status
            self.run.report.outputs["frontend-url"] = frontend_url(self.deployment.domain)
        return self.result


@dataclass
class Gen3Frontend:
    """One run's Gen 3 target: preflight finds the app, which the deploy then reads."""

    app: dict[str, Any] = field(default_factory=dict)

    def client(self, run: Run) -> AmplifyGen3:
        s = run.settings
        assert s.region is not None  # noqa: S101 - inputs require a region with `gen3-app`
        return AmplifyGen3(
            s.region,
            s.max_attempts,
            s.child_env,
            mask=run.workflow.mask,
            cancellation=run.cancellation,
        )

    def preflight(self, run: Run) -> None:
        """The Gen 3 app and environment, checked before anything is installed."""
        s = run.settings
        assert s.gen3_app is not None  # noqa: S101 - chosen only with `gen3-app`
        with run.report.step("Preflight (Amplify Gen 3)", run.workflow) as step:
            self.app = check_app_and_environment(self.client(run), s.gen3_app, s.gen3_environment)
            step.detail = f"app `{s.gen3_app}`, environment `{s.gen3_environment}`"
        run.report.outputs["frontend-url"] = ""  # Amplify Hosting's address is not where it goes

    def start(self, run: Run) -> Job | None:
        """Upload and deploy: the deployment, to wait on."""
        s, report, workflow = run.settings, run.report, run.workflow
        if run.cancellation.requested:
            raise Cancelled("the Gen 3 deployment")
        gen3 = self.client(run)
        with report.step("Deploy frontend (Amplify Gen 3)", workflow) as step:
            deployment = start_deployment(s, gen3, self.app, workflow, run.cancellation)
            report.outputs["gen3-deployment-id"] = deployment.deployment_id
            report.outputs["frontend-triggered"] = "true"
            report.outputs["job-status"] = deployment.status
            report.outputs["job-url"] = deployment.url
            step.detail = f"deployment {deployment.deployment_id}"
        result = JobResult(deployment.deployment_id, deployment.status, deployment.url)
        return Gen3Job(gen3, run, deployment, result)

    def plan(self, run: Run) -> None:
        """The dry run's line for the Gen 3 frontend."""
        s = run.settings
        what = (
            f"`{s.shown(s.frontend_artifact)}` as a prebuilt artifact"
            if s.frontend_artifact is not None
            else f"the source of `{s.shown(s.working_directory)}`"
        )
        line = (
            f"zip {what}, upload it (CreateSourceUpload, PUT) and deploy it to environment "
            f"`{s.gen3_environment}` of Gen 3 app `{s.gen3_app}` (CreateDeployment)"
        )
        run.workflow.info(f"- frontend: {line}")
        run.report.plan("Deploy frontend (Amplify Gen 3)", line)


def reads_amplify(s: Settings) -> bool:
    """Gen 3 is its own service: Amplify Hosting's API is not called for the frontend."""
    return False


def frontend() -> Frontend:
    """A fresh Gen 3 frontend for one run (it keeps the app that preflight read)."""
    target = Gen3Frontend()
    return Frontend(
        builds_from_repository=False,
        reads_amplify=reads_amplify,
        plan=target.plan,
        start=target.start,
        preflight=target.preflight,
    )
