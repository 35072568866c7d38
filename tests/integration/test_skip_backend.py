"""`skip-unchanged-backend`: a run whose backend files are those of the branch's last
successful deploy skips install and deploy and goes on to the frontend; any other
run deploys, and a deploy that fails or is cancelled never leaves a matching tag."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.action import APP_ID, ROOT
from support.cloudformation_server import CloudFormationServer
from support.entrypoint import entrypoint_env, start_entrypoint
from support.fixtures import wait_for_file
from support.runner import RunnerFiles

from ampaction import skip
from ampaction.cloudformation import backend_stack_name

SKIP = {"skip-unchanged-backend": "true"}
HASH, DEPLOY = skip.HASH_TAG, skip.DEPLOY_TAG


@pytest.fixture
def cfn():
    """CloudFormation, with the stack a deploy of branch `main` made (the stub CLI makes
    none): a matching tag is trusted only while the branch's stack stands."""
    with CloudFormationServer() as server:
        server.create_stack(backend_stack_name(APP_ID, "main"))
        yield server


@pytest.fixture
def run_action(run_action, cfn):  # type: ignore[no-untyped-def]
    """conftest's, with CloudFormation at `cfn`."""

    def run(inputs=None, *, job_env=None, **options):  # type: ignore[no-untyped-def]
        job = {"AWS_ENDPOINT_URL_CLOUDFORMATION": cfn.url, **(job_env or {})}
        return run_action(inputs, job_env=job, **options)

    return run


def files_hash(workspace: Path, paths: tuple[str, ...] = ()) -> str:
    return skip.backend_hash(workspace, paths).digest


def deployed(run_action, sim, workspace):  # type: ignore[no-untyped-def]
    """A first run that deploys and leaves the hash on the branch."""
    run = run_action(SKIP)
    assert run.exit_code == 0, run.log
    assert run.outputs["backend-deployed"] == "true"
    assert run.outputs["backend-skipped"] == "false"
    assert len(run.ampx_calls()) == 1
    return run


def test_a_deploy_tags_the_branch_and_an_unchanged_backend_is_skipped(
    run_action, sim, cfn, workspace
):
    deployed(run_action, sim, workspace)
    tags = sim.branch(APP_ID, "main")["tags"]
    assert tags[HASH] == files_hash(workspace)
    assert tags[DEPLOY].startswith("run 42 at ")  # GITHUB_RUN_ID of the run that deployed
    sim.clear_requests()
    cfn_before = len(cfn.requests)

    # A frontend-only commit.
    (workspace / "src").mkdir()
    (workspace / "src" / "App.tsx").write_text("export default () => 'new look';\n")
    run = run_action(SKIP)

    assert run.exit_code == 0, run.log
    assert run.outputs["backend-skipped"] == "true"
    assert run.outputs["backend-deployed"] == "false"
    assert run.outputs["amplify-outputs"] == ""
    assert run.ampx_calls() == []
    assert "npm ci" not in run.stdout  # the install is skipped too
    assert (
        f"Backend unchanged: its 3 files hash to {tags[HASH][:12]}, as at {tags[DEPLOY]} "
        f"(tag `{HASH}` on branch `main`). Skipping install and `pipeline-deploy`."
    ) in run.stdout
    assert "No amplify_outputs file is written on a skipped run" in run.stdout
    assert f"npx ampx generate outputs --branch main --app-id {APP_ID}" in run.stdout
    # ...and goes on to the frontend.
    assert run.outputs["frontend-triggered"] == "true"
    assert sim.count("Webhook") == 1  # since clear_requests
    # One GetBranch and one DescribeStacks answered it all: no extra call, no tag written.
    assert sim.count("GetBranch") == 1
    assert not {"TagResource", "UntagResource", "ListTagsForResource"} & set(sim.operations())
    assert cfn.requests[cfn_before:] == ["DescribeStacks"]  # no check before a deploy: none
    assert f"backend unchanged since {tags[DEPLOY]}" in run.summary


