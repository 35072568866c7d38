"""Results where GitHub users look, and previews that clean up after themselves (issue 21):
GitHub deployments with statuses, and `command: sweep`.

Real parts: the entrypoint as the runner runs it, boto3 against the Amplify simulator,
CloudFormation in moto's server (real stacks whose resources really go), and a local
GitHub REST server with GitHub's rules for deployments (a `success` deactivates the
environment's older non-transient, non-production deployments) and pull requests.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from support.action import APP_ID, GITHUB_TOKEN
from support.entrypoint import COMMAND, entrypoint_env
from support.fixtures import copy_project, wait_for_file
from support.hygiene import shown_lines
from support.runner import RunnerFiles

from ampaction.branch import LAST_DEPLOY_TAG
from ampaction.cloudformation import backend_stack_name

TOKEN = GITHUB_TOKEN
SHA = "0123456789abcdef0123456789abcdef01234567"
HEAD_SHA = "fedcba9876543210fedcba9876543210fedcba98"
OFF = {"install": "false", "deploy-backend": "false", "trigger-frontend": "false"}
OURS = {"created-by": "amplify-pipeline-deploy"}


def job(github=None, cfn=None, *, pull_request: int | None = None, tmp_path: Path | None = None):
    env = {"GITHUB_EVENT_NAME": "push", "GITHUB_SHA": SHA}
    if github:
        env["GITHUB_API_URL"] = github.url
    if cfn:
        env["AWS_ENDPOINT_URL_CLOUDFORMATION"] = cfn.url
    if pull_request is not None:
        assert tmp_path is not None
        path = tmp_path / f"event-{pull_request}.json"
        event = {
            "number": pull_request,
            "pull_request": {"number": pull_request, "head": {"sha": HEAD_SHA}},
        }
        path.write_text(json.dumps(event), encoding="utf-8")
        env.update({"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(path)})
    return env


def notices(run) -> list[str]:
    return [c.message for c in run.commands.named("notice")]


def no_token_anywhere(run) -> None:
    for text in (
        shown_lines(run.stdout),
        shown_lines(run.stderr),
        json.dumps(run.outputs),
        run.summary,
    ):
        assert TOKEN not in text


# -- GitHub deployments -------------------------------------------------------------


def test_a_push_to_the_production_branch_is_one_production_deployment_in_progress_then_success(
    run_action, sim, github
):
    sim.set_production_branch(APP_ID, "main")

    run = run_action({"github-token": TOKEN}, job_env=job(github))

    assert run.exit_code == 0, run.log
    [deployment] = github.deployments_in()
    assert deployment["ref"] == SHA
    assert deployment["environment"] == "amplify/main"
    assert deployment["production_environment"] is True
    assert deployment["transient_environment"] is False
    assert deployment["auto_merge"] is False and deployment["required_contexts"] == []
    assert github.states(deployment["id"]) == ["in_progress", "success"]
    [started] = [r for r in github.requests if r.method == "POST" and r.path.endswith("/statuses")][
        :1
    ]
    [ampx] = run.ampx_calls()
    assert started.at * 1000 < ampx["at"], "in_progress is set before `ampx` starts"
    success = deployment["statuses"][-1]
    assert success["environment_url"] == run.outputs["frontend-url"] != ""
    assert success["log_url"] == run.outputs["job-url"] != ""
    assert run.outputs["deployment-id"] == str(deployment["id"])
    no_token_anywhere(run)


def test_the_summary_leads_with_the_frontend_the_amplify_job_and_the_github_deployment(
    run_action, sim, github
):
    run = run_action({"github-token": TOKEN}, job_env=job(github))

    assert run.exit_code == 0, run.log
    lead = run.summary.split("| Step |")[0]
    assert run.outputs["frontend-url"] in lead
    assert run.outputs["job-url"] in lead
    assert "https://github.com/octo/app/deployments/amplify%2Fmain" in lead


def test_without_an_amplify_job_the_log_url_is_the_runs_page(run_action, sim, github):
    run = run_action({**OFF, "github-token": TOKEN}, job_env=job(github))

    assert run.exit_code == 0, run.log
    [deployment] = github.deployments_in()
    assert deployment["statuses"][-1]["log_url"] == "https://github.com/octo/app/actions/runs/42"


def test_two_pull_requests_previewed_one_after_the_other_both_stay_success(
    run_action, sim, github, tmp_path
):
    for number in (1, 2):
        inputs = {**OFF, "branch": f"pr-{number}", "create-branch": "true", "github-token": TOKEN}
        run = run_action(
            {**inputs, "pr-comment": "false"},
            job_env=job(github, pull_request=number, tmp_path=tmp_path),
        )
        assert run.exit_code == 0, run.log

    first, second = github.deployments_in()
    assert (first["environment"], second["environment"]) == ("amplify/pr-1", "amplify/pr-2")
    assert first["transient_environment"] and not first["production_environment"]
    assert first["ref"] == HEAD_SHA, "a pull request's deployment is of its head commit"
    assert github.states(first["id"])[-1] == "success"
    assert github.states(second["id"])[-1] == "success"


def test_a_failed_deploy_ends_failure(run_action, sim, github):
    run = run_action({"github-token": TOKEN}, job_env={**job(github), "STUB_AMPX_EXIT": "1"})

    assert run.exit_code != 0
    [deployment] = github.deployments_in()
    assert github.states(deployment["id"]) == ["in_progress", "failure"]


def test_a_cancelled_deploy_ends_error(sim, github, tmp_path):
    started = tmp_path / "ampx-started"
    workspace = copy_project("gen2-app", tmp_path / "ws")
    files = RunnerFiles(tmp_path / "runner", workspace)
    slow = {"STUB_AMPX_SLEEP": "60", "STUB_AMPX_STARTED": str(started)}
    run_env = entrypoint_env(sim, files, {"github-token": TOKEN}, job_env={**job(github), **slow})
    proc = subprocess.Popen(
        COMMAND, env=run_env, cwd=workspace, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    wait_for_file(started, proc, timeout=60)

    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)

    assert proc.returncode == 130, out
    [deployment] = github.deployments_in()
    assert github.states(deployment["id"]) == ["in_progress", "error"]
    assert TOKEN not in shown_lines(out.decode())


def test_teardown_leaves_the_previews_deployment_inactive(run_action, sim, cfn, github, tmp_path):
    inputs = {**OFF, "branch": "pr-5", "github-token": TOKEN, "pr-comment": "false"}
    events = job(github, cfn, pull_request=5, tmp_path=tmp_path)
    deployed = run_action({**inputs, "create-branch": "true"}, job_env=events)
    assert deployed.exit_code == 0, deployed.log

    gone = run_action({**inputs, "command": "teardown"}, job_env=events)

    assert gone.exit_code == 0, gone.log
    assert sim.branch(APP_ID, "pr-5") is None
    [deployment] = github.deployments_in("amplify/pr-5")
    assert github.states(deployment["id"]) == ["in_progress", "success", "inactive"]


def deploy_previews_into_preview(run_action, github, cfn, tmp_path, *numbers: int) -> dict:
    """Deploy pull requests `numbers` as previews into one shared environment, `preview`;
    the inputs they share."""
    shared = {**OFF, "github-token": TOKEN, "pr-comment": "false"}
    shared["deployment-environment"] = "preview"
    for number in numbers:
        events = job(github, cfn, pull_request=number, tmp_path=tmp_path)
        inputs = {**shared, "branch": f"pr-{number}", "create-branch": "true"}
        assert run_action(inputs, job_env=events).exit_code == 0
    return shared


def test_teardown_in_a_shared_environment_deactivates_only_its_own_branchs_deployment(
    run_action, sim, cfn, github, tmp_path
):
    """Two previews deployed into one `deployment-environment` (a shared `preview`): the
    newest deployment there is pr-7's, and tearing pr-6 down must leave it active."""
    shared = deploy_previews_into_preview(run_action, github, cfn, tmp_path, 6, 7)

    events = job(github, cfn, pull_request=6, tmp_path=tmp_path)
    gone = run_action({**shared, "branch": "pr-6", "command": "teardown"}, job_env=events)

    assert gone.exit_code == 0, gone.log
    six, seven = github.deployments_in("preview")
    assert github.states(six["id"])[-1] == "inactive", "pr-6's own deployment"
    assert github.states(seven["id"])[-1] == "success", "pr-7's stays: it is not pr-6's"


