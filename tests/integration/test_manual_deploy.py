"""Apps without a repository: the frontend deployed from the pipeline's own build.

The entrypoint runs as the runner runs it; Amplify is the simulator, the
upload URL its S3-like endpoint (real boto3, real HTTP PUT). What was
uploaded is unzipped and compared with the folder it came from.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
import yaml
from support.action import APP_ID
from support.entrypoint import entrypoint_env, start_entrypoint
from support.fixtures import add_frontend_build
from support.runner import CommandLog, RunnerFiles

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "manual-deploy.yml"
OWN_ACTION = "ampaction/amplify-gen2-deploy@"
MANUAL_APP = "d0manual0000"
MUTATING = {
    "CreateWebhook",
    "DeleteWebhook",
    "UpdateWebhook",
    "UpdateBranch",
    "StartJob",
    "StopJob",
    "CreateDeployment",
    "StartDeployment",
    "Upload",
    "Webhook",
}
FRONTEND_ONLY = {"install": "false", "deploy-backend": "false"}
QUICK_JOB = [("PENDING", 1.0), ("RUNNING", 1.0), ("SUCCEED", None)]


@pytest.fixture
def manual_app(sim):
    """An app with no connected repository, as the Amplify console makes for
    "Deploy without Git"."""
    sim.add_app(MANUAL_APP, repository="")
    sim.add_branch(MANUAL_APP, "main")
    sim.set_job_plan(MANUAL_APP, "main", QUICK_JOB)
    return MANUAL_APP


def built_site(folder: Path) -> dict[str, bytes]:
    files = {
        "index.html": b"<!doctype html><title>app</title><script src=assets/app.js></script>",
        "assets/app.js": b"console.log('hello');\n" * 200,
        "assets/img/logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        "404.html": b"not here",
    }
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return files


def unzipped(data: bytes) -> tuple[list[str], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        return names, {n: z.read(n) for n in names}


def test_repository_less_app_deployed_end_to_end_following_the_exact_job(
    run_action, sim, workspace, manual_app
):
    site = built_site(workspace / "dist")

    run = run_action(
        {"app-id": manual_app, "frontend-artifact": "dist", "wait-for-frontend": "true"},
        timeout=120,
    )

    assert run.exit_code == 0, run.log
    (upload,) = sim.uploads(manual_app)
    names, contents = unzipped(upload.data)
    assert contents == site  # the folder's contents, at the zip's root
    assert names == sorted(names)
    (job,) = sim.jobs(manual_app, "main")
    assert job["jobType"] == "MANUAL" and job["status"] == "SUCCEED"
    assert run.outputs["job-id"] == job["jobId"] == upload.job_id
    assert run.outputs["job-status"] == "SUCCEED"
    assert run.outputs["frontend-triggered"] == "true"
    assert run.outputs["backend-deployed"] == "true"
    assert run.outputs["webhook-id"] == ""
    # Followed by its id: no job list was searched, no webhook involved.
    ops = sim.operations()
    assert "ListJobs" not in ops and not [op for op in ops if "Webhook" in op]
    assert {r.path.rsplit("/", 1)[-1] for r in sim.requests if r.operation == "GetJob"} == {
        job["jobId"]
    }
    assert ops.index("CreateDeployment") < ops.index("Upload") < ops.index("StartDeployment")
    size = f"{len(upload.data) / 1024:.1f} KB"
    assert re.search(rf"Uploaded {size} in [\d.]+ s \([\d.]+ [KM]B/s, 1 attempt\(s\)\)", run.log)
    assert "Deploy frontend artifact" in run.summary and "uploaded in" in run.summary


def test_a_zip_is_uploaded_as_it_is_on_a_repository_connected_app_too(run_action, sim, workspace):
    site = built_site(workspace / "site")
    zip_path = workspace / "site.zip"
    with zipfile.ZipFile(zip_path, "w") as z:
        for name, data in site.items():
            z.writestr(name, data)

    run = run_action({**FRONTEND_ONLY, "frontend-artifact": "site.zip"})

    assert run.exit_code == 0, run.log
    (upload,) = sim.uploads(APP_ID)
    assert upload.data == zip_path.read_bytes()
    assert upload.headers.get("Content-Length") == str(len(upload.data))  # not chunked
    assert sim.count("Webhook") == 0 and sim.count("CreateWebhook") == 0
    assert run.outputs["job-id"] == upload.job_id


def test_a_zipped_folder_instead_of_its_contents_is_warned_about(run_action, sim, workspace):
    built_site(workspace / "out" / "dist")

    run = run_action({**FRONTEND_ONLY, "frontend-artifact": "out"})

    assert run.exit_code == 0, run.log
    warnings = [c.message for c in run.commands.named("warning")]
    assert any("Point `frontend-artifact` at `dist`" in w for w in warnings), warnings


def test_env_files_in_the_artifact_are_warned_about_by_name(run_action, sim, workspace):
    built_site(workspace / "dist")
    (workspace / "dist" / ".env.production").write_text("API_KEY=not-for-the-world")

    run = run_action({**FRONTEND_ONLY, "frontend-artifact": "dist"})

    assert run.exit_code == 0, run.log
    warnings = [c.message for c in run.commands.named("warning")]
    assert any("`.env.production`" in w for w in warnings), warnings
    assert sim.count("StartDeployment") == 1  # a warning, not a refusal: it may be meant


def make_symlink_out(workspace: Path) -> str:
    built_site(workspace / "dist")
    (workspace / "dist" / "secrets.txt").symlink_to("/etc/passwd")
    return "dist"


def make_empty(workspace: Path) -> str:
    (workspace / "dist").mkdir()
    return "dist"


def make_not_a_zip(workspace: Path) -> str:
    (workspace / "site.zip").write_text("not a zip")
    return "site.zip"


def make_folder_symlink(workspace: Path) -> str:
    (workspace / "dist").symlink_to("/usr/share")
    return "dist"


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda ws: "dist", "does not exist"),
        (make_empty, "is an empty folder"),
        (make_symlink_out, "holds a symbolic link (`secrets.txt`)"),
        (make_folder_symlink, "is a symbolic link"),
        (make_not_a_zip, "is neither a folder nor a .zip file"),
        (lambda ws: "../elsewhere", "outside the workspace"),
    ],
    ids=["missing", "empty", "symlink-inside", "symlink-folder", "not-a-zip", "outside"],
)
def test_bad_artifacts_are_refused_before_anything_happens(run_action, sim, workspace, make, said):
    given = make(workspace)

    run = run_action({"frontend-artifact": given})

    assert run.exit_code == 1, run.log
    (error,) = run.errors()
    assert "frontend-artifact" in error and said in error, error
    assert not MUTATING & set(sim.operations())
    assert sim.requests == []  # input errors come before any call at all
    assert run.ampx_calls() == []
    assert not (workspace / "node_modules").exists()


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({"trigger-frontend": "false"}, "needs `trigger-frontend: true`"),
        ({"webhook-url": "https://webhooks.example/prod/webhooks?id=1&token=t0k3n"}, "give one"),
        ({"aws-region": ""}, "`aws-region`"),
    ],
    ids=["trigger-off", "webhook-url", "no-region"],
)
def test_artifact_with_inputs_that_contradict_it_is_a_bad_input(
    run_action, sim, workspace, inputs, said
):
    built_site(workspace / "dist")

    run = run_action(
        {**FRONTEND_ONLY, "frontend-artifact": "dist", **inputs},
        job_env={"AWS_REGION": ""} if "aws-region" in inputs else None,
    )

    assert run.exit_code == 1, run.log
    (error,) = run.errors()
    assert said in error, error
    assert sim.requests == []


def test_upload_faults_are_retried_into_one_deployment(run_action, sim, workspace, manual_app):
    site = built_site(workspace / "dist")
    sim.fail("Upload", 503, retry_after=0)  # S3's SlowDown
    sim.fail("Upload", drop=True)  # the connection cut before an answer
    sim.fail("Upload", 200, drop=True, after_effect=True)  # stored, but the answer lost

    run = run_action({**FRONTEND_ONLY, "app-id": manual_app, "frontend-artifact": "dist"})
    assert run.exit_code == 0, run.log
    assert sim.count("Upload") == 4
    assert sim.count("CreateDeployment") == 1 and sim.count("StartDeployment") == 1
    uploads = sim.uploads(manual_app)
    assert len(uploads) == 2 and uploads[0].data == uploads[1].data  # the same bytes, twice
    assert unzipped(uploads[-1].data)[1] == site
    assert len(sim.jobs(manual_app, "main")) == 1
    assert "Frontend upload attempt 3 of 5 failed (connection dropped)" in run.log
    assert "4 attempt(s)" in run.summary


def test_an_upload_failing_every_time_makes_exactly_max_attempts_puts(
    run_action, sim, workspace, manual_app
):
    built_site(workspace / "dist")
    sim.fail("Upload", 503, times=10, retry_after=0)  # S3's SlowDown, on and on

    run = run_action(
        {**FRONTEND_ONLY, "app-id": manual_app, "frontend-artifact": "dist", "max-attempts": "3"}
    )

    assert run.exit_code == 1, run.log
    (error,) = run.errors()
    assert "The frontend upload failed after 3 attempts: HTTP 503" in error
    assert sim.count("Upload") == 3 and sim.count("StartDeployment") == 0
    (job,) = sim.jobs(manual_app, "main")
    assert job["status"] == "CANCELLED"


def test_a_start_whose_answer_was_lost_is_not_taken_for_a_failure(
    run_action, sim, workspace, manual_app
):
    built_site(workspace / "dist")
    sim.fail("StartDeployment", 200, drop=True, after_effect=True)  # started; answer lost

    run = run_action({**FRONTEND_ONLY, "app-id": manual_app, "frontend-artifact": "dist"})

    assert run.exit_code == 0, run.log
    assert sim.count("StartDeployment") == 2  # botocore's retry, refused: already started
    assert sim.count("StopJob") == 0
    (job,) = sim.jobs(manual_app, "main")
    assert job["status"] != "CANCELLED" and run.outputs["job-id"] == job["jobId"]
    assert f"Deployment job {job['jobId']} did start" in run.log


def test_a_refused_upload_fails_at_once_and_leaves_no_pending_deployment(
    run_action, sim, workspace, manual_app
):
    built_site(workspace / "dist")
    sim.fail("Upload", 403, error_type="AccessDenied", message="Request has expired")

    run = run_action({**FRONTEND_ONLY, "app-id": manual_app, "frontend-artifact": "dist"})

    assert run.exit_code == 1
    (error,) = run.errors()
    assert "HTTP 403" in error and "AccessDenied: Request has expired" in error
    assert sim.count("Upload") == 1 and sim.count("StartDeployment") == 0
    (job,) = sim.jobs(manual_app, "main")
    assert job["status"] == "CANCELLED"  # stopped, so that the next run is not blocked

    again = run_action({**FRONTEND_ONLY, "app-id": manual_app, "frontend-artifact": "dist"})
    assert again.exit_code == 0, again.log


def test_a_deployment_left_pending_by_an_earlier_run_is_named_with_the_fix(
    run_action, sim, workspace, manual_app
):
    built_site(workspace / "dist")
    client = boto3.client(
        "amplify",
        region_name="us-east-1",
        endpoint_url=sim.url,
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="secret",
    )
    earlier = client.create_deployment(appId=manual_app, branchName="main")["jobId"]

    run = run_action({**FRONTEND_ONLY, "app-id": manual_app, "frontend-artifact": "dist"})

    assert run.exit_code == 1
    (error,) = run.errors()
    assert f"deployment job {earlier} from an earlier run was created but never started" in error
    assert (
        f"aws amplify stop-job --app-id {manual_app} --branch-name main --job-id {earlier}" in error
    )
    assert sim.count("Upload") == 0

    client.stop_job(appId=manual_app, branchName="main", jobId=earlier)
    again = run_action({**FRONTEND_ONLY, "app-id": manual_app, "frontend-artifact": "dist"})
    assert again.exit_code == 0, again.log


def test_repository_less_app_with_the_webhook_trigger_is_an_error_before_install(
    run_action, sim, workspace, manual_app
):
    run = run_action({"app-id": manual_app})

    assert run.exit_code == 1
    (error,) = run.errors()
    assert f"Amplify app {manual_app} has no connected repository" in error
    assert "`frontend-artifact`" in error and "`trigger-frontend: false`" in error
    assert run.ampx_calls() == []
    assert not (workspace / "node_modules").exists()
    assert not MUTATING & set(sim.operations())


def test_repository_less_app_deploys_its_backend_with_the_trigger_off(run_action, sim, manual_app):
    run = run_action({"app-id": manual_app, "trigger-frontend": "false"})

    assert run.exit_code == 0, run.log
    assert run.outputs["backend-deployed"] == "true"
    assert run.commands.named("warning") == []  # no build spec runs for such an app


def test_no_upload_url_in_any_log_in_debug_mode_through_retries_and_failure(
    run_action, sim, workspace, manual_app
):
    """The hygiene check (conftest) fails this test if the URL's signature shows
    anywhere but a mask command; here it is also proven to have been there to leak."""
    built_site(workspace / "dist")
    sim.fail("Upload", 500, retry_after=0)
    sim.fail("Upload", 403, error_type="SignatureDoesNotMatch")

    run = run_action(
        {**FRONTEND_ONLY, "app-id": manual_app, "frontend-artifact": "dist", "debug": "true"},
        job_env={"RUNNER_DEBUG": "1"},
    )

    assert run.exit_code == 1
    assert "botocore" in run.log and "CreateDeployment" in run.log  # the SDK's debug log was on
    (url,) = sim.issued_upload_urls()
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    assert signature in run.stdout  # in the mask commands only
    assert url not in run.log
    assert manual_app in run.log  # the app id is in the URL, and not masked for it


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("branch", "The build spec of branch `main`"),
        ("app", "The app's build spec"),
        ("workspace", "`amplify.yml` at the root of the repository"),
    ],
)
def test_a_build_spec_that_still_deploys_the_backend_is_warned_about(
    run_action, sim, workspace, where, said
):
    spec = (
        "version: 1\nbackend:\n  phases:\n    build:\n      commands:\n"
        "        - npm ci --cache .npm --prefer-offline\n"
        "        - npx ampx pipeline-deploy --branch $AWS_BRANCH --app-id $AWS_APP_ID\n"
    )
    app_id = "d0spec000000"
    sim.add_app(app_id, build_spec=spec if where == "app" else None)
    sim.add_branch(app_id, "main", build_spec=spec if where == "branch" else None)
    if where == "workspace":
        (workspace / "amplify.yml").write_text(spec)

    run = run_action({**FRONTEND_ONLY, "app-id": app_id})

    assert run.exit_code == 0, run.log
    (warning,) = [c for c in run.commands.named("warning")]
    assert warning.properties["title"] == "Build spec deploys the backend again"
    assert warning.message.startswith(said), warning.message
    assert "(line 7: `- npx ampx pipeline-deploy --branch $AWS_BRANCH" in warning.message
    assert "npx ampx generate outputs --branch $AWS_BRANCH --app-id $AWS_APP_ID" in warning.message
    assert "**Warnings:**" in run.summary and "deploys the backend again" in run.summary


def test_a_build_spec_that_generates_outputs_is_not_warned_about_and_the_first_spec_decides(
    run_action, sim, workspace
):
    good = "version: 1\nbackend:\n  phases:\n    build:\n      commands:\n        # was: npx ampx pipeline-deploy\n        - npx ampx generate outputs --branch $AWS_BRANCH --app-id $AWS_APP_ID\n"
    app_id = "d0spec000000"
    sim.add_app(app_id)
    sim.add_branch(app_id, "main", build_spec=good)
    (workspace / "amplify.yml").write_text(good.replace("generate outputs", "pipeline-deploy"))

    run = run_action({**FRONTEND_ONLY, "app-id": app_id})

    assert run.exit_code == 0, run.log
    assert run.commands.named("warning") == []
    assert "Warnings" not in run.summary


def test_auto_build_and_build_spec_are_both_in_the_summary(run_action, sim, workspace):
    sim.add_branch(APP_ID, "dev", enable_auto_build=True)
    (workspace / "amplify.yml").write_text("frontend:\n  - npx ampx pipeline-deploy\n")

    run = run_action({**FRONTEND_ONLY, "branch": "dev"})

    assert run.exit_code == 0, run.log
    titles = [c.properties.get("title") for c in run.commands.named("warning")]
    assert titles == ["Amplify auto-build is on", "Build spec deploys the backend again"]
    assert "Auto-build is on for branch `dev`" in run.summary
    assert "still runs `pipeline-deploy`" in run.summary


def example_steps() -> list[dict[str, object]]:
    workflow = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    return [
        step
        for step in job["steps"]
        if "run" in step or str(step.get("uses", "")).startswith(OWN_ACTION)
    ]


def test_the_three_step_example_runs_as_the_runner_runs_it(run_action, sim, workspace):
    """examples/manual-deploy.yml, step by step: the action's steps with their `with:`,
    the build step's `run:` in the workspace, on a repository-less app."""
    sim.add_app(APP_ID, repository="")  # the example's app id, now deployed by hand
    sim.add_branch(APP_ID, "main")
    sim.set_job_plan(APP_ID, "main", QUICK_JOB)
    add_frontend_build(workspace)
    steps = example_steps()
    assert [("run" in s) for s in steps] == [False, True, False]

    runs = []
    for step in steps:
        if "run" in step:
            env = {**os.environ, "CI": "true"}
            done = subprocess.run(
                ["bash", "-e", "-c", str(step["run"])],
                cwd=workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            continue
        inputs = {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in step["with"].items()
        }
        runs.append(run_action(inputs, timeout=120))

    first, last = runs
    assert first.exit_code == 0, first.log
    assert (
        first.outputs["backend-deployed"] == "true"
        and first.outputs["frontend-triggered"] == "false"
    )
    assert last.exit_code == 0, last.log
    assert last.ampx_calls() == []
    assert last.outputs["backend-deployed"] == "false"
    assert last.outputs["job-status"] == "SUCCEED"
    (upload,) = sim.uploads(APP_ID)
    _, contents = unzipped(upload.data)
    assert contents["assets/outputs.json"] == (workspace / "amplify_outputs.json").read_bytes()
    assert set(contents) == {"index.html", "assets/outputs.json"}


def test_a_cancel_during_the_upload_ends_it_and_stops_the_deployment(
    tmp_path, sim, workspace, manual_app
):
    """The runner's SIGTERM while the zip is on its way (the server takes 60 s to
    answer): the action ends within the runner's grace period, starts nothing, and
    stops the deployment it created, so that the next run is not refused."""
    built_site(workspace / "dist")
    sim.fail("Upload", 200, delay=60)
    files = RunnerFiles(tmp_path / "runner", workspace)
    inputs = {**FRONTEND_ONLY, "app-id": manual_app, "frontend-artifact": "dist"}
    proc = start_entrypoint(entrypoint_env(sim, files, inputs), workspace)
    deadline = time.monotonic() + 30
    while "CreateDeployment" not in sim.operations():  # recorded once answered
        assert proc.poll() is None and time.monotonic() < deadline, "no deployment was created"
        time.sleep(0.05)
    time.sleep(0.5)  # the PUT is under way, its answer 60 s off

    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=7.5)  # the runner's SIGKILL comes after 7.5 s

    assert proc.returncode == 130, out
    errors = CommandLog.parse(out).errors()
    assert len(errors) == 1 and "Cancelled during the frontend upload" in errors[0], out
    assert sim.count("StartDeployment") == 0
    assert [j["status"] for j in sim.jobs(manual_app, "main")] == ["CANCELLED"]
    assert files.outputs()["frontend-triggered"] == "false"


