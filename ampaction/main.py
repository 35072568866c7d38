"""One run: read the inputs, pick the command, write the report.

The commands' stories are in `commands/` (`deploy`, `teardown`, `sweep`), one module each; on a
pull request, every run ends by updating the pull-request comment. Errors are raised
where they are found and printed here, once, as an `::error` annotation; the outputs
and the job summary are written whatever happened (the runner reads them from a failed
step too).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from ampaction import inputs, ownership
from ampaction.cancellation import Cancellation
from ampaction.commands import Command, deploy
from ampaction.errors import ActionError, BadInputs
from ampaction.inputs import Settings
from ampaction.report import Report
from ampaction.workflow import Workflow


def _teardown(
    settings: Settings, workflow: Workflow, cancellation: Cancellation, report: Report
) -> None:
    """Imported when picked: a deploy does not load what only teardown uses."""
    from ampaction.commands import teardown  # noqa: PLC0415

    teardown.run_teardown(settings, workflow, cancellation, report)


def _sweep(
    settings: Settings, workflow: Workflow, cancellation: Cancellation, report: Report
) -> None:
    """Imported when picked, like teardown."""
    from ampaction.commands import sweep  # noqa: PLC0415

    sweep.run_sweep(settings, workflow, cancellation, report)


# The `command` input's values (`inputs.COMMANDS`), each to its story.
COMMANDS: dict[str, Command] = {
    "deploy": deploy.run_deploy,
    "teardown": _teardown,
    "sweep": _sweep,
}


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    cancellation: Cancellation | None = None,
) -> int:
    env = dict(os.environ if env is None else env)
    argv = list(sys.argv[1:] if argv is None else argv)
    workflow = Workflow(
        output_file=_path(env.get("GITHUB_OUTPUT")),
        summary_file=_path(env.get("GITHUB_STEP_SUMMARY")),
        on_github=env.get("GITHUB_ACTIONS") == "true",
    )
    # Before anything could print it: the webhook URL is a password.
    for secret in inputs.secret_inputs(env, argv):
        workflow.mask(secret)
    if cancellation is None:
        cancellation = Cancellation()
        cancellation.install()
    report = Report()

    try:
        settings = inputs.read_settings(env, argv)
    except BadInputs as bad:
        for error in bad.errors:
            workflow.error(error.message, title=error.title)
        report.failure = bad
        report.next_steps.append("Fix the inputs named above; nothing was installed or deployed.")
        report.write(workflow)
        return 1

    workflow.route_logging(settings.debug)
    report.app_id, report.branch = settings.app_id, settings.branch
    report.command = settings.command
    try:
        COMMANDS[settings.command](settings, workflow, cancellation, report)
        code = 0
    except ActionError as e:
        report.failure = e
        report.next_steps.extend(_next_steps(settings, report))
        workflow.error(e.message, title=e.title)
        code = e.exit_code
    except Exception as e:  # a bug of ours: still one redacted annotation, never a raw traceback
        report.failure = ActionError(f"Unexpected {type(e).__name__}: {e}", title="Internal error")
        if settings.debug:  # for the bug report; redacted, and commands off, like any log text
            workflow.untrusted(traceback.format_exc().splitlines())
        workflow.error(report.failure.message, title=report.failure.title)
        code = 1
    if not cancellation.requested:  # the runner's grace period is for stopping, not commenting
        _comment(settings, workflow, report, cancellation)
    _give_back_files(settings, workflow)
    report.write(workflow)
    return 1 if workflow.file_failed and code == 0 else code


def _give_back_files(settings: Settings, workflow: Workflow) -> None:
    """Whatever happened: what the action (as root) left in the workspace goes to its owner."""
    try:
        given = ownership.give_back(settings.workspace)
    except OSError as e:
        workflow.warning(
            f"Could not give the workspace's files back to its owner ({e.strerror}): later "
            "steps that write into node_modules may fail with EACCES.",
            title="Workspace ownership",
        )
        return
    if given and given.entries:
        workflow.info(
            f"Gave {given.entries} file(s) and folder(s) this run made back to uid "
            f"{given.uid} (the workspace's owner)."
        )


def _comment(
    settings: Settings, workflow: Workflow, report: Report, cancellation: Cancellation
) -> None:
    """Best effort, whatever happens in it: a comment never fails the run."""
    if settings.pull_request_number is None:
        return  # not a pull request: the GitHub client is not even imported
    try:
        from ampaction import pr_comment  # noqa: PLC0415

        pr_comment.update_pr_comment(settings, workflow, report, cancellation)
    except Exception as e:  # best effort by contract
        workflow.warning(
            f"Could not update the pull-request comment: {type(e).__name__}.",
            title="Pull-request comment not posted",
        )


def _next_steps(s: Settings, report: Report) -> list[str]:
    """After a failure: where things stand, and what to do about it."""
    failed = next((step.name for step in report.steps if step.result == "failed"), None)
    deployed = report.outputs["backend-deployed"] == "true"
    steps = []
    if failed and (failed.startswith("Install") or failed == "Deploy backend"):
        steps.append(f"Open the `{failed}` log group above: it holds the full output.")
        if failed == "Deploy backend" and not s.debug:
            steps.append(
                "Re-run with `debug: true` (or re-run with debug logging) for the CLI's detailed log."
            )
    if deployed and report.outputs["frontend-triggered"] != "true":
        steps.append(
            "The backend is deployed but no frontend build was started: re-run the job"
            + ("." if s.frontend_artifact else ", or start the build from the Amplify console.")
        )
    if report.outputs["job-url"]:
        steps.append(f"Amplify's view of the build: {report.outputs['job-url']}")
    return steps


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
