"""The pull-request comment: one per app and branch, kept up to date by every run.

It is found again by a hidden marker, so each run edits it instead of adding
another. Posting it is best effort: no token, a token without
`pull-requests: write` (fork pull requests, or a workflow that did not grant
it), or an API failure is one warning, never a failed run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from ampaction.cancellation import Cancellation
from ampaction.github import GitHub, GitHubError
from ampaction.inputs import Settings
from ampaction.report import ICONS, Report, markdown_cell
from ampaction.workflow import Workflow

# The report's steps that the comment shows, in the user's words.
_SHOWN_STEPS = {
    "Create branch": "Amplify branch",
    "Deploy backend": "Backend",
    "Trigger frontend build": "Frontend build",
    "Wait for the frontend build": "Frontend build finished",
}
PERMISSION_HELP = (
    "give the job `permissions: pull-requests: write` (a fork's pull request gets a "
    "read-only token: see the README), or set `pr-comment: false`"
)


def marker(app_id: str, branch: str) -> str:
    """Hidden in the comment; quoted, so that no branch name can end the HTML comment."""
    return f"<!-- amplify-pipeline-deploy app={app_id} branch={quote(branch, safe='')} -->"


def wanted(s: Settings) -> bool:
    return s.pr_comment and s.pull_request_number is not None


def update_pr_comment(
    s: Settings, workflow: Workflow, report: Report, cancellation: Cancellation | None = None
) -> None:
    """Create or update this app and branch's comment on the pull request; warn on failure.

    A cancellation cuts a wait between attempts short (GitHub may ask for a minute)
    and gives the comment up.
    """
    if not wanted(s) or s.pull_request_number is None or s.dry_run:
        return  # a dry run changes nothing, on GitHub either
    if not s.github_token or not s.github_repository:
        workflow.warning(
            "No pull-request comment: `github-token` is empty. Leave it at its default "
            f"(`${{{{ github.token }}}}`) and {PERMISSION_HELP}.",
            title="Pull-request comment not posted",
        )
        return
    cancellation = cancellation or Cancellation()
    github = GitHub.for_run(s, cancellation)
    number, mark = s.pull_request_number, marker(s.app_id, s.branch)
    text = comment_body(s, report)
    try:
        ours = _our_comment(github, workflow, number, mark)
        if ours:
            github.update_comment(int(ours["id"]), text)
        else:
            github.create_comment(number, text)
    except GitHubError as e:
        advice = f" To fix: {PERMISSION_HELP}." if e.status in (403, 404) else ""
        if e.status == 401:
            advice = " `github-token` was refused: check the secret it comes from."
        workflow.warning(
            f"No comment on pull request #{number}. {e.message}{advice}",
            title="Pull-request comment not posted",
        )
        return
    workflow.info(f"Pull request #{number}: comment {'updated' if ours else 'posted'}.")


def _our_comment(
    github: GitHub, workflow: Workflow, number: int, mark: str
) -> dict[str, Any] | None:
    """The comment with the marker written by the token's own identity, if any.

    Anyone who can comment can copy the marker: a comment by someone else is
    left alone, and the token's identity is asked only when a marker is there.
    """
    marked = [c for c in github.issue_comments(number) if mark in str(c.get("body", ""))]
    if not marked:
        return None
    me = github.token_login()
    ours = None
    for comment in marked:
        author = str((comment.get("user") or {}).get("login", ""))
        if author == me and ours is None:
            ours = comment
        elif author != me:
            workflow.info(
                f"Comment {comment.get('id')} by {author} carries this action's marker but "
                f"was not written by this token ({me}): left alone."
            )
    return ours


def comment_body(s: Settings, report: Report) -> str:
    """What the comment says: where the preview is, how its parts went, the run's link."""
    lines = [marker(s.app_id, s.branch)]
    lines += _teardown_lines(s, report) if s.command == "teardown" else _deploy_lines(s, report)
    run_url = (
        f"{s.github_server_url}/{s.github_repository}/actions/runs/{s.github_run_id}"
        if s.github_repository and s.github_run_id
        else ""
    )
    links = [f"[Workflow run]({run_url})"] if run_url else []
    if report.outputs.get("job-url"):
        links.append(f"[Amplify console]({report.outputs['job-url']})")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines += ["", " · ".join([*links, f"updated {stamp}"])]
    return "\n".join(lines) + "\n"


def _deploy_lines(s: Settings, report: Report) -> list[str]:
    verdict = "failed" if report.failure else "deployed"
    lines = [f"### Amplify preview of `{_plain(s.branch)}`: {verdict}", ""]
    lines += _lead(report)
    lines += ["| Part | Result |", "| --- | --- |"]
    if report.outputs.get("frontend-url"):
        lines.append(f"| Preview | {markdown_cell(report.outputs['frontend-url'])} |")
    for step in report.steps:
        if step.name in _SHOWN_STEPS:
            took = f" in {step.seconds:.0f} s" if step.result not in ("skipped", "planned") else ""
            icon = ICONS.get(step.result, "")
            lines.append(f"| {_SHOWN_STEPS[step.name]} | {icon} {step.result}{took} |")
    if report.outputs.get("job-id"):
        status = report.outputs.get("job-status") or "started"
        job = markdown_cell(f"{report.outputs['job-id']}: {status}")
        lines.append(f"| Amplify job | {job} |")
    if report.failure:
        lines += ["", f"❌ {_plain(report.failure.title)}: the run's log says what to do."]
    return lines


def _lead(report: Report) -> list[str]:
    """What a reviewer opens first: the preview, the Amplify job, the GitHub deployment."""
    out = report.outputs
    # A branch name is untrusted: in a link's target, only as percent-escapes.
    url = quote(out.get("frontend-url", ""), safe=":/.-_~")
    links = [f"**[Open the preview]({url})**"] if url else []
    if out.get("job-url"):
        links.append(f"[Amplify job]({out['job-url']})")
    if out.get("deployment-id") and report.deployment_url:
        links.append(f"[GitHub deployment]({report.deployment_url})")
    return [" · ".join(links), ""] if links else []


def _teardown_lines(s: Settings, report: Report) -> list[str]:
    heading = f"### Amplify preview of `{_plain(s.branch)}`"
    if report.failure:
        return [
            f"{heading}: teardown failed",
            "",
            f"⚠️ {_plain(report.failure.title)}: the preview may still exist; the run's log "
            "says what to do.",
        ]
    deleted = [x for x in report.steps if x.name.startswith("Delete ") and x.result == "succeeded"]
    if deleted:
        return [
            f"{heading}: removed",
            "",
            "🧹 The preview is gone: backend stack, webhooks and branch.",
        ]
    return [f"{heading}: nothing removed", "", "Nothing was deleted; the run's log says why."]


def _plain(text: str) -> str:
    """Untrusted text on one line, escaped as the job summary escapes it (no HTML, no
    table cell broken), and unable to close a code span."""
    return markdown_cell(text.replace("`", "'"))
