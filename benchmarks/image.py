"""What the image costs a user on every job: build time, size, start-up time.

    .venv/bin/python benchmarks/image.py

- cold build from the stand-in base (`--no-cache`: the runner keeps no layer
  cache between jobs; the base itself is pulled, here imported once);
- image size minus the base's size (goal: <= 80 MB);
- time from `docker run` to the action's first line on stdout (median of 5),
  next to `docker run --entrypoint true` (docker's own overhead).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests")]

from support.action import APP_ID  # noqa: E402
from support.docker_action import (  # noqa: E402
    action_env,
    build_image,
    docker_run_args,
    engine_available,
    standin_base,
)
from support.runner import RunnerFiles  # noqa: E402

TAG = "ampaction-bench:latest"
RUNS = 5


def image_mb(image: str) -> float:
    out = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", image],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip()) / 1e6


def first_line_seconds(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds from starting `docker run` to its first stdout line (or its exit)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.readline()
    took = time.monotonic() - start
    proc.communicate(timeout=120)
    return took


def main() -> int:
    reason = engine_available()
    if reason:
        print(f"no Docker engine: {reason}")
        return 1
    base = standin_base("trixie", 24)
    with tempfile.TemporaryDirectory() as tmp:
        build_s = build_image(REPO, TAG, base, no_cache=True)

        files = RunnerFiles(root=Path(tmp) / "runner", workspace=Path(tmp) / "workspace")
        files.workspace.mkdir()
        env = action_env(
            {"app-id": APP_ID, "branch": "main", "dry-run": "true"},
            files,
            job_env={"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_AMPLIFY": "http://127.0.0.1:9"},
        )
        action_cmd = docker_run_args(TAG, env, files)
        true_cmd = docker_run_args(TAG, env, files, entrypoint="true")
        first_line_seconds(true_cmd, env)  # warm the page cache once
        action = [first_line_seconds(action_cmd, env) for _ in range(RUNS)]
        docker_only = [first_line_seconds(true_cmd, env) for _ in range(RUNS)]

    base_mb, image_total = image_mb(base), image_mb(TAG)
    print(f"base                 {base}  {base_mb:.1f} MB")
    print(f"cold build           {build_s:.1f} s  (goal < 30 s)")
    print(f"image over base      {image_total - base_mb:.1f} MB  (goal <= 80 MB)")
    print(
        f"run -> first line    {statistics.median(action):.2f} s  median of {RUNS}"
        f"  [{', '.join(f'{t:.2f}' for t in action)}]"
    )
    print(
        f"run `true` (docker)  {statistics.median(docker_only):.2f} s  median of {RUNS}"
        f"  [{', '.join(f'{t:.2f}' for t in docker_only)}]"
    )
    subprocess.run(["docker", "rmi", TAG], capture_output=True, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
