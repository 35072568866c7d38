"""Malformed inputs never crash: however broken a value is, the run ends with one
`::error` naming the input, exit 1, no traceback, and its outputs written."""

from __future__ import annotations

from support.hygiene import shown_lines

TOKEN = "MALFORMEDTOKEN0123456789"


def assert_one_clean_error(run, sim, name: str) -> str:
    assert run.exit_code == 1, run.log
    assert "Traceback" not in run.log
    [error] = run.errors()
    assert error.startswith(f"Input `{name}`:"), error
    assert sim.requests == []
    assert run.outputs["backend-deployed"] == "false"  # the outputs are written
    assert run.outputs["frontend-triggered"] == "false"
    return error


def test_a_webhook_url_that_cannot_be_split_is_a_bad_input(run_action, sim):
    # urlsplit raises ValueError ("Invalid IPv6 URL") on the unclosed bracket.
    url = f"https://[webhooks.amplify.us-east-1.amazonaws.com/prod/webhooks?id=w1&token={TOKEN}"

    run = run_action({"webhook-url": url})

    error = assert_one_clean_error(run, sim, "webhook-url")
    assert TOKEN not in error
    assert TOKEN not in shown_lines(run.stdout) + shown_lines(run.stderr) + run.summary


def test_a_5000_digit_max_attempts_is_a_bad_input(run_action, sim):
    # int() refuses more than 4300 digits with a ValueError.
    run = run_action({"max-attempts": "9" * 5000})

    error = assert_one_clean_error(run, sim, "max-attempts")
    assert "from 1 to 20" in error
    assert len(error) < 300  # the value is not echoed whole


def test_a_5000_digit_wait_timeout_given_as_a_flag_is_a_bad_input(run_action, sim):
    run = run_action(argv=("--wait-timeout-minutes", "1" * 5000))

    assert_one_clean_error(run, sim, "wait-timeout-minutes")
