"""Flags for other CI systems: `python -m ampaction --app-id … --branch …` (and the
image's entrypoint) take every input as a flag, through the same checks as the
runner's INPUT_* variables, and a flag wins over the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from support.action import APP_ID, ROOT

DEPLOY_ARGV = ["pipeline-deploy", "--branch", "main", "--app-id", APP_ID]
# No INPUT_* at all: an empty INPUT_APP-ID counts as not given.
NO_INPUTS = {"app-id": ""}


def action_inputs() -> list[str]:
    spec = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return list(spec["inputs"])


@pytest.mark.parametrize("command", [["-m", "ampaction"], [str(ROOT / "entrypoint.py")]])
def test_help_lists_every_input_of_action_yml_and_exits_0(command):
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    done = subprocess.run(
        [sys.executable, *command, "--help"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    for name in action_inputs():
        assert f"--{name} VALUE" in done.stdout, name
    assert "::" not in done.stdout  # no workflow command, no annotation


def test_flags_alone_run_the_happy_path(run_action, sim):
    run = run_action(
        NO_INPUTS,
        declared=False,
        argv=("--app-id", APP_ID, "--branch", "main", "--frontend-branches", "main"),
    )

    assert run.exit_code == 0, run.log
    [call] = run.ampx_calls()
    assert call["argv"] == DEPLOY_ARGV
    assert not any(k.startswith("INPUT_") for k in call["env"])
    assert run.outputs["backend-deployed"] == "true"
    assert run.outputs["frontend-triggered"] == "true"
    assert len(sim.jobs(APP_ID, "main")) == 1
    assert run.errors() == []


def test_a_bad_flag_gets_the_same_error_as_the_bad_input(run_action, sim):
    by_flag = run_action(
        NO_INPUTS, declared=False, argv=("--app-id", APP_ID, "--max-attempts", "zero")
    )
    by_input = run_action({"max-attempts": "zero"})

    assert by_flag.exit_code == by_input.exit_code == 1, by_flag.log
    assert by_flag.errors() == by_input.errors()
    [error] = by_flag.errors()
    assert "max-attempts" in error
    assert "'zero'" in error
    # No side effect: nothing installed, deployed or created.
    assert by_flag.ampx_calls() == []
    assert not (by_flag.workspace / "node_modules").exists()
    assert sim.count("CreateWebhook") == 0


def test_a_flag_wins_over_the_input_variable(run_action, sim):
    run = run_action(
        {"branch": "no-such-branch", "max-attempts": "zero"},
        argv=("--branch", "main", "--max-attempts", "3"),
    )

    assert run.exit_code == 0, run.log
    [call] = run.ampx_calls()
    assert call["argv"] == DEPLOY_ARGV
    assert run.errors() == []


def test_an_unknown_flag_stops_before_anything_runs(run_action, sim):
    run = run_action(argv=("--app-idd", APP_ID))

    assert run.exit_code == 1
    (error,) = run.errors()  # one `::error`, like any bad input
    assert error.startswith("Input `command line`: unknown --app-idd")
    assert run.ampx_calls() == []
    assert sim.requests == []


def test_a_mistyped_flag_is_named_and_its_value_never_shown(run_action, sim):
    secret = "https://webhooks.amplify.us-east-1.amazonaws.com/prod/webhooks?id=1&token=TYPOTOKEN"
    run = run_action(argv=("--webhok-url", secret), declared=False, inputs={})

    assert run.exit_code == 1
    (error,) = run.errors()
    assert "--webhok-url" in error
    assert "TYPOTOKEN" not in run.stdout + run.stderr
    assert sim.requests == []


def test_the_webhook_url_flag_is_masked_first(run_action, sim):
    hook = sim.add_webhook(APP_ID, "main", "by hand")
    run = run_action(
        {"install": "false", "deploy-backend": "false"},
        argv=("--webhook-url", hook["webhookUrl"]),
    )

    assert run.exit_code == 0, run.log
    assert run.commands.commands[0].name == "add-mask"
    assert sim.count("Webhook") == 1
