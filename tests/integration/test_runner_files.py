"""The runner's files as a step may find them: a GITHUB_OUTPUT whose folder is gone
is one clear error, and the rest of the report still goes out."""

from __future__ import annotations

import subprocess
import sys

from support.action import ROOT
from support.entrypoint import entrypoint_env
from support.runner import CommandLog, RunnerFiles

OFF = {"install": "false", "deploy-backend": "false"}


def test_an_unwritable_output_file_is_one_error_and_the_summary_is_still_written(
    tmp_path, workspace, sim
):
    files = RunnerFiles(tmp_path / "runner", workspace)
    env = entrypoint_env(sim, files, OFF)
    env["GITHUB_OUTPUT"] = str(tmp_path / "gone" / "set_output_0")

    proc = subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py")],
        env=env,
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert "Traceback" not in proc.stdout + proc.stderr
    (error,) = CommandLog.parse(proc.stdout).errors()
    assert "Could not write the step's outputs" in error and "gone" in error
    assert proc.returncode == 1
    assert sim.count("Webhook") == 1  # the run itself went through
    assert "output frontend-triggered=true" in proc.stdout  # the values are in the log
    assert "| Trigger frontend build | ✅ succeeded |" in files.summary()
