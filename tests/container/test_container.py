"""The action's image, built from the real Dockerfile and run as the runner runs it.

The base is a local stand-in for the official Node image (same Debian release,
same Node major; tests/support/standin_base.sh); AWS is the Amplify simulator
on 127.0.0.1, reached through `--network host`; `ampx` is the fixture's stub.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from support import aws_server
from support.action import APP_ID, CREDENTIALS, declared_inputs
from support.amplify_sim import AmplifySimulator
from support.docker_action import (
    action_env,
    docker_run_args,
    run_action,
)
from support.fixtures import copy_project, wait_for_file
from support.runner import CommandLog, RunnerFiles

RECORD = ".ampx-record.jsonl"  # inside the workspace, so the host can read it


@pytest.fixture
def files(tmp_path: Path) -> RunnerFiles:
    workspace = tmp_path / "workspace"
    copy_project("gen2-app", workspace)
    return RunnerFiles(root=tmp_path / "runner", workspace=workspace)


def run(
    image: str,
    files: RunnerFiles,
    sim: AmplifySimulator,
    *,
    inputs: dict[str, str] | None = None,
    job_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    job = {
        **CREDENTIALS,
        "AWS_ENDPOINT_URL_AMPLIFY": sim.url,
        **aws_server.endpoints(),  # SSM, CloudFormation, STS: a bootstrapped account
        "STUB_AMPX_RECORD": f"/github/workspace/{RECORD}",
        **(job_env or {}),
    }
    env = action_env(
        {"app-id": APP_ID, "branch": "main", **(inputs or {})},
        files,
        declared=declared_inputs(),
        job_env=job,
    )
    return run_action(image, env, files, timeout=240)


def ampx_calls(files: RunnerFiles) -> list[dict[str, object]]:
    record = files.workspace / RECORD
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines() if line]


def shown(text: str) -> str:
    """What the runner's log shows: `::add-mask::` lines are consumed, not shown."""
    return "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("::add-mask::")
    )


def explain(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


def test_image_has_its_runtime(image: str, tmp_path: Path) -> None:
    files = RunnerFiles(root=tmp_path / "runner", workspace=tmp_path / "ws")
    files.workspace.mkdir()
    env = action_env({}, files, job_env={"PATH": "utter-nonsense"})
    done = run_action(
        image,
        env,
        files,
        entrypoint="/opt/ampaction/venv/bin/python",
        args=["-c", "import actions_toolkit.core, boto3, requests, tenacity; print('ok')"],
    )
    assert done.returncode == 0, explain(done)
    assert done.stdout.strip() == "ok"
    tools = run_action(
        image,
        action_env({}, files),
        files,
        entrypoint="sh",
        args=[
            "-c",
            "node --version && corepack --version && git config --system --get-all "
            "safe.directory && ! /opt/ampaction/venv/bin/python -m pip --version",
        ],
    )
    assert tools.returncode == 0, explain(tools)
    assert tools.stdout.startswith("v24."), explain(tools)
    assert "/github/workspace" in tools.stdout


def assert_happy(
    done: subprocess.CompletedProcess[str], files: RunnerFiles, sim: AmplifySimulator
) -> None:
    assert done.returncode == 0, explain(done)
    outputs = files.outputs()
    assert outputs.get("backend-deployed") == "true", outputs
    assert outputs.get("frontend-triggered") == "true", outputs
    assert outputs.get("webhook-created") == "true", outputs
    assert sim.count("CreateWebhook") == 1
    assert sim.count("Webhook") == 1
    calls = ampx_calls(files)
    assert len(calls) == 1, calls
    assert calls[0]["argv"] == ["pipeline-deploy", "--branch", "main", "--app-id", APP_ID]
    assert calls[0]["env"]["CI"] == "1"
    hooks = sim.webhooks(APP_ID)
    token = parse_qs(urlparse(hooks[0]["webhookUrl"]).query)["token"][0]
    for name, text in {
        "stdout": shown(done.stdout),
        "stderr": shown(done.stderr),
        "outputs": json.dumps(outputs),
        "summary": files.summary(),
    }.items():
        assert token not in text, f"webhook token leaked into {name}"


def test_happy_path(image: str, files: RunnerFiles, sim: AmplifySimulator) -> None:
    assert_happy(run(image, files, sim), files, sim)


def test_backend_failure_stops_before_the_frontend(
    image: str, files: RunnerFiles, sim: AmplifySimulator
) -> None:
    done = run(image, files, sim, job_env={"STUB_AMPX_EXIT": "3"})
    assert done.returncode != 0, explain(done)
    errors = CommandLog.parse(done.stdout + done.stderr).errors()
    assert any(re.search(r"\bexit(ed)?( with)? code 3\b", e) for e in errors), explain(done)
    assert sim.count("Webhook") == 0


def test_bad_input_fails_before_doing_anything(
    image: str, files: RunnerFiles, sim: AmplifySimulator
) -> None:
    done = run(image, files, sim, inputs={"max-attempts": "zero"})
    assert done.returncode == 1, explain(done)
    errors = CommandLog.parse(done.stdout + done.stderr).errors()
    assert len(errors) == 1, explain(done)
    assert "max-attempts" in errors[0]
    assert not (files.workspace / "node_modules").exists()
    assert sim.requests == []


def test_job_path_does_not_matter(image: str, files: RunnerFiles, sim: AmplifySimulator) -> None:
    done = run(image, files, sim, job_env={"PATH": "utter-nonsense"})
    assert_happy(done, files, sim)


def test_docker_stop_cancels_the_deploy_and_triggers_nothing(
    image: str, files: RunnerFiles, sim: AmplifySimulator
) -> None:
    """The runner cancels with `docker stop` (SIGTERM, then SIGKILL after its grace
    period): the action, PID 1 in the container, passes it to the CLI at once."""
    import time

    env = action_env(
        {"app-id": APP_ID, "branch": "main"},
        files,
        declared=declared_inputs(),
        job_env={
            **CREDENTIALS,
            "AWS_ENDPOINT_URL_AMPLIFY": sim.url,
            **aws_server.endpoints(),  # SSM, CloudFormation, STS: a bootstrapped account
            "STUB_AMPX_SLEEP": "120",
            "STUB_AMPX_STARTED": "/github/workspace/.ampx-started",
            "STUB_AMPX_SIGNAL_RECORD": "/github/workspace/.ampx-signal",
        },
    )
    name = f"ampaction-stop-{os.getpid()}"
    docker = shutil.which("docker") or "docker"
    cmd = docker_run_args(image, env, files)
    cmd[0] = docker
    cmd[2:2] = ["--name", name]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for_file(files.workspace / ".ampx-started", proc, timeout=180)
        begin = time.monotonic()
        # The runner's grace period: SIGKILL follows 7.5 s after SIGTERM; use 10 to see overruns.
        subprocess.run([docker, "stop", "--time", "10", name], capture_output=True, check=True)
        took = time.monotonic() - begin
        out, _ = proc.communicate(timeout=30)
    finally:
        subprocess.run([docker, "rm", "-f", name], capture_output=True, check=False)

    assert took < 7.5, f"docker stop took {took:.1f} s: the runner would have killed it"
    assert proc.returncode not in (0, 137), out  # exited by itself, not by SIGKILL
    assert (files.workspace / ".ampx-signal").read_text() == "SIGTERM"
    assert sim.count("Webhook") == 0 and sim.count("CreateWebhook") == 0
    errors = CommandLog.parse(out).errors()
    assert len(errors) == 1 and "Cancelled during deploy" in errors[0], out