def test_a_changed_backend_file_deploys_and_retags(run_action, sim, workspace):
    deployed(run_action, sim, workspace)
    first = sim.branch(APP_ID, "main")["tags"][HASH]
    (workspace / "amplify" / "backend.ts").write_text("// a new resource\n", encoding="utf-8")
    sim.clear_requests()

    run = run_action(SKIP)

    assert run.exit_code == 0, run.log
    assert run.outputs["backend-skipped"] == "false"
    assert len(run.ampx_calls()) == 1
    assert sim.branch(APP_ID, "main")["tags"][HASH] == files_hash(workspace) != first
    ops = sim.operations()
    assert ops.index("UntagResource") < ops.index("TagResource")


def test_a_failed_deploy_leaves_no_matching_tag(run_action, sim, workspace):
    deployed(run_action, sim, workspace)
    backend = workspace / "amplify" / "backend.ts"
    original = backend.read_text()
    backend.write_text(original + "// breaks the deploy\n")

    failed = run_action(SKIP, job_env={"STUB_AMPX_EXIT": "1"})

    assert failed.exit_code == 1
    assert HASH not in sim.branch(APP_ID, "main")["tags"]
    # The stack may now be neither version: going back to the files of the
    # last successful deploy deploys again.
    backend.write_text(original)
    again = run_action(SKIP)
    assert again.outputs["backend-skipped"] == "false"
    assert len(again.ampx_calls()) == 1


def test_a_deploy_without_the_cache_removes_a_tag_it_would_make_stale(run_action, sim, workspace):
    deployed(run_action, sim, workspace)

    # Same files, deployed again with the option off, and failing halfway.
    failed = run_action(job_env={"STUB_AMPX_EXIT": "1"})

    assert failed.exit_code == 1
    assert sim.branch(APP_ID, "main")["tags"] == {}
    again = run_action(SKIP)
    assert again.outputs["backend-skipped"] == "false"


def test_a_cancelled_deploy_has_removed_the_tag_before_it_started(tmp_path, sim, workspace):
    # A branch tagged by an earlier deploy of these very files.
    tags = {HASH: files_hash(workspace), DEPLOY: "run 41 at 2026-11-30 09:00 UTC"}
    sim.add_branch(APP_ID, "dev", tags=tags)
    (workspace / "amplify" / "backend.ts").write_text("// changed\n")  # so this run deploys
    started = tmp_path / "ampx-started"
    files = RunnerFiles(tmp_path / "runner", workspace)
    env = entrypoint_env(
        sim,
        files,
        {**SKIP, "branch": "dev"},
        job_env={"STUB_AMPX_SLEEP": "60", "STUB_AMPX_STARTED": str(started)},
    )
    proc = start_entrypoint(env, workspace)
    wait_for_file(started, proc, timeout=60)

    assert sim.branch(APP_ID, "dev")["tags"] == {}  # gone while the deploy runs
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=15)
    assert proc.returncode != 0
    assert sim.branch(APP_ID, "dev")["tags"] == {}


def test_a_foreign_tag_value_means_deploy(run_action, sim, workspace):
    sim.add_branch(APP_ID, "dev", tags={HASH: "edited by hand"})

    run = run_action({**SKIP, "branch": "dev"})

    assert run.outputs["backend-skipped"] == "false"
    assert len(run.ampx_calls()) == 1
    assert sim.branch(APP_ID, "dev")["tags"][HASH] == files_hash(workspace)


def test_a_matching_tag_whose_stack_is_gone_deploys(run_action, sim, cfn, workspace):
    # What a teardown that stopped halfway, or a stack deleted by hand, leaves.
    tags = {HASH: files_hash(workspace), DEPLOY: "run 41 at 2026-11-30 09:00 UTC"}
    sim.add_branch(APP_ID, "dev", tags=tags)

    run = run_action({**SKIP, "branch": "dev"})

    assert run.exit_code == 0, run.log
    assert run.outputs["backend-skipped"] == "false"
    assert len(run.ampx_calls()) == 1
    assert f"its stack {backend_stack_name(APP_ID, 'dev')} does not exist" in run.stdout
    assert sim.branch(APP_ID, "dev")["tags"][HASH] == files_hash(workspace)


