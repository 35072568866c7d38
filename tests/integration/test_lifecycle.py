"""The branch's life: `create-branch`, `command: teardown`, and the pull-request comment.

Real parts: boto3 against the Amplify simulator, CloudFormation in moto's server
(a real stack whose resources really go), and the pull-request comment through a
local GitHub REST server that checks the token.
"""

from __future__ import annotations

import io
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import aws_server
from support.action import APP_ID, CREDENTIALS, GITHUB_TOKEN
from support.entrypoint import entrypoint_env, start_entrypoint
from support.github_server import GitHubServer
from support.hygiene import shown_lines
from support.runner import CommandLog, RunnerFiles

from ampaction import skip
from ampaction.cloudformation import backend_stack_name
from ampaction.pr_comment import marker

TOKEN = GITHUB_TOKEN
OFF = {"install": "false", "deploy-backend": "false", "trigger-frontend": "false"}
PR = 7
OURS = {"created-by": "amplify-pipeline-deploy"}
# The comment's calls only: no GitHub deployment's calls among them.
COMMENT_ONLY = {**OFF, "github-token": TOKEN, "github-deployment": "false"}


@pytest.fixture
def pr_event(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"number": PR, "pull_request": {"number": PR}}), encoding="utf-8")
    return {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(path)}


def env(cfn=None, github=None, event=None) -> dict[str, str]:
    job = {"GITHUB_EVENT_NAME": "push"}
    if cfn:
        job["AWS_ENDPOINT_URL_CLOUDFORMATION"] = cfn.url
    if github:
        job["GITHUB_API_URL"] = github.url + "/api/v3"  # as on GitHub Enterprise Server
    job.update(event or {})
    return job


def no_token_anywhere(run) -> None:
    # What the runner shows: it consumes `::add-mask::` lines, the one place the token may be.
    for text in (
        shown_lines(run.stdout),
        shown_lines(run.stderr),
        json.dumps(run.outputs),
        run.summary,
    ):
        assert TOKEN not in text


def gen2_tags(branch: str, app_id: str = APP_ID) -> dict[str, str]:
    """The tags `ampx pipeline-deploy` puts on a branch's stack (amplify-backend's
    main-stack creator: `created-by`, and for a branch its app, name and type)."""
    return {
        "created-by": "amplify",
        "amplify:app-id": app_id,
        "amplify:branch-name": branch,
        "amplify:deployment-type": "branch",
    }


def branch_with_stack(sim, cfn, branch: str, tags=OURS) -> str:
    """A branch as a deploy leaves it: its stack made, and linked as `backend.stackArn`."""
    arn = cfn.create_stack(backend_stack_name(APP_ID, branch), tags=gen2_tags(branch))
    sim.add_branch(APP_ID, branch, stage="PULL_REQUEST", tags=tags, stack_arn=arn)
    return arn


def deleted_by_hand(cfn, arn: str) -> None:
    cfn.client().delete_stack(StackName=arn)
    deadline = time.monotonic() + 30
    while cfn.status(arn) != "DELETE_COMPLETE":
        assert time.monotonic() < deadline, cfn.status(arn)
        time.sleep(0.05)


# -- create -------------------------------------------------------------------


def test_create_branch_on_push_makes_a_development_branch_before_the_install(run_action, sim):
    run = run_action({"branch": "feature/login", "create-branch": "true"}, job_env=env())

    assert run.exit_code == 0, run.log
    made = sim.branch(APP_ID, "feature/login")
    assert made is not None
    assert made["stage"] == "DEVELOPMENT"
    assert made["enableAutoBuild"] is False
    assert made["tags"] == OURS
    assert run.outputs["branch-created"] == "true"
    assert run.outputs["frontend-url"] == f"https://feature-login.{APP_ID}.amplifyapp.com"
    assert run.log.index("Created branch `feature/login`") < run.log.index("::group::Install")
    assert run.ampx_calls(), "the deploy ran on the new branch"
    # The app and the branch are read at the same time, in either order; then the create.
    first = sim.operations()[:3]
    assert sorted(first[:2]) == ["GetApp", "GetBranch"] and first[2] == "CreateBranch", first


def test_create_branch_on_a_pull_request_makes_a_pull_request_branch(run_action, sim, pr_event):
    run = run_action(
        {**OFF, "branch": "pr-7", "create-branch": "true", "pr-comment": "false"},
        job_env=env(event=pr_event),
    )

    assert run.exit_code == 0, run.log
    assert sim.branch(APP_ID, "pr-7")["stage"] == "PULL_REQUEST"


def test_an_existing_branch_is_not_created_again(run_action, sim):
    run = run_action({**OFF, "create-branch": "true"}, job_env=env())

    assert run.exit_code == 0, run.log
    assert sim.count("CreateBranch") == 0
    assert run.outputs["branch-created"] == "false"


