"""Build the action's image and run it as the GitHub runner does.

`build_image` is the runner's `docker build` plus the one build argument the
tests need (the stand-in base); `run_action` is the runner's `docker run`
(ContainerActionHandler.cs, DockerCommandManager.cs): names-only `-e`, the
five mounts, `--workdir /github/workspace --rm`, no `--user`, no TTY.
The facts behind it: RUNNER.md. The stand-in base: standin_base.sh.

Every container a test starts carries a label of its own (`run_label`) and is removed
by it when the run ends, whatever the outcome: `--rm` alone keeps a container that
outlives its client (a test's timeout kills the client, not the container), and act
keeps a failed or cancelled job's container.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from support.runner import COVERAGE_VARIABLE, RunnerFiles, runner_env

REPO = Path(__file__).resolve().parents[2]
STANDIN_SCRIPT = Path(__file__).with_name("standin_base.sh")
CONTAINER_PATHS = {
    "workspace": "/github/workspace",
    "file_commands": "/github/file_commands",
    "home": "/github/home",
}


TEST_LABEL = "ampaction.test-run"


def run_label() -> str:
    """A label for the containers of one run, and of nothing else on the engine (other
    test runs may share it)."""
    return f"{TEST_LABEL}={uuid.uuid4().hex}"


def containers_labelled(label: str) -> list[str]:
    """The engine's containers, running or not, that carry `label`."""
    done = subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--filter", f"label={label}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def remove_containers(label: str) -> None:
    """Remove every container that carries `label` (running ones too)."""
    found = containers_labelled(label)
    if found:
        subprocess.run(["docker", "rm", "--force", *found], capture_output=True, check=False)


def run_container(
    cmd: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    label: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`docker run ...` (cmd[1] is `run`) with a label of its own; the container is
    removed when the run ends, by its exit, a failure or the timeout."""
    label = label or run_label()
    labelled = [cmd[0], cmd[1], "--label", label, *cmd[2:]]
    try:
        return subprocess.run(
            labelled, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    finally:
        remove_containers(label)


def engine_available() -> str | None:
    """None when a Docker engine answers, else why not."""
    if shutil.which("docker") is None:
        return "no `docker` client on PATH (.ci/docker.sh installs docker.io)"
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer in 30 s"
    if done.returncode != 0:
        return f"no Docker engine answers: {done.stderr.strip()[:300]}"
    return None


def standin_base(suite: str = "trixie", node_major: int = 24) -> str:
    """The local stand-in for `node:<major>-<suite>-slim`; built once, then cached."""
    done = subprocess.run(
        ["bash", str(STANDIN_SCRIPT), suite, str(node_major)],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        timeout=900,
    )
    return done.stdout.strip().splitlines()[-1]


def build_image(context: Path, tag: str, base: str, *, no_cache: bool = False) -> float:
    """`docker build` as the runner does, on `base`; returns the seconds it took."""
    cmd = ["docker", "build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}"]
    if no_cache:
        cmd.append("--no-cache")
    cmd += ["-t", tag, "-f", str(context / "Dockerfile"), str(context)]
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
    took = time.monotonic() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"docker build failed ({done.returncode}):\n"
            f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )
    return took


def docker_run_args(
    image: str,
    env: Mapping[str, str],
    files: RunnerFiles,
    *,
    network_host: bool = True,
    entrypoint: str | None = None,
    args: list[str] | None = None,
) -> list[str]:
    """The runner's `docker run` command line (values stay out of it)."""
    cmd = ["docker", "run", "--workdir", "/github/workspace", "--rm"]
    if network_host:
        cmd += ["--network", "host"]
    for name in env:
        if name not in ("GITHUB_ACTIONS", "CI"):
            cmd += ["-e", name]
    cmd += ["-e", "GITHUB_ACTIONS=true"]
    if "CI" not in env:
        cmd += ["-e", "CI=true"]
    else:
        cmd += ["-e", "CI"]
    cmd += [
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        "-v",
        f"{files.home}:/github/home",
        "-v",
        f"{files.workflow}:/github/workflow",
        "-v",
        f"{files.file_commands}:/github/file_commands",
        "-v",
        f"{files.workspace}:/github/workspace",
    ]
    if entrypoint is not None:
        cmd += ["--entrypoint", entrypoint]
    cmd.append(image)
    cmd += args or []
    return cmd


def action_env(
    inputs: Mapping[str, str],
    files: RunnerFiles,
    *,
    declared: Mapping[str, str] | None = None,
    job_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The runner's environment for the step, with paths as the container sees them.

    `runner_env` starts from the host's PATH and LANG (right for running the
    action as a process); the runner gives a container neither unless the job
    sets them, so the image's own PATH is kept, as on a real runner. The image
    has no coverage to measure with: the coverage variable stays out too."""
    env = runner_env(inputs, files, declared=declared, job_env=job_env, paths=CONTAINER_PATHS)
    for name in ("PATH", "LANG", COVERAGE_VARIABLE):
        if name not in (job_env or {}):
            env.pop(name, None)
    return env


def run_action(
    image: str,
    env: Mapping[str, str],
    files: RunnerFiles,
    *,
    network_host: bool = True,
    timeout: float = 300,
    entrypoint: str | None = None,
    args: list[str] | None = None,
    label: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the image as the runner does; its container is removed whatever the outcome. `env` is the step's environment
    (from `action_env`, or `runner.runner_env(..., paths=CONTAINER_PATHS)`);
    its values reach the container only through the `docker` client's own
    environment, as on a runner. Like the runner, the client is called by its
    absolute path, so a job's `PATH=utter-nonsense` reaches it and the
    container unchanged."""
    docker = shutil.which("docker") or "docker"
    cmd = docker_run_args(
        image, env, files, network_host=network_host, entrypoint=entrypoint, args=args
    )
    cmd[0] = docker
    client_env = dict(env)
    for keep in ("DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT"):
        if keep in os.environ:
            client_env.setdefault(keep, os.environ[keep])
    return run_container(cmd, timeout=timeout, env=client_env, label=label)
