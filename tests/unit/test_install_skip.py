"""The npm install check on hand-made node_modules: what npm leaves out for other
platforms does not count against a match; anything new in the lockfile does.
(tests/integration/test_skip_install.py runs the same with real npm.)"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ampaction import skip

HERE = skip.NodeRuntime("20.20.2", "linux", "x64")
ROOT_ENTRY = {"name": "app", "devDependencies": {"a": "1.0.0", "esbuild-ish": "1.0.0"}}
A = {"version": "1.0.0", "resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz", "dev": True}
LINUX = {"version": "1.0.0", "os": ["linux"], "optional": True, "dev": True}
DARWIN = {"version": "1.0.0", "os": ["darwin"], "optional": True, "dev": True}
ESBUILD = {"version": "1.0.0", "dev": True, "optionalDependencies": {"@x/linux": "1.0.0"}}


def project(tmp_path: Path, locked: dict[str, dict[str, object]]) -> Path:
    """A project whose node_modules holds what npm would install here (no darwin package)."""
    (tmp_path / "package.json").write_text(json.dumps(ROOT_ENTRY))
    lock = {"lockfileVersion": 3, "packages": {"": ROOT_ENTRY, **locked}}
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    installed = {k: v for k, v in locked.items() if "darwin" not in k}
    for key, entry in installed.items():
        (tmp_path / key).mkdir(parents=True)
        (tmp_path / key / "package.json").write_text(json.dumps({"version": entry["version"]}))
    hidden = {"lockfileVersion": 3, "packages": installed}
    (tmp_path / "node_modules" / ".package-lock.json").write_text(json.dumps(hidden))
    return tmp_path


BASE = {
    "node_modules/a": A,
    "node_modules/esbuild-ish": ESBUILD,
    "node_modules/@x/linux": LINUX,
    "node_modules/@x/darwin": DARWIN,
}


def test_packages_npm_left_out_for_other_platforms_still_match(tmp_path):
    root = project(tmp_path, BASE)
    skip.record_npm_install(root, HERE)
    record = json.loads((root / "node_modules" / skip.INSTALL_RECORD).read_text())
    assert record["not-installed"] == ["", "node_modules/@x/darwin"]

    current, why = skip.npm_install_current(root, HERE)

    assert current, why
    assert why == (
        "node_modules already matches package-lock.json (3 packages, installed with "
        "Node 20 on linux-x64)"
    )
    # A patch release of Node is the same Node for native packages.
    assert skip.npm_install_current(root, skip.NodeRuntime("20.1.0", "linux", "x64"))[0]


def test_a_package_added_to_the_lockfile_is_not_installed_yet(tmp_path):
    root = project(tmp_path, BASE)
    skip.record_npm_install(root, HERE)
    lock = json.loads((root / "package-lock.json").read_text())
    lock["packages"]["node_modules/@x/linux-extra"] = LINUX  # new, for this platform
    (root / "package-lock.json").write_text(json.dumps(lock))

    assert skip.npm_install_current(root, HERE) == (
        False,
        "`@x/linux-extra` in package-lock.json is not in node_modules",
    )


def test_another_platform_or_architecture_installs(tmp_path):
    root = project(tmp_path, BASE)
    skip.record_npm_install(root, HERE)

    arm = skip.npm_install_current(root, skip.NodeRuntime("20.20.2", "linux", "arm64"))
    mac = skip.npm_install_current(root, skip.NodeRuntime("20.20.2", "darwin", "x64"))

    assert arm == (
        False,
        "node_modules was installed with Node 20 on linux-x64, this is Node 20 on linux-arm64",
    )
    assert not mac[0]
    assert skip.npm_install_current(root, None) == (False, "the version of Node could not be read")


def test_a_package_changed_by_hand_or_a_root_install_script_installs(tmp_path):
    root = project(tmp_path, BASE)
    skip.record_npm_install(root, HERE)
    (root / "node_modules" / "a" / "package.json").write_text('{"version": "0.9.0"}')
    assert skip.npm_install_current(root, HERE) == (
        False,
        "`a` in node_modules is not the version npm installed",
    )

    (root / "node_modules" / "a" / "package.json").write_text('{"version": "1.0.0"}')
    manifest = {**ROOT_ENTRY, "scripts": {"postinstall": "node generate.js"}}
    (root / "package.json").write_text(json.dumps(manifest))
    assert skip.npm_install_current(root, HERE) == (
        False,
        "package.json has a `postinstall` script, which `npm ci` runs",
    )


def test_no_node_modules_says_nothing_and_a_failed_install_leaves_no_record(tmp_path):
    assert skip.npm_install_current(tmp_path, HERE) == (False, "")
    root = project(tmp_path, BASE)
    skip.record_npm_install(root, HERE)

    skip.forget_npm_install(root)  # what runs before every npm ci

    assert skip.npm_install_current(root, HERE) == (
        False,
        "node_modules was not installed by this action (no record of the install)",
    )


def test_a_bundled_package_npm_lists_but_never_unpacked_does_not_count(tmp_path):
    # Real Gen 2 lockfiles list bundled dependencies that the package's tarball
    # lacks: npm lists them as installed, and they are not on disk after `npm ci`.
    nested = "node_modules/a/node_modules/b"
    root = project(tmp_path, {**BASE, nested: {"version": "2.0.0", "inBundle": True}})
    (root / nested / "package.json").unlink()
    skip.record_npm_install(root, HERE)

    assert skip.npm_install_current(root, HERE)[0]

    # Whereas one that was there and is gone is missed, named by its whole path.
    (root / "node_modules" / "a" / "node_modules" / "b").rmdir()
    (root / "node_modules" / "esbuild-ish" / "package.json").unlink()
    assert skip.npm_install_current(root, HERE) == (
        False,
        "`esbuild-ish` is missing from node_modules",
    )
    lock = json.loads((root / "package-lock.json").read_text())
    lock["packages"][nested]["version"] = "2.0.1"
    (root / "package-lock.json").write_text(json.dumps(lock))
    assert skip.npm_install_current(root, HERE) == (
        False,
        "`a/node_modules/b` in node_modules is not the one in package-lock.json",
    )


def test_every_root_script_npm_ci_runs_stops_the_skip(tmp_path):
    root = project(tmp_path, BASE)
    skip.record_npm_install(root, HERE)
    for script in ("preinstall", "install", "postinstall", "preprepare", "prepare", "postprepare"):
        manifest = {**ROOT_ENTRY, "scripts": {script: "node generate.js"}}
        (root / "package.json").write_text(json.dumps(manifest))
        assert skip.npm_install_current(root, HERE) == (
            False,
            f"package.json has a `{script}` script, which `npm ci` runs",
        )


def with_bins(tmp_path: Path) -> Path:
    """BASE, where `a` has a bin and a nested `b` has one too, with the links npm makes."""
    nested = "node_modules/a/node_modules/b"
    a = {**A, "bin": {"a-cli": "bin/cli.js"}}
    b = {"version": "2.0.0", "bin": {"b": "b.js"}}
    root = project(tmp_path, {**BASE, "node_modules/a": a, nested: b})
    for key, file, link in [
        ("node_modules/a", "bin/cli.js", "node_modules/.bin/a-cli"),
        (nested, "b.js", "node_modules/a/node_modules/.bin/b"),
    ]:
        (root / key / file).parent.mkdir(parents=True, exist_ok=True)
        (root / key / file).write_text("#!/usr/bin/env node\n")
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        (root / link).symlink_to(Path("..") / key.rsplit("node_modules/", 1)[1] / file)
    skip.record_npm_install(root, HERE)
    assert skip.npm_install_current(root, HERE)[0]
    return root


@pytest.mark.parametrize(
    ("lose", "why"),
    [
        (
            "node_modules/.bin",
            "`node_modules/.bin/a-cli`, which npm links to `a`, is missing or broken",
        ),
        (
            "node_modules/a/node_modules/.bin/b",
            "`node_modules/a/node_modules/.bin/b`, which npm links to `a/node_modules/b`, "
            "is missing or broken",
        ),
        (
            "node_modules/a/bin/cli.js",
            "`node_modules/.bin/a-cli`, which npm links to `a`, is missing or broken",
        ),
    ],
)
def test_a_bin_link_npm_would_make_that_is_missing_installs(tmp_path, lose, why):
    # bin-links=false, or a node_modules restored without its links (or their files).
    root = with_bins(tmp_path)
    lost = root / lose
    if lost.is_dir() and not lost.is_symlink():
        shutil.rmtree(lost)
    else:
        lost.unlink()

    assert skip.npm_install_current(root, HERE) == (False, why)


def test_a_package_json_edited_or_deleted_since_the_install_installs(tmp_path):
    root = project(tmp_path, BASE)
    skip.record_npm_install(root, HERE)
    manifest = root / "node_modules" / "esbuild-ish" / "package.json"
    manifest.write_text(json.dumps({"version": "1.0.0", "main": "elsewhere.js"}))  # same version

    assert skip.npm_install_current(root, HERE) == (
        False,
        "`esbuild-ish` in node_modules is not as npm installed it (its package.json changed)",
    )

    manifest.unlink()
    assert skip.npm_install_current(root, HERE) == (
        False,
        "`esbuild-ish` is missing from node_modules",
    )
