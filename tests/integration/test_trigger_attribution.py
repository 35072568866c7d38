"""One build per trigger, and cancellation that really stops: a lost POST whose
build Amplify lists seconds later is not sent again, and a SIGTERM ends a POST or an
AWS call still waiting for its answer."""

from __future__ import annotations

import signal
import subprocess
import time

from support.action import APP_ID
from support.entrypoint import entrypoint_env, start_entrypoint
from support.runner import CommandLog, RunnerFiles

OFF = {"install": "false", "deploy-backend": "false"}


def test_a_lost_post_whose_build_is_listed_seconds_later_starts_one_build(run_action, sim):
    sim.job_appear_delay = 6.0  # Amplify lists a webhook job some seconds after the POST
    sim.fail("Webhook", 200, drop=True, after_effect=True)

    run = run_action(OFF)

    assert run.exit_code == 0, run.log
    assert sim.count("Webhook") == 1
    assert len(sim.jobs(APP_ID, "main")) == 1
    assert "did reach Amplify" in run.log
    assert sim.count("ListJobs") >= 2  # it kept looking


def _start(tmp_path, workspace, sim, inputs):
    files = RunnerFiles(tmp_path / "runner", workspace)
    proc = start_entrypoint(entrypoint_env(sim, files, inputs), workspace)
    return proc, files


def _read_until(proc: subprocess.Popen[str], text: str) -> list[str]:
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"the action ended before printing {text!r}:\n{''.join(seen)}")


def test_a_cancel_during_a_slow_post_ends_at_once_and_says_it_may_have_started_a_build(
    tmp_path, workspace, sim
):
    sim.fail("Webhook", 200, delay=60)  # Amplify answers in a minute
    proc, files = _start(tmp_path, workspace, sim, OFF)
    before = _read_until(proc, "(created)")
    while sim.count("ListJobs") < 1:  # the snapshot of the branch's jobs; the POST is next
        assert proc.poll() is None
        time.sleep(0.1)
    time.sleep(1.0)  # the POST is on its way (its answer takes a minute)

    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)  # well before the answer would come

    assert proc.returncode == 130
    (error,) = CommandLog.parse("".join(before) + out).errors()
    assert "may have started a build" in error
    assert files.outputs()["frontend-triggered"] == "false"


def test_a_cancel_during_throttled_aws_retries_reports_the_cancel(tmp_path, workspace, sim):
    sim.fail("GetBranch", 429, times=20)  # botocore backs off for minutes in all
    proc, _files = _start(tmp_path, workspace, sim, {**OFF, "max-attempts": "20"})
    before = _read_until(proc, "Preflight")
    while sim.count("GetBranch") < 3:  # well into its retries
        assert proc.poll() is None
        time.sleep(0.2)

    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)

    assert proc.returncode == 130
    (error,) = CommandLog.parse("".join(before) + out).errors()
    assert error.startswith("Cancelled during the AWS call to read branch")
    assert sim.count("Webhook") == 0


def test_an_earlier_webhook_build_of_the_branch_is_not_taken_for_this_runs(run_action, sim):
    """The branch's history holds a failed webhook build of an earlier run: the wait
    follows the build this run's trigger started, and claims nothing of the old one."""
    sim.set_job_plan(APP_ID, "main", [("FAILED", None)])
    earlier = sim.add_job(APP_ID, "main", "WEB_HOOK")
    sim.set_job_plan(APP_ID, "main", [("RUNNING", 1.0), ("SUCCEED", None)])

    run = run_action({**OFF, "wait-for-frontend": "true"}, timeout=90)

    assert run.exit_code == 0, run.log
    assert run.outputs["job-id"] != earlier["jobId"]
    assert run.outputs["job-status"] == "SUCCEED"
    assert "uncertain" not in run.log
