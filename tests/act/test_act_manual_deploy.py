"""examples/manual-deploy.yml run by nektos/act: the three steps of an app with no
repository (backend, the user's build, the built frontend uploaded), on a second
implementation of the runner. The harness is tests/support/act.py."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from support import aws_server
from support.act import (
    EXAMPLES,
    app_repository,
    run_workflow,
)
from support.action import APP_ID
from support.amplify_sim import AmplifySimulator
from support.fixtures import add_frontend_build

pytestmark = [pytest.mark.act, pytest.mark.container]


def test_manual_deploy_example_builds_and_uploads_the_frontend(
    sim: AmplifySimulator, tmp_path: Path
) -> None:
    sim.add_app(APP_ID, repository="")  # the example's app, deployed by hand
    sim.add_branch(APP_ID, "main")
    sim.set_job_plan(APP_ID, "main", [("RUNNING", 0.5), ("SUCCEED", None)])
    repo = app_repository(tmp_path / "app", EXAMPLES / "manual-deploy.yml")
    add_frontend_build(repo)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "a build"], cwd=repo, check=True)

    run = run_workflow(
        repo, "push", env={"AWS_ENDPOINT_URL_AMPLIFY": sim.url, **aws_server.endpoints()}
    )

    run.succeeded()
    outputs = run.outputs()
    assert outputs.get("job-status") == "SUCCEED", outputs
    (upload,) = sim.uploads(APP_ID)
    assert outputs.get("job-id") == upload.job_id
    with zipfile.ZipFile(io.BytesIO(upload.data)) as z:
        assert sorted(z.namelist()) == ["assets/outputs.json", "index.html"]
        assert json.loads(z.read("assets/outputs.json")) == {"version": "1.4"}  # the stub's
    assert sim.count("CreateWebhook") == 0 and sim.count("Webhook") == 0
    signatures = {
        dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"] for url in sim.issued_upload_urls()
    }
    run.assert_never_shows(signatures | set(sim.issued_upload_urls()))