def test_concurrent_runs_creating_one_branch_converge(run_action, sim):
    # Both runs find no branch; the create is slowed so that both try it.
    sim.fail("CreateBranch", 200, times=2, delay=1.5)
    inputs = {**OFF, "trigger-frontend": "true", "branch": "feature/race", "create-branch": "true"}
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: run_action(inputs, job_env=env()), range(2)))

    assert [r.exit_code for r in runs] == [0, 0], [r.log for r in runs]
    assert sim.count("CreateBranch") == 2  # the race really happened
    assert sorted(r.outputs["branch-created"] for r in runs) == ["false", "true"]
    assert any("created by another run" in r.log for r in runs)
    assert len(sim.webhooks(APP_ID)) == 1  # and the trigger converged too


def test_dry_run_says_it_would_create_and_creates_nothing(run_action, sim):
    run = run_action(
        {"branch": "feature/dry", "create-branch": "true", "dry-run": "true"}, job_env=env()
    )

    assert run.exit_code == 0, run.log
    assert "create branch `feature/dry` (stage DEVELOPMENT, auto-build off)" in run.log
    assert sim.branch(APP_ID, "feature/dry") is None
    assert sim.count("CreateBranch") == 0


def test_a_missing_branch_without_create_branch_names_the_input(run_action, sim):
    run = run_action({**OFF, "trigger-frontend": "true", "branch": "feature/none"}, job_env=env())

    assert run.exit_code == 1
    assert "`create-branch: true`" in run.errors()[0]


def test_a_branch_name_amplify_refuses_is_a_bad_input(run_action, sim):
    run = run_action({"branch": "b" * 256, "create-branch": "true"}, job_env=env())

    assert run.exit_code == 1
    [error] = run.errors()
    assert "Input `branch`" in error and "1 to 255 characters (Amplify's rule" in error
    assert sim.requests == []


# -- teardown -------------------------------------------------------------------


def teardown(run_action, branch: str, cfn, **inputs: str):
    return run_action({"command": "teardown", "branch": branch, **inputs}, job_env=env(cfn))


def test_teardown_deletes_the_stack_then_the_webhooks_then_the_branch(run_action, sim, cfn):
    arn = branch_with_stack(sim, cfn, "feature/gone")
    sim.add_webhook(APP_ID, "feature/gone", "amplify-pipeline-deploy")
    sim.add_webhook(APP_ID, "feature/gone", "someone else's")
    sim.add_webhook(APP_ID, "main", "amplify-pipeline-deploy")
    name = backend_stack_name(APP_ID, "feature/gone")
    assert cfn.queue_exists(name)

    run = teardown(run_action, "feature/gone", cfn)

    assert run.exit_code == 0, run.log
    assert cfn.status(arn) == "DELETE_COMPLETE"
    assert not cfn.queue_exists(name), "moto really removed the stack's resources"
    for resource in ("Queue", "Setting", "Storage"):
        assert f"{resource} (" in run.log and "DELETE_COMPLETE" in run.log
    left = sorted((w["branchName"], w["description"]) for w in sim.webhooks(APP_ID))
    assert left == [("feature/gone", "someone else's"), ("main", "amplify-pipeline-deploy")]
    assert sim.branch(APP_ID, "feature/gone") is None
    ops = sim.operations()
    assert ops.index("ListWebhooks") < ops.index("DeleteWebhook") < ops.index("DeleteBranch")
    assert cfn.requests.index("DeleteStack") >= 0
    assert "Amplify teardown succeeded" in run.summary


def test_teardown_finds_the_stack_by_the_cli_name_without_a_stack_arn(run_action, sim, cfn):
    arn = cfn.create_stack(backend_stack_name(APP_ID, "feature/unlinked"))
    sim.add_branch(APP_ID, "feature/unlinked", stage="DEVELOPMENT", tags=OURS)

    run = teardown(run_action, "feature/unlinked", cfn)

    assert run.exit_code == 0, run.log
    assert cfn.status(arn) == "DELETE_COMPLETE"
    assert sim.branch(APP_ID, "feature/unlinked") is None


def test_teardown_refuses_the_production_branch_whatever_the_patterns(run_action, sim, cfn):
    arn = branch_with_stack(sim, cfn, "release")
    sim.set_production_branch(APP_ID, "release")

    run = teardown(run_action, "release", cfn, **{"teardown-branches": "*"})

    assert run.exit_code == 1
    [error] = run.errors()
    assert "production branch" in error
    assert cfn.status(arn) == "CREATE_COMPLETE"
    assert sim.branch(APP_ID, "release") is not None
    assert "DeleteStack" not in cfn.requests


def test_teardown_refuses_a_branch_whose_stage_is_production(run_action, sim, cfn):
    arn = cfn.create_stack(backend_stack_name(APP_ID, "live"), tags=gen2_tags("live"))
    sim.add_branch(APP_ID, "live", stage="PRODUCTION", tags=OURS, stack_arn=arn)
    sim.add_webhook(APP_ID, "live", "amplify-pipeline-deploy")

    run = teardown(run_action, "live", cfn, **{"teardown-branches": "*"})

    assert run.exit_code == 1
    [error] = run.errors()
    assert "stage PRODUCTION" in error and "Nothing was deleted" in error
    assert cfn.status(arn) == "CREATE_COMPLETE"
    assert sim.branch(APP_ID, "live") is not None and len(sim.webhooks(APP_ID)) == 1
    assert "DeleteStack" not in cfn.requests
    assert not {"DeleteBranch", "DeleteWebhook", "UntagResource"} & set(sim.operations())


