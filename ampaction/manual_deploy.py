"""The other way to start the frontend: Amplify's manual deployment of a built artifact.

For apps with no connected repository (and any other app whose pipeline
builds the frontend itself): `CreateDeployment` gives a job id and a
pre-signed `zipUploadUrl`; the zip goes there in one HTTP `PUT`, streamed
from disk; `StartDeployment` starts that job. The job id is then known
exactly, so the wait follows it and nothing has to be guessed.

The upload URL is a credential (anyone holding it can replace the site that
is about to go live): it is masked the moment it is known and never leaves
this module in a message. A `PUT` is idempotent, so a lost answer is simply
sent again; the retry policy is the webhook POST's (`retry`).
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ampaction.amplify import Amplify, AmplifyError
from ampaction.artifact import Artifact
from ampaction.cancellation import Cancellation
from ampaction.errors import ActionError, Cancelled
from ampaction.retry import Retry, retry_after_seconds, retrying
from ampaction.workflow import Workflow

# How long stopping an unstarted deployment may take, also after a cancellation.
ABANDON_PATIENCE = 3.0
UPLOAD_BUDGET_SECONDS = 900.0  # all attempts of one upload, sleeps included
# Connect, then the longest pause between two reads of the answer (not the whole upload).
UPLOAD_TIMEOUT = (10.0, 120.0)
# A deployment waiting for its StartDeployment is CREATED; once started it may sit
# in PENDING (queued) a while, which is also what an older pending one can show.
_NOT_STARTED = "CREATED"
_PENDING = {_NOT_STARTED, "PENDING"}
_S3_FIELD = re.compile(r"<(Code|Message)>([^<]{0,200})</\1>")
# The credential in a pre-signed URL: its signature, and the signer's session token.
_SIGNING_KEYS = ("x-amz-signature", "x-amz-security-token", "x-amz-credential")


@dataclass(frozen=True)
class Deployed:
    job_id: str
    status: str
    upload_seconds: float
    upload_attempts: int


def deploy_artifact(
    amplify: Amplify,
    artifact: Artifact,
    *,
    app_id: str,
    branch: str,
    workflow: Workflow,
    cancellation: Cancellation,
    max_attempts: int,
) -> Deployed:
    """Create a deployment, upload the zip to it, start it; the started job."""
    if cancellation.requested:
        raise Cancelled("the frontend deployment")
    created = _create(amplify, app_id, branch)
    job_id, url = str(created["jobId"]), str(created["zipUploadUrl"])
    mask_upload_url(workflow, url)
    workflow.info(f"Deployment job {job_id} created; uploading {describe_size(artifact.size)}.")
    try:
        start = time.monotonic()
        attempts = upload(
            url,
            artifact.zip_path,
            workflow=workflow,
            cancellation=cancellation,
            max_attempts=max_attempts,
        )
        seconds = time.monotonic() - start
        if cancellation.requested:
            raise Cancelled("the frontend deployment")
    except ActionError:
        _abandon(amplify, workflow, app_id, branch, job_id)
        raise
    workflow.info(
        f"Uploaded {describe_size(artifact.size)} in {seconds:.1f} s "
        f"({describe_size(int(artifact.size / max(seconds, 1e-3)))}/s, {attempts} attempt(s))."
    )
    status = _start(amplify, workflow, app_id, branch, job_id)
    return Deployed(job_id, status, seconds, attempts)


def _start(amplify: Amplify, workflow: Workflow, app_id: str, branch: str, job_id: str) -> str:
    """StartDeployment; its job's status. When the call fails, the job tells whether it
    started anyway (an answer lost after Amplify acted), else it is stopped."""
    try:
        return str(amplify.start_deployment(app_id, branch, job_id).get("status", ""))
    except ActionError:
        try:
            status = str(amplify.get_job(app_id, branch, job_id).get("status", ""))
        except ActionError:
            status = ""
        if status and status != _NOT_STARTED:
            workflow.info(f"Deployment job {job_id} did start ({status}).")
            return status
        _abandon(amplify, workflow, app_id, branch, job_id)
        raise


def _create(amplify: Amplify, app_id: str, branch: str) -> dict[str, Any]:
    try:
        return amplify.create_deployment(app_id, branch)
    except AmplifyError as e:
        if e.code != "BadRequestException":
            raise
        pending = _pending_manual_jobs(amplify, app_id, branch)
        if not pending:
            raise
        job = pending[0]
        stop = shlex.join(
            [
                "aws", "amplify", "stop-job", "--app-id", app_id,
                "--branch-name", branch, "--job-id", job,
            ]
        )  # fmt: skip
        raise ActionError(
            f"Amplify refused a new deployment for branch `{branch}`: deployment job {job} "
            "from an earlier run was created but never started, and Amplify allows one pending "
            f"deployment per branch. Clear it with `{stop}` (or stop it in the Amplify console), "
            f"then re-run. {e.message}",
            title="A deployment is still pending",
        ) from None


def _pending_manual_jobs(amplify: Amplify, app_id: str, branch: str) -> list[str]:
    try:
        jobs = amplify.list_jobs(app_id, branch)
    except ActionError:
        return []
    manual = [j for j in jobs if j.get("jobType") == "MANUAL" and j.get("status") in _PENDING]
    manual.sort(key=lambda j: j.get("status") != _NOT_STARTED)  # the never-started first
    return [str(j["jobId"]) for j in manual]


def _abandon(amplify: Amplify, workflow: Workflow, app_id: str, branch: str, job_id: str) -> None:
    """A deployment that will not be started would block the next run's: stop it."""
    try:
        amplify.stop_job(app_id, branch, job_id, patience=ABANDON_PATIENCE)
        workflow.info(f"Deployment job {job_id} was not started; stopped it.")
    except ActionError as e:
        workflow.warning(
            f"Deployment job {job_id} was created but not started, and stopping it failed "
            f"({e.message}). The next run's deployment will be refused until it is stopped: "
            f"`aws amplify stop-job --app-id {app_id} --branch-name {shlex.quote(branch)} "
            f"--job-id {job_id}`.",
            title="Pending deployment left behind",
        )


