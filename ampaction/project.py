"""The user's Gen 2 project: which package manager it uses, installing it, finding its CLI.

The Amplify CLI is the project's own `@aws-amplify/backend-cli`, started
through the project's package manager (the CLI refuses to run otherwise),
and never fetched: the npm packages named `ampx` and `amplify` are not it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ampaction.errors import ActionError
from ampaction.inputs import SYSTEM_PATH

CLI_PACKAGE = "@aws-amplify/backend-cli"
LOCKFILES = {"package-lock.json": "npm", "pnpm-lock.yaml": "pnpm", "yarn.lock": "yarn"}


@dataclass(frozen=True)
class PackageManager:
    """How to install a project and run one of its binaries."""

    name: str
    install_argv: tuple[str, ...]
    exec_prefix: tuple[str, ...]  # + ("ampx", ...) runs the project's CLI, offline

    def run_cli(self, *args: str) -> list[str]:
        return [*self.exec_prefix, "ampx", *args]


def find_tool(name: str, env: Mapping[str, str]) -> str:
    """Absolute path of `name`: on the job's PATH, else in the image's folders."""
    path = ":".join([env.get("PATH", ""), *SYSTEM_PATH])
    found = shutil.which(name, path=path)
    if not found:
        raise ActionError(
            f"`{name}` was not found on PATH or in {', '.join(SYSTEM_PATH)}.",
            title="Tool missing",
        )
    return found


def package_manager(project: Path, choice: str, env: Mapping[str, str]) -> PackageManager:
    """The package manager for `project`: the one asked for, or the lockfile's (`auto`)."""
    name = choice if choice != "auto" else detect(project)
    if name == "npm":
        # `npm ci` installs exactly the lockfile; no audit or funding chatter in CI logs.
        npm, npx = find_tool("npm", env), find_tool("npx", env)
        return PackageManager(
            "npm",
            (npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"),
            (npx, "--offline", "--no-install"),
        )
    corepack = find_tool("corepack", env)
    if name == "pnpm":
        return PackageManager(
            "pnpm",
            (corepack, "pnpm", "install", "--frozen-lockfile"),
            (corepack, "pnpm", "exec"),
        )
    berry = _yarn_berry(project)
    frozen = "--immutable" if berry else "--frozen-lockfile"
    return PackageManager(
        "yarn",
        (corepack, "yarn", "install", frozen),
        (corepack, "yarn", "run") if berry else (corepack, "yarn", "--offline"),
    )


def detect(project: Path) -> str:
    """The lockfile decides; `packageManager` in package.json settles a tie or its absence."""
    found = [pm for lock, pm in LOCKFILES.items() if (project / lock).is_file()]
    declared = str(read_package_json(project).get("packageManager", "")).split("@", 1)[0]
    if len(found) == 1:
        return found[0]
    if declared in LOCKFILES.values() and (not found or declared in found):
        return declared
    if not found:
        raise ActionError(
            f"No lockfile in `{project.name or project}` (package-lock.json, pnpm-lock.yaml or "
            "yarn.lock): commit one, so that CI installs exactly what you tested.",
            title="No lockfile",
        )
    raise ActionError(
        f"Several lockfiles ({', '.join(sorted(found))}): set `package-manager`, or add "
        '`"packageManager"` to package.json.',
        title="Which package manager?",
    )


def read_package_json(project: Path) -> dict[str, object]:
    try:
        data = json.loads((project / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ActionError(f"Cannot read package.json in the working directory: {e}") from e
    return data if isinstance(data, dict) else {}


def declares_cli(project: Path) -> bool:
    """Whether package.json lists the Amplify CLI, so an install will bring it."""
    data = read_package_json(project)
    return any(
        isinstance(data.get(section), dict) and CLI_PACKAGE in data[section]  # type: ignore[operator]
        for section in ("devDependencies", "dependencies")
    )


def cli_installed(project: Path) -> bool:
    """Whether the project's CLI is installed (node_modules, or Yarn Plug'n'Play)."""
    if (project / ".pnp.cjs").is_file():
        return declares_cli(project)
    return (project / "node_modules" / CLI_PACKAGE / "package.json").is_file()


def missing_cli_error(project_label: str, installed_checked: bool) -> ActionError:
    where = "is not installed" if installed_checked else "is not in package.json"
    return ActionError(
        f"`{CLI_PACKAGE}` {where} in `{project_label}`, so there is no `ampx` to run. "
        f"Add it: `npm install --save-dev {CLI_PACKAGE} @aws-amplify/backend`, commit the "
        "lockfile, or point `working-directory` at your Gen 2 app. (The npm packages named "
        "`ampx` and `amplify` are not the Amplify CLI; the action never fetches them.)",
        title="Amplify CLI missing",
    )


def _yarn_berry(project: Path) -> bool:
    declared = str(read_package_json(project).get("packageManager", ""))
    if declared.startswith("yarn@"):
        return not declared.startswith("yarn@1.")
    return (project / ".yarnrc.yml").is_file()
