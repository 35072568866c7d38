"""What the CLI's environment promises, and the pause between retries."""

from __future__ import annotations

from pathlib import Path

from ampaction.process import child_env
from ampaction.retry import BACKOFF_CAP, backoff_seconds

WORKSPACE = Path("/github/workspace")


def test_the_cli_deploys_to_the_region_the_action_was_given():
    env = child_env(
        {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-west-2"}, "eu-west-1", WORKSPACE
    )
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"


def test_the_clis_telemetry_is_off_unless_the_job_says_otherwise():
    assert child_env({}, "eu-west-1", WORKSPACE)["AMPLIFY_DISABLE_TELEMETRY"] == "1"
    # An empty value is the job's way to keep it on.
    kept = child_env({"AMPLIFY_DISABLE_TELEMETRY": ""}, "eu-west-1", WORKSPACE)
    assert kept["AMPLIFY_DISABLE_TELEMETRY"] == ""


def test_the_backoff_between_attempts_is_capped():
    pauses = [backoff_seconds(attempt, None, left=1e9) for attempt in range(1, 40)]
    assert max(pauses) <= BACKOFF_CAP


def test_retry_after_wins_over_the_backoff_within_the_time_left():
    assert backoff_seconds(1, 20.0, left=100.0) == 20.0
    assert backoff_seconds(1, 20.0, left=5.0) == 5.0