def test_a_preview_pointing_at_the_production_stack_deletes_only_its_own(run_action, sim, cfn):
    # A team that shares one backend: the preview's `backend.stackArn` is production's stack.
    sim.set_production_branch(APP_ID, "main")
    production = cfn.create_stack(backend_stack_name(APP_ID, "main"), tags=gen2_tags("main"))
    own = cfn.create_stack(backend_stack_name(APP_ID, "pr-3"), tags=gen2_tags("pr-3"))
    sim.add_branch(APP_ID, "pr-3", stage="PULL_REQUEST", tags=OURS, stack_arn=production)

    run = teardown(run_action, "pr-3", cfn)

    assert run.exit_code == 0, run.log
    assert cfn.status(production) == "CREATE_COMPLETE"
    assert cfn.queue_exists(backend_stack_name(APP_ID, "main"))
    assert cfn.status(own) == "DELETE_COMPLETE"
    assert cfn.count("DeleteStack") == 1
    assert sim.branch(APP_ID, "pr-3") is None
    [warning] = [c.message for c in run.commands.named("warning")]
    assert f"Kept stack {backend_stack_name(APP_ID, 'main')}" in warning
    assert "the production branch `main`" in warning


def test_the_production_stack_stays_even_when_its_tags_name_the_preview(run_action, sim, cfn):
    # Tags are anyone's to edit: the name `ampx` gives production's stack wins.
    sim.set_production_branch(APP_ID, "main")
    production = cfn.create_stack(backend_stack_name(APP_ID, "main"), tags=gen2_tags("pr-4"))
    sim.add_branch(APP_ID, "pr-4", stage="PULL_REQUEST", tags=OURS, stack_arn=production)

    run = teardown(run_action, "pr-4", cfn)

    assert run.exit_code == 0, run.log
    assert cfn.status(production) == "CREATE_COMPLETE"
    assert "DeleteStack" not in cfn.requests
    [warning] = [c.message for c in run.commands.named("warning")]
    assert "the production branch `main`'s" in warning


def test_a_stack_arn_is_deleted_only_when_the_stacks_tags_name_this_app_and_branch(
    run_action, sim, cfn
):
    renamed = cfn.create_stack("amplify-renamed-by-an-older-cli", tags=gen2_tags("feature/a"))
    sim.add_branch(APP_ID, "feature/a", stage="PULL_REQUEST", tags=OURS, stack_arn=renamed)
    shared = cfn.create_stack("amplify-shared-backend", tags=gen2_tags("feature/a"))
    sim.add_branch(APP_ID, "feature/b", stage="PULL_REQUEST", tags=OURS, stack_arn=shared)
    elsewhere = cfn.create_stack("amplify-other-app", tags=gen2_tags("feature/c", "d9other"))
    sim.add_branch(APP_ID, "feature/c", stage="PULL_REQUEST", tags=OURS, stack_arn=elsewhere)
    untagged = cfn.create_stack("hand-made-stack")
    sim.add_branch(APP_ID, "feature/d", stage="PULL_REQUEST", tags=OURS, stack_arn=untagged)

    mine = teardown(run_action, "feature/a", cfn)
    theirs = teardown(run_action, "feature/b", cfn)
    other_app = teardown(run_action, "feature/c", cfn)
    nobodys = teardown(run_action, "feature/d", cfn)

    assert cfn.status(renamed) == "DELETE_COMPLETE"
    assert not mine.commands.named("warning")
    for run, arn, whose in (
        (theirs, shared, "branch `feature/a`'s"),
        (other_app, elsewhere, "branch `feature/c` of app d9other's"),
        (nobodys, untagged, "a stack whose tags name no branch"),
    ):
        assert run.exit_code == 0, run.log
        assert cfn.status(arn) == "CREATE_COMPLETE"
        [warning] = [c.message for c in run.commands.named("warning")]
        assert whose in warning, warning
    assert all(sim.branch(APP_ID, b) is None for b in ("feature/a", "feature/b", "feature/c"))


def test_a_stack_arn_the_role_may_not_read_is_kept_and_the_own_stack_goes(run_action, sim, cfn):
    # The README's policy covers `amplify-<app-id>-*` stacks only: another app's is unreadable.
    elsewhere = cfn.create_stack("amplify-d9other-main-branch-0123456789")
    sim.add_branch(APP_ID, "feature/e2", stage="PULL_REQUEST", tags=OURS, stack_arn=elsewhere)
    own = cfn.create_stack(backend_stack_name(APP_ID, "feature/e2"))
    cfn.deny("DescribeStacks", stack=elsewhere)

    run = teardown(run_action, "feature/e2", cfn)

    assert run.exit_code == 0, run.log
    assert cfn.status(elsewhere) == "CREATE_COMPLETE"
    assert cfn.status(own) == "DELETE_COMPLETE"
    [warning] = [c.message for c in run.commands.named("warning")]
    assert f"Kept stack {elsewhere}" in warning and "may not read it" in warning
    assert sim.branch(APP_ID, "feature/e2") is None


