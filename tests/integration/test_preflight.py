"""Preflight and dry-run: read-only checks that fail fast, before any child process."""

from __future__ import annotations

from support.action import APP_ID

MUTATING = {
    "CreateWebhook",
    "DeleteWebhook",
    "UpdateWebhook",
    "UpdateBranch",
    "StartJob",
    "Webhook",
}


def assert_stopped_before_anything(run, sim) -> None:
    assert run.exit_code == 1
    assert run.ampx_calls() == []
    assert not (run.workspace / "node_modules").exists()
    assert not MUTATING & set(sim.operations())
    # Fast, told without a clock (the machine may be loaded): no read was made twice,
    # so nothing was retried or polled.
    operations = sim.operations()
    assert len(operations) == len(set(operations)), operations


def test_missing_credentials_name_configure_aws_credentials(run_action, sim):
    run = run_action(credentials=False, job_env={"AWS_REGION": "us-east-1"})

    assert_stopped_before_anything(run, sim)
    (error,) = run.errors()
    assert "No AWS credentials" in error
    assert "aws-actions/configure-aws-credentials" in error and "OIDC" in error


def test_rejected_credentials_are_not_retried(run_action, sim):
    sim.rejected_access_keys.add("AKIDTEST")
    run = run_action()

    assert_stopped_before_anything(run, sim)
    assert sim.count("GetBranch") == 1
    assert "did not accept the credentials" in run.errors()[0]


def test_unknown_app_is_told_apart_from_unknown_branch(run_action, sim):
    run = run_action({"app-id": "d9z9z9z9z9z9z9"})

    assert_stopped_before_anything(run, sim)
    assert sorted(sim.operations()) == ["GetApp", "GetBranch"]  # made at the same time
    (error,) = run.errors()
    assert "Amplify app d9z9z9z9z9z9z9 was not found in region us-east-1" in error


def test_unknown_branch_says_how_to_connect_it(run_action, sim):
    run = run_action({"branch": "feature/x"})

    assert_stopped_before_anything(run, sim)
    (error,) = run.errors()
    assert "Branch `feature/x` is not in Amplify app" in error
    assert "aws amplify create-branch" in error


def test_usual_case_costs_two_reads(run_action, sim):
    """GetBranch and GetApp: its repository and build spec decide errors and warnings."""
    run = run_action({"install": "false", "deploy-backend": "false"})

    assert run.exit_code == 0, run.log
    assert sorted(sim.operations()[:2]) == ["GetApp", "GetBranch"]
    assert sim.count("GetApp") == 1


def test_the_app_and_the_branch_are_read_at_the_same_time(run_action, sim):
    """Neither read needs the other's answer: one round trip instead of two. Each is held
    in the server for a second, so that the two overlap when, and only when, the second
    is sent before the first is answered."""
    sim.fail("GetApp", status=200, delay=1.0)  # a delay only: it then answers
    sim.fail("GetBranch", status=200, delay=1.0)
    run = run_action({"install": "false", "deploy-backend": "false"})

    assert run.exit_code == 0, run.log
    (app,) = [r for r in sim.requests if r.operation == "GetApp"]
    (branch,) = [r for r in sim.requests if r.operation == "GetBranch"]
    assert app.overlapped(branch), (app, branch)


def test_a_branch_read_refused_is_said_before_a_missing_app(run_action, sim):
    """As when the two were read one after the other: GetBranch's own error comes first."""
    sim.fail("GetBranch", 403, error_type="AccessDeniedException")
    run = run_action({"app-id": "d9z9z9z9z9z9z9"})

    assert_stopped_before_anything(run, sim)
    (error,) = run.errors()
    assert "Not allowed to" in error and "AccessDeniedException" in error, error
    assert "was not found" not in error


def test_with_create_branch_a_missing_app_is_said_before_a_branch_read_refused(run_action, sim):
    """`create-branch` reads the app first (a missing branch is then no error): its
    error comes first, also when GetBranch fails too."""
    sim.fail("GetBranch", 403, error_type="AccessDeniedException")
    run = run_action({"app-id": "d9z9z9z9z9z9z9", "create-branch": "true"})

    assert_stopped_before_anything(run, sim)
    (error,) = run.errors()
    assert "Amplify app d9z9z9z9z9z9z9 was not found" in error, error


def test_a_refused_app_read_is_said_for_a_missing_branch(run_action, sim):
    """A missing branch is reported only once the app is known: when GetApp is refused,
    that refusal is what the user sees."""
    sim.fail("GetApp", 403, error_type="AccessDeniedException")
    run = run_action({"branch": "feature/x"})

    assert_stopped_before_anything(run, sim)
    (error,) = run.errors()
    assert "Not allowed to" in error and "AccessDeniedException" in error, error
    assert "is not in Amplify app" not in error


def test_auto_build_on_warns_and_the_run_goes_on(run_action, sim):
    sim.add_branch(APP_ID, "dev", enable_auto_build=True)
    run = run_action({"branch": "dev"})

    assert run.exit_code == 0, run.log
    warnings = [c.message for c in run.commands.named("warning")]
    assert len(warnings) == 1 and "Auto-build is on for branch `dev`" in warnings[0]
    assert "--no-enable-auto-build" in warnings[0]
    assert sim.count("Webhook") == 1


def test_throttled_and_failing_reads_are_retried_within_max_attempts(run_action, sim):
    sim.fail("GetBranch", 429, times=1)
    sim.fail("GetBranch", 500, times=1)
    run = run_action({"install": "false", "deploy-backend": "false", "max-attempts": "3"})

    assert run.exit_code == 0, run.log
    assert sim.count("GetBranch") == 3


def test_dry_run_plans_without_changing_or_running_anything(run_action, sim):
    existing = sim.add_webhook(APP_ID, "main", "amplify-pipeline-deploy")
    run = run_action({"dry-run": "true", "outputs-format": "json"})

    assert run.exit_code == 0, run.log
    assert run.ampx_calls() == []
    assert not (run.workspace / "node_modules").exists()
    assert not MUTATING & set(sim.operations())
    assert "npm ci --prefer-offline --no-audit --no-fund" in run.log
    assert f"ampx pipeline-deploy --branch main --app-id {APP_ID} --outputs-format json" in run.log
    assert f"reuse webhook {existing['webhookId']}" in run.log
    assert run.outputs["frontend-triggered"] == "false"
    assert "📝 planned" in run.summary


def test_dry_run_says_it_would_create_a_webhook_and_why_not_trigger(run_action, sim):
    run = run_action({"dry-run": "true"})
    assert "create a webhook marked `amplify-pipeline-deploy`" in run.log

    sim.add_branch(APP_ID, "dev")
    run = run_action({"dry-run": "true", "branch": "dev", "frontend-branches": "main"})
    assert "not triggered (branch `dev` matches no `frontend-branches` pattern)" in run.log
    assert not MUTATING & set(sim.operations())