def test_sweep_deactivates_each_previews_deployment_in_its_deployment_environment(
    run_action, sim, cfn, github, tmp_path
):
    deploy_previews_into_preview(run_action, github, cfn, tmp_path, 8, 9)
    github.add_pull(8, "closed")
    github.add_pull(9, "open")

    run = sweep(run_action, github, cfn, **{"deployment-environment": "preview"})

    assert run.exit_code == 0, run.log
    assert run.outputs["swept-branches"] == "pr-8"
    eight, nine = github.deployments_in("preview")
    assert github.states(eight["id"])[-1] == "inactive"
    assert github.states(nine["id"])[-1] == "success"


def test_a_preview_deployed_into_its_own_named_environment_is_deactivated_by_sweep_and_teardown(
    run_action, sim, cfn, github, tmp_path
):
    """`deployment-environment: preview-<n>`, a name per pull request, which no sweep or
    teardown input can give: the preview's branch records it, and both find it there."""
    for number in (21, 22):
        events = job(github, cfn, pull_request=number, tmp_path=tmp_path)
        inputs = {**OFF, "github-token": TOKEN, "pr-comment": "false", "create-branch": "true"}
        inputs |= {"branch": f"pr-{number}", "deployment-environment": f"preview-{number}"}
        assert run_action(inputs, job_env=events).exit_code == 0
    github.add_pull(21, "closed")
    github.add_pull(22, "open")

    swept = sweep(run_action, github, cfn)
    events = job(github, cfn, pull_request=22, tmp_path=tmp_path)
    gone = run_action(
        {"command": "teardown", "branch": "pr-22", "github-token": TOKEN}, job_env=events
    )

    assert swept.exit_code == 0, swept.log
    assert gone.exit_code == 0, gone.log
    for number in (21, 22):
        (deployment,) = github.deployments_in(f"preview-{number}")
        assert github.states(deployment["id"])[-1] == "inactive", number


