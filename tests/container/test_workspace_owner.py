"""Files the action leaves belong to the job's user.

The runner mounts a workspace owned by its user (uid 1001 on GitHub-hosted
runners) and starts the container as root. Afterwards a process running as
1001 must be able to write into `node_modules` (a build's `.vite` cache) and to
delete everything the action made (the next checkout's clean).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support import aws_server
from support.action import APP_ID, CREDENTIALS, declared_inputs
from support.amplify_sim import AmplifySimulator
from support.docker_action import (
    action_env,
    run_action,
    run_container,
)
from support.fixtures import copy_project
from support.runner import RunnerFiles

pytestmark = pytest.mark.container

RUNNER_UID = 1001


def chown_tree(top: Path, uid: int) -> None:
    for root, dirs, files in os.walk(top):
        for name in [*dirs, *files]:
            os.chown(Path(root) / name, uid, uid, follow_symlinks=False)
    os.chown(top, uid, uid)


def as_runner_user(image: str, workspace: Path, script: str) -> subprocess.CompletedProcess[str]:
    """`script` in a container running as the runner's user, on the same workspace."""
    return run_container(
        [
            "docker", "run", "--rm", "--network", "host",
            "--user", f"{RUNNER_UID}:{RUNNER_UID}",
            "-v", f"{workspace}:/github/workspace", "--workdir", "/github/workspace",
            "--entrypoint", "sh", image, "-c", script,
        ],
        timeout=120,
    )  # fmt: skip


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the workspace to uid 1001")
@pytest.mark.parametrize("deploy_exit", ["0", "3"], ids=["deploy-succeeds", "deploy-fails"])
def test_the_runners_user_can_write_and_clean_what_the_action_made(
    image: str, tmp_path: Path, harness, deploy_exit: str
) -> None:
    workspace = copy_project("gen2-app", tmp_path / "workspace")
    chown_tree(workspace, RUNNER_UID)
    files = RunnerFiles(root=tmp_path / "runner", workspace=workspace)
    with AmplifySimulator() as sim:
        sim.add_app(APP_ID)
        sim.add_branch(APP_ID, "main")
        harness.sims.append(sim)
        env = action_env(
            {"app-id": APP_ID, "branch": "main", "trigger-frontend": "false"},
            files,
            declared=declared_inputs(),
            job_env={
                **CREDENTIALS,
                "AWS_ENDPOINT_URL_AMPLIFY": sim.url,
                **aws_server.endpoints(),  # SSM, CloudFormation, STS: a bootstrapped account
                "STUB_AMPX_EXIT": deploy_exit,
            },
        )
        done = run_action(image, env, files, timeout=240)

    log = done.stdout + done.stderr
    assert done.returncode == int(deploy_exit), log
    made = [workspace / "node_modules", workspace / ".npm-cache"]
    if deploy_exit == "0":
        made.append(workspace / "amplify_outputs.json")
    assert all(p.exists() for p in made), log
    assert "back to uid 1001 (the workspace's owner)" in log

    later = as_runner_user(
        image,
        workspace,
        'set -e; test -z "$(find . ! -user 1001 -print -quit)" || { find . ! -user 1001 | head; exit 9; }; '
        "mkdir -p node_modules/.vite && echo cache > node_modules/.vite/deps.json; "
        'find . -mindepth 1 -delete; test -z "$(ls -A)"',
    )
    assert later.returncode == 0, later.stdout + later.stderr
    assert list(workspace.iterdir()) == []
