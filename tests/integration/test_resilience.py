"""The promises under stress: concurrent runs, faults on every AWS call, a POST
that may or may not have arrived, cancellation, and untrusted text."""

from __future__ import annotations

import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.action import APP_ID
from support.entrypoint import entrypoint_env, start_entrypoint
from support.fixtures import copy_project, wait_for_file
from support.runner import CommandLog, RunnerFiles

OFF = {"install": "false", "deploy-backend": "false"}


def test_six_concurrent_runs_on_one_branch_converge_on_one_webhook(run_action, sim):
    # Slow creation down so that every run finds none and creates its own.
    sim.fail("CreateWebhook", 200, times=6, delay=1.5)
    with ThreadPoolExecutor(6) as pool:
        runs = list(pool.map(lambda _: run_action(OFF), range(6)))

    assert [r.exit_code for r in runs] == [0] * 6, [r.log for r in runs if r.exit_code]
    assert sim.count("CreateWebhook") >= 2  # the race really happened
    marked = [w for w in sim.webhooks(APP_ID) if w["description"] == "amplify-pipeline-deploy"]
    assert len(marked) == 1
    assert {r.outputs["webhook-id"] for r in runs} == {marked[0]["webhookId"]}
    assert sim.count("Webhook") == 6
    assert len(sim.jobs(APP_ID, "main")) == 6


def test_four_concurrent_runs_on_four_branches_make_four_webhooks(run_action, sim):
    branches = ["main", "dev", "staging", "feature/a"]
    for b in branches[1:]:
        sim.add_branch(APP_ID, b)
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda b: run_action({**OFF, "branch": b}), branches))

    assert [r.exit_code for r in runs] == [0] * 4
    assert sorted(w["branchName"] for w in sim.webhooks(APP_ID)) == sorted(branches)
    assert all(len(sim.jobs(APP_ID, b)) == 1 for b in branches)


def test_a_post_accepted_then_dropped_starts_one_build(run_action, sim):
    sim.fail("Webhook", 200, drop=True, after_effect=True)

    run = run_action(OFF)

    assert run.exit_code == 0, run.log
    assert sim.count("Webhook") == 1  # checked ListJobs instead of posting again
    assert len(sim.jobs(APP_ID, "main")) == 1
    assert "did reach Amplify" in run.log


def test_a_post_refused_before_arrival_is_sent_again(run_action, sim):
    sim.fail("Webhook", 503, times=1, retry_after=0)

    run = run_action(OFF)

    assert run.exit_code == 0, run.log
    assert sim.count("Webhook") == 2
    assert len(sim.jobs(APP_ID, "main")) == 1


@pytest.mark.parametrize(
    ("operation", "inputs"),
    [
        ("GetBranch", OFF),
        ("GetApp", {**OFF, "app-id": "d0000000000000"}),
        ("ListWebhooks", OFF),
        ("CreateWebhook", OFF),
    ],
)
def test_every_aws_call_survives_throttling_and_5xx(run_action, sim, operation, inputs):
    """ListJobs and GetJob: the same, in test_wait.py (their polls would take real minutes here)."""
    sim.fail(operation, 429)  # throttled: LimitExceededException
    sim.fail(operation, 503)

    run = run_action({**inputs, "max-attempts": "3"}, timeout=120)

    assert sim.count(operation) >= 3
    if operation == "GetApp":  # the app really is missing: the answer after retries
        assert "was not found" in run.errors()[0]
    else:
        assert run.exit_code == 0, run.log


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "BadRequestException"),
        (401, "UnauthorizedException"),
        (403, "AccessDeniedException"),
        (404, "NotFoundException"),
    ],
)
def test_errors_retrying_cannot_fix_fail_at_once(run_action, sim, status, code):
    sim.fail("ListWebhooks", status, error_type=code)

    run = run_action({**OFF, "max-attempts": "5"})

    assert run.exit_code == 1
    assert sim.count("ListWebhooks") == 1
    assert code in run.errors()[0]
    assert sim.count("Webhook") == 0
    says = {401: "did not accept the credentials", 403: "amplify:ListWebhooks"}
    assert says.get(status, "Could not list the webhooks") in run.errors()[0]


