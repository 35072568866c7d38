"""The lifecycle examples under nektos/act: a pull request's preview opened and closed
(examples/pr-preview.yml), branch deletion (examples/branch-cleanup.yml), and the daily
sweep of stale previews (examples/preview-sweep.yml), against the Amplify simulator,
moto's CloudFormation and the local GitHub REST server."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import aws_server
from support.act import (
    EXAMPLES,
    app_repository,
    run_workflow,
    webhook_secrets,
)
from support.action import APP_ID
from support.amplify_sim import AmplifySimulator
from support.cloudformation_server import CloudFormationServer
from support.github_server import GitHubServer

from ampaction.branch import LAST_DEPLOY_TAG
from ampaction.cloudformation import backend_stack_name

pytestmark = [pytest.mark.act, pytest.mark.container]
ROLE = {"AWS_PREVIEW_ROLE_ARN": "arn:aws:iam::123456789012:role/preview"}
DEPLOY_ROLE = {"AWS_DEPLOY_ROLE_ARN": "arn:aws:iam::123456789012:role/deploy"}
TOKEN = "ghs_" + "4ct" * 12  # act's `github.token` is the secret GITHUB_TOKEN


@pytest.fixture
def cfn() -> Iterator[CloudFormationServer]:
    with CloudFormationServer() as server:
        yield server


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with GitHubServer(TOKEN) as server:
        yield server


def servers(
    sim: AmplifySimulator, cfn: CloudFormationServer, github: GitHubServer
) -> dict[str, str]:
    aws_server.bootstrap(cfn.url)  # a deploy's preflight reads the CDK bootstrap's version
    return {
        "AWS_ENDPOINT_URL_AMPLIFY": sim.url,
        **aws_server.endpoints(cfn.url),
        "GITHUB_API_URL": github.url,
    }


def repository(tmp_path: Path, example: str, branch: str) -> Path:
    repo = app_repository(tmp_path / "app", EXAMPLES / example, branch=branch)
    # act reads `github.repository` from the remote; the examples skip forks by it.
    subprocess.run(
        ["git", "remote", "add", "origin", "https://github.com/octo/app.git"], cwd=repo, check=True
    )
    return repo


def pull_request(action: str) -> dict[str, object]:
    return {
        "action": action,
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"ref": "feature/x", "repo": {"full_name": "octo/app"}},
            "base": {"ref": "main"},
        },
        "repository": {"full_name": "octo/app"},
    }


def test_pr_preview_creates_deploys_then_removes_the_branch(
    sim: AmplifySimulator, cfn: CloudFormationServer, github: GitHubServer, tmp_path: Path
) -> None:
    sim.set_production_branch(APP_ID, "main")
    sim.set_job_plan(APP_ID, "feature/x", [("RUNNING", 0.5), ("SUCCEED", None)])
    env = servers(sim, cfn, github)
    token = {"GITHUB_TOKEN": TOKEN}
    repo = repository(tmp_path, "pr-preview.yml", "feature/x")

    opened = run_workflow(
        repo, "pull_request", env=env, variables=ROLE, payload=pull_request("opened"), secrets=token
    )
    opened.succeeded()
    outputs = opened.outputs()
    assert outputs.get("branch-created") == "true", outputs
    assert outputs.get("frontend-url") == f"https://feature-x.{APP_ID}.amplifyapp.com"
    assert outputs.get("job-status") == "SUCCEED"
    tags = sim.branch(APP_ID, "feature/x")["tags"]
    assert tags["created-by"] == "amplify-pipeline-deploy" and tags["pull-request"] == "7"
    [deployment] = github.deployments_in("amplify/feature/x")
    assert outputs.get("deployment-id") == str(deployment["id"])
    assert github.states(deployment["id"]) == ["in_progress", "success"]
    secrets = webhook_secrets(sim)  # the teardown deletes the webhook: read them now
    assert secrets

    arn = cfn.create_stack(backend_stack_name(APP_ID, "feature/x"))  # what pipeline-deploy makes
    closed = run_workflow(
        repo, "pull_request", env=env, variables=ROLE, payload=pull_request("closed"), secrets=token
    )
    closed.succeeded()
    assert cfn.status(arn) == "DELETE_COMPLETE"
    assert sim.branch(APP_ID, "feature/x") is None and sim.webhooks(APP_ID) == []
    assert github.states(deployment["id"])[-1] == "inactive"
    for run in (opened, closed):
        run.assert_never_shows({*secrets, TOKEN})


# (deleted branch, exit code, removed): `fix/*` is in the example's teardown-branches,
# `release/1` is not and was not made by the action, `main` is the production branch.
CLEANUPS = [("fix/old", 0, True), ("release/1", 0, False), ("main", 1, False)]


@pytest.mark.parametrize("case", CLEANUPS, ids=[c[0] for c in CLEANUPS])
def test_branch_cleanup_removes_only_what_it_may(
    sim: AmplifySimulator, cfn: CloudFormationServer, tmp_path: Path, case: tuple[str, int, bool]
) -> None:
    ref, code, removed = case
    sim.set_production_branch(APP_ID, "main")
    arn = cfn.create_stack(backend_stack_name(APP_ID, ref))
    if ref != "main":
        # untagged: not made by the action
        sim.add_branch(APP_ID, ref, stage="DEVELOPMENT", stack_arn=arn)
    env = {"AWS_ENDPOINT_URL_AMPLIFY": sim.url, **aws_server.endpoints(cfn.url)}
    repo = repository(tmp_path, "branch-cleanup.yml", "main")

    run = run_workflow(
        repo,
        "delete",
        env=env,
        variables=DEPLOY_ROLE,
        payload={"ref": ref, "ref_type": "branch", "repository": {"full_name": "octo/app"}},
    )

    assert run.returncode == code, run.log[-4000:]
    assert (cfn.status(arn) == "DELETE_COMPLETE") is removed
    assert (sim.branch(APP_ID, ref) is None) is removed


def test_preview_sweep_removes_the_previews_of_closed_pull_requests_and_old_ones(
    sim: AmplifySimulator, cfn: CloudFormationServer, github: GitHubServer, tmp_path: Path
) -> None:
    sim.set_production_branch(APP_ID, "main")
    arns = {}
    for number, extra in ((11, {}), (12, {}), (13, {LAST_DEPLOY_TAG: "2020-01-01T00:00:00Z"})):
        name = f"pr-{number}"
        arns[name] = cfn.create_stack(backend_stack_name(APP_ID, name))
        tags = {"created-by": "amplify-pipeline-deploy", "pull-request": str(number), **extra}
        sim.add_branch(APP_ID, name, stage="PULL_REQUEST", tags=tags, stack_arn=arns[name])
    github.add_pull(11, "closed")
    github.add_pull(12, "open")
    github.add_pull(13, "open")  # open, but not deployed for longer than preview-ttl-days
    repo = repository(tmp_path, "preview-sweep.yml", "main")

    def sweep(event: str, **inputs: str):
        return run_workflow(
            repo,
            event,
            env=servers(sim, cfn, github),
            variables=ROLE,
            inputs=inputs,
            secrets={"GITHUB_TOKEN": TOKEN},
        )

    dry = sweep("workflow_dispatch", **{"dry-run": "true"})
    dry.succeeded()
    assert all(sim.branch(APP_ID, f"pr-{n}") is not None for n in (11, 12, 13))
    assert any("would remove branch `pr-11`" in m for m in dry.messages())

    run = sweep("schedule")
    run.succeeded()
    assert run.outputs().get("swept-branches") == "pr-11,pr-13"
    assert any("Removed previews pr-11,pr-13" in line for line in run.step_lines())
    for gone in ("pr-11", "pr-13"):
        assert sim.branch(APP_ID, gone) is None
        assert cfn.status(arns[gone]) == "DELETE_COMPLETE"
    assert sim.branch(APP_ID, "pr-12") is not None and sim.branch(APP_ID, "main") is not None
    run.assert_never_shows({TOKEN})
