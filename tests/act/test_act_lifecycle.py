"""The lifecycle examples under nektos/act: a pull request's preview opened and closed
(examples/pr-preview.yml), and branch deletion (examples/branch-cleanup.yml), against
the Amplify simulator and moto's CloudFormation."""

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

from ampaction.cloudformation import backend_stack_name

pytestmark = [pytest.mark.act, pytest.mark.container]
ROLE = {"AWS_PREVIEW_ROLE_ARN": "arn:aws:iam::123456789012:role/preview"}
DEPLOY_ROLE = {"AWS_DEPLOY_ROLE_ARN": "arn:aws:iam::123456789012:role/deploy"}


@pytest.fixture
def cfn() -> Iterator[CloudFormationServer]:
    with CloudFormationServer() as server:
        yield server


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
    sim: AmplifySimulator, cfn: CloudFormationServer, tmp_path: Path
) -> None:
    sim.set_production_branch(APP_ID, "main")
    sim.set_job_plan(APP_ID, "feature/x", [("RUNNING", 0.5), ("SUCCEED", None)])
    env = {"AWS_ENDPOINT_URL_AMPLIFY": sim.url, **aws_server.endpoints(cfn.url)}
    repo = repository(tmp_path, "pr-preview.yml", "feature/x")

    opened = run_workflow(
        repo, "pull_request", env=env, variables=ROLE, payload=pull_request("opened")
    )
    opened.succeeded()
    outputs = opened.outputs()
    assert outputs.get("branch-created") == "true", outputs
    assert outputs.get("frontend-url") == f"https://feature-x.{APP_ID}.amplifyapp.com"
    assert outputs.get("job-status") == "SUCCEED"
    assert sim.branch(APP_ID, "feature/x")["tags"] == {"created-by": "amplify-pipeline-deploy"}
    secrets = webhook_secrets(sim)  # the teardown deletes the webhook: read them now
    assert secrets

    arn = cfn.create_stack(backend_stack_name(APP_ID, "feature/x"))  # what pipeline-deploy makes
    closed = run_workflow(
        repo, "pull_request", env=env, variables=ROLE, payload=pull_request("closed")
    )
    closed.succeeded()
    assert cfn.status(arn) == "DELETE_COMPLETE"
    assert sim.branch(APP_ID, "feature/x") is None and sim.webhooks(APP_ID) == []
    for run in (opened, closed):
        run.assert_never_shows(secrets)


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