def test_a_dry_run_plans_the_deployment_and_changes_nothing(run_action, sim, workspace, manual_app):
    built_site(workspace / "dist")

    run = run_action({"app-id": manual_app, "frontend-artifact": "dist", "dry-run": "true"})

    assert run.exit_code == 0, run.log
    assert "- frontend: zip `dist` and deploy it" in run.log
    assert not MUTATING & set(sim.operations())
    assert "📝 planned" in run.summary


def slow_to_zip(folder: Path, megabytes: int) -> None:
    """`megabytes` of text that deflates slowly (random hex), in files of 50 MB."""
    folder.mkdir(parents=True)
    (folder / "index.html").write_text("<html></html>")
    part = os.urandom(25 << 20).hex().encode()  # 50 MB
    for n in range(megabytes // 50):
        (folder / f"bundle-{n}.js").write_bytes(part)


def test_a_cancel_while_zipping_ends_the_step_at_once(tmp_path, sim, workspace, manual_app):
    """The runner's SIGTERM while a 200 MB folder is being zipped (seconds of work):
    the step ends within 2 s, well inside the runner's 7.5 s, and nothing is deployed."""
    slow_to_zip(workspace / "dist", 200)
    scratch = tmp_path / "tmp"  # where the action makes its zip
    scratch.mkdir()
    files = RunnerFiles(tmp_path / "runner", workspace)
    inputs = {**FRONTEND_ONLY, "app-id": manual_app, "frontend-artifact": "dist"}
    proc = start_entrypoint(
        entrypoint_env(sim, files, inputs, job_env={"TMPDIR": str(scratch)}), workspace
    )
    try:
        deadline = time.monotonic() + 60
        while not any(z.stat().st_size for z in scratch.glob("*/frontend-artifact.zip")):
            assert proc.poll() is None and time.monotonic() < deadline, "the zip never started"
            time.sleep(0.02)

        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=2)  # the bound; the runner's is 7.5 s
    finally:
        proc.kill()
        shutil.rmtree(workspace / "dist", ignore_errors=True)

    assert proc.returncode == 130, out
    (error,) = CommandLog.parse(out).errors()
    assert "Cancelled during" in error and "zip" in error, error
    assert sim.count("CreateDeployment") == 0
    assert list(scratch.iterdir()) == []  # the half-written zip is gone