def test_a_403_is_one_notice_naming_the_permission_and_the_run_succeeds(run_action, sim, github):
    github.forbid()

    run = run_action({"github-token": TOKEN}, job_env=job(github))

    assert run.exit_code == 0, run.log
    [notice] = notices(run)
    assert "HTTP 403" in notice and "`permissions: deployments: write`" in notice
    assert run.outputs["deployment-id"] == ""
    assert run.outputs["backend-deployed"] == "true"


def test_no_token_is_one_notice_and_no_call(run_action, sim, github):
    run = run_action(OFF, job_env=job(github))

    assert run.exit_code == 0, run.log
    [notice] = notices(run)
    assert "`github-token` is empty" in notice and "`permissions: deployments: write`" in notice
    assert github.requests == []


@pytest.mark.parametrize("inputs", [{"github-deployment": "false"}, {"dry-run": "true"}])
def test_github_deployment_false_and_a_dry_run_create_nothing(run_action, sim, github, inputs):
    run = run_action({"github-token": TOKEN, **inputs}, job_env=job(github))
    tokenless = run_action(inputs, job_env=job(github))

    assert run.exit_code == tokenless.exit_code == 0, run.log + tokenless.log
    assert github.requests == []
    assert run.outputs["deployment-id"] == ""
    assert notices(run) == notices(tokenless) == [], "not even a word about the token"


# -- the preview's tags -------------------------------------------------------------------


