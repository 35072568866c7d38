"""The user's Gen 2 project: which package manager it uses, installing it, finding its CLI.

The Amplify CLI is the project's own `@aws-amplify/backend-cli`, started
through the project's package manager (the CLI refuses to run otherwise: it
reads which one from `npm_config_user_agent`, and runs `npx`, `pnpm` or `yarn`
with it), and never fetched. It is started by its file, not by the name `ampx`:
npx answers a name missing from node_modules/.bin with whatever its cache holds
under it, and the npm packages named `ampx` and `amplify` are not the CLI.
"""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ampaction.errors import ActionError
from ampaction.process import PNPM_STORE_SETTINGS, SYSTEM_PATH, job_sets

CLI_PACKAGE = "@aws-amplify/backend-cli"
LOCKFILES = {"package-lock.json": "npm", "pnpm-lock.yaml": "pnpm", "yarn.lock": "yarn"}


@dataclass(frozen=True)
class PackageManager:
    """How to install a project and run one of its binaries."""

    name: str
    install_argv: tuple[str, ...]
    exec_prefix: tuple[str, ...]  # + a command: runs it as the package manager runs scripts
    bin_prefix: tuple[str, ...] = ()  # + a name: runs a dependency's bin (Yarn Plug'n'Play)

    def run_cli(self, script: Path | None, node: str, *args: str) -> list[str]:
        """The project's CLI (`script`, from `cli_script`) run by `node` with `args`,
        started by the package manager, so that the CLI knows which one it is."""
        if script is None:  # Plug'n'Play: no file on disk; yarn runs only its dependencies' bins
            return [*self.bin_prefix, "ampx", *args]
        command = [node, str(script), *args]
        if self.name == "npm":
            # `npx --call` runs a command line and resolves no package name. npx also
            # exports its `--call` as `npm_config_call`, and every `npx` the CLI runs
            # itself (the CDK bundles functions with `npx esbuild`) would take it and
            # fail (EUSAGE): the command drops it first.
            return [*self.exec_prefix, shlex.join(["env", "-u", "npm_config_call", *command])]
        return [*self.exec_prefix, *command]

    @property
    def install_command(self) -> str:
        """The install as a user would type it: `pnpm install --frozen-lockfile`."""
        # Where pnpm keeps its store is the action's setting, not part of the command.
        words = tuple(w for w in self.install_argv[1:] if not w.startswith("--store-dir="))
        if words and words[0] == self.name:  # `corepack pnpm …`
            words = words[1:]
        return shlex.join([self.name, *words])


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