def test_a_stale_stack_arn_does_not_hide_the_live_stack_of_the_branchs_name(run_action, sim, cfn):
    name = backend_stack_name(APP_ID, "feature/again")
    old = cfn.create_stack(name, tags=gen2_tags("feature/again"))
    deleted_by_hand(cfn, old)
    live = cfn.create_stack(name, tags=gen2_tags("feature/again"))  # deployed again since
    sim.add_branch(APP_ID, "feature/again", stage="PULL_REQUEST", tags=OURS, stack_arn=old)

    run = teardown(run_action, "feature/again", cfn)

    assert run.exit_code == 0, run.log
    assert cfn.status(live) == "DELETE_COMPLETE"
    assert not cfn.queue_exists(name)
    assert sim.branch(APP_ID, "feature/again") is None


def test_a_teardown_that_stops_halfway_has_removed_the_backend_hash_first(run_action, sim, cfn):
    name = backend_stack_name(APP_ID, "feature/hashed")
    hashed = {**OURS, skip.HASH_TAG: "ab" * 32, skip.DEPLOY_TAG: "run 41 at 2026-11-30 09:00 UTC"}
    arn = branch_with_stack(sim, cfn, "feature/hashed", tags=hashed)
    cfn.fail_delete(name, "Storage", "The bucket you tried to delete is not empty")

    run = teardown(run_action, "feature/hashed", cfn)

    assert run.exit_code == 1
    assert cfn.status(arn) == "DELETE_FAILED"
    # The branch stays for a re-run, without a hash a deploy could take for the stack's.
    assert sim.branch(APP_ID, "feature/hashed")["tags"] == OURS


def test_a_created_by_tag_of_another_tool_leaves_the_branch_whole(run_action, sim, cfn):
    arn = branch_with_stack(sim, cfn, "feature/tf", tags={"created-by": "terraform"})

    run = teardown(run_action, "feature/tf", cfn)

    assert run.exit_code == 0, run.log
    [warning] = [c.message for c in run.commands.named("warning")]
    assert "did not create it" in warning
    assert cfn.status(arn) == "CREATE_COMPLETE"
    assert sim.branch(APP_ID, "feature/tf") is not None
    assert "DeleteStack" not in cfn.requests and "DeleteBranch" not in sim.operations()


def test_teardown_leaves_an_untagged_branch_whole_with_a_warning(run_action, sim, cfn):
    arn = branch_with_stack(sim, cfn, "feature/theirs", tags={})
    sim.add_webhook(APP_ID, "feature/theirs", "amplify-pipeline-deploy")

    run = teardown(run_action, "feature/theirs", cfn)

    assert run.exit_code == 0, run.log
    [warning] = [c.message for c in run.commands.named("warning")]
    assert "`teardown-branches`" in warning and "created-by" in warning
    assert cfn.status(arn) == "CREATE_COMPLETE"
    assert sim.branch(APP_ID, "feature/theirs") is not None
    assert len(sim.webhooks(APP_ID)) == 1
    assert not {"DeleteBranch", "DeleteWebhook"} & set(sim.operations())
    assert "DeleteStack" not in cfn.requests


def test_teardown_branches_allows_a_branch_the_action_did_not_create(run_action, sim, cfn):
    arn = branch_with_stack(sim, cfn, "feature/theirs", tags={})

    run = teardown(run_action, "feature/theirs", cfn, **{"teardown-branches": "release, feature/*"})

    assert run.exit_code == 0, run.log
    assert "matches `teardown-branches` pattern `feature/*`" in run.log
    assert cfn.status(arn) == "DELETE_COMPLETE"
    assert sim.branch(APP_ID, "feature/theirs") is None


def test_teardown_of_what_is_already_gone_succeeds(run_action, sim, cfn):
    first = teardown(run_action, "feature/never", cfn)
    branch_with_stack(sim, cfn, "feature/twice")
    teardown(run_action, "feature/twice", cfn)
    again = teardown(run_action, "feature/twice", cfn)

    for run in (first, again):
        assert run.exit_code == 0, run.log
        assert "Nothing to delete" in run.log
        assert not run.commands.named("warning")
    assert cfn.count("DeleteStack") == 1


def test_a_dry_run_teardown_says_what_it_would_delete_and_deletes_nothing(run_action, sim, cfn):
    arn = branch_with_stack(sim, cfn, "feature/plan")

    run = teardown(run_action, "feature/plan", cfn, **{"dry-run": "true"})

    assert run.exit_code == 0, run.log
    assert f"would delete the stack {backend_stack_name(APP_ID, 'feature/plan')}" in run.log
    assert cfn.status(arn) == "CREATE_COMPLETE" and sim.branch(APP_ID, "feature/plan")
    assert cfn.requests == ["DescribeStacks"]
    assert not {"DeleteWebhook", "DeleteBranch"} & set(sim.operations())


