"""Secrets other than a `token=` value stay out of the log too: AWS credentials in
debug logs, a webhook URL whose secret sits elsewhere, an error body echoing it."""

from __future__ import annotations

from conftest import APP_ID, CREDENTIALS, shown_lines

OFF = {"install": "false", "deploy-backend": "false"}
SESSION_TOKEN = "FwoGZXIvYXdzEJr//////////wEaDSessionTokenValue1234567890"


def test_debug_logs_never_show_the_aws_credentials(run_action, sim):
    run = run_action({**OFF, "debug": "true"}, job_env={"AWS_SESSION_TOKEN": SESSION_TOKEN})

    assert run.exit_code == 0, run.log
    assert "botocore" in run.log  # the request logging really was on
    shown = shown_lines(run.stdout) + shown_lines(run.stderr)
    for secret in (SESSION_TOKEN, CREDENTIALS["AWS_ACCESS_KEY_ID"]):
        assert secret not in shown
    masks = [c.message for c in run.commands.named("add-mask")]
    assert SESSION_TOKEN in masks and CREDENTIALS["AWS_ACCESS_KEY_ID"] in masks
    assert sim.count("GetBranch") == 1
    (get_branch,) = [r for r in sim.requests if r.operation == "GetBranch"]
    assert get_branch.header("X-Amz-Security-Token") == SESSION_TOKEN
    assert APP_ID in run.log
