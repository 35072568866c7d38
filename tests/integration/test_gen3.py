"""Amplify Gen 3 as the frontend (`gen3-app`): the Gen 2 backend from the pipeline, the app
on AWS's newer hosting.

The entrypoint runs as the runner runs it, Amplify Hosting is the simulator and Gen 3
the local server shaped by botocore's model (tests/support/gen3_server.py), both
reached by real boto3; the zip goes up by a real HTTP `PUT` that the server checks
against the digest. What was uploaded is unzipped and looked at.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from support.action import APP_ID, REGION
from support.gen3_server import Gen3Server
from support.hygiene import leaks

GEN3_APP = "web"
HOSTING_CHANGES = {"CreateWebhook", "Webhook", "StartJob", "CreateDeployment", "StartDeployment"}


@pytest.fixture
def gen3() -> Iterator[Gen3Server]:
    with Gen3Server(REGION) as server:
        server.add_app(GEN3_APP)
        server.add_environment(GEN3_APP, "preview")
        server.add_environment(GEN3_APP, "production", kind="PRODUCTION")
        yield server


@pytest.fixture
def run_gen3(run_action, gen3):  # type: ignore[no-untyped-def]
    def run(inputs: dict[str, str] | None = None, job_env: dict[str, str] | None = None) -> Any:
        return run_action(
            {"gen3-app": GEN3_APP, **(inputs or {})},
            job_env={"AWS_ENDPOINT_URL_AMPLIFYGEN3": gen3.url, **(job_env or {})},
        )

    return run


def zip_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [n for n in z.namelist() if not n.endswith("/")]


def the_upload(gen3: Gen3Server) -> Any:
    (upload,) = [u for u in gen3.uploads.values() if u.data is not None]
    return upload


def the_deployment(gen3: Gen3Server) -> Any:
    (deployment,) = gen3.deployments.values()
    return deployment


def test_source_is_deployed_to_gen3_after_the_backend_and_followed_to_succeeded(
    run_gen3, gen3, sim, workspace
):
    (workspace / ".git").mkdir()
    (workspace / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (workspace / "src").mkdir()
    (workspace / "src" / "main.ts").write_text("export {};\n")
    gen3.set_deployment_plan([{"Status": "IN_PROGRESS"}, {"Status": "SUCCEEDED"}])

    run = run_gen3({"wait-for-frontend": "true"})

    assert run.exit_code == 0, run.log
    ops = gen3.operations()
    assert ops == [
        "GetApp",
        "GetEnvironment",
        "PutEnvironmentVariables",
        "CreateSourceUpload",
        "Upload",
        "CreateDeployment",
        "GetDeployment",
        "GetDeployment",
    ]
    # The app and environment before anything was installed; the frontend after the backend.
    assert len([c for c in run.ampx_calls() if "pipeline-deploy" in c["argv"]]) == 1
    deployed_at = run.record_file.stat().st_mtime
    assert gen3.requests_for("GetEnvironment")[0].at < deployed_at
    assert deployed_at < gen3.requests_for("CreateSourceUpload")[0].at
    assert run.log.index("Preflight (Amplify Gen 3)") < run.log.index("Install (npm)")
    deployment = the_deployment(gen3)
    assert deployment.request["SourceConfig"]["ManualUploadSource"]["SourceType"] == "SOURCE_CODE"
    names = zip_names(the_upload(gen3).data)
    assert {"package.json", "amplify/backend.ts", "src/main.ts"} <= set(names)
    assert (workspace / "node_modules").is_dir()  # installed, and left out
    assert not [n for n in names if n.startswith(("node_modules/", ".git/"))]
    assert names == sorted(names)
    # The Gen 2 backend reaches the Gen 3 build as the environment's build variables.
    assert {v["Key"]: v["Value"] for v in deployment.variables} == {
        "AMPLIFY_GEN2_APP_ID": APP_ID,
        "AMPLIFY_GEN2_BRANCH": "main",
    }
    assert run.outputs["gen3-deployment-id"] == deployment.deployment_id
    assert run.outputs["job-status"] == "SUCCEEDED"
    assert run.outputs["frontend-url"] == (
        f"https://{deployment.deployment_id}.preview.{GEN3_APP}.amplifyapp.com"
    )
    assert run.outputs["frontend-triggered"] == "true"
    assert run.outputs["backend-deployed"] == "true"
    assert f"Gen 3 deployment: `{deployment.deployment_id}`, SUCCEEDED" in run.summary
    assert f"/deployments/{deployment.deployment_id})" in run.summary
    # Amplify Hosting is not touched: no webhook, no job, no deployment there.
    assert not HOSTING_CHANGES & set(sim.operations())
    assert run.outputs["webhook-id"] == ""
    assert run.outputs["job-id"] == deployment.deployment_id  # the frontend job it followed


def test_a_prebuilt_artifact_goes_up_as_it_is_built(run_gen3, gen3, sim, workspace):
    (workspace / "dist" / "assets").mkdir(parents=True)
    (workspace / "dist" / "index.html").write_text("<!doctype html>")
    (workspace / "dist" / "assets" / "app.js").write_text("console.log(1)")

    run = run_gen3({"frontend-artifact": "dist", "gen3-environment": "production"})

    assert run.exit_code == 0, run.log
    deployment = the_deployment(gen3)
    assert deployment.environment == "production"
    manual = deployment.request["SourceConfig"]["ManualUploadSource"]
    assert manual["SourceType"] == "PREBUILT_ARTIFACT"
    assert zip_names(the_upload(gen3).data) == ["assets/app.js", "index.html"]
    # Built in the pipeline: the Gen 3 build reads no backend, and no variable is set.
    assert "PutEnvironmentVariables" not in gen3.operations()
    assert "GetDeployment" not in gen3.operations()  # `wait-for-frontend` is off
    assert run.outputs["gen3-deployment-id"] == deployment.deployment_id
    assert run.outputs["job-status"] == "QUEUED"
    assert not HOSTING_CHANGES & set(sim.operations())


@pytest.mark.parametrize(
    ("inputs", "named", "title"),
    [
        ({"gen3-app": "missing"}, "`missing`", "Gen 3 app not found"),
        ({"gen3-environment": "staging"}, "`staging`", "Gen 3 environment not found"),
    ],
)
def test_a_missing_app_or_environment_is_an_error_before_install(  # noqa: PLR0917
    run_gen3, gen3, workspace, inputs, named, title
):
    run = run_gen3(inputs)

    assert run.exit_code == 1, run.log
    (error,) = run.commands.named("error")
    assert error.properties.get("title") == title
    assert named in error.message and "Nothing was installed" in error.message
    assert run.ampx_calls() == []
    assert not (workspace / "node_modules").exists()
    assert not {"CreateSourceUpload", "CreateDeployment"} & set(gen3.operations())


def test_a_failed_deployment_fails_the_run_with_its_status_and_reason(run_gen3, gen3):
    gen3.set_deployment_plan(
        [
            {
                "Status": "FAILED",
                "StatusReasonCode": "BUILD_FAILED",
                "StatusReason": "Command npm run build exited with 1",
            }
        ]
    )

    run = run_gen3({"wait-for-frontend": "true"})

    assert run.exit_code != 0
    (error,) = run.commands.named("error")
    assert "FAILED" in error.message and "BUILD_FAILED" in error.message
    assert "npm run build exited with 1" in error.message
    assert run.outputs["job-status"] == "FAILED"
    assert run.outputs["gen3-deployment-id"] == the_deployment(gen3).deployment_id


def test_the_upload_urls_signature_is_in_no_log_output_or_summary(run_gen3, gen3):
    gen3.fail("Upload", 503, "SlowDown")  # a retried upload logs its attempts too

    run = run_gen3({"debug": "true"}, job_env={"RUNNER_DEBUG": "1"})

    assert run.exit_code == 0, run.log
    assert "botocore" in run.log and "CreateSourceUpload" in run.log  # the SDK's debug log was on
    assert gen3.operations().count("Upload") == 2
    (signature,) = gen3.signatures()
    assert signature in run.stdout  # in the mask commands, which the runner consumes
    assert leaks([run], {signature}) == []


def test_webhook_url_with_gen3_app_is_a_bad_input(run_gen3, gen3, sim):
    run = run_gen3(
        {
            "webhook-url": "https://webhooks.amplify.us-east-1.amazonaws.com/prod/webhooks?id=x&token=y"
        }
    )

    assert run.exit_code == 1
    errors = run.commands.named("error")
    assert any(e.properties.get("title") == "Bad input: webhook-url" for e in errors), errors
    assert gen3.operations() == [] and run.ampx_calls() == []


def test_a_dry_run_reads_the_gen3_app_and_plans_the_deployment(run_gen3, gen3, sim, workspace):
    run = run_gen3({"dry-run": "true"})

    assert run.exit_code == 0, run.log
    assert gen3.operations() == ["GetApp", "GetEnvironment"]  # reads only
    assert "CreateSourceUpload, PUT" in run.log and "Gen 3 app `web`" in run.log
    assert "Deploy frontend (Amplify Gen 3)" in run.summary
    assert run.ampx_calls() == [] and not (workspace / "node_modules").exists()
    assert not HOSTING_CHANGES & set(sim.operations())


def test_a_deployment_built_against_another_runs_branch_is_not_claimed(run_gen3, gen3):
    """Two branches deploying to one environment at once: the later run's build variables
    can land between this run's and its deployment, which then reads the other backend."""
    gen3.race_variables({"AMPLIFY_GEN2_BRANCH": "feature/other"})

    run = run_gen3({"wait-for-frontend": "true"})

    assert run.exit_code == 1
    (error,) = run.commands.named("error")
    assert "`feature/other`" in error.message and "concurrency" in error.message
    assert "GetDeployment" in gen3.operations()
