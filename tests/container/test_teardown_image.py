"""Teardown in the action's image: the image keeps botocore's CloudFormation model
(the Dockerfile drops every other service's), and reaches moto through
`AWS_ENDPOINT_URL_CLOUDFORMATION` as the runner's job would set it."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import aws_server
from support.action import APP_ID, CREDENTIALS, declared_inputs
from support.cloudformation_server import CloudFormationServer
from support.docker_action import (
    action_env,
    run_action,
)
from support.fixtures import copy_project
from support.runner import RunnerFiles

from ampaction.cloudformation import backend_stack_name

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]


def test_teardown_deletes_the_stack_from_inside_the_image(image, sim, tmp_path: Path) -> None:
    files = RunnerFiles(root=tmp_path / "runner", workspace=tmp_path / "workspace")
    copy_project("gen2-app", files.workspace)
    with CloudFormationServer() as cfn:
        arn = cfn.create_stack(backend_stack_name(APP_ID, "feature/img"))
        sim.add_branch(
            APP_ID,
            "feature/img",
            stage="PULL_REQUEST",
            tags={"created-by": "amplify-pipeline-deploy"},
            stack_arn=arn,
        )
        env = action_env(
            {"app-id": APP_ID, "branch": "feature/img", "command": "teardown"},
            files,
            declared=declared_inputs(),
            job_env={
                **CREDENTIALS,
                "AWS_ENDPOINT_URL_AMPLIFY": sim.url,
                **aws_server.endpoints(),  # SSM, CloudFormation, STS: a bootstrapped account
                "AWS_ENDPOINT_URL_CLOUDFORMATION": cfn.url,
            },
        )
        done = run_action(image, env, files, timeout=240)

        assert done.returncode == 0, done.stdout + done.stderr
        assert cfn.status(arn) == "DELETE_COMPLETE"
        assert cfn.count("DeleteStack") == 1
    assert sim.branch(APP_ID, "feature/img") is None
