"""pnpm and yarn for real: the action installs each fixture with the package
manager its lockfile and `packageManager` name (through corepack, which
downloads that pnpm/yarn from the npm registry once), then runs the stub CLI
through it. And npm's cache lands where actions/cache can keep it.

Needs the npm registry (corepack's first download of each pinned version).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.action import APP_ID, ROOT
from support.fixtures import FIXTURES, copy_project

CACHE = ROOT / ".cache"
# Kept outside the test's workspace so reruns are fast; the action leaves
# these alone because the job sets them.
CORE_ENV = {
    "COREPACK_HOME": str(CACHE / "corepack"),
    "npm_config_store_dir": str(CACHE / "pnpm-store"),
    "YARN_CACHE_FOLDER": str(CACHE / "yarn1-cache"),  # yarn 1
    "YARN_GLOBAL_FOLDER": str(CACHE / "yarn-berry"),  # yarn 2+: its global cache
    # Corepack fetches yarn 2+ from repo.yarnpkg.com, which this machine cannot
    # reach; the same release is on the npm registry as @yarnpkg/cli-dist.
    "COREPACK_NPM_REGISTRY": "https://registry.npmjs.org",
}
# The TLS proxy in front of the registry here: node must trust its CA.
if os.environ.get("NODE_EXTRA_CA_CERTS"):
    CORE_ENV["NODE_EXTRA_CA_CERTS"] = os.environ["NODE_EXTRA_CA_CERTS"]

DEPLOY_ARGV = ["pipeline-deploy", "--branch", "main", "--app-id", APP_ID]

# These tests share the caches above, and yarn 1's cache is not safe for two installs
# at once (yarn's own `--mutex` exists for that): under pytest-xdist they take turns.
pytestmark = pytest.mark.xdist_group("package-caches")


@pytest.fixture
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """This module's projects: `@pytest.mark.parametrize("workspace", [...], indirect=True)`."""
    return copy_project(getattr(request, "param", "pnpm-app"), tmp_path / "workspace")


@pytest.mark.parametrize(
    ("workspace", "manager", "install"),
    [
        ("pnpm-app", "pnpm", "pnpm install --frozen-lockfile"),
        ("yarn-app", "yarn", "yarn install --immutable"),
        ("yarn1-app", "yarn", "yarn install --frozen-lockfile"),
    ],
    indirect=["workspace"],
)
def test_the_lockfile_picks_the_package_manager_and_the_cli_runs_through_it(
    run_action, workspace, manager, install
):
    manifest = (workspace / "package.json").read_text()
    pinned = json.loads(manifest)["packageManager"].split("+")[0]

    run = run_action({"branch": "main"}, job_env=CORE_ENV, timeout=300)

    assert run.exit_code == 0, run.log
    assert f"corepack {install}" in run.log  # the frozen install, by corepack
    # The CLI is run by its file, through the package manager: no name to look up.
    script = (workspace / "node_modules" / "@aws-amplify" / "backend-cli").resolve()
    assert f"exec {'-- ' if manager == 'yarn' else ''}/" in run.log
    assert f"{script / 'bin' / 'ampx.js'} pipeline-deploy --branch main" in run.log
    calls = run.ampx_calls()  # recorded by the project's own stub: nothing was fetched
    assert len(calls) == 1, run.log
    assert calls[0]["argv"] == DEPLOY_ARGV
    env = calls[0]["env"]
    assert env["CI"] == "1"
    assert env["npm_config_user_agent"].startswith(pinned.replace("@", "/") + " ")
    assert run.outputs["backend-deployed"] == "true"
    assert f"| Install ({manager}) | ✅ succeeded |" in run.summary
    # Corepack did not pin anything into the user's package.json.
    assert (workspace / "package.json").read_text() == manifest


def _two_lockfiles(workspace: Path, package_manager: str | None) -> None:
    """The pnpm project with npm's lockfile beside its own."""
    (workspace / "package-lock.json").write_text(
        (FIXTURES / "gen2-app" / "package-lock.json").read_text()
    )
    data = json.loads((workspace / "package.json").read_text())
    if package_manager is None:
        del data["packageManager"]
    else:
        data["packageManager"] = package_manager
    (workspace / "package.json").write_text(json.dumps(data, indent=2) + "\n")


