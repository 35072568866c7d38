"""The Amplify Hosting API, through boto3: the only module that imports it.

boto3 is imported on first use, so a run that never reaches AWS does not pay
for it. Retries are stated here, not left to botocore's defaults (1.44 moved
from `legacy`, 5 attempts, to `standard`, 3): `max-attempts` attempts in
`standard` mode, which retries throttling (429 `LimitExceededException`),
5xx and dropped connections, and never 400/401/403/404. A user's own
`AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE` wins, because an explicit `Config`
would silently override them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ampaction import __version__
from ampaction.errors import ActionError

if TYPE_CHECKING:
    from mypy_boto3_amplify.client import AmplifyClient

CONNECT_TIMEOUT = 10
READ_TIMEOUT = 30
PAGE_SIZE = 50  # ListWebhooks' maximum
# In the user agent that CloudTrail records, so that admins can tell our calls apart.
USER_AGENT = f"ampaction/{__version__}"

CREDENTIALS_HELP = (
    "Give the job AWS credentials before this step, e.g. with "
    "aws-actions/configure-aws-credentials and a role assumed by OIDC "
    "(`permissions: id-token: write`)."
)
_CREDENTIAL_CODES = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
    "UnauthorizedException",
}
_PERMISSION_CODES = {"AccessDeniedException", "AccessDenied", "ForbiddenException"}


class AmplifyError(ActionError):
    """An Amplify API call that failed; `code` is AWS's error code."""

    def __init__(self, message: str, code: str, *, title: str = "Amplify API call failed"):
        super().__init__(message, title=title)
        self.code = code