def test_a_users_own_aws_max_attempts_is_respected(run_action, sim):
    sim.fail("GetBranch", 500, times=1)
    run = run_action({**OFF, "max-attempts": "5"}, job_env={"AWS_MAX_ATTEMPTS": "1"})

    assert run.exit_code == 1
    assert sim.count("GetBranch") == 1


def test_a_child_cannot_issue_workflow_commands(run_action, sim):
    run = run_action(
        job_env={"STUB_AMPX_OUTPUT": "::error::x\n##[error]y\n::add-mask::z\n  ::warning::w"}
    )

    assert run.exit_code == 0, run.log
    assert "::error::x" in run.stdout  # printed, but inside a stop-commands block
    assert run.errors() == []
    assert run.commands.named("warning") == []
    assert "z" not in [c.message for c in run.commands.named("add-mask")]


def test_api_error_text_cannot_issue_workflow_commands(run_action, sim):
    forged = "bad\n::warning::forged\n##[error]also forged\n::add-mask::main"
    sim.fail("ListWebhooks", 400, error_type="BadRequestException", message=forged)

    run = run_action(OFF)

    (error,) = run.errors()  # one annotation, holding the text as data
    assert "::warning::forged" in error
    assert run.commands.named("warning") == []
    assert "main" not in [c.message for c in run.commands.named("add-mask")]


def _start_action(
    tmp_path: Path, sim, extra_env: dict[str, str], inputs: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], RunnerFiles]:
    workspace = copy_project("gen2-app", tmp_path / "ws")
    files = RunnerFiles(tmp_path / "runner", workspace)
    proc = start_entrypoint(entrypoint_env(sim, files, inputs, job_env=extra_env), workspace)
    return proc, files


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_deploy_reaches_the_child_and_nothing_is_triggered(tmp_path, sim, signum):
    started = tmp_path / "ampx-started"
    got = tmp_path / "ampx-signal"
    proc, files = _start_action(
        tmp_path,
        sim,
        {
            "STUB_AMPX_SLEEP": "60",
            "STUB_AMPX_STARTED": str(started),
            "STUB_AMPX_SIGNAL_RECORD": str(got),
        },
    )
    wait_for_file(started, proc, timeout=60)

    sent = time.monotonic()
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=15)
    took = time.monotonic() - sent

    assert proc.returncode != 0
    assert took < 7.5, f"exit took {took:.1f} s: the runner kills after 7.5 s"
    assert got.read_text() == signum.name  # the child itself got it, not only npx
    assert sim.count("Webhook") == 0 and sim.count("CreateWebhook") == 0
    errors = CommandLog.parse(out).errors()
    assert len(errors) == 1 and "Cancelled during deploy" in errors[0]
    assert files.outputs()["frontend-triggered"] == "false"
    # The stub is gone (a zombie left to init counts as gone: it runs nothing).
    stat = Path(f"/proc/{int(started.read_text())}/stat")
    assert not stat.exists() or stat.read_text().split(") ")[1].startswith("Z")


@pytest.mark.parametrize("pause", ["between trigger attempts", "before a wait poll"])
def test_a_cancel_cuts_a_pause_short(tmp_path, sim, pause):
    """A SIGTERM while the action sleeps (30 s asked by a 503's Retry-After, or the
    15 s before the next poll of the build) ends the run at once, exit 130."""
    if pause == "between trigger attempts":
        sim.fail("Webhook", 503, times=5, retry_after=30)
    else:
        sim.set_job_plan(APP_ID, "main", [("RUNNING", None)])  # a build that never ends
    inputs = {**OFF, "wait-for-frontend": "true", "max-attempts": "5"}
    proc, _ = _start_action(tmp_path, sim, {}, inputs)
    deadline = time.monotonic() + 60
    while sim.count("Webhook") < 1:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0]
        time.sleep(0.05)
    time.sleep(0.5)  # asleep now, the next attempt or poll seconds away
    calls = len(sim.operations())

    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=7.5)  # the runner's SIGKILL comes after 7.5 s
    finally:
        proc.kill()  # as the runner would; nothing left sleeping after the test

    assert proc.returncode == 130, out
    assert len(CommandLog.parse(out).errors()) == 1, out
    assert len(sim.operations()) == calls  # no attempt or poll after the cancel
