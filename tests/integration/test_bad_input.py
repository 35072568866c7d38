"""Bad input: one `::error` naming the input, exit 1, and nothing happens —
no install, no deploy, no AWS call at all (so none that changes anything)."""

from __future__ import annotations

import pytest

BAD = [
    ("app-id", {"app-id": ""}),
    ("app-id", {"app-id": "D1-NOT-AN-ID"}),
    ("branch", {"branch": "feature bad"}),
    ("branch", {"branch": "a..b"}),
    ("branch", {"branch": "x##[error]y"}),
    ("aws-region", {"aws-region": "mars-north"}),
    ("working-directory", {"working-directory": "../outside"}),
    ("working-directory", {"working-directory": "missing"}),
    ("working-directory", {"working-directory": "amplify"}),  # no package.json there
    ("install", {"install": "yes"}),
    ("package-manager", {"package-manager": "bun"}),
    ("deploy-backend", {"deploy-backend": "1"}),
    ("outputs-format", {"outputs-format": "yaml"}),
    ("outputs-version", {"outputs-version": "latest"}),
    ("outputs-out-dir", {"outputs-out-dir": "../../elsewhere"}),
    ("trigger-frontend", {"trigger-frontend": "on"}),
    ("frontend-branches", {"frontend-branches": " , \n "}),
    (
        "webhook-url",
        {"webhook-url": "http://webhooks.example.com/prod/webhooks?id=1&token=NOTSOSECRET"},
    ),
    ("webhook-url", {"webhook-url": "not a url at all"}),
    ("webhook-description", {"webhook-description": "two\nlines"}),
    ("wait-for-frontend", {"wait-for-frontend": "maybe"}),
    ("wait-for-frontend", {"wait-for-frontend": "true", "trigger-frontend": "false"}),
    ("wait-timeout-minutes", {"wait-timeout-minutes": "0"}),
    ("wait-timeout-minutes", {"wait-timeout-minutes": "1.5"}),
    ("max-attempts", {"max-attempts": "-1"}),
    ("max-attempts", {"max-attempts": "zero"}),
    ("dry-run", {"dry-run": "TRUEISH"}),
    ("debug", {"debug": "2"}),
]


def assert_nothing_happened(run, sim) -> None:
    assert run.exit_code == 1
    assert sim.requests == []  # not even a read
    assert run.ampx_calls() == []
    assert not (run.workspace / "node_modules").exists()
    assert run.outputs["backend-deployed"] == "false"
    assert run.outputs["frontend-triggered"] == "false"


@pytest.mark.parametrize(
    ("name", "inputs"), BAD, ids=[f"{n}={next(iter(i.values()))!r}" for n, i in BAD]
)
def test_bad_input_is_named_and_nothing_happens(run_action, sim, name, inputs):
    run = run_action(inputs)

    errors = run.errors()
    assert len(errors) == 1, run.log
    assert errors[0].startswith(f"Input `{name}`:")
    assert_nothing_happened(run, sim)


def test_missing_region_is_named(run_action, sim):
    run = run_action({"aws-region": ""}, job_env={"AWS_REGION": "", "AWS_DEFAULT_REGION": ""})

    assert [e.split(":")[0] for e in run.errors()] == ["Input `aws-region`"]
    assert_nothing_happened(run, sim)


def test_every_bad_input_is_reported_at_once(run_action, sim):
    run = run_action({"install": "nope", "max-attempts": "0", "outputs-format": "xml"})

    names = sorted(e.split("`")[1] for e in run.errors())
    assert names == ["install", "max-attempts", "outputs-format"]
    assert_nothing_happened(run, sim)


def test_a_bad_webhook_url_is_described_never_quoted(run_action, sim):
    secret = "http://webhooks.example.com/prod/webhooks?id=1&token=TOPSECRETTOKEN"
    run = run_action({"webhook-url": secret})

    assert run.exit_code == 1
    assert "TOPSECRETTOKEN" not in run.errors()[0]
    # Masked first: the runner would hide it even if a later line printed it.
    first_command = run.commands.commands[0]
    assert first_command.name == "add-mask"
    assert "TOPSECRETTOKEN" not in run.summary


def test_booleans_accept_any_case(run_action, sim):
    run = run_action({"install": "FALSE", "deploy-backend": "False", "trigger-frontend": "fAlSe"})

    assert run.exit_code == 0, run.log
    assert sim.requests == []
