"""The action against the real Amplify CLI (`@aws-amplify/backend-cli` 1.10.0).

`tests/fixtures/real-cli-app` is a small Gen 2 project (storage plus a function;
test_branch_life.py deploys it into moto) with a committed lockfile. The action installs it with a real `npm ci` (npm's
cache is kept in `.cache/npm` between runs), then runs the project's own
`ampx pipeline-deploy` with every option the action can pass. No AWS is
reachable: the CLI synthesizes the backend, type-checks it, and fails at the
deploy. That is enough to prove that the real CLI accepts the action's argv,
and that its failure reaches the user as one clear `::error`.

Traffic goes to loopback only: every endpoint the CLI could reach for (the
AWS SDK's, Amplify's notices, telemetry and usage data) points at a closed
port on 127.0.0.1 (checked once with `strace -e connect`: only 127.0.0.1 and
Unix sockets), and EC2 metadata is off (the runner env sets it).

What 1.10.0 does here (seen by hand; the tests hold it):
- with its telemetry endpoint unreachable, it exits 13 after "Deployment
  failed" and never prints the cause, `--debug` or not: its telemetry upload
  promise never settles, so Node exits with "unsettled top-level await";
- with `AMPLIFY_DISABLE_TELEMETRY=1`, it prints the cause
  (`[AuthenticationError] … Caused by: [UnresolvedAccount]`) and exits 1.
So the action sets `AMPLIFY_DISABLE_TELEMETRY=1` for the CLI unless the job
sets it (an empty value keeps telemetry on, and shows the exit-13 path).

Timings seen on this 2-core machine: cold `npm ci` about 2 min, warm about
1 min; each CLI run 25-50 s (synthesis 5-11 s, type checks 15-33 s).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.action import APP_ID, ROOT
from support.fixtures import copy_project

pytestmark = pytest.mark.timeout(900)

NPM_CACHE = ROOT / ".cache" / "npm"
CLOSED_PORT = "http://127.0.0.1:9"
LOOPBACK_ONLY = {
    # Fails fast (ECONNREFUSED) instead of resolving real AWS hosts.
    "AWS_ENDPOINT_URL": CLOSED_PORT,
    # The action's checks before the deploy read SSM and CloudFormation at the tests' moto
    # (conftest); the CLI still must not resolve an account: its STS stays closed.
    "AWS_ENDPOINT_URL_STS": CLOSED_PORT,
    "AMPLIFY_BACKEND_NOTICES_ENDPOINT": f"{CLOSED_PORT}/notices.json",
    "AMPLIFY_BACKEND_TELEMETRY_TRACKING_ENDPOINT": f"{CLOSED_PORT}/telemetry",
    "AMPLIFY_BACKEND_USAGE_TRACKING_ENDPOINT": f"{CLOSED_PORT}/usage",
    "npm_config_cache": str(NPM_CACHE),
}
EVERY_OPTION = {"outputs-format": "json", "outputs-version": "1.4", "outputs-out-dir": "src"}
# The CLI is started by its file (its package.json's `ampx` bin), never by the name.
EXPECTED_ARGV = (
    f"/node_modules/@aws-amplify/backend-cli/lib/ampx.js pipeline-deploy --branch main --app-id {APP_ID} "
    "--outputs-format json --outputs-version 1.4 --outputs-out-dir=src"
)
# yargs' words when it rejects a command line.
USAGE_ERRORS = (
    "Unknown argument",
    "Invalid values",
    "Missing required argument",
    "Not enough arguments",
    "Did you mean",
)


@pytest.fixture(scope="module")
def real_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the project per module: `npm ci` runs once, the runs share it."""
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    return copy_project("real-cli-app", tmp_path_factory.mktemp("real-cli") / "workspace")


@pytest.fixture
def workspace(real_app: Path) -> Path:
    """Overrides conftest's: the shared, installed project, without a previous run's output."""
    for leftover in ("src", ".amplify"):
        shutil.rmtree(real_app / leftover, ignore_errors=True)
    return real_app


