"""Inputs: declared once, read once, checked all together, frozen into `Settings`.

Each input is one `Input` below: its name, its default (as in action.yml),
the parser for its kind of value, and its description (action.yml's). The
`--flag` parser, the checks and `Settings` all follow that list; tests hold
action.yml and the README to it. Adding an input means adding its
declaration here and its entry in action.yml.

The runner passes input `app-id` as `INPUT_APP-ID` (hyphen kept); other CI
systems cannot name a variable that way, so `INPUT_APP_ID` works too, and so
does the flag `--app-id`. All three go through the same checks. Nothing
below `main` reads `os.environ`: what a run needs from its environment is here.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from ampaction import redaction
from ampaction.errors import BadInputs, InputError
from ampaction.process import child_env

PACKAGE_MANAGERS = ("auto", "npm", "pnpm", "yarn")
OUTPUTS_FORMATS = ("mjs", "json", "json-mobile", "ts", "dart")
COMMANDS = ("deploy", "teardown", "sweep")
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
MAX_TTL_DAYS = 3650
COMMAND_LINE = "command line"  # what a flag error names, as no input is to blame
SECRET_INPUTS = ("webhook-url", "github-token")
# Each line's value is a secret; the names are not.
SECRET_LINES_INPUTS = ("backend-secrets",)
# What Amplify takes as a secret's name: the last part of an SSM parameter name
# (letters, digits, `_`, `.`, `-`), as `ampx sandbox secret set` writes it.
_SECRET_NAME = re.compile(r"[A-Za-z0-9_.-]{1,512}")


class Invalid(Exception):
    """What a parser says about a bad value (the input's name is added by the caller)."""


@dataclass
class Context:
    """What parsers may look at besides the text: the environment and earlier inputs' values."""

    env: Mapping[str, str]
    workspace: Path
    values: dict[str, Any] = field(default_factory=dict)


Parser = Callable[[str, Context], Any]


@dataclass(frozen=True)
class Input:
    """One input of action.yml: `parse` turns its text into its `Settings` field or raises `Invalid`."""

    name: str
    default: str
    parse: Parser
    help: str
    field: str = ""

    @property
    def settings_field(self) -> str:
        return self.field or self.name.replace("-", "_")


# ---- One parser per kind of value ---------------------------------------------------------


def boolean(text: str, _ctx: Context) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise Invalid(f"must be `true` or `false`, not {_quoted(text)}.")
    return value == "true"


def whole_number(most: int, least: int = 1) -> Parser:
    def parse(text: str, _ctx: Context) -> int:
        value = text.strip()
        # The length first: int() refuses texts of more than 4300 digits with a ValueError.
        if value.isascii() and value.isdigit() and len(value) <= 6 and least <= int(value) <= most:
            return int(value)
        raise Invalid(f"must be a whole number from {least} to {most}, not {_quoted(text)}.")

    return parse


def whole_number_or_zero(most: int) -> Parser:
    def parse(text: str, _ctx: Context) -> int:
        value = text.strip()
        if value.isascii() and value.isdigit() and len(value) <= 6 and int(value) <= most:
            return int(value)
        raise Invalid(f"must be a whole number from 0 to {most}, not {_quoted(text)}.")

    return parse


def environment_name(text: str, _ctx: Context) -> str | None:
    """A GitHub environment name (empty: `amplify/<branch>`)."""
    value = text.strip()
    if len(value) > 255 or any(ord(c) < 32 for c in value):
        raise Invalid("must be one line of at most 255 characters (GitHub's limit).")
    return value or None


def choice(allowed: Sequence[str], *, empty_ok: bool = False) -> Parser:
    def parse(text: str, _ctx: Context) -> str | None:
        value = text.strip()
        if value in allowed:
            return value
        if empty_ok and value == "":
            return None
        shown = ", ".join(f"`{a}`" for a in allowed)
        raise Invalid(f"must be one of {shown}, not {_quoted(text)}.")

    return parse


def matching(pattern: re.Pattern[str], problem: str) -> Parser:
    """Text that matches `pattern` (empty: None); `problem` is formatted with the value."""

    def parse(text: str, _ctx: Context) -> str | None:
        value = text.strip()
        if value and not pattern.fullmatch(value):
            raise Invalid(problem.format(_quoted(value)))
        return value or None

    return parse


def glob_list(*, required: bool) -> Parser:
    """Comma- or newline-separated glob patterns."""

    def parse(text: str, _ctx: Context) -> tuple[str, ...]:
        patterns = tuple(p.strip() for p in re.split(r"[,\n]", text) if p.strip())
        if required and not patterns:
            raise Invalid("needs at least one glob pattern, e.g. `main` or `*`.")
        return patterns

    return parse


def secret(text: str, _ctx: Context) -> str | None:
    """A token: never quoted in a message, empty means none."""
    value = text.strip()
    if any(c.isspace() or not c.isprintable() for c in value):
        raise Invalid("must be one token, without spaces or line breaks (its value is not shown).")
    return value or None


@dataclass(frozen=True)
class BackendSecret:
    """One `backend-secrets` line: the secret's name, and its value (never shown)."""

    name: str
    value: str = field(repr=False)


def backend_secrets(text: str, _ctx: Context) -> tuple[BackendSecret, ...]:
    """`NAME=VALUE` lines. A message names a line by its number, and a name only once it is
    known to be one: a line without `=` may be a value pasted alone."""
    secrets: dict[str, BackendSecret] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if "=" not in line:
            raise Invalid(
                f"line {number} has no `=`: give `NAME=VALUE` lines (the line is not shown)."
            )
        name, value = (part.strip() for part in line.split("=", 1))
        if not _SECRET_NAME.fullmatch(name):
            raise Invalid(
                f"line {number}: the part before `=` is not a secret name Amplify accepts "
                "(letters, digits, `_`, `.` and `-`; the line is not shown)."
            )
        if not value:
            raise Invalid(f"line {number}: secret `{name}` has an empty value.")
        # Too short to mask: off GitHub, only the action's own redaction hides a value.
        if len(value) < redaction.MIN_LENGTH:
            raise Invalid(
                f"line {number}: secret `{name}` is shorter than {redaction.MIN_LENGTH} "
                "characters: the action could not keep a value that short out of every log."
            )
        if name in secrets:
            raise Invalid(f"secret `{name}` is given twice.")
        secrets[name] = BackendSecret(name, value)
    return tuple(secrets.values())


def webhook_url(text: str, _ctx: Context) -> str | None:
    """An Amplify incoming webhook URL: a secret, so a message describes it and never quotes it."""
    url = text.strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed `[`: not a URL at all
        parts, host = None, None
    loopback = host in ("127.0.0.1", "localhost", "::1")
    if parts is None or (parts.scheme != "https" and not (parts.scheme == "http" and loopback)):
        raise Invalid("must be an https:// URL (the Amplify incoming webhook URL).")
    if not host or not parts.query:
        raise Invalid(
            "is not an Amplify incoming webhook URL "
            "(https://webhooks.amplify.<region>.amazonaws.com/prod/webhooks?id=…&token=…)."
        )
    return url


def gen3_name(*, required: bool) -> Parser:
    """An Amplify Gen 3 app or environment name (botocore's model: 1 to 40 characters)."""

    def parse(text: str, _ctx: Context) -> str | None:
        value = text.strip()
        if not value and not required:
            return None
        if (
            not value
            or len(value) > 40
            or any(c in "/\\" or not c.isprintable() or c.isspace() for c in value)
        ):
            raise Invalid(
                f"{_quoted(value)} is not an Amplify Gen 3 name: 1 to 40 characters, "
                "without spaces or slashes."
            )
        return value

    return parse


def one_line(text: str, _ctx: Context) -> str:
    value = text.strip()
    if len(value) > 1000 or any(ord(c) < 32 for c in value):
        raise Invalid("must be one line of at most 1000 characters.")
    return value


def folder_in_workspace(text: str, ctx: Context) -> Path:
    path = _inside_workspace(ctx.workspace, text)
    if not path.is_dir():
        raise Invalid(f"`{text.strip()}` is not a folder in the workspace.")
    return path


def under_working_directory(text: str, ctx: Context) -> str | None:
    """A path relative to `working-directory` that stays inside the workspace (kept as given)."""
    value = text.strip()
    base = ctx.values.get("working-directory")
    if value and base is not None:
        _inside_workspace(ctx.workspace, str(base / value), shown=value)
    return value or None


def artifact(text: str, ctx: Context) -> Path | None:
    """A built frontend, relative to `working-directory`: a folder or a .zip file that
    `artifact.source_problem` finds fit to publish, and not the project itself."""
    # Imported only for this input: a deploy without it loads neither.
    import zipfile  # noqa: PLC0415

    from ampaction.artifact import source_problem  # noqa: PLC0415

    value = text.strip()
    base = ctx.values.get("working-directory")
    if not value or base is None:
        return None
    if (base / value).is_symlink():  # resolve() would hide where it points
        raise Invalid(f"`{value}` is a symbolic link: give the folder or .zip file itself.")
    path = _inside_workspace(ctx.workspace, str(base / value), shown=value)
    if not path.exists():
        raise Invalid(f"`{value}` does not exist in `working-directory`: build the frontend first.")
    if not path.is_dir() and not (path.suffix.lower() == ".zip" and zipfile.is_zipfile(path)):
        raise Invalid(f"`{value}` is neither a folder nor a .zip file.")
    if path == base or path in base.parents:
        # It holds package.json, amplify/, node_modules, and often .git and .env.
        raise Invalid(
            f"`{value}` is the project's own folder: point it at the folder your build "
            "wrote (e.g. `dist`)."
        )
    problem = source_problem(path)
    if problem:
        raise Invalid(f"`{value}` {problem}.")
    return path


def app_id(text: str, _ctx: Context) -> str:
    value = text.strip()
    if not value:
        raise Invalid("is required: the Amplify app ID, e.g. `d1a2b3c4d5e6f7`.")
    if not _APP_ID.fullmatch(value):
        raise Invalid(
            f"{_quoted(value)} is not an Amplify app ID: `d` then up to 19 lowercase letters "
            "or digits, e.g. `d1a2b3c4d5e6f7` (Amplify console → App settings → General)."
        )
    return value


def branch(text: str, ctx: Context) -> str:
    value = text.strip() or _branch_from_ci(ctx.env)
    if not value:
        raise Invalid("is empty and no branch could be read from the CI system: set it.")
    if (
        len(value) > 255
        or _BRANCH_BAD.search(value)
        or value.endswith((".", "/", ".lock"))
        or value.startswith(("/", "-"))
    ):
        raise Invalid(
            "is not a valid branch name: no spaces, control characters, `~ ^ : ? * [ \\`, "
            "`..` or `@{` (git's rules for a branch), and 1 to 255 characters (Amplify's "
            "rule for a branch name)."
        )
    return value


def region(text: str, ctx: Context) -> str | None:
    value = text.strip() or ctx.env.get("AWS_REGION") or ctx.env.get("AWS_DEFAULT_REGION")
    if value and not _REGION.fullmatch(value):
        raise Invalid(f"{_quoted(value)} is not an AWS region name like `us-east-1`.")
    return value or None


# ---- The inputs, in action.yml's order ------------------------------------------------------

INPUTS: tuple[Input, ...] = (
    Input("app-id", "", app_id, "Amplify app ID, e.g. `d1a2b3c4d5e6f7`."),
    Input(
        "branch",
        "",  # action.yml's default is an expression only the runner evaluates
        branch,
        "Amplify branch to deploy. Empty means the pull request's head branch, else the pushed branch or tag.",
    ),
    Input(
        "aws-region",
        "",
        region,
        "Region of the Amplify app. Empty means `AWS_REGION`, then `AWS_DEFAULT_REGION`.",
        field="region",
    ),
    Input(
        "working-directory",
        ".",
        folder_in_workspace,
        "Folder inside the workspace that holds `package.json` and `amplify/`.",
    ),
    Input(
        "command",
        "deploy",
        choice(COMMANDS),
        "`deploy` (install, deploy the backend, start the frontend build), `teardown` "
        "(delete the branch's backend stack, this action's webhooks for it, and the branch) "
        "or `sweep` (tear down every preview whose pull request is closed).",
    ),
    Input(
        "install",
        "true",
        boolean,
        "Install dependencies before deploying (`true` or `false`).",
    ),
    Input(
        "package-manager",
        "auto",
        choice(PACKAGE_MANAGERS),
        "`auto`, `npm`, `pnpm` or `yarn`. `auto` follows the lockfile.",
    ),
    Input(
        "deploy-backend",
        "true",
        boolean,
        "Run `ampx pipeline-deploy` (`true` or `false`).",
    ),
    Input(
        "outputs-format",
        "",
        choice(OUTPUTS_FORMATS, empty_ok=True),
        "Passed to `pipeline-deploy` as `--outputs-format` (`mjs`, `json`, `json-mobile`, `ts`, `dart`).",
    ),
    Input(
        "outputs-version",
        "",
        matching(_OUTPUTS_VERSION, "must be a version like `1` or `1.4`, not {}."),
        "Passed to `pipeline-deploy` as `--outputs-version` (`0`, `1`, `1.1` … `1.5`).",
    ),
    Input(
        "outputs-out-dir",
        "",
        under_working_directory,
        "Passed to `pipeline-deploy` as `--outputs-out-dir`, relative to `working-directory`.",
    ),
    Input(
        "create-branch",
        "false",
        boolean,
        "Create the Amplify branch when the app has none of that name (`true` or `false`).",
    ),
    Input(
        "skip-unchanged-backend",
        "false",
        boolean,
        "Skip install and `pipeline-deploy` when the backend's files are exactly those of "
        "this branch's last successful deploy (`true` or `false`).",
    ),
    Input(
        "backend-paths",
        "",
        glob_list(required=False),
        "More comma- or newline-separated glob patterns, relative to `working-directory`, "
        "whose files count as the backend's, beside `amplify/**`, `package.json` and the lockfile.",
    ),
    Input(
        "trigger-frontend",
        "true",
        boolean,
        "Start the Amplify-hosted frontend build after a successful backend deploy (`true` or `false`).",
    ),
    Input(
        "frontend-branches",
        "*",
        glob_list(required=True),
        "Comma- or newline-separated glob patterns; the frontend build starts only when `branch` matches one.",
    ),
    Input(
        "frontend-artifact",
        "",
        artifact,
        "A frontend built in the job (a folder or a .zip file, relative to "
        "`working-directory`) to deploy to the branch instead of starting an Amplify build.",
    ),
    Input(
        "webhook-url",
        "",
        webhook_url,
        "Use this incoming webhook (pass it as a secret) instead of creating or reusing one.",
    ),
    Input(
        "webhook-description",
        "amplify-pipeline-deploy",
        one_line,
        "Marks the webhooks this action creates, so that later runs find and reuse them.",
    ),
    Input(
        "gen3-app",
        "",
        gen3_name(required=False),
        "Name of an Amplify Gen 3 app: deploy the frontend there instead of Amplify Hosting "
        "(the working directory's source, or `frontend-artifact` as a prebuilt artifact).",
    ),
    Input(
        "gen3-environment",
        "preview",
        gen3_name(required=True),
        "The Gen 3 app's environment to deploy to.",
    ),
    Input(
        "wait-for-frontend",
        "false",
        boolean,
        "Wait for the triggered Amplify job to finish, and fail if it fails (`true` or `false`).",
    ),
    Input(
        "wait-timeout-minutes",
        "30",
        whole_number(MAX_WAIT_MINUTES),
        "How long to wait for the frontend job, in minutes.",
    ),
    Input(
        "max-attempts",
        "5",
        whole_number(MAX_ATTEMPTS),
        "Attempts for each retried call (webhook POST, throttled or failing AWS calls).",
    ),
    Input(
        "teardown-branches",
        "",
        glob_list(required=False),
        "With `command: teardown`: comma- or newline-separated glob patterns of branches "
        "that teardown may delete although this action did not create them.",
    ),
    Input(
        "backend-secrets",
        "",
        backend_secrets,
        "`NAME=VALUE` lines (pass the values from GitHub secrets): before the deploy, each is "
        "set as this branch's backend secret (an SSM SecureString). Every value is a secret.",
    ),
    Input(
        "wait-for-stack-minutes",
        "30",
        whole_number(MAX_WAIT_MINUTES, least=0),
        "How long to wait for the branch's backend stack to finish a change already under "
        "way (another deploy) before deploying; `0` fails at once instead.",
    ),
    Input(
        "pr-comment",
        "true",
        boolean,
        "On a pull request, comment the deploy's result on it (`true` or `false`).",
    ),
    Input(
        "github-token",
        "",  # action.yml's default, `${{ github.token }}`, only the runner evaluates
        secret,
        "Token for the pull-request comment and the GitHub deployment. Pass a secret; the "
        "default is the job's token.",
    ),
    Input(
        "github-deployment",
        "true",
        boolean,
        "Record the deploy as a GitHub deployment with statuses (`true` or `false`; best "
        "effort, needs `deployments: write`).",
    ),
    Input(
        "deployment-environment",
        "",
        environment_name,
        "The GitHub environment of that deployment. Empty means `amplify/<branch>`.",
    ),
    Input(
        "preview-ttl-days",
        "0",
        whole_number_or_zero(MAX_TTL_DAYS),
        "With `command: sweep`: also remove previews not deployed for this many days "
        "(`0`: only those whose pull request is closed).",
    ),
    Input(
        "dry-run",
        "false",
        boolean,
        "Validate, run the read-only checks and print the plan; change nothing and run nothing (`true` or `false`).",
    ),
    Input(
        "debug",
        "false",
        boolean,
        "Pass `--debug` to ampx and log more. Also on when the runner's debug logging is on.",
    ),
)

# Every input with its default. The runner fills defaults itself; these serve
# other CI systems and the CLI.
DEFAULTS: dict[str, str] = {i.name: i.default for i in INPUTS}


@dataclass(frozen=True)
class Settings:
    """One run's inputs, checked, in the user's words, and what the CI system says about the run."""

    app_id: str
    branch: str
    region: str | None
    workspace: Path
    working_directory: Path
    command: str
    install: bool
    package_manager: str
    deploy_backend: bool
    outputs_format: str | None
    outputs_version: str | None
    outputs_out_dir: str | None
    create_branch: bool
    skip_unchanged_backend: bool
    backend_paths: tuple[str, ...]
    trigger_frontend: bool
    frontend_branches: tuple[str, ...]
    frontend_artifact: Path | None
    webhook_url: str | None
    webhook_description: str
    gen3_app: str | None
    gen3_environment: str
    wait_for_frontend: bool
    wait_timeout_minutes: int
    max_attempts: int
    teardown_branches: tuple[str, ...]
    backend_secrets: tuple[BackendSecret, ...]
    wait_for_stack_minutes: int
    pr_comment: bool
    github_token: str | None
    github_deployment: bool
    deployment_environment: str | None
    preview_ttl_days: int
    dry_run: bool
    debug: bool
    # The environment npm and ampx run with (see `process.child_env`).
    child_env: Mapping[str, str]
    # The GitHub context (empty off GitHub).
    on_github: bool = False
    event_name: str = ""
    pull_request_number: int | None = None
    github_repository: str = ""
    github_api_url: str = "https://api.github.com"
    github_server_url: str = "https://github.com"
    github_run_id: str = ""
    github_sha: str = ""  # the pull request's head commit on a pull request

    @property
    def environment(self) -> str:
        """The GitHub environment of this branch's deployments."""
        return self.deployment_environment or f"amplify/{self.branch}"

    @property
    def run_url(self) -> str:
        """The workflow run's page (empty off GitHub)."""
        if not (self.github_repository and self.github_run_id):
            return ""
        return (
            f"{self.github_server_url}/{self.github_repository}/actions/runs/{self.github_run_id}"
        )

    def shown(self, path: Path) -> str:
        """A path inside the workspace as the user writes it: relative, `.` for the workspace."""
        return str(path.relative_to(self.workspace))  # the workspace itself is "."

    def matching_pattern(self) -> str | None:
        """The first `frontend-branches` pattern that `branch` matches (`*` spans `/` too)."""
        return next((p for p in self.frontend_branches if fnmatchcase(self.branch, p)), None)

    @property
    def branch_gets_frontend(self) -> bool:
        """`trigger-frontend` is on and `branch` matches a `frontend-branches` pattern."""
        return self.trigger_frontend and self.matching_pattern() is not None


def raw_inputs(env: Mapping[str, str], argv: Sequence[str] = ()) -> dict[str, str]:
    """Each input's text: `--flag`, then `INPUT_NAME-WITH-HYPHENS`, then `INPUT_NAME_WITH_UNDERSCORES`.

    An empty value means the default, as on the runner, which sets every
    declared input and leaves the ones without a value empty.
    """
    parsed, unknown = flag_parser().parse_known_args(list(argv))
    if unknown:
        # Named, never quoted: the stray value could be the webhook URL.
        names = sorted({a.split("=", 1)[0] for a in unknown if a.startswith("-")}) or ["a value"]
        raise BadInputs(
            [InputError(COMMAND_LINE, f"unknown {', '.join(names)}: see `--help` for the flags.")]
        )
    flags = vars(parsed)
    values: dict[str, str] = {}
    for name, default in DEFAULTS.items():
        given = next((c for c in _given(name, flags, env) if c is not None and c.strip()), None)
        values[name] = given if given is not None else default
    return values


def _given(name: str, flags: Mapping[str, str | None], env: Mapping[str, str]) -> list[str | None]:
    return [
        flags.get(name.replace("-", "_")),
        env.get("INPUT_" + name.upper()),
        env.get("INPUT_" + name.upper().replace("-", "_")),
    ]


class _FlagParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # Instead of printing usage and exiting 2: the same one `::error` as any bad input.
        raise BadInputs([InputError(COMMAND_LINE, f"{message}; see `--help` for the flags.")])


def flag_parser() -> argparse.ArgumentParser:
    """`--NAME VALUE` for every declared input."""
    parser = _FlagParser(
        prog="ampaction",
        allow_abbrev=False,  # `--webhook-u URL` would escape secret_inputs' mask
        description=(
            "Deploy an AWS Amplify Gen 2 backend with `ampx pipeline-deploy`, then start "
            "the frontend build through the branch's incoming webhook. Every flag is an "
            "input of the GitHub Action with the same name; INPUT_<NAME> variables work too."
        ),
    )
    for i in INPUTS:
        shown = f" (default: {i.default!r})" if i.default else ""
        # `%` would be read as a format by argparse's help.
        parser.add_argument(f"--{i.name}", metavar="VALUE", help=i.help.replace("%", "%%") + shown)
    return parser


def read_settings(env: Mapping[str, str], argv: Sequence[str] = ()) -> Settings:
    """Check every input; raise `BadInputs` listing all that are wrong, or return `Settings`."""
    raw = raw_inputs(env, argv)
    workspace = Path(env.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()
    ctx = Context(env, workspace)
    errors: list[InputError] = []
    for i in INPUTS:
        try:
            ctx.values[i.name] = i.parse(raw[i.name], ctx)
        except Invalid as bad:
            errors.append(InputError(i.name, str(bad)))
    errors += _rules(ctx)
    if errors:
        order = [i.name for i in INPUTS]
        raise BadInputs(sorted(errors, key=lambda e: order.index(e.input)))  # all are inputs
    values = {i.settings_field: ctx.values[i.name] for i in INPUTS}
    values["debug"] = values["debug"] or env.get("RUNNER_DEBUG") == "1"
    return Settings(
        workspace=workspace,
        child_env=child_env(env, values["region"], workspace),
        **values,
        **github_context(env),
    )


def _rules(ctx: Context) -> list[InputError]:
    """The rules that span inputs; an input that failed its own check takes part in none."""
    values = ctx.values
    v = values.get
    errors = []
    if v("wait-for-frontend") and v("trigger-frontend") is False:
        errors.append(
            InputError(
                "wait-for-frontend",
                "needs `trigger-frontend: true`: there is no frontend build to wait for.",
            )
        )
    if v("frontend-artifact") and v("trigger-frontend") is False:
        errors.append(
            InputError(
                "frontend-artifact",
                "needs `trigger-frontend: true`: it is the frontend this run deploys. Drop "
                "one of the two.",
            )
        )
    errors += _gen3_rules(values)
    if v("frontend-artifact") and v("webhook-url") and not v("gen3-app"):
        errors.append(
            InputError(
                "frontend-artifact",
                "and `webhook-url` are two ways to start the frontend: give one of them.",
            )
        )
    no_token = "github-token" in values and not v("github-token")
    if v("command") == "sweep" and no_token and v("preview-ttl-days") == 0:
        errors.append(
            InputError(
                "github-token",
                "is empty, and `command: sweep` needs it to read which pull requests "
                "are closed: leave it at its default (`${{ github.token }}`) and give "
                "the job `permissions: pull-requests: read`, or set `preview-ttl-days`.",
            )
        )
    folder = v("working-directory")
    needs_project = v("command") == "deploy" and (v("install") or v("deploy-backend"))
    if needs_project and folder is not None and not (folder / "package.json").is_file():
        errors.append(
            InputError(
                "working-directory",
                f"`{folder.relative_to(ctx.workspace)}` has no package.json: point it at "
                "the folder that holds your Gen 2 app's package.json and amplify/.",
            )
        )
    if "aws-region" in values and v("aws-region") is None and _needs_region(values):
        errors.append(
            InputError(
                "aws-region",
                "is empty and neither AWS_REGION nor AWS_DEFAULT_REGION is set: give "
                "`aws-region`, or set `aws-region` on aws-actions/configure-aws-credentials.",
            )
        )
    return errors


def _gen3_rules(values: Mapping[str, Any]) -> list[InputError]:
    """With `gen3-app`, the frontend goes to Gen 3: no webhook, and it must be triggered."""
    v = values.get
    if not v("gen3-app"):
        return []
    errors = []
    if v("webhook-url"):
        errors.append(
            InputError(
                "webhook-url",
                "and `gen3-app` are two ways to start the frontend (Amplify Hosting's "
                "webhook, Amplify Gen 3): give one of them.",
            )
        )
    if v("trigger-frontend") is False:
        errors.append(
            InputError(
                "gen3-app",
                "needs `trigger-frontend: true`: it is where this run deploys the frontend. "
                "Drop one of the two.",
            )
        )
    return errors


def _needs_region(values: Mapping[str, Any]) -> bool:
    v = values.get
    if v("command") in ("teardown", "sweep"):
        return True
    triggers_alone = v("trigger-frontend") and not v("webhook-url")
    return bool(v("deploy-backend") or v("wait-for-frontend") or triggers_alone or v("gen3-app"))


def github_context(env: Mapping[str, str]) -> dict[str, Any]:
    """What the GitHub runner says about the run (defaults elsewhere)."""
    event_name = env.get("GITHUB_EVENT_NAME", "")
    number, head_sha = None, None
    if event_name in ("pull_request", "pull_request_target"):
        event = _event(env.get("GITHUB_EVENT_PATH", ""))
        number, head_sha = _pull_request_number(event), _head_sha(event)
    return {
        "on_github": env.get("GITHUB_ACTIONS") == "true",
        "event_name": event_name,
        "pull_request_number": number,
        "github_repository": env.get("GITHUB_REPOSITORY", ""),
        "github_api_url": env.get("GITHUB_API_URL") or "https://api.github.com",
        "github_server_url": env.get("GITHUB_SERVER_URL") or "https://github.com",
        "github_run_id": env.get("GITHUB_RUN_ID", ""),
        # On a pull request GITHUB_SHA is the test merge commit, which the pull request's
        # page does not show: its deployment is of the head commit.
        "github_sha": head_sha or env.get("GITHUB_SHA", ""),
    }


def _event(event_path: str) -> dict[str, Any]:
    """The event's JSON; empty when unreadable."""
    if not event_path:
        return {}
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return event if isinstance(event, dict) else {}


def _pull_request_number(event: Mapping[str, Any]) -> int | None:
    """`pull_request.number` (or `number`) of the event; None when absent."""
    pull = event.get("pull_request")
    number = pull.get("number") if isinstance(pull, dict) else None
    number = number if number is not None else event.get("number")
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def _head_sha(event: Mapping[str, Any]) -> str | None:
    pull = event.get("pull_request")
    head = pull.get("head") if isinstance(pull, dict) else None
    sha = head.get("sha") if isinstance(head, dict) else None
    return sha if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{40}", sha) else None


def secret_inputs(env: Mapping[str, str], argv: Sequence[str] = ()) -> list[str]:
    """The secret inputs' values, read before anything is checked or printed, to be masked first.

    By hand rather than through argparse, which would answer `--help` or a bad
    flag before the mask is out.
    """
    found = []
    for name in SECRET_INPUTS + SECRET_LINES_INPUTS:
        given = [
            env.get("INPUT_" + name.upper(), ""),
            env.get("INPUT_" + name.upper().replace("-", "_"), ""),
        ]
        for i, arg in enumerate(argv):
            if arg == f"--{name}" and i + 1 < len(argv):
                given.append(argv[i + 1])
            elif arg.startswith(f"--{name}="):
                given.append(arg.split("=", 1)[1])
        found += (
            [v for text in given for v in _secret_lines(text)]
            if name in SECRET_LINES_INPUTS
            else given
        )
    return [value.strip() for value in found if value.strip()]


def _secret_lines(text: str) -> list[str]:
    """The values of `NAME=VALUE` lines; a line without `=` whole (it may be a value alone)."""
    return [line.split("=", 1)[1] if "=" in line else line for line in text.splitlines()]


def _branch_from_ci(env: Mapping[str, str]) -> str:
    # The runner fills `branch` from `github.head_ref || github.ref_name`; elsewhere:
    for name in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "BRANCH_NAME"):
        if env.get(name):
            return env[name]
    return ""


def _inside_workspace(workspace: Path, text: str, shown: str | None = None) -> Path:
    path = (workspace / text.strip()).resolve()
    if path != workspace and workspace not in path.parents:
        raise Invalid(
            f"{_quoted(shown or text.strip())} is outside the workspace; give a folder inside it."
        )
    return path


def _quoted(text: str) -> str:
    """A value as messages show it: quoted, and cut when long (a 5000-digit number is not read)."""
    return repr(text if len(text) <= 80 else text[:77] + "...")
