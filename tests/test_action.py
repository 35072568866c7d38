"""The action end to end: the entrypoint as a subprocess, with the runner's
environment, real `npm ci` on a fixture project with a stub CLI, real boto3
against the local Amplify server, and real HTTP POSTs to its webhook endpoint."""

from __future__ import annotations

from conftest import APP_ID, token_of


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
