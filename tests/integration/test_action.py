"""The action end to end: the entrypoint as a subprocess, with the runner's
environment, real `npm ci` on a fixture project with a stub CLI, real boto3
against the local Amplify server, and real HTTP POSTs to its webhook endpoint."""

from __future__ import annotations

from support.action import APP_ID
from support.hygiene import token_of


def test_happy_path_deploys_creates_webhook_and_triggers_one_build(run_action, sim):
    run = run_action({"branch": "main"})

    assert run.exit_code == 0, run.log
    calls = run.ampx_calls()
    assert len(calls) == 1
    assert calls[0]["argv"] == ["pipeline-deploy", "--branch", "main", "--app-id", APP_ID]
    assert calls[0]["env"]["CI"] == "1"
    assert not any(k.startswith("INPUT_") for k in calls[0]["env"])
    assert sim.count("CreateWebhook") == 1
    assert sim.count("Webhook") == 1
    post = next(r for r in sim.requests if r.operation == "Webhook")
    assert post.body == {}
    assert post.query.get("operation") == "startbuild"
    assert len(sim.jobs(APP_ID, "main")) == 1
    hook = sim.webhooks(APP_ID)[0]
    assert run.outputs["backend-deployed"] == "true"
    assert run.outputs["frontend-triggered"] == "true"
    assert run.outputs["webhook-created"] == "true"
    assert run.outputs["webhook-id"] == hook["webhookId"]
    assert run.outputs["amplify-outputs"] == "amplify_outputs.json"
    assert run.errors() == []
    assert "| Deploy backend | ✅ succeeded |" in run.summary
    # The URL is masked before anything else could print it.
    masks = run.commands.named("add-mask")
    assert token_of(hook["webhookUrl"]) in [m.message for m in masks]


def test_existing_marked_webhook_on_the_third_page_is_reused(run_action, sim):
    sim.page_size_cap = 2  # fewer than the action asks for, with a nextToken
    for i in range(4):  # pages 1 and 2: other branches, and unmarked ones on ours
        sim.add_branch(APP_ID, f"other-{i}")
        sim.add_webhook(APP_ID, f"other-{i}", "amplify-pipeline-deploy")
    sim.add_webhook(APP_ID, "main", "made by hand")
    marked = sim.add_webhook(APP_ID, "main", "amplify-pipeline-deploy")
    assert [w["webhookId"] for w in sim.webhooks(APP_ID)].index(marked["webhookId"]) >= 4

    run = run_action({"branch": "main", "install": "false", "deploy-backend": "false"})

    assert run.exit_code == 0, run.log
    assert sim.count("CreateWebhook") == 0
    assert sim.count("ListWebhooks") == 3
    assert run.outputs["webhook-id"] == marked["webhookId"]
    assert run.outputs["webhook-created"] == "false"
    assert sim.count("Webhook") == 1


def test_branch_matching_no_frontend_pattern_deploys_but_does_not_trigger(run_action, sim):
    sim.add_branch(APP_ID, "feature/login")
    run = run_action({"branch": "feature/login", "frontend-branches": "main\nrelease/*"})

    assert run.exit_code == 0, run.log
    assert len(run.ampx_calls()) == 1
    webhook_calls = [op for op in sim.operations() if "Webhook" in op]
    assert webhook_calls == []
    assert run.outputs["frontend-triggered"] == "false"
    assert "matches no `frontend-branches` pattern" in run.log


def test_frontend_pattern_with_glob_matches_nested_branch(run_action, sim):
    sim.add_branch(APP_ID, "release/2026.11")
    run = run_action({"branch": "release/2026.11", "frontend-branches": "main, release/*"})

    assert run.exit_code == 0, run.log
    assert sim.count("Webhook") == 1


def test_backend_failure_fails_with_its_exit_code_and_triggers_nothing(run_action, sim):
    run = run_action(job_env={"STUB_AMPX_EXIT": "3", "STUB_AMPX_ERROR": "[CDKError] stack failed"})

    assert run.exit_code == 3
    errors = run.errors()
    assert len(errors) == 1
    assert "exited with code 3" in errors[0]
    assert "[CDKError] stack failed" in errors[0]  # the tail of its output
    assert [op for op in sim.operations() if "Webhook" in op] == []
    assert run.outputs["backend-deployed"] == "false"
    assert "| Deploy backend | ❌ failed |" in run.summary
    assert "Open the `Deploy backend` log group above" in run.summary


def test_project_without_the_cli_is_stopped_before_anything_is_fetched(
    run_action, sim, tmp_path, workspace
):
    import shutil

    from support.fixtures import copy_project
    from support.registry_spy import RegistrySpy

    shutil.rmtree(workspace)
    copy_project("no-cli-app", workspace)
    with RegistrySpy() as registry:
        run = run_action(job_env={"npm_config_registry": registry.url})

    assert run.exit_code == 1
    errors = run.errors()
    assert len(errors) == 1
    assert "`@aws-amplify/backend-cli` is not in package.json" in errors[0]
    assert registry.requests == []
    assert not (workspace / "node_modules").exists()
    assert sim.requests == []  # known from package.json alone: not even a read


