"""The Amplify Hosting API, through boto3 (see `aws.py` for the client and its retries).

Every call the action makes to Amplify is a method here, translated into
errors a user can act on.
"""

from __future__ import annotations

from typing import Any

from ampaction.aws import AwsError, AwsService

PAGE_SIZE = 50  # ListWebhooks' and ListJobs' maximum
WEBHOOK_JOB = "WEB_HOOK"  # the jobType of a build started through an incoming webhook
# The tag that marks a branch this action created, so that teardown may delete it.
CREATED_BY_TAG = ("created-by", "amplify-pipeline-deploy")

# Preflight and the callers tell errors apart by `code`; the name stays for them.
AmplifyError = AwsError


class Amplify(AwsService):
    """The calls the action makes, each translated into errors a user can act on."""

    service = "amplify"
    failure_title = "Amplify API call failed"
    permissions_hint = (
        "Give the role the Amplify permissions listed in the README (amplify:GetBranch, "
        "amplify:ListWebhooks, amplify:CreateWebhook, …; for `create-branch` and "
        "`teardown`, the statement for those)."
    )

    # -- reads ------------------------------------------------------------

    def get_app(self, app_id: str) -> dict[str, Any]:
        return self._call("get_app", f"read Amplify app {app_id}", appId=app_id)["app"]  # type: ignore[no-any-return]

    def get_branch(self, app_id: str, branch: str) -> dict[str, Any]:
        response = self._call(
            "get_branch", f"read branch `{branch}` of app {app_id}", appId=app_id, branchName=branch
        )
        return response["branch"]  # type: ignore[no-any-return]

    def list_webhooks(self, app_id: str) -> list[dict[str, Any]]:
        """Every webhook of the app, through every page."""
        return self._every_page("list_webhooks", "webhooks", app_id)

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

    def newest_job_id(self, app_id: str, branch: str) -> int:
        """The branch's newest job id (0 when it has none): later jobs have larger ones."""
        return max((_job_number(job) for job in self.list_jobs(app_id, branch, 1)), default=0)

    def webhook_jobs_after(self, app_id: str, branch: str, job_id: int) -> list[dict[str, Any]]:
        """Webhook-started jobs newer than `job_id`, oldest first (never RELEASE or MANUAL)."""
        jobs = [
            job
            for job in self.list_jobs(app_id, branch, PAGE_SIZE)
            if job.get("jobType") == WEBHOOK_JOB and _job_number(job) > job_id
        ]
        return sorted(jobs, key=_job_number)

    def create_webhook(
        self, app_id: str, branch: str, description: str
    ) -> tuple[dict[str, Any], bool]:
        """The new webhook, and whether the SDK had to send the request more than once
        (an earlier try, answered with an error, may have created one too)."""
        response = self._call(
            "create_webhook",
            f"create a webhook for branch `{branch}`",
            appId=app_id,
            branchName=branch,
            description=description,
        )
        retried = response.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0
        return response["webhook"], retried

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

    def stop_job(
        self, app_id: str, branch: str, job_id: str, *, patience: float | None = None
    ) -> None:
        self._call(
            "stop_job",
            f"stop job {job_id} of branch `{branch}`",
            patience=patience,
            appId=app_id,
            branchName=branch,
            jobId=job_id,
        )

    def delete_webhook(self, webhook_id: str) -> None:
        self._call("delete_webhook", f"delete webhook {webhook_id}", webhookId=webhook_id)

    # -- the branch's life (`create-branch`, `teardown`) -------------------

    def create_branch(
        self, app_id: str, branch: str, stage: str, tags: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A branch that only this pipeline builds (auto-build off), tagged as ours."""
        key, value = CREATED_BY_TAG
        response = self._call(
            "create_branch",
            f"create branch `{branch}` in app {app_id}",
            appId=app_id,
            branchName=branch,
            stage=stage,
            enableAutoBuild=False,
            tags={**(tags or {}), key: value},
        )
        return response["branch"]  # type: ignore[no-any-return]

    def delete_branch(self, app_id: str, branch: str) -> None:
        self._call(
            "delete_branch",
            f"delete branch `{branch}` of app {app_id}",
            appId=app_id,
            branchName=branch,
        )

    def tag_branch(self, branch: dict[str, Any], tags: dict[str, str]) -> None:
        """Set tags on a branch (as `GetBranch` returned it: its ARN names it)."""
        self._call(
            "tag_resource",
            f"tag branch `{branch.get('branchName')}` (amplify:TagResource)",
            resourceArn=branch["branchArn"],
            tags=tags,
        )

    def untag_branch(self, branch: dict[str, Any], keys: list[str]) -> None:
        self._call(
            "untag_resource",
            f"remove tags from branch `{branch.get('branchName')}` (amplify:UntagResource)",
            resourceArn=branch["branchArn"],
            tagKeys=keys,
        )

    def list_branches(self, app_id: str) -> list[dict[str, Any]]:
        """Every branch of the app, through every page (sweep must see each preview)."""
        return self._every_page("list_branches", "branches", app_id)

    def _every_page(self, operation: str, key: str, app_id: str) -> list[dict[str, Any]]:
        """Every item of a list call: botocore has no paginator for Amplify's lists, so
        follow `nextToken` until a page has none."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"appId": app_id, "maxResults": PAGE_SIZE}
            if token:
                params["nextToken"] = token
            page = self._call(operation, f"list the {key} of app {app_id}", **params)
            items.extend(page.get(key, []))
            token = page.get("nextToken")
            if not token:
                return items

    def tags_of(self, arn: str, what: str) -> dict[str, str]:
        """The tags of an Amplify resource (a branch: its `branchArn`)."""
        response = self._call("list_tags_for_resource", f"read the tags of {what}", resourceArn=arn)
        return dict(response.get("tags") or {})


def console_url(region: str, app_id: str, branch: str) -> str:
    """The Amplify console page listing a branch's deployments."""
    from urllib.parse import quote  # noqa: PLC0415

    return (
        f"https://{region}.console.aws.amazon.com/amplify/apps/{app_id}"
        f"/branches/{quote(branch, safe='')}/deployments"
    )


def frontend_url(app: dict[str, Any], branch: str) -> str:
    """The branch's address on Amplify Hosting: `https://<branch, "/" as "-">.<defaultDomain>`."""
    domain = app.get("defaultDomain")
    return f"https://{branch.replace('/', '-')}.{domain}" if domain else ""


def _job_number(job: dict[str, Any]) -> int:
    """A job's id as a number (Amplify's ids count up per branch); -1 if it is not one."""
    job_id = str(job.get("jobId", ""))
    return int(job_id) if job_id.isascii() and job_id.isdigit() and len(job_id) < 20 else -1