def test_a_stack_left_by_a_branch_deleted_by_hand_goes_when_a_pattern_allows(run_action, sim, cfn):
    arn = cfn.create_stack(backend_stack_name(APP_ID, "feature/orphan"))

    kept = teardown(run_action, "feature/orphan", cfn)
    allowed = teardown(run_action, "feature/orphan", cfn, **{"teardown-branches": "feature/*"})

    assert kept.exit_code == allowed.exit_code == 0, kept.log + allowed.log
    [warning] = [c.message for c in kept.commands.named("warning")]
    assert "its backend stack amplify-" in warning
    assert cfn.status(arn) == "DELETE_COMPLETE"
    assert "DeleteBranch" not in sim.operations()


def test_two_teardowns_at_once_both_succeed(run_action, sim, cfn):
    # A merged pull request fires `pull_request: closed` and `delete` together.
    arn = branch_with_stack(sim, cfn, "feature/merged")
    sim.add_webhook(APP_ID, "feature/merged", "amplify-pipeline-deploy")
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: teardown(run_action, "feature/merged", cfn), range(2)))

    assert [r.exit_code for r in runs] == [0, 0], [r.log for r in runs]
    assert cfn.status(arn) == "DELETE_COMPLETE"
    assert sim.branch(APP_ID, "feature/merged") is None and sim.webhooks(APP_ID) == []


def test_a_stack_that_fails_to_delete_keeps_the_branch_and_a_rerun_finishes(run_action, sim, cfn):
    name = backend_stack_name(APP_ID, "feature/stuck")
    arn = branch_with_stack(sim, cfn, "feature/stuck")
    sim.add_webhook(APP_ID, "feature/stuck", "amplify-pipeline-deploy")
    cfn.fail_delete(name, "Storage", "The bucket you tried to delete is not empty")

    run = teardown(run_action, "feature/stuck", cfn)

    assert run.exit_code == 1
    [error] = run.errors()
    assert "DELETE_FAILED" in error
    assert "Storage (AWS::S3::Bucket): The bucket you tried to delete is not empty" in error
    assert "Queue" not in error  # only the resources that failed
    assert cfn.status(arn) == "DELETE_FAILED"
    assert sim.branch(APP_ID, "feature/stuck") is not None
    assert len(sim.webhooks(APP_ID)) == 1

    cfn.allow_delete(name, "Storage")  # the user emptied the bucket
    rerun = teardown(run_action, "feature/stuck", cfn)

    assert rerun.exit_code == 0, rerun.log
    assert cfn.status(arn) == "DELETE_COMPLETE"
    assert sim.branch(APP_ID, "feature/stuck") is None
    assert sim.webhooks(APP_ID) == []


def test_cancelled_mid_delete_keeps_the_branch(sim, cfn, tmp_path, workspace):
    arn = branch_with_stack(sim, cfn, "feature/slow")
    files = RunnerFiles(tmp_path / "runner", workspace)
    run_env = entrypoint_env(
        sim, files, {"command": "teardown", "branch": "feature/slow"}, job_env=env(cfn)
    )
    with cfn.hold_deletes():
        proc = start_entrypoint(run_env, workspace)
        deadline = time.monotonic() + 30
        while cfn.status(arn) != "DELETE_IN_PROGRESS":
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)

    assert proc.returncode == 130, out
    [error] = CommandLog.parse(out).errors()
    assert "Cancelled during the deletion of stack" in error
    assert sim.branch(APP_ID, "feature/slow") is not None
    assert "DeleteWebhook" not in sim.operations() and "DeleteBranch" not in sim.operations()


# -- the pull-request comment --------------------------------------------------------


def test_the_comment_is_created_then_updated_then_says_the_preview_is_gone(
    run_action, sim, cfn, github, pr_event
):
    github.add_comment(PR, "LGTM")
    inputs = {**OFF, "branch": "pr-7", "create-branch": "true", "github-token": TOKEN}
    job = env(cfn, github, pr_event)

    first = run_action(inputs, job_env=job)
    [comment] = [c for c in github.comments_on(PR) if c["body"] != "LGTM"]
    assert f"| Preview | https://pr-7.{APP_ID}.amplifyapp.com |" in comment["body"]
    assert "| Amplify branch | ✅ succeeded" in comment["body"]
    assert "[Workflow run](https://github.com/octo/app/actions/runs/42)" in comment["body"]
    second = run_action(inputs, job_env=job)
    [edited] = [c for c in github.comments_on(PR) if c["body"] != "LGTM"]
    assert edited["id"] == comment["id"] and "Amplify branch" not in edited["body"]
    gone = run_action({"command": "teardown", "branch": "pr-7", "github-token": TOKEN}, job_env=job)

    for run in (first, second, gone):
        assert run.exit_code == 0, run.log
        assert not run.commands.named("warning"), run.log
        no_token_anywhere(run)
        assert run.stdout.splitlines()[0] == f"::add-mask::{TOKEN}"  # masked before anything
    bodies = [c["body"] for c in github.comments_on(PR)]
    assert len(bodies) == 2  # "LGTM" and ours, edited in place
    assert ": removed" in bodies[1] and "preview is gone" in bodies[1]
    ops = github.operations()
    assert ops.count("POST /api/v3/repos/octo/app/issues/N/comments") == 1
    assert ops.count("PATCH /api/v3/repos/octo/app/issues/comments/N") == 2


