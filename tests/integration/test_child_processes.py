"""What a child process leaves behind cannot hold the step: a background process
holding its output, or one that ignores SIGTERM when the run is cancelled, however
much it prints."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from support.entrypoint import entrypoint_env, start_entrypoint
from support.fixtures import copy_project, wait_for_file
from support.runner import CommandLog, RunnerFiles

from ampaction.process import KILL_AFTER_SECONDS


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and not stat.read_text().split(") ")[1].startswith("Z")


@pytest.fixture
def leftover(tmp_path):
    """The pid file of the background process the stub CLI leaves; killed after the test."""
    pid_file = tmp_path / "background.pid"
    yield pid_file
    if pid_file.exists() and _alive(int(pid_file.read_text())):
        os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_a_background_process_holding_the_output_does_not_hold_the_step(run_action, sim, leftover):
    run = run_action(
        {"wait-for-frontend": "false"},
        job_env={"STUB_AMPX_BACKGROUND": "hold", "STUB_AMPX_BACKGROUND_PID": str(leftover)},
        timeout=100,  # the leftover sleeps 300 s: the run must not wait for it
    )

    assert run.exit_code == 0, run.log
    assert _alive(int(leftover.read_text()))  # it was still holding the output
    assert run.outputs["backend-deployed"] == "true"
    assert sim.count("Webhook") == 1


def _deploy_leaving(tmp_path, sim, leftover, background: str):
    """A run whose CLI starts a `background` leftover (its pid in `leftover`), then sleeps:
    the run, and the file the CLI writes once it started."""
    started = tmp_path / "ampx-started"
    workspace = copy_project("gen2-app", tmp_path / "ws")
    job_env = {
        "STUB_AMPX_SLEEP": "60",
        "STUB_AMPX_STARTED": str(started),
        "STUB_AMPX_BACKGROUND": background,
        "STUB_AMPX_BACKGROUND_PID": str(leftover),
    }
    files = RunnerFiles(tmp_path / "runner", workspace)
    return start_entrypoint(entrypoint_env(sim, files, job_env=job_env), workspace), started


def test_a_cancelled_run_kills_what_ignores_sigterm_and_exits_130(tmp_path, sim, leftover):
    proc, started = _deploy_leaving(tmp_path, sim, leftover, "ignore-term")
    wait_for_file(started, proc, timeout=60)
    wait_for_file(leftover, proc, timeout=10)

    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)  # the leftover would hold it 300 s

    assert proc.returncode == 130
    (error,) = CommandLog.parse(out).errors()
    assert "Cancelled during deploy" in error
    assert not _alive(int(leftover.read_text()))
    assert sim.count("Webhook") == 0


def test_a_chatty_leftover_does_not_hold_the_step(run_action, sim, leftover):
    run = run_action(
        {"wait-for-frontend": "false"},
        job_env={"STUB_AMPX_BACKGROUND": "chatty", "STUB_AMPX_BACKGROUND_PID": str(leftover)},
        timeout=100,  # the leftover prints forever: the run must stop reading it
    )

    assert run.exit_code == 0, run.log
    assert "still here" in run.log  # it was printing while the CLI ran
    assert run.outputs["backend-deployed"] == "true"


def test_a_chatty_leftover_that_ignores_sigterm_is_killed_within_the_grace(tmp_path, sim, leftover):
    proc, started = _deploy_leaving(tmp_path, sim, leftover, "chatty")
    try:
        wait_for_file(started, proc, timeout=60)
        wait_for_file(leftover, proc, timeout=10)

        proc.send_signal(signal.SIGTERM)
        # The grace the child gets, plus room for the exit; the runner kills at 7.5 s.
        out, _ = proc.communicate(timeout=KILL_AFTER_SECONDS + 2)
    finally:
        proc.kill()

    assert proc.returncode == 130
    (error,) = CommandLog.parse(out).errors()
    assert "Cancelled during deploy" in error
    assert not _alive(int(leftover.read_text()))


def test_a_run_the_harness_gives_up_on_leaves_nothing_running(run_action, leftover):
    """The harness's own timeout cancels the run as the runner does (SIGTERM, then
    SIGKILL), so a hung run leaves no CLI or install behind to load the next tests."""
    with pytest.raises(subprocess.TimeoutExpired):
        run_action(
            {"wait-for-frontend": "false"},
            job_env={
                "STUB_AMPX_SLEEP": "120",
                "STUB_AMPX_BACKGROUND": "hold",
                "STUB_AMPX_BACKGROUND_PID": str(leftover),
            },
            timeout=10,
        )

    assert leftover.exists(), "the CLI had started its leftover before the timeout"
    assert not _alive(int(leftover.read_text()))