def _install(workspace: Path) -> str:
    """The first run installs; later ones reuse it (unless run alone, e.g. with -k)."""
    installed = (workspace / "node_modules" / "@aws-amplify" / "backend-cli").is_dir()
    return "false" if installed else "true"


def _assert_cli_ran_and_nothing_followed(run, sim) -> None:  # type: ignore[no-untyped-def]
    log = run.log
    assert EXPECTED_ARGV in log, log[-4000:]
    for words in USAGE_ERRORS:
        assert words not in log, f"the CLI rejected the action's argv: {words!r}\n{log[-4000:]}"
    # It got past argument parsing into the deploy itself.
    assert "Backend synthesized in" in log, log[-4000:]
    assert "Type checks completed" in log, log[-4000:]
    assert run.outputs["backend-deployed"] == "false"
    assert run.outputs["frontend-triggered"] == "false"
    assert "amplify-outputs" not in run.outputs or run.outputs["amplify-outputs"] == ""
    assert not (run.workspace / "src" / "amplify_outputs.json").exists()
    # No frontend trigger after a failed backend deploy.
    assert sim.count("Webhook") == 0
    assert sim.count("CreateWebhook") == 0
    assert sim.count("ListWebhooks") == 0
    assert "| Deploy backend | ❌" in run.summary, run.summary


def test_every_option_with_debug_fails_clearly_after_synthesis(run_action, sim, workspace):
    install = _install(workspace)
    run = run_action(
        {**EVERY_OPTION, "debug": "true", "install": install},
        job_env=LOOPBACK_ONLY,
        timeout=800,
    )
    print(f"\nreal CLI, debug, install={install}: {run.seconds:.1f} s")

    assert run.exit_code == 1, run.log[-4000:]
    assert f"{EXPECTED_ARGV} --debug" in run.log
    if install == "true":
        assert "npm ci --prefer-offline --no-audit --no-fund" in run.log
    _assert_cli_ran_and_nothing_followed(run, sim)
    # --debug was taken: the CLI's event log, down to the failed deploy.
    assert "[amplify: DEPLOY_FAILED]" in run.log
    errors = run.errors()
    assert len(errors) == 1, errors
    assert "`ampx pipeline-deploy` exited with code 1." in errors[0]
    assert "UnresolvedAccount" in errors[0]


def test_by_default_the_cli_error_reaches_the_annotation(run_action, sim, workspace):
    install = _install(workspace)
    run = run_action({**EVERY_OPTION, "install": install}, job_env=LOOPBACK_ONLY, timeout=800)
    print(f"\nreal CLI, no debug, install={install}: {run.seconds:.1f} s")

    assert run.exit_code == 1, run.log[-4000:]
    assert f"{EXPECTED_ARGV} --debug" not in run.log
    _assert_cli_ran_and_nothing_followed(run, sim)
    errors = run.errors()
    assert len(errors) == 1, errors
    assert "`ampx pipeline-deploy` exited with code 1." in errors[0]
    assert "AMPLIFY_DISABLE_TELEMETRY" not in errors[0]
    # The CLI's own cause, in the annotation (the AWS account could not be resolved).
    assert "[AuthenticationError]" in errors[0]
    assert "UnresolvedAccount" in errors[0]


def test_with_telemetry_kept_on_a_silent_exit_is_still_explained(run_action, sim, workspace):
    install = _install(workspace)
    run = run_action(
        {**EVERY_OPTION, "install": install},
        job_env={**LOOPBACK_ONLY, "AMPLIFY_DISABLE_TELEMETRY": ""},
        timeout=800,
    )
    print(f"\nreal CLI, telemetry on, install={install}: {run.seconds:.1f} s")

    assert run.exit_code == 13, run.log[-4000:]
    _assert_cli_ran_and_nothing_followed(run, sim)
    errors = run.errors()
    assert len(errors) == 1, errors
    assert "`ampx pipeline-deploy` exited with code 13" in errors[0]
    assert "AMPLIFY_DISABLE_TELEMETRY" in errors[0]
    assert "`debug: true`" in errors[0]
    assert "Type checks completed" in errors[0]  # the tail: how far it got