def test_a_403_is_one_warning_that_names_the_permission(run_action, sim, github, pr_event):
    github.forbid()

    run = run_action({**OFF, "github-token": TOKEN}, job_env=env(github=github, event=pr_event))

    assert run.exit_code == 0, run.log
    [warning] = [c.message for c in run.commands.named("warning")]
    assert "HTTP 403" in warning and "pull-requests: write" in warning
    no_token_anywhere(run)


def test_a_wrong_token_a_server_error_and_no_token_are_warnings(run_action, sim, github, pr_event):
    github.fail(502, times=10)
    failing = run_action(
        {**OFF, "github-token": TOKEN, "max-attempts": "2"},
        job_env=env(github=github, event=pr_event),
    )
    refused = run_action(
        {**OFF, "github-token": "ghs_wrong_wrong_wrong"},
        job_env=env(github=github, event=pr_event),
    )
    tokenless = run_action({**OFF}, job_env=env(github=github, event=pr_event))

    for run, said in ((failing, "HTTP 502"), (refused, "was refused"), (tokenless, "is empty")):
        assert run.exit_code == 0, run.log
        [warning] = [c.message for c in run.commands.named("warning")]
        assert said in warning
        no_token_anywhere(run)
    assert github.comments_on(PR) == []


def test_a_passing_github_failure_is_retried_into_one_comment(run_action, sim, github, pr_event):
    github.fail(502, times=1)
    inputs = {
        **OFF,
        "github-token": TOKEN,
        "github-deployment": "false",
    }  # the comment's calls only

    run = run_action(inputs, job_env=env(github=github, event=pr_event))

    assert run.exit_code == 0, run.log
    assert not run.commands.named("warning"), run.log
    assert len(github.comments_on(PR)) == 1
    assert [r.status for r in github.requests][:2] == [502, 200]
    no_token_anywhere(run)


PREVIEW = {**OFF, "branch": "pr-7", "create-branch": "true", "github-token": TOKEN}


def test_a_marker_planted_by_someone_else_is_left_alone(run_action, sim, github, pr_event):
    """`GITHUB_TOKEN` cannot read `GET /user` (403): its comments are `github-actions[bot]`'s."""
    planted = github.add_comment(PR, marker(APP_ID, "pr-7") + "\nplanted", login="mallory")
    job = env(github=github, event=pr_event)

    runs = [run_action(PREVIEW, job_env=job), run_action(PREVIEW, job_env=job)]

    for run in runs:
        assert run.exit_code == 0, run.log
        assert not run.commands.named("warning"), run.log
    [theirs] = [c for c in github.comments_on(PR) if c["id"] == planted]
    assert theirs["body"].endswith("planted")
    [ours] = [c for c in github.comments_on(PR) if c["id"] != planted]
    assert ours["user"]["login"] == "github-actions[bot]" and "| Preview |" in ours["body"]
    ops = github.operations()
    assert ops.count("POST /api/v3/repos/octo/app/issues/N/comments") == 1
    assert ops.count("PATCH /api/v3/repos/octo/app/issues/comments/N") == 1
    assert f"Comment {planted} by mallory carries this action's marker" in runs[0].log


def test_a_personal_token_takes_only_its_own_users_comment(run_action, sim, harness, pr_event):
    harness.secrets.add(TOKEN)
    with GitHubServer(TOKEN, login="octo-deployer") as github:
        # Another workflow's comment, written with that workflow's GITHUB_TOKEN.
        other = github.add_comment(PR, marker(APP_ID, "pr-7"), login="github-actions[bot]")
        job = env(github=github, event=pr_event)

        runs = [run_action(PREVIEW, job_env=job), run_action(PREVIEW, job_env=job)]

        for run in runs:
            assert run.exit_code == 0, run.log
        [theirs] = [c for c in github.comments_on(PR) if c["id"] == other]
        assert theirs["body"] == marker(APP_ID, "pr-7")
        [ours] = [c for c in github.comments_on(PR) if c["id"] != other]
        assert ours["user"]["login"] == "octo-deployer"
        assert github.operations().count("PATCH /api/v3/repos/octo/app/issues/comments/N") == 1


