"""Inputs: read once, checked all together, frozen into `Settings`.

The runner passes input `app-id` as `INPUT_APP-ID` (hyphen kept); other CI
systems cannot name a variable that way, so `INPUT_APP_ID` works too, and so
does the flag `--app-id`. All three go through the same checks. Nothing
below `main` reads `os.environ`: what a run needs from its environment is here.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from ampaction.errors import BadInputs, InputError

# Every input with its default, as in action.yml (a test holds the two equal).
# The runner fills defaults itself; these serve other CI systems and the CLI.
DEFAULTS: dict[str, str] = {
    "app-id": "",
    "branch": "",
    "aws-region": "",
    "working-directory": ".",
    "install": "true",
    "package-manager": "auto",
    "deploy-backend": "true",
    "outputs-format": "",
    "outputs-version": "",
    "outputs-out-dir": "",
    "trigger-frontend": "true",
    "frontend-branches": "*",
    "webhook-url": "",
    "webhook-description": "amplify-pipeline-deploy",
    "wait-for-frontend": "false",
    "wait-timeout-minutes": "30",
    "max-attempts": "5",
    "dry-run": "false",
    "debug": "false",
}

PACKAGE_MANAGERS = ("auto", "npm", "pnpm", "yarn")
OUTPUTS_FORMATS = ("mjs", "json", "json-mobile", "ts", "dart")
# The CLI knows 0, 1 and 1.1 … 1.5 today; newer versions pass through to it.
_OUTPUTS_VERSION = re.compile(r"\d+(\.\d+)?")
# botocore's model: appId is `d[a-z0-9]+`, at most 20 characters.
_APP_ID = re.compile(r"d[a-z0-9]{1,19}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
# Amplify branches are git branches: refuse what git refuses in a ref name
# (this also keeps `##[` and line breaks, which could forge log commands, out).
_BRANCH_BAD = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")
MAX_WAIT_MINUTES = 360  # a GitHub job runs at most 6 hours
MAX_ATTEMPTS = 20
COMMAND_LINE = "command line"  # what a flag error names, as no input is to blame
# npm/pnpm/corepack caches, inside the workspace so that actions/cache can keep them.
PACKAGE_CACHE = ".npm-cache"
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


@dataclass(frozen=True)
class Settings:
    """One run's inputs, checked, in the user's words."""

    app_id: str
    branch: str
    region: str | None
    workspace: Path
    working_directory: Path
    install: bool
    package_manager: str
    deploy_backend: bool
    outputs_format: str | None
    outputs_version: str | None
    outputs_out_dir: str | None
    trigger_frontend: bool
    frontend_branches: tuple[str, ...]
    webhook_url: str | None
    webhook_description: str
    wait_for_frontend: bool
    wait_timeout_minutes: int
    max_attempts: int
    dry_run: bool
    debug: bool
    # The environment npm and ampx run with (see `_child_env`).
    child_env: Mapping[str, str]

    def shown(self, path: Path) -> str:
        """A path inside the workspace as the user writes it: relative, `.` for the workspace."""
        return _shown(path, self.workspace)

    def matching_pattern(self) -> str | None:
        """The first `frontend-branches` pattern that `branch` matches (`*` spans `/` too)."""
        return next((p for p in self.frontend_branches if fnmatchcase(self.branch, p)), None)

    @property
    def triggers_frontend(self) -> bool:
        return self.trigger_frontend and self.matching_pattern() is not None


def raw_inputs(env: Mapping[str, str], argv: Sequence[str] = ()) -> dict[str, str]:
    """Each input's text: `--flag`, then `INPUT_NAME-WITH-HYPHENS`, then `INPUT_NAME_WITH_UNDERSCORES`.

    An empty value means the default, as on the runner, which sets every
    declared input and leaves the ones without a value empty.
    """
    parsed, unknown = _flag_parser().parse_known_args(list(argv))
    if unknown:
        # Named, never quoted: the stray value could be the webhook URL.
        names = sorted({a.split("=", 1)[0] for a in unknown if a.startswith("-")}) or ["a value"]
        raise BadInputs(
            [InputError(COMMAND_LINE, f"unknown {', '.join(names)}: see `--help` for the flags.")]
        )
    flags = vars(parsed)
    values: dict[str, str] = {}
    for name, default in DEFAULTS.items():
        candidates = (
            flags.get(name.replace("-", "_")),
            env.get("INPUT_" + name.upper()),
            env.get("INPUT_" + name.upper().replace("-", "_")),
        )
        given = next((c for c in candidates if c is not None and c.strip() != ""), None)
        values[name] = given if given is not None else default
    return values


class _FlagParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # Instead of printing usage and exiting 2: the same one `::error` as any bad input.
        raise BadInputs([InputError(COMMAND_LINE, f"{message}; see `--help` for the flags.")])


def _flag_parser() -> argparse.ArgumentParser:
    parser = _FlagParser(
        prog="ampaction",
        allow_abbrev=False,  # `--webhook-u URL` would escape secret_inputs' mask
        description=(
            "Deploy an AWS Amplify Gen 2 backend with `ampx pipeline-deploy`, then start "
            "the frontend build through the branch's incoming webhook. Every flag is an "
            "input of the GitHub Action with the same name; INPUT_<NAME> variables work too."
        ),
    )
    for name, default in DEFAULTS.items():
        shown = f" (default: {default!r})" if default else ""
        parser.add_argument(f"--{name}", metavar="VALUE", help=f"input `{name}`{shown}")
    return parser


def read_settings(env: Mapping[str, str], argv: Sequence[str] = ()) -> Settings:
    """Check every input; raise `BadInputs` listing all that are wrong, or return `Settings`."""
    raw = raw_inputs(env, argv)
    errors: list[InputError] = []

    def boolean(name: str) -> bool:
        text = raw[name].strip().lower()
        if text in ("true", "false"):
            return text == "true"
        errors.append(InputError(name, f"must be `true` or `false`, not {raw[name]!r}."))
        return DEFAULTS[name] == "true"

    def positive(name: str, most: int) -> int:
        text = raw[name].strip()
        if text.isascii() and text.isdigit() and 1 <= int(text) <= most:
            return int(text)
        errors.append(
            InputError(name, f"must be a whole number from 1 to {most}, not {raw[name]!r}.")
        )
        return int(DEFAULTS[name])

    def one_of(name: str, allowed: Sequence[str], empty_ok: bool = False) -> str:
        text = raw[name].strip()
        if text in allowed or (empty_ok and text == ""):
            return text
        shown = ", ".join(f"`{a}`" for a in allowed)
        errors.append(InputError(name, f"must be one of {shown}, not {raw[name]!r}."))
        return DEFAULTS[name]

    install = boolean("install")
    deploy_backend = boolean("deploy-backend")
    trigger_frontend = boolean("trigger-frontend")
    wait_for_frontend = boolean("wait-for-frontend")
    dry_run = boolean("dry-run")
    debug = boolean("debug") or env.get("RUNNER_DEBUG") == "1"
    wait_timeout = positive("wait-timeout-minutes", MAX_WAIT_MINUTES)
    max_attempts = positive("max-attempts", MAX_ATTEMPTS)
    package_manager = one_of("package-manager", PACKAGE_MANAGERS)
    outputs_format = one_of("outputs-format", OUTPUTS_FORMATS, empty_ok=True) or None

    app_id = raw["app-id"].strip()
    if not app_id:
        errors.append(
            InputError("app-id", "is required: the Amplify app ID, e.g. `d1a2b3c4d5e6f7`.")
        )
    elif not _APP_ID.fullmatch(app_id):
        errors.append(
            InputError(
                "app-id",
                f"{app_id!r} is not an Amplify app ID: `d` then up to 19 lowercase letters "
                "or digits, e.g. `d1a2b3c4d5e6f7` (Amplify console → App settings → General).",
            )
        )

    branch = _branch(raw["branch"].strip() or _branch_from_ci(env), errors)

    region = raw["aws-region"].strip() or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region and not _REGION.fullmatch(region):
        errors.append(
            InputError("aws-region", f"{region!r} is not an AWS region name like `us-east-1`.")
        )

    outputs_version = raw["outputs-version"].strip() or None
    if outputs_version and not _OUTPUTS_VERSION.fullmatch(outputs_version):
        errors.append(
            InputError(
                "outputs-version",
                f"must be a version like `1` or `1.4`, not {outputs_version!r}.",
            )
        )

    workspace = Path(env.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()
    working_directory = _inside_workspace(
        "working-directory", raw["working-directory"], workspace, errors
    )
    out_dir_text = raw["outputs-out-dir"].strip()
    if out_dir_text and working_directory is not None:
        _inside_workspace(
            "outputs-out-dir", str(working_directory / out_dir_text), workspace, errors
        )

    patterns = tuple(p.strip() for p in re.split(r"[,\n]", raw["frontend-branches"]) if p.strip())
    if not patterns:
        errors.append(
            InputError("frontend-branches", "needs at least one glob pattern, e.g. `main` or `*`.")
        )

    webhook_url = raw["webhook-url"].strip() or None
    if webhook_url is not None:
        problem = _webhook_url_problem(webhook_url)
        if problem:
            # The value is a secret: the message describes it, never quotes it.
            errors.append(InputError("webhook-url", problem))

    description = raw["webhook-description"].strip()
    if len(description) > 1000 or any(ord(c) < 32 for c in description):
        errors.append(
            InputError("webhook-description", "must be one line of at most 1000 characters.")
        )

    if wait_for_frontend and not trigger_frontend:
        errors.append(
            InputError(
                "wait-for-frontend",
                "needs `trigger-frontend: true`: there is no frontend build to wait for.",
            )
        )

    needs_project = install or deploy_backend
    if needs_project and working_directory and not (working_directory / "package.json").is_file():
        errors.append(
            InputError(
                "working-directory",
                f"`{_shown(working_directory, workspace)}` has no package.json: point it at "
                "the folder that holds your Gen 2 app's package.json and amplify/.",
            )
        )

    settings_region = region or None
    if settings_region is None:
        needs_region = deploy_backend or wait_for_frontend or (trigger_frontend and not webhook_url)
        if needs_region:
            errors.append(
                InputError(
                    "aws-region",
                    "is empty and neither AWS_REGION nor AWS_DEFAULT_REGION is set: give "
                    "`aws-region`, or set `aws-region` on aws-actions/configure-aws-credentials.",
                )
            )

    if errors:
        order = list(DEFAULTS)
        raise BadInputs(sorted(errors, key=lambda e: order.index(e.input)))  # all are inputs
    assert working_directory is not None  # noqa: S101 - no error means it resolved
    return Settings(
        app_id=app_id,
        branch=branch,
        region=settings_region,
        workspace=workspace,
        working_directory=working_directory,
        install=install,
        package_manager=package_manager,
        deploy_backend=deploy_backend,
        outputs_format=outputs_format,
        outputs_version=outputs_version,
        outputs_out_dir=out_dir_text or None,
        trigger_frontend=trigger_frontend,
        frontend_branches=patterns,
        webhook_url=webhook_url,
        webhook_description=description or DEFAULTS["webhook-description"],
        wait_for_frontend=wait_for_frontend,
        wait_timeout_minutes=wait_timeout,
        max_attempts=max_attempts,
        dry_run=dry_run,
        debug=debug,
        child_env=_child_env(env, settings_region, workspace),
    )


def secret_inputs(env: Mapping[str, str], argv: Sequence[str] = ()) -> list[str]:
    """The secret inputs' values, read before anything is checked or printed, to be masked first.

    By hand rather than through argparse, which would answer `--help` or a bad
    flag before the mask is out.
    """
    found = [env.get("INPUT_WEBHOOK-URL", ""), env.get("INPUT_WEBHOOK_URL", "")]
    for i, arg in enumerate(argv):
        if arg == "--webhook-url" and i + 1 < len(argv):
            found.append(argv[i + 1])
        elif arg.startswith("--webhook-url="):
            found.append(arg.split("=", 1)[1])
    return [value.strip() for value in found if value.strip()]


def _branch_from_ci(env: Mapping[str, str]) -> str:
    # The runner fills `branch` from `github.head_ref || github.ref_name`; elsewhere:
    for name in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "BRANCH_NAME"):
        if env.get(name):
            return env[name]
    return ""


def _branch(branch: str, errors: list[InputError]) -> str:
    if not branch:
        errors.append(
            InputError("branch", "is empty and no branch could be read from the CI system: set it.")
        )
    elif (
        len(branch) > 255
        or _BRANCH_BAD.search(branch)
        or branch.endswith((".", "/", ".lock"))
        or branch.startswith(("/", "-"))
    ):
        errors.append(
            InputError(
                "branch",
                "is not a valid branch name: no spaces, control characters, `~ ^ : ? * [ \\`, "
                "`..` or `@{`, at most 255 characters.",
            )
        )
    return branch


def _inside_workspace(
    name: str, text: str, workspace: Path, errors: list[InputError]
) -> Path | None:
    path = (workspace / text.strip()).resolve()
    if path != workspace and workspace not in path.parents:
        errors.append(
            InputError(name, f"{text.strip()!r} is outside the workspace; give a folder inside it.")
        )
        return None
    if name == "working-directory" and not path.is_dir():
        errors.append(InputError(name, f"`{text.strip()}` is not a folder in the workspace."))
        return None
    return path


def _webhook_url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        return "must be an https:// URL (the Amplify incoming webhook URL)."
    if not parts.hostname or not parts.query:
        return (
            "is not an Amplify incoming webhook URL "
            "(https://webhooks.amplify.<region>.amazonaws.com/prod/webhooks?id=…&token=…)."
        )
    return None


def _shown(path: Path, workspace: Path) -> str:
    return str(path.relative_to(workspace))  # the workspace itself is "."


def _child_env(env: Mapping[str, str], region: str | None, workspace: Path) -> dict[str, str]:
    """What npm and ampx see: the job's environment, `CI=1`, and never our inputs.

    INPUT_* variables are dropped: one of them may be the webhook URL, and
    package install scripts run with this environment.
    """
    child = {k: v for k, v in env.items() if not k.startswith("INPUT_")}
    child["CI"] = "1"  # ampx refuses to run outside CI; the recipe exports CI=1
    # `#!/usr/bin/env node` needs node on PATH, and a job may have set PATH to
    # anything: keep the job's PATH first and make sure the image's folders follow.
    path = [p for p in child.get("PATH", "").split(":") if p]
    child["PATH"] = ":".join(path + [d for d in SYSTEM_PATH if d not in path])
    # ampx 1.x awaits its telemetry upload before printing a failure; when the
    # upload cannot connect that promise never settles, and the CLI exits 13
    # without the error. Off unless the job says otherwise (an empty value keeps it on).
    child.setdefault("AMPLIFY_DISABLE_TELEMETRY", "1")
    if region:
        child["AWS_REGION"] = region
        child["AWS_DEFAULT_REGION"] = region
    # The default caches (~/.npm …) would land in the container's HOME, which is
    # <runner temp>/_github_home: emptied after every job, and not the `~` that
    # actions/cache sees. In the workspace, `actions/cache` with
    # `path: .npm-cache` keeps them between runs. A job that sets one wins.
    cache = workspace / PACKAGE_CACHE
    for name, folder in (
        ("npm_config_cache", cache),  # npm's downloads
        ("COREPACK_HOME", cache / "corepack"),  # the pnpm/yarn that corepack fetched
        ("npm_config_store_dir", cache / "pnpm-store"),  # pnpm's store
    ):
        # npm and pnpm read npm_config_* in any case; an empty value counts as unset.
        if not any(k.lower() == name.lower() and v for k, v in child.items()):
            child = {k: v for k, v in child.items() if k.lower() != name.lower()}
            child[name] = str(folder)
    # Older corepack releases write a `packageManager` field into package.json
    # when it has none; the action must not change the user's files.
    child.setdefault("COREPACK_ENABLE_AUTO_PIN", "0")
    return child
