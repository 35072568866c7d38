"""`command: sweep`: tear down every preview whose pull request is closed, or (with
`preview-ttl-days`) that was not deployed for that long.

Which previews: `previews.py`. Each is removed by teardown's own story
(`commands.teardown.tear_down`), with its refusals, as if `command: teardown` had run
for that branch: no second copy of how a branch is deleted. One preview that fails to
go does not stop the others; the run then fails, naming it.
"""

from __future__ import annotations

import dataclasses
import time

from ampaction import deployment, preflight, previews
from ampaction.amplify import Amplify
from ampaction.cancellation import Cancellation
from ampaction.commands.teardown import tear_down
from ampaction.errors import ActionError, Cancelled
from ampaction.github import GitHub
from ampaction.inputs import Settings
from ampaction.report import Report, Step
from ampaction.run import begin
from ampaction.workflow import Workflow


def run_sweep(s: Settings, workflow: Workflow, cancellation: Cancellation, report: Report) -> None:
    """Find the stale previews, then remove each as `command: teardown` would."""
    assert s.region is not None  # noqa: S101 - inputs require a region for sweep
    amplify = begin(
        s,
        workflow,
        cancellation,
        report,
        heading=f"Sweep of the previews of Amplify app {s.app_id} ({s.region})",
        dry_run_means="nothing will be deleted.",
    ).amplify
    assert amplify is not None  # noqa: S101 - a region gives one
    with report.step("Find stale previews", workflow) as step:
        stale = find_stale(s, amplify, workflow, cancellation)
        step.detail = ", ".join(f"`{x.branch}`" for x in stale) or "none"
    if not stale:
        workflow.info("No stale preview: nothing to remove.")
        return
    if s.dry_run:
        workflow.info("Plan (dry run):")
        for item in stale:
            workflow.info(f"- would remove branch `{item.branch}` ({item.why})")
            report.plan(f"Remove `{item.branch}`", item.why)
        return
    # One for the whole sweep: a missing permission is one notice, not one a preview.
    record = deployment.DeploymentRecord(s, workflow, cancellation)
    swept, failed = remove_each(s, workflow, cancellation, report, record, stale=stale)
    report.outputs["swept-branches"] = ",".join(swept)
    if failed:
        names = ", ".join(f"`{name}`" for name in failed)
        raise ActionError(
            f"Sweep could not remove {names} (the errors above say why); the other stale "
            "previews were removed. Fix what blocks them and run the sweep again.",
            title="Preview not removed",
        )


def find_stale(
    s: Settings, amplify: Amplify, workflow: Workflow, cancellation: Cancellation
) -> list[previews.Stale]:
    app = preflight.read_app(amplify, s.app_id)
    production = (app.get("productionBranch") or {}).get("branchName")
    found = previews.previews(amplify.list_branches(s.app_id), production)
    workflow.info(f"{len(found)} preview(s) made by this action for a pull request.")
    state_of = None
    if s.github_token and s.github_repository:
        state_of = GitHub.for_run(s, cancellation).pull_request_state
    else:
        workflow.warning(
            "`github-token` is empty: pull requests are not checked, previews are removed "
            "by `preview-ttl-days` only.",
            title="Pull requests not checked",
        )
    return previews.stale(
        found, pull_request_state=state_of, ttl_days=s.preview_ttl_days, workflow=workflow
    )


def remove_each(
    s: Settings,
    workflow: Workflow,
    cancellation: Cancellation,
    report: Report,
    record: deployment.DeploymentRecord,
    *,
    stale: list[previews.Stale],
) -> tuple[list[str], list[str]]:
    """Tear each down as `command: teardown` would; the branches removed, and those that failed."""
    swept: list[str] = []
    failed: list[str] = []
    for item in stale:
        if cancellation.requested:
            raise Cancelled(f"the sweep, before branch `{item.branch}`")
        workflow.info(f"Removing branch `{item.branch}`: {item.why}.")
        # Its GitHub deployment is looked for in the environment the preview's last deploy
        # recorded on its branch, else the sweep's own `deployment-environment`, else
        # `amplify/<branch>` (deployment.DeploymentRecord.deactivate).
        one = dataclasses.replace(s, branch=item.branch, command="teardown")
        own = Report(app_id=s.app_id, branch=item.branch, command="teardown")
        start = time.monotonic()
        try:
            tear_down(one, workflow, cancellation, own, record)
        except Cancelled:
            raise
        except ActionError as e:
            workflow.error(f"Branch `{item.branch}`: {e.message}", title=e.title)
            failed.append(item.branch)
            report.steps.append(Step(f"Remove `{item.branch}`", "failed", 0.0, e.title))
            continue
        gone = any(x.name.startswith("Delete ") and x.result == "succeeded" for x in own.steps)
        (swept if gone else []).append(item.branch)
        result = "succeeded" if gone else "skipped"
        took = time.monotonic() - start
        report.steps.append(Step(f"Remove `{item.branch}`", result, took, item.why))
    return swept, failed