def test_the_comment_beyond_the_first_page_is_updated_not_posted_again(
    run_action, sim, github, pr_event
):
    for n in range(120):  # GitHub gives at most 100 a page
        github.add_comment(PR, f"review {n}")
    ours = github.add_comment(PR, marker(APP_ID, "pr-7") + "\nold", login="github-actions[bot]")

    run = run_action(PREVIEW, job_env=env(github=github, event=pr_event))

    assert run.exit_code == 0, run.log
    [edited] = [c for c in github.comments_on(PR) if c["id"] == ours]
    assert "| Preview |" in edited["body"]
    assert len(github.comments_on(PR)) == 121
    assert "POST /api/v3/repos/octo/app/issues/N/comments" not in github.operations()


def test_a_spent_rate_limit_is_waited_out_and_retried(run_action, sim, github, pr_event):
    github.rate_limit("primary", seconds=0)  # reset now
    github.rate_limit("secondary", seconds=0)

    run = run_action(COMMENT_ONLY, job_env=env(github=github, event=pr_event))

    assert run.exit_code == 0, run.log
    assert not run.commands.named("warning"), run.log
    assert [r.status for r in github.requests][:3] == [403, 403, 200]
    assert len(github.comments_on(PR)) == 1


@pytest.mark.parametrize(
    ("kind", "status"), [("primary", 403), ("secondary", 403), ("primary", 429)]
)
def test_a_rate_limit_that_outlasts_the_retries_says_rate_limited(  # noqa: PLR0917
    run_action, sim, github, pr_event, kind, status
):
    github.rate_limit(kind, times=10, seconds=3600, status=status)  # an hour off: not worth it

    run = run_action(COMMENT_ONLY, job_env=env(github=github, event=pr_event))

    assert run.exit_code == 0, run.log
    [warning] = [c.message for c in run.commands.named("warning")]
    assert f"rate limited (HTTP {status}); GitHub asks to wait 60 min" in warning
    assert "pull-requests: write" not in warning
    assert len(github.requests) == 1  # no sleep of an hour, no attempt doomed to fail
    assert github.comments_on(PR) == []


def test_a_cancel_while_waiting_out_a_rate_limit_ends_the_run(
    sim, github, pr_event, tmp_path, workspace
):
    """GitHub asks for 30 s; the runner's SIGTERM comes (it kills 7.5 s later): the
    comment is given up at once."""
    github.rate_limit("secondary", times=5, seconds=30)
    files = RunnerFiles(tmp_path / "runner", workspace)
    run_env = entrypoint_env(sim, files, COMMENT_ONLY, job_env=env(github=github, event=pr_event))
    proc = start_entrypoint(run_env, workspace)
    deadline = time.monotonic() + 30
    while not github.requests:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)  # asleep now, 30 s from the next attempt

    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=7.5)  # the runner's SIGKILL comes after 7.5 s
    finally:
        proc.kill()

    assert proc.returncode == 0, out  # the run's work was done: only the comment is given up
    [warning] = CommandLog.parse(out).named("warning")
    assert warning.message.endswith("after 1 attempt(s): cancelled."), out
    assert len(github.requests) == 1, out  # no attempt after the cancel
    assert github.comments_on(PR) == []
    assert TOKEN not in shown_lines(out)


def test_pr_comment_false_posts_nothing(run_action, sim, github, pr_event):
    run = run_action(
        {**OFF, "github-token": TOKEN, "pr-comment": "false", "github-deployment": "false"},
        job_env=env(github=github, event=pr_event),
    )

    assert run.exit_code == 0, run.log
    assert github.requests == []


def test_no_comment_outside_pull_requests_nor_in_a_dry_run(run_action, sim, github, pr_event):
    push = run_action({**OFF, "github-token": TOKEN}, job_env=env(github=github))
    dry = run_action(
        {**OFF, "github-token": TOKEN, "dry-run": "true"},
        job_env=env(github=github, event=pr_event),
    )

    assert push.exit_code == dry.exit_code == 0, push.log + dry.log
    assert not [r for r in github.requests if "/comments" in r.path]
    assert len(github.requests) == 3, "the push's deployment only: created, in_progress, success"


# -- a preview's whole life, counted ---------------------------------------------


