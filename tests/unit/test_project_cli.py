"""The project's CLI is found by the file its package.json names as `ampx`, and
started by that file through the package manager, never by the name."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from ampaction import project
from ampaction.errors import ActionError

NODE = "/usr/bin/node"


def cli_package(root: Path, bin_field: object, files: tuple[str, ...] = ("lib/ampx.js",)) -> Path:
    folder = root / "node_modules" / "@aws-amplify" / "backend-cli"
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("")
    (folder / "package.json").write_text(
        json.dumps({"name": project.CLI_PACKAGE, "bin": bin_field})
    )
    return folder


def test_the_cli_is_the_file_its_bin_names(tmp_path):
    folder = cli_package(tmp_path, {"ampx": "lib/ampx.js", "amplify": "lib/ampx.js"})

    assert project.cli_script(tmp_path, "app") == (folder / "lib" / "ampx.js").resolve()


@pytest.mark.parametrize(
    ("bin_field", "why"),
    [
        ("lib/ampx.js", "names no `ampx` in `bin`"),  # a string names the bin `backend-cli`
        ({"amplify": "lib/ampx.js"}, "names no `ampx` in `bin`"),
        ({"ampx": "lib/gone.js"}, "its `ampx` bin, `lib/gone.js`, is not a file in the package"),
        ({"ampx": "../../../evil.js"}, "is not a file in the package"),
    ],
)
def test_a_broken_cli_install_is_the_missing_cli_error(tmp_path, bin_field, why):
    cli_package(tmp_path, bin_field)
    (tmp_path / "evil.js").write_text("")

    with pytest.raises(ActionError) as raised:
        project.cli_script(tmp_path, "app")

    assert "`@aws-amplify/backend-cli` is not installed in `app`" in raised.value.message
    assert why in raised.value.message


def test_no_cli_package_is_the_missing_cli_error(tmp_path):
    with pytest.raises(ActionError, match="is not installed in `app`"):
        project.cli_script(tmp_path, "app")


def test_each_package_manager_starts_the_file_and_none_names_ampx(tmp_path):
    script = Path("/w/node_modules/@aws-amplify/backend-cli/lib/ampx.js")
    args = ("pipeline-deploy", "--outputs-out-dir=a b; rm -rf ~")
    npm = project.PackageManager(
        "npm", ("npm", "ci"), ("/bin/npx", "--offline", "--no-install", "--call")
    )
    pnpm = project.PackageManager("pnpm", (), ("corepack", "pnpm", "exec"))
    yarn = project.PackageManager(
        "yarn", (), ("corepack", "yarn", "exec", "--"), ("corepack", "yarn", "run")
    )

    npm_argv = npm.run_cli(script, NODE, *args)
    assert npm_argv[:4] == ["/bin/npx", "--offline", "--no-install", "--call"]
    # One word each, for sh; npx's own `--call` is not passed on to the CLI's npx calls.
    assert shlex.split(npm_argv[4]) == ["env", "-u", "npm_config_call", NODE, str(script), *args]
    assert pnpm.run_cli(script, NODE, *args) == [
        "corepack",
        "pnpm",
        "exec",
        NODE,
        str(script),
        *args,
    ]
    assert yarn.run_cli(script, NODE, *args)[4:] == [NODE, str(script), *args]
    # Plug'n'Play has no file on disk: yarn runs its dependencies' bin by name.
    assert yarn.run_cli(None, NODE, *args) == ["corepack", "yarn", "run", "ampx", *args]