def mask_upload_url(workflow: Workflow, url: str) -> None:
    """The URL as a log line could show it (whole, or as the path and query of urllib3's
    request lines: the one covers the other), and its signing values alone. Not its
    path segments: they hold the app id and branch, which every line names."""
    parts = urlsplit(url)
    workflow.mask(f"{parts.path}?{parts.query}")
    for key, value in parse_qsl(parts.query):
        if key.lower() in _SIGNING_KEYS and value:
            workflow.mask(value)


def upload(
    url: str,
    zip_path: Path,
    *,
    workflow: Workflow,
    cancellation: Cancellation,
    max_attempts: int,
    budget_seconds: float = UPLOAD_BUDGET_SECONDS,
    headers: Mapping[str, str] | None = None,
) -> int:
    """`PUT` the zip to `url`, streamed from disk, until it is accepted; the attempts it took.

    Retried: 429, 5xx, dropped connections and timeouts (a `PUT` of the same
    bytes twice leaves the same object). Other 4xx fail at once: an expired
    or refused URL will not get better. `headers` are sent besides the zip's type and
    length (those the URL was signed with, e.g. Gen 3's checksum).
    """
    loop = retrying(
        "Frontend upload",
        workflow=workflow,
        max_attempts=max_attempts,
        budget_seconds=budget_seconds,
        sleep=cancellation.sleep,
    )
    try:
        for attempt in loop:
            with attempt:
                _put(url, zip_path, cancellation, headers or {})
    except Retry as e:
        attempts = loop.statistics.get("attempt_number", max_attempts)
        raise ActionError(
            f"The frontend upload failed after {attempts} attempts: {e.reason}. "
            "Re-run the job, or raise `max-attempts`.",
            title="Frontend upload failed",
        ) from None
    return int(loop.statistics.get("attempt_number", 1))


def _put(url: str, zip_path: Path, cancellation: Cancellation, headers: Mapping[str, str]) -> None:
    """One `PUT`; `Retry` when another could succeed, `ActionError` when none would."""
    import requests  # noqa: PLC0415 - only runs that upload pay for the import

    if cancellation.requested:
        raise Cancelled("the frontend upload")
    size = zip_path.stat().st_size

    def send() -> requests.Response:
        with zip_path.open("rb") as body:
            return requests.put(
                url,
                data=body,
                headers={
                    "Content-Type": "application/zip",
                    "Content-Length": str(size),
                    **headers,
                },
                timeout=UPLOAD_TIMEOUT,
                allow_redirects=False,
            )

    try:
        response = cancellation.interruptibly(send, "the frontend upload")
    except requests.exceptions.ConnectTimeout:
        raise Retry("connection timed out") from None
    except requests.exceptions.ConnectionError:
        raise Retry("connection dropped") from None
    except requests.exceptions.Timeout:
        raise Retry("no answer in time") from None
    except requests.exceptions.RequestException as e:
        raise ActionError(
            f"The frontend upload failed: {type(e).__name__}.", title="Frontend upload failed"
        ) from None
    status = response.status_code
    if status < 300:
        return
    if status == 429 or status >= 500:
        raise Retry(
            f"HTTP {status} {response.reason}",
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    raise ActionError(
        f"The upload URL refused the artifact: HTTP {status} {response.reason}"
        f"{_s3_said(response.text)}. The URL is valid for a short time after "
        "CreateDeployment; re-run the job to get a new one.",
        title="Frontend upload refused",
    )


def _s3_said(body: str) -> str:
    """S3's error code and message, and nothing else of its body: a SignatureDoesNotMatch
    answer also echoes the signature that was sent."""
    fields = dict(_S3_FIELD.findall(body))
    said = ": ".join(v.strip() for k in ("Code", "Message") if (v := fields.get(k, "")).strip())
    return f" ({said})" if said else ""


def describe_size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
