"""What reaches a command line: values the CLI could read as flags, and the commands
the action suggests for the user to copy, quoted as a shell reads them."""

from __future__ import annotations

import shlex

import pytest
from support.action import APP_ID


@pytest.mark.parametrize("folder", ["--help", "--branch=prod"])
def test_an_outputs_folder_that_looks_like_a_flag_stays_the_folder(run_action, sim, folder):
    run = run_action({"outputs-out-dir": folder, "trigger-frontend": "false"})

    assert run.exit_code == 0, run.log
    (call,) = run.ampx_calls()
    assert folder not in call["argv"]  # never an argument of its own
    assert f"--outputs-out-dir={folder}" in call["argv"]
    assert (run.workspace / folder / "amplify_outputs.json").is_file()


def test_the_deploy_runs_the_projects_cli_file_through_npx_offline(run_action, sim):
    # By the file the CLI's package.json names, never by the name `ampx`, which npx
    # would look up in its cache when node_modules/.bin lacks it.
    run = run_action({"trigger-frontend": "false"})

    assert run.exit_code == 0, run.log
    (line,) = [line for line in run.stdout.splitlines() if " pipeline-deploy" in line]
    script = run.workspace / "vendor" / "backend-cli" / "bin" / "ampx.js"
    words = shlex.split(line.removeprefix("$ "))
    assert words[0].endswith("/npx") and words[1:4] == ["--offline", "--no-install", "--call"]
    call = shlex.split(words[4])
    assert call[:3] == ["env", "-u", "npm_config_call"]
    call = call[3:]
    # The CLI's environment: npm's user agent (how the CLI knows its package manager), and
    # not npx's own `--call`, which the CDK's `npx esbuild` would take (tests/realcli saw it).
    (cli,) = run.ampx_calls()
    assert "npm_config_call" not in cli["env"]
    assert cli["env"]["npm_config_user_agent"].startswith("npm/")
    assert call[0].endswith("/node")
    assert call[1:] == [
        str(script.resolve()),
        "pipeline-deploy",
        "--branch",
        "main",
        "--app-id",
        APP_ID,
    ]


def test_the_cli_can_run_npx_itself(run_action, sim):
    # The real CLI bundles functions with `npx esbuild`: npx's own `--call` must not
    # reach it through the environment (`npm_config_call`), or that npx fails with
    # EUSAGE and every backend with a function fails to synthesize.
    run = run_action({"trigger-frontend": "false"})

    assert run.exit_code == 0, run.log
    (call,) = run.ampx_calls()
    assert "npm_config_call" not in call["env"]
    assert call["env"]["npm_config_user_agent"].startswith("npm/")


def test_a_suggested_command_quotes_a_branch_a_shell_would_split(run_action, sim):
    branch = "feat;touch$IFS/tmp/x"

    run = run_action({"branch": branch, "install": "false", "deploy-backend": "false"})

    assert run.exit_code == 1
    (error,) = run.errors()
    command = f"aws amplify create-branch --app-id {APP_ID} --branch-name {shlex.quote(branch)}"
    assert f"`{command}`" in error
    assert shlex.split(command)[-1] == branch


def test_a_suggested_command_for_auto_build_quotes_the_branch(run_action, sim):
    branch = "feat;echo$IFS"
    sim.add_branch(APP_ID, branch, enable_auto_build=True)

    run = run_action({"branch": branch, "install": "false", "deploy-backend": "false"})

    (warning,) = [c.message for c in run.commands.named("warning")]
    assert f"--branch-name {shlex.quote(branch)} --no-enable-auto-build" in warning
