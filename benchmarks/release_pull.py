"""What a prebuilt image saves a user on every job: pulled by digest vs built from the Dockerfile.

    .venv/bin/python benchmarks/release_pull.py [--runs 3]

Both paths start where the runner starts the step, on an engine without the
action's image, and end at the action's first line on stdout:
- pull: `docker pull REGISTRY/NAME@sha256:...` from a registry on 127.0.0.1,
  then the runner's `docker run` (what `image: docker://...` makes the runner do);
- build: `docker build --no-cache` of the Dockerfile (what `image: Dockerfile`
  makes the runner do; hosted runners keep no layer cache), then the same `docker run`.
The base image is on the engine for both (here it cannot be pulled), so neither
time includes fetching the base: on a hosted runner the build also pulls the base,
and the pull also downloads the base's layers. Goal: pull <= a fifth of build.
Also prints the image's compressed size as the registry stores it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests")]

from support.docker_action import (  # noqa: E402
    action_env,
    build_image,
    docker_run_args,
    engine_available,
    standin_base,
)
from support.registry import LocalRegistry, registry_available  # noqa: E402
from support.runner import RunnerFiles  # noqa: E402

NAME = "ampaction-bench-pull"


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def remove_image(ref: str) -> None:
    """Remove `ref` and every tag of its image, so the engine no longer has it."""
    found = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", ref],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode == 0:
        subprocess.run(
            ["docker", "rmi", "-f", found.stdout.strip()], capture_output=True, check=False
        )
    still = subprocess.run(["docker", "image", "inspect", ref], capture_output=True, check=False)
    assert still.returncode != 0, f"{ref} is still on the engine"


def until_first_line(cmd: list[str], env: dict[str, str]) -> float:
    """Run `cmd` (the runner's `docker run`) to its first stdout line; seconds taken."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    took = time.monotonic() - start
    proc.communicate(timeout=120)
    assert first, "the action printed nothing"
    return took


def publish(registry: LocalRegistry, base: str) -> str:
    """Build once, push, and return the reference by digest as the registry serves it."""
    tag = f"{registry.address}/{NAME}:bench"
    build_image(REPO, tag, base)
    docker("push", tag)
    body, _ = registry.manifest(NAME, "bench")
    return f"{registry.address}/{NAME}@sha256:{hashlib.sha256(body).hexdigest()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each path (median shown)")
    runs = parser.parse_args().runs
    for reason in (engine_available(), registry_available()):
        if reason:
            print(f"cannot run: {reason}")
            return 1
    base = standin_base("trixie", 24)
    with tempfile.TemporaryDirectory() as tmp, LocalRegistry(Path(tmp) / "registry") as registry:
        digest_ref = publish(registry, base)
        layers = registry.layer_sizes(NAME, digest_ref.split("@")[1])
        in_base = len(
            json.loads(docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", base))
        )
        files = RunnerFiles(root=Path(tmp) / "runner", workspace=Path(tmp) / "workspace")
        files.workspace.mkdir()
        env = action_env(
            {"app-id": "d1a2b3c4d5e6f7", "branch": "main", "dry-run": "true"},
            files,
            job_env={"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_AMPLIFY": "http://127.0.0.1:9"},
        )
        pulled, built = [], []
        for _ in range(runs):
            remove_image(digest_ref)
            start = time.monotonic()
            docker("pull", digest_ref)
            pull_s = time.monotonic() - start
            pulled.append(pull_s + until_first_line(docker_run_args(digest_ref, env, files), env))
            remove_image(digest_ref)
            build_tag = f"{NAME}-built:bench"
            took = build_image(REPO, build_tag, base, no_cache=True)
            built.append(took + until_first_line(docker_run_args(build_tag, env, files), env))
            remove_image(build_tag)
        remove_image(digest_ref)

    pull_s, build_s = statistics.median(pulled), statistics.median(built)
    print(f"image            {digest_ref}")
    print(f"compressed size  {sum(layers) / 1e6:.1f} MB  (layers in the registry's manifest)")
    print(
        f"  of which         {sum(layers[in_base:]) / 1e6:.1f} MB above the base: what the"
        " pull downloaded here, where the base is already on the engine"
    )
    print(f"pull + run       {pull_s:.2f} s  median of {runs}  [{fmt(pulled)}]")
    print(f"build + run      {build_s:.2f} s  median of {runs}  [{fmt(built)}]")
    print(f"pull / build     {pull_s / build_s:.3f}  (goal <= 0.2)")
    return 0


def fmt(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    sys.exit(main())