def package_manager(
    project: Path, choice: str, env: Mapping[str, str], pnpm_store: Path | None = None
) -> PackageManager:
    """The package manager for `project`: the one asked for, or the lockfile's (`auto`).

    pnpm and yarn run through corepack (shipped with Node), which starts the
    version pinned in package.json's `packageManager`, downloading it once.
    pnpm's install gets `pnpm_store` as its store unless the job sets one.
    """
    name = choice if choice != "auto" else detect(project)
    if name == "npm":
        # `npm ci` installs exactly the lockfile; --prefer-offline takes what the
        # cache holds without asking the registry; no audit or funding chatter.
        npm, npx = find_tool("npm", env), find_tool("npx", env)
        return PackageManager(
            "npm",
            (npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"),
            (npx, "--offline", "--no-install", "--call"),
        )
    _check_pinned(project, name, choice)
    corepack = find_tool("corepack", env)
    if name == "pnpm":
        # `pnpm exec` runs node_modules/.bin only (`pnpm dlx` would fetch).
        job_store = any(job_sets(env, name) for name in PNPM_STORE_SETTINGS)
        store = () if pnpm_store is None or job_store else (f"--store-dir={pnpm_store}",)
        return PackageManager(
            "pnpm",
            (corepack, "pnpm", "install", "--frozen-lockfile", *store),
            (corepack, "pnpm", "exec"),
        )
    # `yarn exec -- <command>` (yarn 1 and 2+) sets npm_config_user_agent and passes
    # the words on as they are; `yarn run <bin>` runs an installed binary and never
    # fetches one (unlike `yarn dlx`).
    frozen = "--immutable" if _yarn_berry(project) else "--frozen-lockfile"
    return PackageManager(
        "yarn",
        (corepack, "yarn", "install", frozen),
        (corepack, "yarn", "exec", "--"),
        (corepack, "yarn", "run"),
    )


def declared_manager(project: Path) -> str:
    """The name in package.json's `packageManager` (`pnpm@10.1.0+sha512…` → `pnpm`), or ''."""
    return str(read_package_json(project).get("packageManager", "")).split("@", 1)[0].strip()


def _check_pinned(project: Path, name: str, choice: str) -> None:
    # Corepack refuses to run one package manager in a project pinned to another.
    declared = declared_manager(project)
    if not declared or declared == name:
        return
    if choice == "auto":
        lock = next(lock for lock, pm in LOCKFILES.items() if pm == name)
        why = f"the lockfile is {lock}"
        fix = "make the lockfile and the field agree, or set `package-manager`"
    else:
        why = f"`package-manager` is `{name}`"
        fix = "set `package-manager: auto`, or change the field"
    raise ActionError(
        f'{why}, but package.json pins `{declared}` ("packageManager"): {fix}.',
        title="Which package manager?",
    )


def detect(project: Path) -> str:
    """The lockfile decides; `packageManager` in package.json settles a tie or its absence."""
    found = [pm for lock, pm in LOCKFILES.items() if (project / lock).is_file()]
    declared = declared_manager(project)
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
    locks = ", ".join(lock for lock, pm in LOCKFILES.items() if pm in found)
    choices = " or ".join(f"`{pm}`" for pm in found)
    raise ActionError(
        f"Several lockfiles ({locks}) and no `packageManager` in package.json that names one "
        f"of them: set the input `package-manager` to {choices}, or add "
        '`"packageManager"` to package.json (and delete the lockfile you do not use).',
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


def cli_script(project: Path, project_label: str) -> Path | None:
    """The file the project's CLI names as its `ampx` bin (None under Yarn Plug'n'Play).

    Found as Node finds the package from the project (node_modules/@aws-amplify/backend-cli,
    through pnpm's link), by its package.json's `bin`. A package or a file that is
    not there, or a bin outside the package, is the missing-CLI error.
    """
    if (project / ".pnp.cjs").is_file():
        if declares_cli(project):
            return None
        raise missing_cli_error(project_label, installed_checked=True)
    folder = (project / "node_modules" / CLI_PACKAGE).resolve()
    try:
        manifest = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise missing_cli_error(project_label, installed_checked=True) from None
    bins = manifest.get("bin") if isinstance(manifest, dict) else None
    entry = bins.get("ampx") if isinstance(bins, dict) else None  # a string names another bin
    if not isinstance(entry, str) or not entry:
        raise missing_cli_error(project_label, True, "its package.json names no `ampx` in `bin`")
    script = (folder / entry).resolve()
    if folder not in script.parents or not script.is_file():
        raise missing_cli_error(
            project_label, True, f"its `ampx` bin, `{entry}`, is not a file in the package"
        )
    return script


def missing_cli_error(project_label: str, installed_checked: bool, broken: str = "") -> ActionError:
    where = "is not installed" if installed_checked else "is not in package.json"
    why = f" ({broken})" if broken else ""
    return ActionError(
        f"`{CLI_PACKAGE}` {where} in `{project_label}`{why}, so there is no `ampx` to run. "
        f"Add it: `npm install --save-dev {CLI_PACKAGE} @aws-amplify/backend`, commit the "
        "lockfile, or point `working-directory` at your Gen 2 app. (The npm packages named "
        "`ampx` and `amplify` are not the Amplify CLI; the action never fetches them.)",
        title="Amplify CLI missing",
    )


def _yarn_berry(project: Path) -> bool:
    """Yarn 2 or later (`--immutable`), rather than yarn 1 (`--frozen-lockfile`)?"""
    declared = str(read_package_json(project).get("packageManager", ""))
    if declared.startswith("yarn@"):
        return not declared.startswith("yarn@1.")
    try:  # a yarn 2+ lockfile is YAML with a __metadata entry; yarn 1's is not
        with (project / "yarn.lock").open(encoding="utf-8") as lock:
            head = lock.read(4096)
    except OSError:
        head = ""
    return "__metadata:" in head or (project / ".yarnrc.yml").is_file()
