"""Install and deploy: `npm ci` (or the project's package manager), then `ampx pipeline-deploy`.

Both run in the working directory with `CI=1`, through `process.run_streamed`,
each in its own log group. A failure carries the child's exit code and the
last lines it printed.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from ampaction import cli_failures, project, skip
from ampaction.cancellation import Cancellation
from ampaction.errors import ActionError, Cancelled
from ampaction.inputs import Settings
from ampaction.process import keep_corepack_commonjs, run_streamed
from ampaction.project import PackageManager
from ampaction.workflow import Workflow

OUTPUT_EXTENSIONS = {
    "json": "json",
    "json-mobile": "json",
    "mjs": "mjs",
    "ts": "ts",
    "dart": "dart",
}
# Node's exit code when the event loop empties while a top-level await is
# pending: what ampx 1.x does when a deploy fails and its telemetry endpoint
# cannot be reached (its upload promise never settles, so the error handler
# that would print the cause never runs, with or without --debug).
NODE_UNSETTLED_AWAIT = 13


def pipeline_deploy_args(settings: Settings) -> list[str]:
    """The CLI's arguments: the two it needs, then only the options asked for.

    A folder is any text, `--help` or `--branch=prod` too: glued to its flag it
    cannot be read as an argument of its own. (The branch, the app id, the
    format and the version are checked against patterns that cannot start with `-`.)
    """
    args = ["pipeline-deploy", "--branch", settings.branch, "--app-id", settings.app_id]
    if settings.outputs_format:
        args += ["--outputs-format", settings.outputs_format]
    if settings.outputs_version:
        args += ["--outputs-version", settings.outputs_version]
    if settings.outputs_out_dir:
        args.append(f"--outputs-out-dir={settings.outputs_out_dir}")
    if settings.debug:
        args.append("--debug")
    return args


def check_cli_declared(settings: Settings) -> None:
    """Before installing anything: an install will not bring a CLI the project lacks."""
    if not project.declares_cli(settings.working_directory):
        raise project.missing_cli_error(
            settings.shown(settings.working_directory), installed_checked=False
        )


def install(
    settings: Settings, pm: PackageManager, workflow: Workflow, cancellation: Cancellation
) -> str:
    """Install the project, unless npm's node_modules already matches; say which it was.

    pnpm and yarn are always run: both skip a matching install themselves.
    """
    project_dir, runtime = settings.working_directory, None
    if pm.name == "npm":
        runtime = skip.node_runtime(
            project.find_tool("node", settings.child_env), settings.child_env
        )
        current, why = skip.npm_install_current(project_dir, runtime)
        if current:
            workflow.info(f"Not running `npm ci`: {why}.")
            return "skipped: node_modules matches package-lock.json"
        if why:
            workflow.info(f"Running `npm ci`: {why}.")
        skip.forget_npm_install(project_dir)
    _run(
        "install",
        pm.install_command,
        list(pm.install_argv),
        settings=settings,
        workflow=workflow,
        cancellation=cancellation,
    )
    if pm.name == "npm":
        skip.record_npm_install(project_dir, runtime)
    return pm.install_command


def deploy_backend(
    settings: Settings, pm: PackageManager, workflow: Workflow, cancellation: Cancellation
) -> Path | None:
    """Run `pipeline-deploy`; return the amplify_outputs file it wrote, if found."""
    script = project.cli_script(
        settings.working_directory, settings.shown(settings.working_directory)
    )
    node = project.find_tool("node", settings.child_env)
    argv = pm.run_cli(script, node, *pipeline_deploy_args(settings))
    _run(
        "deploy",
        "ampx pipeline-deploy",
        argv,
        settings=settings,
        workflow=workflow,
        cancellation=cancellation,
    )
    return outputs_file(settings)


def outputs_file(settings: Settings) -> Path | None:
    folder = settings.working_directory / (settings.outputs_out_dir or ".")
    ext = OUTPUT_EXTENSIONS[settings.outputs_format or "json"]
    path = folder / f"amplify_outputs.{ext}"
    return path if path.is_file() else None


def _run(
    step: str,
    what: str,
    argv: list[str],
    *,
    settings: Settings,
    workflow: Workflow,
    cancellation: Cancellation,
) -> None:
    """Run one child; `what` names it in the user's words (`pnpm install …`, not `corepack …`)."""
    if cancellation.requested:
        raise Cancelled(step)
    workflow.info("$ " + shlex.join(argv))
    if Path(argv[0]).name == "corepack":
        keep_corepack_commonjs(settings.child_env, settings.workspace)
    finished = run_streamed(
        argv,
        cwd=settings.working_directory,
        env=settings.child_env,
        workflow=workflow,
        cancellation=cancellation,
    )
    if finished.cancelled:
        raise Cancelled(step)
    if finished.exit_code != 0:
        raise ActionError(
            _failure_message(step, what, finished.exit_code, finished.tail, settings),
            title=f"{'Backend deploy' if step == 'deploy' else 'Install'} failed",
            exit_code=finished.exit_code if 0 < finished.exit_code < 256 else 1,
        )


def _failure_message(step: str, what: str, code: int, tail: list[str], settings: Settings) -> str:
    lines = [line for line in tail if line.strip()][-12:]
    message = f"`{what}` exited with code {code}."
    if step == "deploy" and code == NODE_UNSETTLED_AWAIT:
        message += (
            " The CLI stopped before printing its error (exit 13 is Node's 'unsettled top-level "
            "await': ampx waits forever for its telemetry upload when it cannot connect). The "
            "action turns the CLI's telemetry off unless the job sets `AMPLIFY_DISABLE_TELEMETRY`; "
            "set it to `1` in the step's `env:` to see the error"
            + ("" if settings.debug else ", and `debug: true` for the CLI's detailed log")
            + ". The cause is most often missing AWS access or a branch not connected in Amplify."
        )
    if step == "deploy" and settings.region:
        known = cli_failures.Deploy(settings.app_id, settings.branch, settings.region)
        message += "".join(f"\nFix: {fix}" for fix in cli_failures.fixes(tail, known))
    if lines:
        message += "\nLast lines of its output:\n" + "\n".join(lines)
    return message
