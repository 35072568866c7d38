"""Promises no test held before (survivors of a mutation run over ampaction/): each
test here fails when its promise breaks."""

from __future__ import annotations

from support.action import APP_ID

OFF = {"install": "false", "deploy-backend": "false"}


def test_a_webhook_url_flag_with_equals_is_masked_before_anything_is_printed(run_action, sim):
    hook = sim.add_webhook(APP_ID, "main", "given")
    url = hook["webhookUrl"]

    run = run_action(OFF, argv=(f"--webhook-url={url}",), declared=False)

    assert run.exit_code == 0, run.log
    assert sim.count("Webhook") == 1
    # The first things the action prints: the masks of the URL as given, before the
    # inputs are even checked.
    lines = run.stdout.splitlines()
    first = lines[: next(i for i, line in enumerate(lines) if not line.startswith("::add-mask::"))]
    assert f"::add-mask::{url}" in first


def test_a_cli_exiting_1_fails_the_run_and_triggers_nothing(run_action, sim):
    run = run_action(job_env={"STUB_AMPX_EXIT": "1"})

    assert run.exit_code == 1
    (error,) = run.errors()
    assert "exited with code 1" in error
    assert run.outputs["backend-deployed"] == "false"
    assert sim.count("Webhook") == 0


def test_a_branch_the_role_may_not_read_is_not_called_missing(run_action, sim):
    sim.fail("GetBranch", 403, error_type="AccessDeniedException")

    run = run_action(OFF)

    assert run.exit_code == 1
    (error,) = run.errors()
    assert "Not allowed to read branch `main`" in error and "amplify:GetBranch" in error
    assert "is not in Amplify app" not in error
    # The app is read at the same time as the branch (preflight's reads are concurrent),
    # so GetApp may be counted; nothing that changes anything follows.
    assert sim.count("CreateBranch") == 0 and sim.count("CreateWebhook") == 0
    assert sim.count("Webhook") == 0