def test_a_matching_tag_on_a_stack_that_failed_to_delete_is_not_skipped_but_named(
    run_action, sim, cfn, workspace
):
    name = backend_stack_name(APP_ID, "dev")
    arn = cfn.create_stack(name)
    cfn.fail_delete(name, "Storage", "The bucket you tried to delete is not empty")
    cfn.client().delete_stack(StackName=arn)
    deadline = time.monotonic() + 30
    while cfn.status(arn) != "DELETE_FAILED":
        assert time.monotonic() < deadline, cfn.status(arn)
        time.sleep(0.05)
    sim.add_branch(APP_ID, "dev", tags={HASH: files_hash(workspace), DEPLOY: "run 41"})

    run = run_action({**SKIP, "branch": "dev"})

    assert run.outputs["backend-skipped"] == "false"
    assert f"its stack {name} is DELETE_FAILED" in run.stdout
    # CloudFormation cannot update a DELETE_FAILED stack: the check before the deploy says
    # how to fix it, before anything is installed (contract: "Before the deploy").
    assert run.exit_code == 1 and run.ampx_calls() == []
    (error,) = run.errors()
    assert (
        "DELETE_FAILED" in error and f"aws cloudformation delete-stack --stack-name {name}" in error
    )


def test_a_stack_the_role_may_not_read_means_deploy_with_a_notice(run_action, sim, cfn, workspace):
    deployed(run_action, sim, workspace)
    cfn.deny("DescribeStacks")

    # No token here: without `github-deployment: false`, a notice would say so too.
    run = run_action({**SKIP, "github-deployment": "false"})

    assert run.exit_code == 0, run.log
    assert run.outputs["backend-skipped"] == "false"
    assert len(run.ampx_calls()) == 1
    [notice] = [c.message for c in run.commands.named("notice")]
    assert "cloudformation:DescribeStacks" in notice and "deploying" in notice
    # The check before the deploy could not read the stack either: one warning, and on.
    [warning] = run.commands.named("warning")
    assert warning.properties["title"] == "Backend stack not checked"


def test_a_tag_that_cannot_be_removed_stops_the_run_before_pipeline_deploy(
    run_action, sim, workspace
):
    deployed(run_action, sim, workspace)
    before = sim.branch(APP_ID, "main")["tags"]
    (workspace / "amplify" / "backend.ts").write_text("// changed\n", encoding="utf-8")
    sim.fail("UntagResource", 403, error_type="AccessDeniedException")

    run = run_action(SKIP)

    # Deploying with the old tag in place could leave it on a stack that is neither version.
    assert run.exit_code == 1
    assert run.ampx_calls() == []
    assert run.outputs["backend-deployed"] == "false"
    [error] = run.errors()
    assert "amplify:UntagResource" in error
    assert sim.branch(APP_ID, "main")["tags"] == before


def test_a_backend_paths_file_counts_and_a_pattern_matching_nothing_warns(
    run_action, sim, workspace
):
    (workspace / "shared").mkdir()
    (workspace / "shared" / "schema.graphql").write_text("type Todo { id: ID! }\n")
    inputs = {**SKIP, "backend-paths": "shared/**\nshraed/**"}
    first = run_action(inputs)
    (warning,) = first.commands.named("warning")
    assert "`backend-paths` pattern `shraed/**` matches no file" in warning.message
    assert sim.branch(APP_ID, "main")["tags"][HASH] == files_hash(workspace, ("shared/**",))

    (workspace / "shared" / "schema.graphql").write_text("type Todo { id: ID! done: Boolean }\n")
    second = run_action(inputs)

    assert second.outputs["backend-skipped"] == "false"
    assert len(second.ampx_calls()) == 1


