"""The artifact upload, timed: the action's streamed PUT next to `curl --upload-file`.

    .venv/bin/python benchmarks/upload.py                 # 50 MB, 5 rounds
    .venv/bin/python benchmarks/upload.py --mb 5 --rounds 2 --json out.json

A folder of incompressible files (`--mb` MB in all, like a build's images and
bundles at their worst for deflate) is zipped once by `ampaction.artifact`
(that time is printed too). The local Amplify server (tests/support/amplify_sim.py,
in this process, loopback only) hands out a deployment's pre-signed URL; both
sides `PUT` the same zip to it, interleaved (action, curl, action, curl, ...):

- **action**: `ampaction.manual_deploy.upload` (requests, the file streamed from
  disk with its Content-Length), in this process;
- **curl**: `curl --upload-file ZIP URL`, a separate process (its start counts).

The server reads every byte and keeps the last upload, checked equal to the zip.
Reported: the median seconds and MB/s of each side, and their ratio.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "support"))

import boto3  # noqa: E402
from amplify_sim import AmplifySimulator  # noqa: E402

from ampaction.artifact import prepare  # noqa: E402
from ampaction.cancellation import Cancellation  # noqa: E402
from ampaction.manual_deploy import upload  # noqa: E402
from ampaction.workflow import Workflow  # noqa: E402

APP_ID = "d1a2b3c4d5e6f7"
MB = 1024 * 1024


def make_site(folder: Path, megabytes: int) -> None:
    """`megabytes` of random files in a few folders, as a build would write them."""
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>bench</title>")
    for i in range(megabytes):
        (folder / "assets" / f"chunk-{i:03d}.bin").write_bytes(os.urandom(MB))


def upload_url(sim: AmplifySimulator) -> str:
    client = boto3.client(
        "amplify",
        region_name="us-east-1",
        endpoint_url=sim.url,
        aws_access_key_id="AKIDBENCH",
        aws_secret_access_key="bench",  # noqa: S106 - the local server's, not a secret
    )
    return str(client.create_deployment(appId=APP_ID, branchName="main")["zipUploadUrl"])


def time_action(url: str, zip_path: Path) -> float:
    start = time.perf_counter()
    upload(
        url,
        zip_path,
        workflow=Workflow(out=io.StringIO()),
        cancellation=Cancellation(),
        max_attempts=1,
    )
    return time.perf_counter() - start


def time_curl(curl: str, url: str, zip_path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [curl, "--silent", "--show-error", "--fail", "--upload-file", str(zip_path), url],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50, help="artifact size in MB (default 50)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    curl = shutil.which("curl")
    if curl is None:
        print("curl is not installed: nothing to compare with", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as scratch, AmplifySimulator() as sim:
        root = Path(scratch)
        make_site(root / "dist", args.mb)
        start = time.perf_counter()
        art = prepare(root / "dist", "dist", root)
        zip_seconds = time.perf_counter() - start
        sim.add_app(APP_ID, repository="")
        sim.add_branch(APP_ID, "main")
        url = upload_url(sim)
        expected = art.zip_path.read_bytes()

        times: dict[str, list[float]] = {"action": [], "curl": []}
        time_action(url, art.zip_path)  # warm-up: imports, disk cache
        for _ in range(args.rounds):
            times["action"].append(time_action(url, art.zip_path))
            times["curl"].append(time_curl(curl, url, art.zip_path))
        assert sim.uploads()[-1].data == expected, "the server did not get the zip"
        assert len(sim.uploads()) == 1 + 2 * args.rounds

    size_mb = art.size / MB
    medians = {side: statistics.median(t) for side, t in times.items()}
    print(f"artifact: {args.mb} MB of files → zip of {size_mb:.1f} MB in {zip_seconds:.2f} s")
    print(f"{'side':<8} {'median s':>9} {'MB/s':>8}   rounds: {args.rounds}")
    for side, seconds in medians.items():
        print(f"{side:<8} {seconds:>9.3f} {size_mb / seconds:>8.0f}")
    ratio = medians["action"] / medians["curl"]
    print(f"action / curl: {ratio:.2f} (time; below 1 is faster than curl)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "zip_mb": size_mb,
                    "zip_seconds": zip_seconds,
                    "rounds": args.rounds,
                    "seconds": times,
                    "median": medians,
                    "ratio": ratio,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
