"""The run's GitHub deployment: the "View deployment" button and the environment's state.

A deploy creates a deployment of the commit in `deployment-environment` (by default
`amplify/<branch>`, one environment per branch, so that previews do not deactivate
each other), sets it `in_progress` before the backend deploy, and at the end
`success` (with the frontend's URL and the Amplify job's page), `failure`, or
`error` for a cancellation or a fault of ours. Teardown sets the branch's latest
deployment `inactive` (GitHub then shows a transient one as destroyed): the newest one
whose payload names this app and branch, so that in an environment several branches
share (`deployment-environment: preview`) another preview's deployment stays as it is.

Best effort, like the comment: no token, no permission or an API failure is one
notice, never a failed run. Nothing at all in a dry run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ampaction.cancellation import Cancellation
from ampaction.errors import ActionError, Cancelled
from ampaction.inputs import Settings
from ampaction.report import Report
from ampaction.workflow import Workflow

if TYPE_CHECKING:
    from ampaction.github import GitHub

TITLE = "GitHub deployment not recorded"
PERMISSION_HELP = (
    "give the job `permissions: deployments: write` (a fork's pull request gets a "
    "read-only token), or set `github-deployment: false`"
)
# The deployment's payload: which app and branch it deployed, for teardown to find it by.
APP_KEY, BRANCH_KEY = "amplify-app-id", "amplify-branch"
# Failures that are not the deploy's: they end the deployment `error`, not `failure`.
NOT_THE_DEPLOYS_FAULT = ("Cancelled", "Internal error")


def wanted(s: Settings) -> bool:
    return s.github_deployment and not s.dry_run  # a dry run changes nothing, on GitHub either


class DeploymentRecord:
    """One run's deployment; after the first failure it stays quiet (one notice a run)."""

    def __init__(self, s: Settings, workflow: Workflow, cancellation: Cancellation):
        self.s = s
        self.workflow = workflow
        self.id: int | None = None
        self.github: GitHub | None = None
        if not wanted(s):
            return
        if not s.github_token or not s.github_repository:
            workflow.notice(
                "No GitHub deployment: `github-token` is empty. Leave it at its default "
                f"(`${{{{ github.token }}}}`) and {PERMISSION_HELP}.",
                title=TITLE,
            )
            return
        from ampaction.github import GitHub  # noqa: PLC0415 - a run without a token never needs it

        self.github = GitHub.for_run(s, cancellation)

    def start(self, report: Report, *, production: bool) -> None:
        """Create the deployment of the commit and set it `in_progress`."""
        if self.github is None:
            return
        s = self.s
        ref = s.github_sha or s.branch
        description = f"Amplify app {s.app_id}, branch {s.branch}"[:140]  # GitHub's limit
        try:
            made = self.github.create_deployment(
                ref,
                s.environment,
                production=production,
                description=description,
                payload={APP_KEY: s.app_id, BRANCH_KEY: s.branch},
            )
            self.id = int(made["id"])
            self.github.set_deployment_status(
                self.id, "in_progress", log_url=s.run_url, description="Deploying"
            )
        except ActionError as e:  # GitHubError: no answer, or a refusal
            self._give_up(e, "create")
            return
        report.outputs["deployment-id"] = str(self.id)
        report.deployment_url = environment_page(s)
        kind = "production" if production else "transient"
        self.workflow.info(
            f"GitHub deployment {self.id} of {ref[:12]} in environment `{s.environment}` "
            f"({kind}): in_progress."
        )

    def finish(self, report: Report, *, failure: Exception | None) -> None:
        """`success`, `failure` or `error`, from how the deploy ended (`failure`: what it raised)."""
        if self.github is None or self.id is None:
            return
        if isinstance(failure, Cancelled):  # one try: the runner's grace period is for stopping
            self.github.max_attempts = 1
        state = final_state(failure)
        log_url = report.outputs.get("job-url") or self.s.run_url
        fields = {"log_url": log_url, "description": f"Amplify deploy: {state}"}
        if state == "success":
            fields["environment_url"] = report.outputs.get("frontend-url", "")
        try:
            self.github.set_deployment_status(self.id, state, **fields)
        except ActionError as e:  # GitHubError: no answer, or a refusal
            self._give_up(e, "update")
            return
        self.workflow.info(f"GitHub deployment {self.id}: {state}.")

    def deactivate(self, s: Settings, recorded: str | None = None) -> None:
        """Teardown: branch `s.branch`'s newest deployment becomes `inactive`, in the
        environment its last deploy `recorded` on the branch, else `s.environment`."""
        if self.github is None:
            return
        environment = recorded or s.environment
        try:
            found = self.github.deployments(environment)
            mine = next((d for d in found if is_branchs(d, s, environment)), None)
            if mine is None:
                self.workflow.info(
                    f"No GitHub deployment of branch `{s.branch}` in `{environment}` to deactivate."
                )
                return
            self.github.set_deployment_status(
                int(mine["id"]), "inactive", description="Amplify preview removed"
            )
        except ActionError as e:  # GitHubError: no answer, or a refusal
            self._give_up(e, "deactivate")
            return
        self.workflow.info(f"GitHub deployment {mine['id']} (`{environment}`): inactive.")

    def _give_up(self, e: ActionError, what: str) -> None:
        status = getattr(e, "status", 0)  # GitHubError's HTTP status
        advice = f" To fix: {PERMISSION_HELP}." if status in (403, 404) else ""
        if status == 401:
            advice = " `github-token` was refused: check the secret it comes from."
        self.workflow.notice(f"GitHub deployment left as it was. {e.message}{advice}", title=TITLE)
        self.github = None


def is_branchs(deployment: dict[str, Any], s: Settings, environment: str) -> bool:
    """Whether a deployment (of `environment`) is branch `s.branch`'s: its payload says
    so, or (made before payloads, or by hand) it is in the branch's own default one."""
    payload = deployment.get("payload")
    if isinstance(payload, dict) and APP_KEY in payload:
        return payload.get(APP_KEY) == s.app_id and payload.get(BRANCH_KEY) == s.branch
    return environment == f"amplify/{s.branch}"


def final_state(failure: Exception | None) -> str:
    if failure is None:
        return "success"
    if not isinstance(failure, ActionError):
        return "error"  # a fault of ours, not the deploy's
    return "error" if failure.title in NOT_THE_DEPLOYS_FAULT else "failure"


def environment_page(s: Settings) -> str:
    """Where GitHub shows the environment's deployments."""
    return (
        f"{s.github_server_url}/{s.github_repository}/deployments/{quote(s.environment, safe='')}"
    )
