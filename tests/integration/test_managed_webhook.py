"""The webhook the action finds or creates: a CreateWebhook that answered an error
but did create, and a webhook replaced by a concurrent run before the POST."""

from __future__ import annotations

import threading
import time

import boto3
from support.action import APP_ID, CREDENTIALS

OFF = {"install": "false", "deploy-backend": "false"}
MARK = "amplify-pipeline-deploy"


def test_a_create_answered_500_that_did_create_is_reported_created(run_action, sim):
    sim.fail("CreateWebhook", 500, after_effect=True)  # created, then answered 500

    run = run_action(OFF)

    assert run.exit_code == 0, run.log
    assert sim.count("CreateWebhook") == 2  # the SDK sent it again
    (kept,) = [w for w in sim.webhooks(APP_ID) if w["description"] == MARK]
    assert run.outputs["webhook-created"] == "true"
    assert run.outputs["webhook-id"] == kept["webhookId"]
    assert "Another run" not in run.log
    assert sim.count("Webhook") == 1


def test_a_webhook_replaced_before_the_post_is_looked_up_again_and_used(run_action, sim):
    old = sim.add_webhook(APP_ID, "main", MARK)
    sim.fail("ListJobs", 200, delay=2.0)  # the moment between finding it and posting
    replaced: dict[str, str] = {}

    def concurrent_run() -> None:
        while sim.count("ListWebhooks") < 1:
            time.sleep(0.05)
        client = boto3.client(
            "amplify",
            endpoint_url=sim.url,
            region_name="us-east-1",
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        client.delete_webhook(webhookId=old["webhookId"])
        replaced.update(sim.add_webhook(APP_ID, "main", MARK))

    other = threading.Thread(target=concurrent_run, daemon=True)
    other.start()
    run = run_action(OFF)
    other.join(timeout=10)

    assert run.exit_code == 0, run.log
    assert [r.status for r in sim.requests if r.operation == "Webhook"] == [403, 200]
    assert run.outputs["webhook-id"] == replaced["webhookId"]
    assert len(sim.jobs(APP_ID, "main")) == 1


def test_a_refusal_of_the_actions_own_webhook_never_advises_dropping_webhook_url(run_action, sim):
    sim.add_webhook(APP_ID, "main", MARK)
    sim.fail("Webhook", 403)

    run = run_action(OFF)

    assert run.exit_code == 1
    (error,) = run.errors()
    assert "HTTP 403" in error
    assert "webhook-url" not in error
    assert sim.count("ListWebhooks") == 2  # looked it up again once: the same one
    assert sim.count("Webhook") == 1


def test_a_created_webhook_missing_from_the_listing_is_masked_before_anything_else(run_action, sim):
    """ListWebhooks right after CreateWebhook may not list the new webhook yet: the
    URL CreateWebhook answered is the one masked, before any line after the create."""
    sim.list_new_webhooks_late(times=5)

    run = run_action(OFF)

    assert run.exit_code == 0, run.log
    (made,) = [w for w in sim.webhooks(APP_ID) if w["description"] == MARK]
    assert run.outputs["webhook-created"] == "true" and sim.count("Webhook") == 1
    lines = run.stdout.splitlines()
    mask = lines.index(f"::add-mask::{made['webhookUrl']}")
    said = [i for i, line in enumerate(lines) if "::add-mask::" not in line]
    first_after = next(i for i in said if made["webhookId"] in lines[i])  # "Webhook … (created)."
    assert mask < first_after, run.stdout


def test_the_webhooks_and_the_branchs_jobs_are_read_at_the_same_time(run_action, sim):
    """Finding the webhook and noting the branch's newest job need nothing of each other:
    one round trip instead of two. Each is held a second in the server, so that the two
    overlap when, and only when, the second is sent before the first is answered."""
    sim.add_webhook(APP_ID, "main", MARK)
    sim.fail("ListWebhooks", 200, delay=1.0)  # a delay only: it then answers
    sim.fail("ListJobs", 200, delay=1.0)

    run = run_action({**OFF, "wait-for-frontend": "true"}, timeout=90)

    assert run.exit_code == 0, run.log
    webhooks = next(r for r in sim.requests if r.operation == "ListWebhooks")
    jobs = next(r for r in sim.requests if r.operation == "ListJobs")
    assert webhooks.overlapped(jobs), (webhooks, jobs)
    assert sim.count("Webhook") == 1


def test_when_both_reads_fail_the_webhooks_error_is_the_one_shown(run_action, sim):
    """As when they were read one after the other: the webhook's lookup comes first."""
    sim.fail("ListWebhooks", 403, error_type="AccessDeniedException")
    sim.fail("ListJobs", 403, error_type="AccessDeniedException")

    run = run_action(OFF)

    assert run.exit_code == 1
    (error,) = run.errors()
    assert "list the webhooks of app" in error, error
    assert sim.count("Webhook") == 0