def test_a_dry_run_says_whether_it_would_skip(run_action, sim, workspace):
    deployed(run_action, sim, workspace)
    sim.clear_requests()

    same = run_action({**SKIP, "dry-run": "true"})
    (workspace / "amplify" / "backend.ts").write_text("// changed\n")
    changed = run_action({**SKIP, "dry-run": "true"})

    digest = sim.branch(APP_ID, "main")["tags"][HASH]
    assert (
        f"- backend: skip install and deploy: the backend's files hash to {digest[:12]}"
        in same.stdout
    )
    assert "- install:" not in same.stdout
    now = files_hash(workspace)[:12]
    assert (
        f"its files hash to {now}, the branch's last deploy had {digest[:12]}: install and deploy"
        in changed.stdout
    )
    assert "- deploy: `ampx pipeline-deploy" in changed.stdout
    assert set(sim.operations()) <= {"GetApp", "GetBranch", "ListWebhooks"}  # read-only
    assert same.outputs["backend-skipped"] == changed.outputs["backend-skipped"] == "false"


def test_a_branch_created_by_this_run_is_deployed_and_tagged(run_action, sim, workspace):
    run = run_action({**SKIP, "branch": "pr-9", "create-branch": "true"})

    assert run.exit_code == 0, run.log
    assert run.outputs["branch-created"] == "true"
    assert run.outputs["backend-skipped"] == "false"
    assert len(run.ampx_calls()) == 1
    assert sim.branch(APP_ID, "pr-9")["tags"][HASH] == files_hash(workspace)


def test_the_benchmark_of_a_skipped_run_still_runs():
    # Timings are printed, not asserted: with the stub CLI not sleeping, the goal may be missed.
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "skip.py"),
            "backend",
            "--deploy-seconds",
            "0",
            "--rounds",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "round 1: deploying run" in proc.stdout
    assert "skipped/deploying = " in proc.stdout


def test_a_change_in_a_folder_linked_into_amplify_deploys(run_action, sim, workspace):
    (workspace / "shared").mkdir()
    (workspace / "shared" / "schema.graphql").write_text("type Todo { id: ID! }\n")
    (workspace / "amplify" / "shared").symlink_to("../shared", target_is_directory=True)
    deployed(run_action, sim, workspace)

    (workspace / "shared" / "schema.graphql").write_text("type Todo { id: ID! done: Boolean }\n")
    run = run_action(SKIP)

    assert run.exit_code == 0, run.log
    assert run.outputs["backend-skipped"] == "false"
    assert len(run.ampx_calls()) == 1


def test_a_link_in_amplify_that_leaves_the_project_stops_the_run_before_anything(
    run_action, sim, workspace, tmp_path
):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "schema.graphql").write_text("type Todo { id: ID! }\n")
    (workspace / "amplify" / "types").symlink_to(outside, target_is_directory=True)

    run = run_action(SKIP)

    assert run.exit_code != 0
    (error,) = run.commands.named("error")
    assert f"`amplify/types` is a link to `{outside}`, outside the project" in error.message
    assert run.ampx_calls() == []
    assert "npm ci" not in run.stdout
    assert not {"TagResource", "UntagResource"} & set(sim.operations())


def test_node_modules_and_amplify_outputs_matched_by_backend_paths_do_not_count(
    run_action, sim, workspace
):
    (workspace / "shared" / "node_modules" / "x").mkdir(parents=True)
    (workspace / "shared" / "schema.graphql").write_text("type Todo { id: ID! }\n")
    inputs = {**SKIP, "backend-paths": "shared/**\n*.json"}
    first = run_action(inputs)
    assert first.outputs["backend-deployed"] == "true"
    assert (workspace / "amplify_outputs.json").is_file()  # written by the deploy, matches *.json

    (workspace / "shared" / "node_modules" / "x" / "index.js").write_text("// reinstalled\n")
    run = run_action(inputs)

    assert run.exit_code == 0, run.log
    assert run.outputs["backend-skipped"] == "true"
    assert run.ampx_calls() == []
