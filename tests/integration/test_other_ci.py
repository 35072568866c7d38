"""The action off GitHub (GitLab, CodeCatalyst, a shell): nothing there consumes
`::add-mask::`, so every line the action prints is shown as it is, and no form of
a secret may be in any of them. The README's examples run here as documented."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import pytest
import yaml
from support import aws_server
from support.action import APP_ID, CREDENTIALS, ROOT
from support.entrypoint import ActionRun
from support.fixtures import add_frontend_build
from support.hygiene import Harness

# What the examples run inside the image; here, the same entrypoint from the checkout.
IMAGE_COMMAND = "/opt/ampaction/venv/bin/python /opt/ampaction/entrypoint.py"


@pytest.fixture
def run_elsewhere(harness: Harness, tmp_path: Path, workspace: Path, sim):  # type: ignore[no-untyped-def]
    """Run a shell command line in `workspace` with a CI system's environment: no
    GITHUB_* variables, no output or summary file, AWS pointed at `sim`."""

    def run(command: str, env: Mapping[str, str]) -> ActionRun:
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(tmp_path / "home"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL_AMPLIFY": sim.url,
            **aws_server.endpoints(),
            "npm_config_cache": str(tmp_path / "npm-cache"),
            "PYTHONPATH": str(ROOT),
            **CREDENTIALS,
            **env,
        }
        assert IMAGE_COMMAND in command
        line = command.replace(IMAGE_COMMAND, f"{sys.executable} {ROOT / 'entrypoint.py'}")
        start = time.monotonic()
        proc = subprocess.run(
            ["bash", "-c", line],
            env=full_env,
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        result = ActionRun(
            exit_code=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            outputs={},
            summary="",
            seconds=time.monotonic() - start,
            workspace=workspace,
            record_file=tmp_path / "none.jsonl",
            on_github=False,
        )
        harness.runs.append(result)
        return result

    return run


def every_form(url: str) -> set[str]:
    """The URL, its token alone, its path and query, each as a log could show them."""
    parts = urlsplit(url)
    token = dict(parse_qsl(parts.query))["token"]
    plain = {url, token, parts.query, f"{parts.path}?{parts.query}"}
    return plain | {quote(f, safe="") for f in plain} | {quote_plus(f) for f in plain}


def assert_no_form_of(secret: str, log: str) -> None:
    for form in every_form(secret):
        assert form not in log, "a form of a secret is in the log"


def test_off_github_no_mask_command_shows_the_webhook_url(run_elsewhere, sim):
    hook = sim.add_webhook(APP_ID, "main", "given")

    run = run_elsewhere(
        f"{IMAGE_COMMAND} --app-id {APP_ID} --branch main --install false --deploy-backend false",
        {"INPUT_WEBHOOK_URL": hook["webhookUrl"]},
    )

    assert run.exit_code == 0, run.log
    assert sim.count("Webhook") == 1
    assert "::add-mask::" not in run.log
    assert_no_form_of(hook["webhookUrl"], run.log)
    assert "output frontend-triggered=true" in run.log


def test_readme_gitlab_example_runs_as_documented(run_elsewhere, sim, workspace):
    """The three steps of an app GitLab cannot connect to Amplify: backend, the user's
    build, the built frontend uploaded; and no form of the upload URL in the log."""
    job = yaml.safe_load((ROOT / "examples" / "gitlab-ci.yml").read_text())["amplify-deploy"]
    env = {
        **{k: str(v) for k, v in job["variables"].items()},
        # What GitLab sets for a branch pipeline, and the OIDC token it hands the job.
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_COMMIT_BRANCH": "main",
        "CI_COMMIT_REF_NAME": "main",
        "AWS_ID_TOKEN": "eyJ.gitlab.id-token",
    }
    sim.add_app(APP_ID, repository="")  # a self-hosted GitLab's app: deployed by hand
    sim.add_branch(APP_ID, "main")
    sim.set_job_plan(APP_ID, "main", [("RUNNING", 1.0), ("SUCCEED", None)])
    add_frontend_build(workspace)
    # The simulator has no STS: keys in the environment, which boto3 reads before the
    # role's web identity, stand in for the role; so the token-file line is not run.
    script = [line for line in job["script"] if "AWS_WEB_IDENTITY_TOKEN_FILE" not in line]
    assert sum(IMAGE_COMMAND in line for line in script) == 2

    run = run_elsewhere(" && ".join(script), env)

    assert run.exit_code == 0, run.log
    assert "::add-mask::" not in run.log
    assert "output backend-deployed=true" in run.log
    assert "output job-status=SUCCEED" in run.log
    (upload,) = sim.uploads(APP_ID)
    assert f"output job-id={upload.job_id}" in run.log
    (url,) = sim.issued_upload_urls()
    parts = urlsplit(url)
    signature = dict(parse_qsl(parts.query))["X-Amz-Signature"]
    for form in (url, signature, parts.query, f"{parts.path}?{parts.query}"):
        assert form not in run.log, "a form of the upload URL is in the log"
    assert sim.count("Webhook") == 0


def test_readme_codecatalyst_example_runs_as_documented(run_elsewhere, sim):
    workflow = yaml.safe_load((ROOT / "examples" / "codecatalyst.yaml").read_text())
    build = workflow["Actions"]["Build"]
    env = {v["Name"]: str(v["Value"]) for v in build["Inputs"]["Variables"]}
    env["CI"] = "true"
    (step,) = [s["Run"] for s in build["Configuration"]["Steps"]]
    # CodeCatalyst substitutes its own `${…}` expressions before the shell runs the line.
    step = step.replace("${WorkflowSource.BranchName}", "main")

    run = run_elsewhere(step, env)

    _assert_deployed_and_quiet(run, sim)


def _assert_deployed_and_quiet(run: ActionRun, sim) -> None:
    assert run.exit_code == 0, run.log
    assert sim.count("Webhook") == 1
    (hook,) = sim.webhooks(APP_ID)
    assert "::add-mask::" not in run.log
    assert_no_form_of(hook["webhookUrl"], run.log)
    assert "output backend-deployed=true" in run.log
    assert f"output webhook-id={hook['webhookId']}" in run.log