def test_create_branch_on_pull_request_31_tags_the_branch_with_its_number(
    run_action, sim, github, tmp_path
):
    run = run_action(
        {
            **OFF,
            "branch": "pr-31",
            "create-branch": "true",
            "github-token": TOKEN,
            "pr-comment": "false",
        },
        job_env=job(github, pull_request=31, tmp_path=tmp_path),
    )

    assert run.exit_code == 0, run.log
    tags = sim.branch(APP_ID, "pr-31")["tags"]
    assert tags["pull-request"] == "31"
    assert tags["created-by"] == "amplify-pipeline-deploy"
    assert tags[LAST_DEPLOY_TAG].endswith("Z")


def test_a_deploy_renews_a_previews_last_deploy_time(run_action, sim):
    sim.add_branch(
        APP_ID,
        "pr-8",
        stage="PULL_REQUEST",
        tags={**OURS, "pull-request": "8", LAST_DEPLOY_TAG: "2020-01-01T00:00:00Z"},
    )

    run = run_action({"branch": "pr-8", "trigger-frontend": "false"}, job_env=job())

    assert run.exit_code == 0, run.log
    assert sim.branch(APP_ID, "pr-8")["tags"][LAST_DEPLOY_TAG] > "2026"


# -- sweep -----------------------------------------------------------------------------


def preview(sim, cfn, branch: str, number: int, **tags: str) -> str:
    arn = cfn.create_stack(backend_stack_name(APP_ID, branch))
    sim.add_branch(
        APP_ID,
        branch,
        stage="PULL_REQUEST",
        tags={**OURS, "pull-request": str(number), **tags},
        stack_arn=arn,
    )
    return arn


@pytest.fixture
def previews(sim, cfn, github):
    """Pull requests 11 and 13 closed, 12 open; an untagged branch, a branch this action
    made on a push, and the production branch; ListBranches answers one branch a page."""
    sim.set_production_branch(APP_ID, "main")
    arns = {f"pr-{n}": preview(sim, cfn, f"pr-{n}", n) for n in (11, 12, 13)}
    arns["feature/mine"] = cfn.create_stack(backend_stack_name(APP_ID, "feature/mine"))
    sim.add_branch(APP_ID, "feature/mine", stage="DEVELOPMENT", stack_arn=arns["feature/mine"])
    sim.add_branch(APP_ID, "feature/pushed", stage="DEVELOPMENT", tags=OURS)
    # Someone else's branch that happens to carry a `pull-request` tag of a closed one.
    sim.add_branch(APP_ID, "theirs", stage="PULL_REQUEST", tags={"pull-request": "11"})
    for number, state in ((11, "closed"), (12, "open"), (13, "closed")):
        github.add_pull(number, state)
    sim.page_size_cap = 1
    return arns


def sweep(run_action, github, cfn, **inputs: str):
    return run_action(
        {"command": "sweep", "github-token": TOKEN, **inputs}, job_env=job(github, cfn)
    )


def test_sweep_removes_exactly_the_previews_of_closed_pull_requests(
    run_action, sim, cfn, github, previews
):
    run = sweep(run_action, github, cfn)

    assert run.exit_code == 0, run.log
    assert run.outputs["swept-branches"] == "pr-11,pr-13"
    for gone in ("pr-11", "pr-13"):
        assert sim.branch(APP_ID, gone) is None
        assert cfn.status(previews[gone]) == "DELETE_COMPLETE"
    for kept in ("pr-12", "main", "feature/mine", "feature/pushed", "theirs"):
        assert sim.branch(APP_ID, kept) is not None, kept
    assert run.commands.named("warning") == [], "no other branch was even tried"
    assert cfn.status(previews["pr-12"]) == "CREATE_COMPLETE"
    assert cfn.status(previews["feature/mine"]) == "CREATE_COMPLETE"
    assert sim.count("ListBranches") == 7, "every page of ListBranches was read, one a branch"
    no_token_anywhere(run)


