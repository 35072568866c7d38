"""Secrets other than a `token=` value stay out of the log too: AWS credentials in
debug logs, a webhook URL whose secret sits elsewhere, an error body echoing it."""

from __future__ import annotations

from support.action import APP_ID, CREDENTIALS
from support.hygiene import shown_lines, token_of

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


def test_a_secret_in_another_query_value_stays_out_of_debug_logs(run_action, sim):
    hook = sim.add_webhook(APP_ID, "main", "given")
    signature = "sig-0123456789abcdef0123456789abcdef"
    url = f"{hook['webhookUrl']}&signature={signature}"

    run = run_action({**OFF, "webhook-url": url, "debug": "true"})

    assert run.exit_code == 0, run.log
    assert "/prod/webhooks?" in run.log  # urllib3 logged the request line
    assert signature not in shown_lines(run.stdout) + shown_lines(run.stderr)


def test_a_secret_in_the_path_stays_out_of_the_error_and_the_log(run_action, sim):
    hook = sim.add_webhook(APP_ID, "main", "given")
    secret = "pathsecret0123456789abcdef"
    url = hook["webhookUrl"].replace("/prod/webhooks?", f"/prod/webhooks/{secret}?")

    run = run_action({**OFF, "webhook-url": url, "debug": "true"})

    assert run.exit_code == 1
    (error,) = run.errors()
    assert "HTTP 404" in error  # the simulator echoed the path it did not know
    for text in (shown_lines(run.stdout), shown_lines(run.stderr), run.summary):
        assert secret not in text


def test_a_refusal_body_is_redacted_before_it_is_cut(run_action, sim):
    hook = sim.add_webhook(APP_ID, "main", "given")
    token = token_of(hook["webhookUrl"])
    # The token straddles the 300th character of the body that the error quotes.
    sim.fail("Webhook", 400, message="x" * 270 + f" token {token} echoed")

    run = run_action({**OFF, "webhook-url": hook["webhookUrl"]})

    assert run.exit_code == 1
    (error,) = run.errors()
    assert "HTTP 400" in error and "xxxxx" in error
    for text in (error, run.summary):
        assert token[:8] not in text
