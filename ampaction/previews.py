"""Which previews `command: sweep` removes.

A preview is a branch this action created for a pull request: tag `created-by` =
`amplify-pipeline-deploy` and tag `pull-request` = its number (`create-branch` sets
both). It is stale when its pull request is closed, or, with `preview-ttl-days`,
when its last deploy (tag `amplify-pipeline-deploy:last-deploy`) is older than that.
Nothing else is ever chosen: not the production branch, not a branch of stage
`PRODUCTION`, not a branch without both tags. A pull request whose state cannot be
read keeps its preview (in doubt, keep it), with a warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ampaction.amplify import CREATED_BY_TAG
from ampaction.branch import LAST_DEPLOY_TAG, PULL_REQUEST_TAG, last_deploy
from ampaction.github import GitHubError
from ampaction.workflow import Workflow


@dataclass(frozen=True)
class Preview:
    branch: str
    pull_request: int
    last_deploy: dt.datetime | None


@dataclass(frozen=True)
class Stale:
    branch: str
    why: str


def previews(branches: Iterable[dict[str, Any]], production: str | None) -> list[Preview]:
    """The app's branches that this action created for a pull request."""
    key, value = CREATED_BY_TAG
    found = []
    for branch in branches:
        tags = branch.get("tags") or {}
        number = str(tags.get(PULL_REQUEST_TAG, ""))
        if tags.get(key) != value or not (number.isascii() and number.isdigit()):
            continue
        name = str(branch["branchName"])
        if name == production or branch.get("stage") == "PRODUCTION":
            continue
        found.append(Preview(name, int(number), last_deploy(branch)))
    return found


def stale(
    found: Iterable[Preview],
    *,
    pull_request_state: Callable[[int], str] | None,
    ttl_days: int,
    workflow: Workflow,
    now: dt.datetime | None = None,
) -> list[Stale]:
    """The previews to remove, each with the reason (closed first, then age)."""
    now = now or dt.datetime.now(dt.UTC)
    chosen = []
    for preview in found:
        why = _closed(preview, pull_request_state, workflow) or _too_old(preview, ttl_days, now)
        if why:
            chosen.append(Stale(preview.branch, why))
    return chosen


def _closed(
    preview: Preview, state_of: Callable[[int], str] | None, workflow: Workflow
) -> str | None:
    if state_of is None:
        return None
    number = preview.pull_request
    try:
        state = state_of(number)
    except GitHubError as e:
        workflow.warning(
            f"Kept branch `{preview.branch}`: {e.message} The job needs "
            "`permissions: pull-requests: read`.",
            title="Pull request unreadable",
        )
        return None
    return f"pull request #{number} is closed" if state == "closed" else None


def _too_old(preview: Preview, ttl_days: int, now: dt.datetime) -> str | None:
    if ttl_days <= 0 or preview.last_deploy is None:
        return None
    age = now - preview.last_deploy
    if age <= dt.timedelta(days=ttl_days):
        return None
    when = preview.last_deploy.strftime("%Y-%m-%d %H:%M UTC")
    return f"last deployed {when} (tag `{LAST_DEPLOY_TAG}`), more than {ttl_days} day(s) ago"