def test_installed_project_missing_the_cli_is_never_fetched(run_action, sim, workspace):
    """`install: false` on a project whose node_modules lacks the CLI: npx must not
    fetch the unrelated `ampx` package; the action stops before invoking anything."""
    from support.registry_spy import RegistrySpy

    with RegistrySpy() as registry:
        run = run_action({"install": "false"}, job_env={"npm_config_registry": registry.url})

    assert run.exit_code == 1
    assert "`@aws-amplify/backend-cli` is not installed" in run.errors()[0]
    assert run.ampx_calls() == []
    assert registry.requests == []


def test_faults_are_survived_with_exactly_one_build(run_action, sim):
    sim.fail("ListWebhooks", 429, times=2, retry_after=1)
    sim.fail("CreateWebhook", 500)
    sim.fail("Webhook", 503, times=2, retry_after=0)

    run = run_action({"install": "false", "deploy-backend": "false"})

    assert run.exit_code == 0, run.log
    assert sim.count("Webhook") == 3
    assert len(sim.jobs(APP_ID, "main")) == 1
    assert len(sim.webhooks(APP_ID)) == 1
    assert run.outputs["frontend-triggered"] == "true"


def test_a_400_on_the_trigger_is_not_retried(run_action, sim):
    sim.fail("Webhook", 400)

    run = run_action({"install": "false", "deploy-backend": "false", "max-attempts": "5"})

    assert run.exit_code == 1
    assert sim.count("Webhook") == 1
    assert "HTTP 400" in run.errors()[0]
    assert run.outputs["frontend-triggered"] == "false"


def test_a_failed_trigger_after_a_deploy_says_the_backend_is_deployed(run_action, sim):
    sim.fail("Webhook", 404)

    run = run_action()

    assert run.exit_code == 1
    assert run.outputs["backend-deployed"] == "true"
    assert "The backend is deployed but no frontend build was started" in run.summary


def test_retries_stop_at_max_attempts(run_action, sim):
    sim.fail("Webhook", 503, times=10, retry_after=0)

    run = run_action({"install": "false", "deploy-backend": "false", "max-attempts": "3"})

    assert run.exit_code == 1
    assert sim.count("Webhook") == 3
    assert "after 3 attempts" in run.errors()[0]


def test_given_webhook_url_skips_find_or_create_and_is_never_shown(run_action, sim):
    hook = sim.add_webhook(APP_ID, "main", "made by hand")
    sim.clear_requests()

    run = run_action(
        {"install": "false", "deploy-backend": "false", "webhook-url": hook["webhookUrl"]}
    )

    assert run.exit_code == 0, run.log
    assert [op for op in sim.operations() if op != "Webhook"] == []
    assert sim.count("Webhook") == 1
    assert run.outputs["webhook-id"] == hook["webhookId"]
    assert run.outputs["webhook-created"] == "false"


def test_wait_for_frontend_reports_the_job(run_action, sim):
    sim.set_job_plan(APP_ID, "main", [("PENDING", 1.0), ("RUNNING", 2.0), ("SUCCEED", None)])
    run = run_action({"wait-for-frontend": "true"}, timeout=90)

    assert run.exit_code == 0, run.log
    assert run.outputs["job-id"] == "1"
    assert run.outputs["job-status"] == "SUCCEED"
    assert run.outputs["job-url"].endswith(f"/apps/{APP_ID}/branches/main/deployments")
    assert "Frontend job: `1`, SUCCEED" in run.summary


def test_debug_mode_and_failures_never_show_the_token(run_action, sim):
    """Every library's debug log on, a retry, a POST whose answer was lost, then (a second
    run) a refusal: the hygiene check (conftest) fails this test if the token shows
    anywhere but a mask command. The lost answer's build is listed at once, so the run
    takes it for its own instead of looking for 60 s before posting again."""
    sim.fail("Webhook", 503, times=1, retry_after=0)
    sim.fail("Webhook", 200, drop=True, after_effect=True)  # the build started; no answer
    debug = {"inputs": {"debug": "true", "max-attempts": "5"}, "job_env": {"RUNNER_DEBUG": "1"}}

    lost = run_action(debug["inputs"], job_env=debug["job_env"])

    assert lost.exit_code == 0, lost.log
    assert "--debug" in lost.ampx_calls()[0]["argv"]
    assert "botocore" in lost.log  # the SDK's debug log was really on
    assert "got no clear answer" in lost.log and "The earlier POST did reach Amplify" in lost.log
    assert len(sim.jobs(APP_ID, "main")) == 1, "the lost POST's build, and no second one"
    token = token_of(sim.webhooks(APP_ID)[0]["webhookUrl"])
    assert token in lost.stdout  # it was there to leak: in the mask commands only

    sim.fail("Webhook", 403)
    refused = run_action(debug["inputs"], job_env=debug["job_env"])

    assert refused.exit_code == 1
    assert "HTTP 403" in refused.errors()[0]
    assert token in refused.stdout
