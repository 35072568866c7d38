"""Shared fixtures: the local Amplify server, a fresh copy of a Gen 2 project, and
`run_action`, which starts the entrypoint as a subprocess with the environment
the runner builds. After every test, the hygiene check fails the test if any
webhook token the server ever issued appears in anything the action wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))

from amplify_sim import AmplifySimulator
from fixtures import copy_project
from runner import CommandLog, RunnerFiles, runner_env

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "d1a2b3c4d5e6f7"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDTEST",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_REGION": "us-east-1",
}


def declared_inputs() -> dict[str, str]:
    """action.yml's inputs with their defaults, as the runner sets them.

    `branch` defaults to an expression the runner evaluates; here to `main`.
    `github-token` too (the job's token); here to none.
    """
    import yaml

    spec = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    declared = {name: str(i.get("default", "")) for name, i in spec["inputs"].items()}
    declared["branch"] = "main"
    declared["github-token"] = ""
    return declared


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

    @property
    def log(self) -> str:
        return self.stdout + self.stderr

    @property
    def commands(self) -> CommandLog:
        return CommandLog.parse(self.log)

    def errors(self) -> list[str]:
        return self.commands.errors()

    def ampx_calls(self) -> list[dict[str, object]]:
        if not self.record_file.exists():
            return []
        return [json.loads(line) for line in self.record_file.read_text().splitlines()]


@dataclass
class Harness:
    """Everything a test run touched, for the hygiene check."""

    sims: list[AmplifySimulator] = field(default_factory=list)
    runs: list[ActionRun] = field(default_factory=list)
    # Other secrets a test handed the action (a GitHub token): checked the same way.
    secrets: set[str] = field(default_factory=set)

    def tokens(self) -> set[str]:
        found = set(self.secrets)
        for sim in self.sims:
            for app in list(sim._apps):  # the server's own record of what it issued
                for hook in sim.webhooks(app):
                    query = dict(parse_qsl(urlsplit(hook["webhookUrl"]).query))
                    found.add(query["token"])
        return found


@pytest.fixture(autouse=True)
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    tokens = h.tokens()
    for run in h.runs:
        texts = [
            shown_lines(run.stdout),
            shown_lines(run.stderr),
            json.dumps(run.outputs),
            run.summary,
        ]
        for token in tokens:
            assert all(token not in t for t in texts), (
                "a webhook token or another secret leaked into the action's output"
            )


def shown_lines(text: str) -> str:
    """What the runner shows of a log: all but the `::add-mask::` commands it consumes
    (which it does act on only outside a stop-commands block)."""
    shown, stop = [], None
    for line in text.splitlines():
        bare = line.lstrip()
        if stop is None and bare.startswith("::stop-commands::"):
            stop = "::" + bare.removeprefix("::stop-commands::") + "::"
        elif stop is not None and bare == stop:
            stop = None
        elif stop is None and bare.startswith("::add-mask::"):
            continue
        shown.append(line)
    return "\n".join(shown)


@pytest.fixture
def sim(harness: Harness) -> Iterator[AmplifySimulator]:
    with AmplifySimulator() as server:
        server.add_app(APP_ID)
        server.add_branch(APP_ID, "main")
        harness.sims.append(server)
        yield server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return copy_project("gen2-app", tmp_path / "workspace")


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
            "npm_config_cache": str(files.root.parent / "npm-cache"),
            **(CREDENTIALS if credentials else {}),
            **(job_env or {}),
        },
    )
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture
def run_action(harness: Harness, tmp_path: Path, workspace: Path, sim: AmplifySimulator):  # type: ignore[no-untyped-def]
    """Run the entrypoint as the runner would, against `sim`, in `workspace`."""

    def run(
        inputs: Mapping[str, str] | None = None,
        *,
        job_env: Mapping[str, str] | None = None,
        credentials: bool = True,
        timeout: float = 120,
        argv: tuple[str, ...] = (),
        declared: bool = True,
    ) -> ActionRun:
        # Unique per call: concurrent runs (a thread pool) must not share output files.
        name = uuid.uuid4().hex[:8]
        files = RunnerFiles(tmp_path / f"runner-{name}", workspace)
        record = tmp_path / f"ampx-{name}.jsonl"
        env = entrypoint_env(
            sim,
            files,
            inputs,
            job_env={"STUB_AMPX_RECORD": str(record), **(job_env or {})},
            credentials=credentials,
            declared=declared,
        )
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, str(ROOT / "entrypoint.py"), *argv],
            env=env,
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = ActionRun(
            exit_code=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            outputs=files.outputs(),
            summary=files.summary(),
            seconds=time.monotonic() - start,
            workspace=workspace,
            record_file=record,
        )
        harness.runs.append(result)
        return result

    return run


def token_of(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))["token"]


@pytest.fixture(scope="session", autouse=True)
def _no_inherited_aws() -> None:
    """The test process itself must never reach for real AWS either."""
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
