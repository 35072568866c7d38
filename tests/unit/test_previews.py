"""Which branches `command: sweep` takes for previews, and when one is stale
(ampaction/previews.py): pure logic, on branches shaped as ListBranches returns them."""

from __future__ import annotations

import datetime as dt

import pytest

from ampaction.branch import ENVIRONMENT_TAG, LAST_DEPLOY_TAG, last_deploy, preview_tags
from ampaction.deployment import final_state
from ampaction.errors import ActionError, Cancelled
from ampaction.github import GitHubError
from ampaction.previews import Preview, previews, stale
from ampaction.workflow import Workflow

NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
OURS = {"created-by": "amplify-pipeline-deploy"}


def branch(name: str, stage: str = "PULL_REQUEST", **tags: str) -> dict[str, object]:
    return {"branchName": name, "stage": stage, "tags": tags}


def test_only_branches_with_both_tags_are_previews_and_never_the_production_branch():
    found = previews(
        [
            branch("pr-1", **OURS, **{"pull-request": "1"}),
            branch("pr-2", **{"pull-request": "2"}),  # someone else's tag alone
            branch("pushed", "DEVELOPMENT", **OURS),  # made on a push: no number
            branch("main", "DEVELOPMENT", **OURS, **{"pull-request": "3"}),  # the app's production
            branch("live", "PRODUCTION", **OURS, **{"pull-request": "4"}),
            branch("odd", **OURS, **{"pull-request": "4a"}),  # edited by hand
        ],
        production="main",
    )

    assert [(p.branch, p.pull_request) for p in found] == [("pr-1", 1)]


def states(closed: set[int]):
    return lambda number: "closed" if number in closed else "open"


def test_a_closed_pull_request_or_an_old_deploy_makes_a_preview_stale():
    old, fresh = NOW - dt.timedelta(days=8), NOW - dt.timedelta(days=6)
    found = [Preview("a", 1, fresh), Preview("b", 2, old), Preview("c", 3, fresh)]

    by_state = stale(
        found, pull_request_state=states({3}), ttl_days=0, workflow=Workflow(), now=NOW
    )
    by_age = stale(
        found, pull_request_state=states(set()), ttl_days=7, workflow=Workflow(), now=NOW
    )

    assert [(s.branch, s.why) for s in by_state] == [("c", "pull request #3 is closed")]
    assert [s.branch for s in by_age] == ["b"]
    assert "more than 7 day(s) ago" in by_age[0].why


def test_an_unreadable_pull_request_keeps_its_preview_with_a_warning(capsys):
    def refused(number: int) -> str:
        raise GitHubError(f"Could not read pull request #{number}: HTTP 403.", status=403)

    chosen = stale(
        [Preview("a", 1, NOW)], pull_request_state=refused, ttl_days=0, workflow=Workflow(), now=NOW
    )

    assert chosen == []
    assert "::warning" in capsys.readouterr().out


def test_the_last_deploy_tag_is_read_back_and_a_bad_one_falls_back_to_amplifys_time():
    tags = preview_tags(31, "amplify/pr-31", NOW)
    assert tags["pull-request"] == "31"
    assert last_deploy({"tags": tags}) == NOW
    updated = NOW - dt.timedelta(days=2)
    assert last_deploy({"tags": {LAST_DEPLOY_TAG: "yesterday"}, "updateTime": updated}) == updated
    assert preview_tags(None, "amplify/main") == {}


def test_the_github_environment_is_recorded_when_a_tag_can_hold_its_name():
    assert ENVIRONMENT_TAG not in preview_tags(5, "preview-5 (eu)", NOW), "no `(` in a tag"
    assert preview_tags(5, "preview/pr-5", NOW)[ENVIRONMENT_TAG] == "preview/pr-5"
    assert ENVIRONMENT_TAG not in preview_tags(5, "preview #5", NOW), "`#` is no tag character"
    assert ENVIRONMENT_TAG not in preview_tags(5, "p" * 257, NOW), "over 256 characters"


@pytest.mark.parametrize(
    ("failure", "state"),
    [
        (None, "success"),
        (ActionError("the deploy failed", title="Backend deploy failed"), "failure"),
        (Cancelled("the deploy"), "error"),
        (ActionError("Unexpected KeyError", title="Internal error"), "error"),
    ],
)
def test_a_runs_end_is_the_deployments_final_state(failure, state):
    assert final_state(failure) == state
