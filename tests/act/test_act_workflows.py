"""Every workflow we ship, run by nektos/act against the Amplify simulator.

act is an independent implementation of the runner: these tests catch what our own
double of the runner (tests/support/runner.py) would share with our assumptions.
The harness is tests/support/act.py. Run alone: python -m pytest -m act
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support import aws_server
from support.act import (
    EXAMPLES,
    ActRun,
    app_repository,
    git_repository,
    run_workflow,
    tag_for_act,
    tracked_copy,
    webhook_secrets,
)
from support.action import APP_ID
from support.amplify_sim import AmplifySimulator

pytestmark = [pytest.mark.act, pytest.mark.container]


def quick_jobs(sim: AmplifySimulator, *branches: str) -> None:
    """Each branch exists in Amplify, and its frontend jobs finish in about a second."""
    for branch in branches:
        if branch != "main":
            sim.add_branch(APP_ID, branch)
        sim.set_job_plan(APP_ID, branch, [("RUNNING", 0.5), ("SUCCEED", None)])


def builds(sim: AmplifySimulator, branch: str) -> int:
    return len(sim.jobs(APP_ID, branch))


def assert_no_token(run: ActRun, sim: AmplifySimulator) -> None:
    """No form of any webhook token the simulator issued is in act's log (but in the
    `::add-mask::` commands that act consumes; the masking test shows they were masked)."""
    secrets = webhook_secrets(sim)
    assert secrets, "no webhook was issued: nothing to look for"
    run.assert_never_shows(secrets)


def env_for(sim: AmplifySimulator) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL_AMPLIFY": sim.url, **aws_server.endpoints()}


def test_single_branch_deploys_and_builds_main(sim: AmplifySimulator, tmp_path: Path) -> None:
    quick_jobs(sim, "main")
    repo = app_repository(tmp_path / "app", EXAMPLES / "single-branch.yml")
    run = run_workflow(repo, "push", env=env_for(sim))
    run.succeeded()
    outputs = run.outputs()
    assert outputs.get("backend-deployed") == "true", outputs
    assert outputs.get("frontend-triggered") == "true", outputs
    assert builds(sim, "main") == 1
    assert_no_token(run, sim)


def test_single_branch_masks_the_webhook_url(sim: AmplifySimulator, tmp_path: Path) -> None:
    """The filter in `ActRun.shown` drops only what act consumes: the action did ask
    act to mask, and act showed `***`."""
    quick_jobs(sim, "main")
    repo = app_repository(tmp_path / "app", EXAMPLES / "single-branch.yml")
    run = run_workflow(repo, "push", env=env_for(sim))
    run.succeeded()
    masks = [e for e in run.entries if e.get("command") == "add-mask"]
    assert masks and all("***" in str(e.get("msg")) for e in masks)
    assert_no_token(run, sim)


def test_single_branch_builds_nothing_for_another_branch(
    sim: AmplifySimulator, tmp_path: Path
) -> None:
    quick_jobs(sim, "main", "feature")
    repo = app_repository(tmp_path / "app", EXAMPLES / "single-branch.yml", branch="feature")
    run = run_workflow(repo, "push", env=env_for(sim))
    run.succeeded()
    # GitHub would not start this workflow for `feature` (`on.push.branches: [main]`);
    # act ignores that filter and runs it, so the action's own `frontend-branches: main`
    # is what keeps the build off: the backend deploys, no frontend build starts.
    outputs = run.outputs()
    assert outputs.get("backend-deployed") == "true", outputs
    assert outputs.get("frontend-triggered") == "false", outputs
    assert builds(sim, "feature") == 0 and builds(sim, "main") == 0
    spec = yaml.safe_load((EXAMPLES / "single-branch.yml").read_text(encoding="utf-8"))
    assert spec[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads `on:` as True


def test_matrix_deploys_each_branch_and_builds_the_matching_ones(
    sim: AmplifySimulator, tmp_path: Path
) -> None:
    quick_jobs(sim, "main", "dev", "staging")
    repo = app_repository(tmp_path / "app", EXAMPLES / "matrix.yml")
    run = run_workflow(
        repo,
        "push",
        env=env_for(sim),
        variables={"AWS_DEPLOY_ROLE_ARN": "arn:aws:iam::123456789012:role/amplify-deploy"},
    )
    run.succeeded()
    for branch, built in (("main", 1), ("staging", 1), ("dev", 0)):
        outputs = run.outputs(f"Deploy Amplify branches/Deploy {branch}")
        assert outputs.get("backend-deployed") == "true", (branch, outputs)
        assert outputs.get("frontend-triggered") == ("true" if built else "false"), outputs
        assert builds(sim, branch) == built, branch
    assert_no_token(run, sim)


def test_monorepo_passes_the_outputs_path_to_the_next_step(
    sim: AmplifySimulator, tmp_path: Path
) -> None:
    quick_jobs(sim, "main")
    repo = app_repository(tmp_path / "app", EXAMPLES / "monorepo.yml", folder="apps/web")
    run = run_workflow(repo, "push", env=env_for(sim))
    run.succeeded()
    path = run.outputs().get("amplify-outputs", "")
    assert path.endswith("apps/web/amplify_outputs.json"), run.outputs()
    assert f"amplify outputs in {path}" in run.step_lines()
    assert builds(sim, "main") == 1
    assert_no_token(run, sim)


@pytest.mark.parametrize(("branch", "built"), [("main", 1), ("dev", 0)])
def test_reusable_workflow_outputs_reach_the_callers_next_job(
    sim: AmplifySimulator, tmp_path: Path, branch: str, built: int
) -> None:
    """examples/reusable-caller.yml calls .github/workflows/amplify-deploy.yml@v1 (this
    working tree), which runs the action and passes its outputs up to `needs.deploy`."""
    quick_jobs(sim, "main", "dev")
    repo = app_repository(tmp_path / "app", EXAMPLES / "reusable-caller.yml", branch=branch)
    run = run_workflow(repo, "push", env=env_for(sim))
    run.succeeded()
    outputs = run.outputs()  # the called workflow's step, as act recorded it
    assert outputs.get("backend-deployed") == "true", outputs
    assert outputs.get("frontend-triggered") == ("true" if built else "false"), outputs
    # ...and what reached the caller's next job through `needs.deploy.outputs`:
    after = [line for line in run.step_lines() if line.startswith("frontend job")]
    assert builds(sim, branch) == built
    if built:
        job_id = sim.jobs(APP_ID, branch)[0]["jobId"]
        assert after == [f"frontend job SUCCEED at {outputs['job-url']}"], after
        assert outputs.get("job-id") == job_id and f"/branches/{branch}/" in after[0], outputs
        assert_no_token(run, sim)
    else:
        assert after == ["frontend job  at"], after


def test_ci_self_test_job(tmp_path: Path, action_image: str) -> None:
    """ci.yml's `self-test` job (`uses: ./`, its own assertions) passes under act."""
    tag_for_act(action_image, "./")
    repo = git_repository(tracked_copy(tmp_path / "repo"))
    run = run_workflow(repo, "push", workflow="ci.yml", job="self-test", action_source=repo)
    run.succeeded()
    lines = run.step_lines("CI/Self-test")
    assert lines.count("outcome: failure") == 2, lines
    assert lines.count("outcome: success") == 1, lines
