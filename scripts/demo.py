"""Run the action end to end on a sample Gen 2 project against the local Amplify
simulator, and show what a user would see: the log, the outputs, the job summary.

    bash scripts/demo.sh [--input name=value ...]

Nothing leaves this machine: boto3 talks to the simulator on 127.0.0.1, and the
sample project's `ampx` is a stand-in that records its arguments.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import aws_server  # noqa: E402
from support.amplify_sim import AmplifySimulator  # noqa: E402
from support.fixtures import copy_project  # noqa: E402
from support.runner import RunnerFiles, runner_env  # noqa: E402

APP_ID = "d1a2b3c4d5e6f7"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input of the action, e.g. --input wait-for-frontend=true",
    )
    args = parser.parse_args()
    inputs = {"app-id": APP_ID, "branch": "main"}
    inputs.update(dict(i.split("=", 1) for i in args.input))

    with tempfile.TemporaryDirectory() as tmp, AmplifySimulator() as sim:
        sim.add_app(APP_ID, name="demo-app")
        sim.add_branch(APP_ID, "main")
        sim.set_job_plan(APP_ID, "main", [("PENDING", 2.0), ("RUNNING", 10.0), ("SUCCEED", None)])
        workspace = Path(tmp) / "workspace"
        copy_project("gen2-app", workspace)
        files = RunnerFiles(Path(tmp) / "runner", workspace)
        env = runner_env(
            inputs,
            files,
            job_env={
                "AWS_ENDPOINT_URL_AMPLIFY": sim.url,
                **aws_server.endpoints(),  # SSM, CloudFormation, STS: a bootstrapped account
                "AWS_ACCESS_KEY_ID": "AKIDDEMO",
                "AWS_SECRET_ACCESS_KEY": "demo",
                "AWS_REGION": "us-east-1",
                "npm_config_cache": str(ROOT / ".cache" / "npm"),
            },
        )
        env["PYTHONPATH"] = str(ROOT)
        print(f"== Amplify simulator at {sim.url}; sample project copied to {workspace}")
        print("== The action's log, as the runner receives it:\n")
        code = subprocess.call(
            [sys.executable, str(ROOT / "entrypoint.py")], env=env, cwd=workspace
        )
        print(f"\n== Exit code: {code}")
        print("== Outputs (GITHUB_OUTPUT):")
        for name, value in files.outputs().items():
            print(f"   {name} = {value}")
        print("== Job summary (GITHUB_STEP_SUMMARY):\n")
        print(files.summary())
        print("== AWS calls the simulator saw:", ", ".join(sim.operations()))
    return code


if __name__ == "__main__":
    sys.exit(main())
