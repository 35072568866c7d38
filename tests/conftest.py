"""Fixtures only (shared helpers live in the `support` package): the local Amplify
server, a fresh copy of a Gen 2 project, and `run_action`, which starts the
entrypoint as a subprocess with the environment the runner builds. After every
test, the hygiene check fails the test if any webhook token the server ever issued
appears in anything the action showed. Each test gets the marker of its folder
(`unit`, `integration`, `container`, `realcli`), and the tests that share one
Docker engine run one at a time under pytest-xdist: see tests/README.md.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import support
from support.action import APP_ID, GITHUB_TOKEN
from support.amplify_sim import AmplifySimulator
from support.cloudformation_server import CloudFormationServer
from support.docker_action import REPO, build_image, engine_available, standin_base
from support.entrypoint import COMMAND, ActionRun, entrypoint_env
from support.fixtures import copy_project
from support.github_server import GitHubServer
from support.hygiene import Harness
from support.runner import RunnerFiles

from ampaction.process import KILL_AFTER_SECONDS

TESTS = Path(__file__).resolve().parent
KINDS = ("unit", "integration", "container", "realcli", "act", "release")
# Under pytest-xdist (`-n N --dist loadgroup`) the tests of one group run one after
# another on one worker, the rest wherever a worker is free. The engine-bound kinds
# share one Docker engine: act names its containers, all of them build and tag the
# same images, and the stand-in base is built by whichever comes first.
GROUPS = {"container": "engine", "act": "engine", "release": "engine"}

# `support` must be this folder's package, not one some wheel installed.
assert Path(support.__file__).parent == TESTS / "support", support.__file__


@pytest.hookimpl(optionalhook=True)  # without xdist (the image's Python) it is not called
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: twice the cores. The tests mostly wait (on the entrypoint they start,
    npm, a simulator's scripted delays), so one worker per core leaves cores idle."""
    return 2 * (os.cpu_count() or 1)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its kind, from the folder it lives in, and its xdist group."""
    for item in items:
        parts = item.path.relative_to(TESTS).parts
        if len(parts) > 1 and parts[0] in KINDS:
            item.add_marker(parts[0])
            if parts[0] in GROUPS and not item.get_closest_marker("xdist_group"):
                item.add_marker(pytest.mark.xdist_group(GROUPS[parts[0]]))


@pytest.fixture(autouse=True)
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    leaks = h.leaks()
    assert not leaks, f"a webhook token leaked into the action's output: {leaks}"


@pytest.fixture
def cfn() -> Iterator[CloudFormationServer]:
    """moto's CloudFormation (and SSM), with the errors botocore's model defines."""
    with CloudFormationServer() as server:
        yield server


@pytest.fixture
def github(harness: Harness) -> Iterator[GitHubServer]:
    """GitHub's REST API for GITHUB_TOKEN; the hygiene check looks for the token too."""
    harness.secrets.add(GITHUB_TOKEN)
    with GitHubServer(GITHUB_TOKEN) as server:
        yield server


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
        proc = subprocess.Popen(
            [*COMMAND, *argv],
            env=env,
            cwd=workspace,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stdout, stderr = finish(proc, timeout)
        result = ActionRun(
            exit_code=proc.returncode,
            stdout=stdout,
            stderr=stderr,
            outputs=files.outputs(),
            summary=files.summary(),
            seconds=time.monotonic() - start,
            workspace=workspace,
            record_file=record,
        )
        harness.runs.append(result)
        return result

    return run


def finish(proc: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """The run's stdout and stderr. At `timeout`, cancel it as the runner does: SIGTERM,
    which the action passes to everything it started, then SIGKILL; then raise. (A bare
    kill of the entrypoint would leave its `npm ci` or CLI running into the next tests.)"""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=KILL_AFTER_SECONDS + 5)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        # Where it hung: the run's last lines, up to what the cancel printed.
        raise RunTimedOut(timeout, "\n".join(out.splitlines()[-40:])) from None


class RunTimedOut(subprocess.TimeoutExpired):
    def __init__(self, timeout: float, tail: str) -> None:
        super().__init__(list(COMMAND), timeout, output=tail)

    def __str__(self) -> str:
        return f"the run did not end within {self.timeout:.0f} s; its last lines:\n{self.output}"


@pytest.fixture(scope="session")
def action_image() -> Iterator[str]:
    """The action's image from this tree's Dockerfile on the stand-in base, built once
    per test process: the container and act tests all run this one (their `engine`
    group keeps them on one xdist worker, so once per run)."""
    reason = engine_available()
    if reason is not None:
        pytest.skip(f"NO DOCKER ENGINE, container tests not run: {reason}")
    tag = f"ampaction-test:{os.getpid()}"
    build_image(REPO, tag, standin_base("trixie", 24))  # a failing build fails, not skips
    yield tag
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)


@pytest.fixture(scope="session", autouse=True)
def _no_inherited_aws() -> None:
    """The test process itself must never reach for real AWS either."""
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