class Amplify:
    """The calls the action makes, each translated into errors a user can act on."""

    def __init__(self, region: str, max_attempts: int, env: Mapping[str, str]):
        self.region = region
        self.max_attempts = max_attempts
        self._env = env
        self._client: AmplifyClient | None = None

    @property
    def client(self) -> AmplifyClient:
        if self._client is None:
            import boto3  # noqa: PLC0415 - only runs that reach AWS pay for the import
            from botocore.config import Config  # noqa: PLC0415

            retries: dict[str, Any] = {}
            if not ({"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} & self._env.keys()):
                retries = {"mode": "standard", "total_max_attempts": self.max_attempts}
            config = Config(
                retries=retries or None,  # type: ignore[arg-type]
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                user_agent_extra=USER_AGENT,
            )
            session = boto3.session.Session(region_name=self.region)
            self._client = session.client("amplify", config=config)
        return self._client

    def _call(self, operation: str, what: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import (  # noqa: PLC0415
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        try:
            response: dict[str, Any] = getattr(self.client, operation)(**params)
        except (NoCredentialsError, PartialCredentialsError) as e:
            raise AmplifyError(
                f"No AWS credentials found ({type(e).__name__}) while trying to {what}. "
                + CREDENTIALS_HELP,
                "NoCredentials",
                title="No AWS credentials",
            ) from None
        except ClientError as e:
            raise _client_error(e, what) from None
        except BotoCoreError as e:
            raise AmplifyError(
                f"Could not {what}: {e}", type(e).__name__, title="AWS unreachable"
            ) from None
        return response

    # -- reads ------------------------------------------------------------

    def get_app(self, app_id: str) -> dict[str, Any]:
        return self._call("get_app", f"read Amplify app {app_id}", appId=app_id)["app"]  # type: ignore[no-any-return]

    def get_branch(self, app_id: str, branch: str) -> dict[str, Any]:
        response = self._call(
            "get_branch", f"read branch `{branch}` of app {app_id}", appId=app_id, branchName=branch
        )
        return response["branch"]  # type: ignore[no-any-return]

    def list_webhooks(self, app_id: str) -> list[dict[str, Any]]:
        """Every webhook of the app: botocore has no paginator for it, so follow `nextToken`."""
        webhooks: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"appId": app_id, "maxResults": PAGE_SIZE}
            if token:
                params["nextToken"] = token
            page = self._call("list_webhooks", f"list the webhooks of app {app_id}", **params)
            webhooks.extend(page.get("webhooks", []))
            token = page.get("nextToken")
            if not token:
                return webhooks

    def list_jobs(self, app_id: str, branch: str, max_results: int = 10) -> list[dict[str, Any]]:
        """The branch's newest jobs, newest first."""
        response = self._call(
            "list_jobs",
            f"list the jobs of branch `{branch}`",
            appId=app_id,
            branchName=branch,
            maxResults=max_results,
        )
        return response.get("jobSummaries", [])  # type: ignore[no-any-return]

    def get_job(self, app_id: str, branch: str, job_id: str) -> dict[str, Any]:
        response = self._call(
            "get_job",
            f"read job {job_id} of branch `{branch}`",
            appId=app_id,
            branchName=branch,
            jobId=job_id,
        )
        return response["job"]["summary"]  # type: ignore[no-any-return]

    def webhook_jobs_since(
        self, app_id: str, branch: str, since: dt.datetime
    ) -> list[dict[str, Any]]:
        """Jobs started by a webhook at or after `since`, newest first."""
        return [
            job
            for job in self.list_jobs(app_id, branch)
            if job.get("jobType") == "WEB_HOOK" and _aware(job.get("startTime")) >= since
        ]

    # -- changes ----------------------------------------------------------

    def create_webhook(self, app_id: str, branch: str, description: str) -> dict[str, Any]:
        response = self._call(
            "create_webhook",
            f"create a webhook for branch `{branch}`",
            appId=app_id,
            branchName=branch,
            description=description,
        )
        return response["webhook"]  # type: ignore[no-any-return]

    def create_deployment(self, app_id: str, branch: str) -> dict[str, Any]:
        """A manual deployment: its `jobId` and the pre-signed `zipUploadUrl` (a credential)."""
        return self._call(
            "create_deployment",
            f"create a deployment for branch `{branch}`",
            appId=app_id,
            branchName=branch,
        )

    def start_deployment(self, app_id: str, branch: str, job_id: str) -> dict[str, Any]:
        """Start the deployment whose zip was uploaded; its job's summary."""
        response = self._call(
            "start_deployment",
            f"start deployment job {job_id} of branch `{branch}`",
            appId=app_id,
            branchName=branch,
            jobId=job_id,
        )
        return response["jobSummary"]  # type: ignore[no-any-return]

    def stop_job(self, app_id: str, branch: str, job_id: str) -> None:
        self._call(
            "stop_job",
            f"stop job {job_id} of branch `{branch}`",
            appId=app_id,
            branchName=branch,
            jobId=job_id,
        )

    def delete_webhook(self, webhook_id: str) -> None:
        self._call("delete_webhook", f"delete webhook {webhook_id}", webhookId=webhook_id)


def console_url(region: str, app_id: str, branch: str) -> str:
    """The Amplify console page listing a branch's deployments."""
    from urllib.parse import quote  # noqa: PLC0415

    return (
        f"https://{region}.console.aws.amazon.com/amplify/apps/{app_id}"
        f"/branches/{quote(branch, safe='')}/deployments"
    )


def _aware(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.min.replace(tzinfo=dt.UTC)


def _client_error(e: Any, what: str) -> AmplifyError:
    error = e.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")).strip() or "(no message)"
    status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
    said = f"AWS said: {code} ({status}): {message}"
    if code in _CREDENTIAL_CODES:
        return AmplifyError(
            f"AWS did not accept the credentials while trying to {what}. {said}. "
            + CREDENTIALS_HELP,
            code,
            title="AWS credentials rejected",
        )
    if code in _PERMISSION_CODES:
        return AmplifyError(
            f"Not allowed to {what}. {said}. Give the role the Amplify permissions listed "
            "in the README (amplify:GetBranch, amplify:GetApp, amplify:ListWebhooks, "
            "amplify:CreateWebhook, amplify:CreateDeployment, amplify:StartDeployment, …).",
            code,
            title="Permission missing",
        )
    if code == "LimitExceededException":
        return AmplifyError(
            f"Still throttled after every retry while trying to {what}. {said}.",
            code,
            title="AWS throttled",
        )
    return AmplifyError(f"Could not {what}. {said}.", code)
