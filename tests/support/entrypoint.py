"""The entrypoint run as the runner runs it: its environment (with AWS pointed at a
simulator) and what a run left behind (`ActionRun`)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from support import aws_server
from support.action import APP_ID, CREDENTIALS, ENTRYPOINT, ROOT, declared_inputs
from support.amplify_sim import AmplifySimulator
from support.runner import CommandLog, RunnerFiles, runner_env

# How the runner starts the entrypoint: the image's Python on entrypoint.py.
COMMAND = (sys.executable, str(ENTRYPOINT))


@dataclass
class ActionRun:
    exit_code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    seconds: float
    workspace: Path
    record_file: Path
    # Off GitHub nothing consumes `::add-mask::`: the whole log is what a user sees.
    on_github: bool = True

    @property
    def log(self) -> str:
        return self.stdout + self.stderr

    @property
    def commands(self) -> CommandLog:
        return CommandLog.parse(self.log)

    def errors(self) -> list[str]:
        return self.commands.errors()

    def ampx_calls(self) -> list[dict[str, object]]:
        """How the stub CLI was called, one entry per call (STUB_AMPX_RECORD)."""
        if not self.record_file.exists():
            return []
        return [json.loads(line) for line in self.record_file.read_text().splitlines()]


def entrypoint_env(
    sim: AmplifySimulator,
    files: RunnerFiles,
    inputs: Mapping[str, str] | None = None,
    *,
    job_env: Mapping[str, str] | None = None,
    credentials: bool = True,
    declared: bool = True,
) -> dict[str, str]:
    """What the runner gives the entrypoint, with AWS pointed at `sim`."""
    env = runner_env(
        {"app-id": APP_ID, **(inputs or {})},
        files,
        declared=declared_inputs() if declared else None,
        job_env={
            "AWS_ENDPOINT_URL_AMPLIFY": sim.url,
            **aws_server.endpoints(),  # SSM, CloudFormation, STS: bootstrapped, no stack
            "npm_config_cache": str(files.root.parent / "npm-cache"),
            **(CREDENTIALS if credentials else {}),
            **(job_env or {}),
        },
    )
    env["PYTHONPATH"] = str(ROOT)
    return env


def start_entrypoint(env: Mapping[str, str], workspace: Path) -> subprocess.Popen[str]:
    """The entrypoint started as the runner starts it, left running (to cancel it or
    watch it halfway): its stdout and stderr in one text pipe, as the runner reads them."""
    return subprocess.Popen(
        list(COMMAND),
        env=dict(env),
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