def test_two_lockfiles_and_no_package_manager_field_is_a_clear_error(run_action, workspace, sim):
    _two_lockfiles(workspace, None)

    run = run_action({"branch": "main"}, job_env=CORE_ENV)

    assert run.exit_code == 1, run.log
    errors = run.errors()
    assert len(errors) == 1, run.log
    assert "package-lock.json, pnpm-lock.yaml" in errors[0]
    assert "`package-manager`" in errors[0]
    assert "packageManager" in errors[0]
    assert not (workspace / "node_modules").exists()  # nothing installed
    assert run.ampx_calls() == []
    assert sim.count("CreateWebhook") == 0


def test_the_package_manager_field_settles_two_lockfiles(run_action, workspace):
    pinned = json.loads((workspace / "package.json").read_text())["packageManager"]
    _two_lockfiles(workspace, pinned)

    run = run_action({"branch": "main"}, job_env=CORE_ENV, timeout=300)

    assert run.exit_code == 0, run.log
    assert "corepack pnpm install --frozen-lockfile" in run.log
    assert run.ampx_calls()[0]["env"]["npm_config_user_agent"].startswith("pnpm/")


def test_an_input_that_contradicts_the_package_manager_field_stops_before_installing(
    run_action, workspace
):
    run = run_action({"branch": "main", "package-manager": "yarn"}, job_env=CORE_ENV)

    assert run.exit_code == 1, run.log
    [error] = run.errors()
    assert "`package-manager` is `yarn`" in error
    assert "pins `pnpm`" in error
    assert not (workspace / "node_modules").exists()
    assert run.ampx_calls() == []


@pytest.mark.parametrize("workspace", ["gen2-app"], indirect=True)
def test_npm_cache_defaults_to_a_folder_in_the_workspace_that_actions_cache_can_keep(
    run_action, workspace
):
    # An empty value is what `${{ … }}` gives when unset: the default applies.
    run = run_action({"branch": "main"}, job_env={"npm_config_cache": ""})

    assert run.exit_code == 0, run.log
    env = run.ampx_calls()[0]["env"]
    assert env["npm_config_cache"] == str(workspace / ".npm-cache")
    assert env["COREPACK_HOME"] == str(workspace / ".npm-cache" / "corepack")
    assert (workspace / ".npm-cache" / "_logs").is_dir()  # npm ci and npx used it


@pytest.mark.parametrize("workspace", ["gen2-app"], indirect=True)
def test_a_cache_folder_the_job_sets_wins(run_action, workspace, tmp_path):
    mine = tmp_path / "my-npm-cache"

    run = run_action({"branch": "main"}, job_env={"NPM_CONFIG_CACHE": str(mine)})

    assert run.exit_code == 0, run.log
    env = run.ampx_calls()[0]["env"]
    assert env["NPM_CONFIG_CACHE"] == str(mine)
    assert not (workspace / ".npm-cache").exists()


def test_corepack_and_the_pnpm_store_default_to_the_same_kept_folder(run_action, workspace):
    defaults = {
        k: v for k, v in CORE_ENV.items() if k not in ("COREPACK_HOME", "npm_config_store_dir")
    }

    run = run_action({"branch": "main"}, job_env=defaults, timeout=300)

    assert run.exit_code == 0, run.log
    kept = workspace / ".npm-cache"
    assert any((kept / "corepack").rglob("pnpm.cjs")), run.log  # the pinned pnpm, downloaded once
    assert (kept / "pnpm-store").is_dir()


@pytest.mark.parametrize("workspace", ["yarn-app"], indirect=True)
def test_yarn_runs_from_the_kept_corepack_folder_in_an_es_module_project(run_action, workspace):
    """Gen 2 apps are `"type": "module"`; corepack's yarn.js is CommonJS. With corepack's
    home inside the workspace, Node took the project's package.json as yarn.js's own and
    loaded it as an ES module ("Dynamic require of "util" is not supported")."""
    assert json.loads((workspace / "package.json").read_text())["type"] == "module"
    defaults = {k: v for k, v in CORE_ENV.items() if k != "COREPACK_HOME"}

    run = run_action({"branch": "main"}, job_env=defaults, timeout=300)

    assert run.exit_code == 0, run.log
    assert "Dynamic require" not in run.log
    assert any((workspace / ".npm-cache" / "corepack").rglob("yarn.js")), run.log
    assert run.ampx_calls(), run.log  # the CLI ran through yarn