def test_a_dry_run_sweep_names_them_and_removes_nothing(run_action, sim, cfn, github, previews):
    run = sweep(run_action, github, cfn, **{"dry-run": "true"})

    assert run.exit_code == 0, run.log
    assert "would remove branch `pr-11` (pull request #11 is closed)" in run.log
    assert "would remove branch `pr-13` (pull request #13 is closed)" in run.log
    assert "pr-12`" not in run.log.split("Plan (dry run)")[-1]
    for name in ("pr-11", "pr-12", "pr-13"):
        assert sim.branch(APP_ID, name) is not None
        assert cfn.status(previews[name]) == "CREATE_COMPLETE"
    assert "DeleteStack" not in cfn.requests
    assert run.outputs["swept-branches"] == ""


def test_sweep_with_preview_ttl_days_removes_a_preview_not_deployed_for_that_long(
    run_action, sim, cfn, github
):
    preview(sim, cfn, "pr-21", 21, **{LAST_DEPLOY_TAG: "2020-01-01T00:00:00Z"})
    preview(sim, cfn, "pr-22", 22)  # deployed just now
    github.add_pull(21, "open")
    github.add_pull(22, "open")

    kept = sweep(run_action, github, cfn)
    assert kept.exit_code == 0, kept.log
    assert kept.outputs["swept-branches"] == ""

    run = sweep(run_action, github, cfn, **{"preview-ttl-days": "7"})

    assert run.exit_code == 0, run.log
    assert run.outputs["swept-branches"] == "pr-21"
    assert "last deployed 2020-01-01 00:00 UTC" in run.log
    assert sim.branch(APP_ID, "pr-22") is not None


def test_one_preview_failing_to_go_does_not_stop_the_others_and_fails_the_run(
    run_action, sim, cfn, github, previews
):
    cfn.fail_delete(backend_stack_name(APP_ID, "pr-11"), "Storage", "The bucket is not empty")

    run = sweep(run_action, github, cfn)

    assert run.exit_code == 1
    assert sim.branch(APP_ID, "pr-13") is None, "the next preview still went"
    assert sim.branch(APP_ID, "pr-11") is not None, "a failed stack keeps its branch"
    assert run.outputs["swept-branches"] == "pr-13"
    assert any("`pr-11`" in e for e in run.errors())


def test_an_unreadable_pull_request_keeps_its_preview(run_action, sim, cfn, github):
    preview(sim, cfn, "pr-41", 41)  # the server knows no pull request 41: 404

    run = sweep(run_action, github, cfn)

    assert run.exit_code == 0, run.log
    assert sim.branch(APP_ID, "pr-41") is not None
    [warning] = [c.message for c in run.commands.named("warning")]
    assert "pull request #41" in warning and "`permissions: pull-requests: read`" in warning


def test_sweep_without_a_token_and_without_a_ttl_is_an_error_that_deletes_nothing(
    run_action, sim, cfn, github, previews
):
    run = run_action({"command": "sweep"}, job_env=job(github, cfn))

    assert run.exit_code == 1
    [error] = run.errors()
    assert "`github-token`" in error and "`permissions: pull-requests: read`" in error
    assert "DeleteStack" not in cfn.requests
    assert sim.count("DeleteBranch") == 0


def test_the_pull_request_comment_leads_with_the_frontend_the_amplify_job_and_the_deployment(
    run_action, sim, github, tmp_path
):
    run = run_action(
        {"branch": "pr-9", "create-branch": "true", "github-token": TOKEN},
        job_env=job(github, pull_request=9, tmp_path=tmp_path),
    )

    assert run.exit_code == 0, run.log
    [comment] = github.comments_on(9)
    heading, lead = comment["body"].split("| Part |")[0].split("###", 1)[1].split("\n", 1)
    assert "pr-9" in heading
    assert run.outputs["frontend-url"] in lead
    assert f"]({run.outputs['job-url']})" in lead
    assert "](https://github.com/octo/app/deployments/amplify%2Fpr-9)" in lead