def test_a_previews_whole_life_counted(run_action, sim, cfn, github, pr_event, capsys):  # noqa: PLR0917
    """Open (create + deploy + trigger + comment), two pushes, close (teardown + comment).

    The stub CLI deploys nothing, so after the first deploy the stack is made in moto
    and linked to the branch as `pipeline-deploy`'s branch linker would.
    """
    deploy = {"branch": "pr-7", "create-branch": "true", "github-token": TOKEN}
    close = {"command": "teardown", "branch": "pr-7", "github-token": TOKEN}
    # SSM and STS too, so that the checks before each deploy are counted.
    job = {**env(cfn, github, pr_event), **aws_server.endpoints(cfn.url)}
    aws_server.bootstrap(cfn.url)
    counts: dict[str, dict[str, int]] = {}

    def phase(name: str, inputs: dict[str, str]) -> None:
        before = (len(sim.operations()), len(cfn.requests), len(github.requests))
        run = run_action(inputs, job_env=job)
        assert run.exit_code == 0, run.log
        calls: dict[str, int] = {}
        for op in sim.operations()[before[0] :]:
            calls[f"amplify:{op}"] = calls.get(f"amplify:{op}", 0) + 1
        for op in cfn.requests[before[1] :]:
            service = "ssm" if "Parameter" in op else "cloudformation"
            calls[f"{service}:{op}"] = calls.get(f"{service}:{op}", 0) + 1
        for op in github.operations()[before[2] :]:
            calls[f"github:{op.split()[0]}"] = calls.get(f"github:{op.split()[0]}", 0) + 1
        counts[name] = calls

    phase("open", deploy)
    arn = cfn.create_stack(backend_stack_name(APP_ID, "pr-7"))
    with sim._lock:  # what the CLI's branch linker does with UpdateBranch
        sim._branches[(APP_ID, "pr-7")]["backend"] = {"stackArn": arn}
    phase("push 1", deploy)
    phase("push 2", deploy)
    phase("close", close)

    with capsys.disabled():
        print("\ncalls of a preview's whole life (per phase):")
        for name, calls in counts.items():
            print(f"  {name:7} {sum(calls.values()):3}  {dict(sorted(calls.items()))}")
        print(f"  total   {sum(sum(c.values()) for c in counts.values()):3}")
    assert counts["open"] == {
        "amplify:GetApp": 1,
        "amplify:GetBranch": 1,
        "amplify:CreateBranch": 1,
        "amplify:ListWebhooks": 2,
        "amplify:CreateWebhook": 1,
        "amplify:ListJobs": 1,  # the branch's newest job, noted before the POST
        "amplify:Webhook": 1,
        "ssm:GetParameter": 1,  # the checks before the deploy: the CDK bootstrap version,
        "cloudformation:DescribeStacks": 1,  # and the branch's stack (its backend reads no secret)
        "github:GET": 1,
        "github:POST": 4,  # the comment; the deployment, in_progress, success
    }
    assert (
        counts["push 1"]
        == counts["push 2"]
        == {
            "amplify:GetApp": 1,
            "amplify:GetBranch": 1,
            "amplify:ListWebhooks": 1,
            "amplify:ListJobs": 1,
            "amplify:Webhook": 1,
            "ssm:GetParameter": 1,
            "cloudformation:DescribeStacks": 1,
            "amplify:TagResource": 1,  # the preview's last deploy, for sweep's TTL
            "github:GET": 2,  # the comments, then whose the marked one is (GET /user)
            "github:POST": 3,  # the deployment, in_progress, success
            "github:PATCH": 1,
        }
    )
    # One poll here (moto's resources go in 0.15 s); each further poll of a real
    # delete adds one DescribeStackEvents and one DescribeStacks.
    assert counts["close"] == {
        "amplify:GetApp": 1,
        "amplify:GetBranch": 1,
        "amplify:ListTagsForResource": 1,
        "cloudformation:DescribeStacks": 2,
        "cloudformation:DescribeStackEvents": 2,
        "cloudformation:DeleteStack": 1,
        "ssm:GetParametersByPath": 1,  # the branch's secrets: none
        "amplify:ListWebhooks": 1,
        "amplify:DeleteWebhook": 1,
        "amplify:DeleteBranch": 1,
        "github:GET": 3,  # the comments, GET /user, the latest deployment
        "github:POST": 1,  # the deployment goes inactive
        "github:PATCH": 1,
    }
    assert cfn.status(arn) == "DELETE_COMPLETE" and sim.branch(APP_ID, "pr-7") is None
    assert len(github.comments_on(PR)) == 1


def test_a_delete_still_running_at_the_timeout_is_an_error_that_keeps_the_branch(cfn, monkeypatch):
    """In process, on the real client against moto, with a clock that jumps a minute a read."""
    from ampaction.cloudformation import CloudFormation
    from ampaction.errors import ActionError
    from ampaction.teardown import delete_stack
    from ampaction.workflow import Workflow

    for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL_CLOUDFORMATION": cfn.url}.items():
        monkeypatch.setenv(name, value)
    arn = cfn.create_stack("amplify-d1-slow-branch-0123456789")
    client = CloudFormation("us-east-1", 2, {})
    stack = client.find_stack(arn)
    ticks = iter(range(0, 10_000, 60))
    lines = io.StringIO()
    with cfn.hold_deletes(), pytest.raises(ActionError) as timed_out:
        delete_stack(
            client,
            Workflow(out=lines),
            stack,
            timeout_seconds=300,
            sleep=lambda _: None,
            cancelled=lambda: False,
            clock=lambda: float(next(ticks)),
        )

    assert "still DELETE_IN_PROGRESS after 5 minutes" in timed_out.value.message
    assert "re-run the teardown" in timed_out.value.message
    # The stack's own event comes with DeleteStack; its resources' follow on moto's time.
    stack_line = (
        "amplify-d1-slow-branch-0123456789 (AWS::CloudFormation::Stack): DELETE_IN_PROGRESS"
    )
    assert stack_line in lines.getvalue()
