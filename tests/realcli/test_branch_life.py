"""A branch's whole life with the real Amplify CLI: deployed, changed, skipped, torn down.

The action runs as the runner runs it (process mode, `run_action`) on
tests/fixtures/real-cli-app (storage plus a function, `@aws-amplify/backend-cli`
1.10.0, installed by the action's own `npm ci`, npm's cache kept in `.cache/npm`).
Its `ampx pipeline-deploy` really deploys: STS, SSM, S3 asset publishing and
CloudFormation (nested stacks, the branch linker custom resource) go to moto's server
in this process, patched as `support.moto_patches` says (custom resources answer
SUCCESS without running a Lambda; Docker is unreachable for moto). The action's own
Amplify calls go to the Amplify simulator. The CLI makes no Amplify call; since the
branch linker's Lambda does not run, the branch has no `backend.stackArn` and teardown
finds the stack by the name `backend_stack_name` gives it.

The steps, one branch: no CDK bootstrap (the action's check refuses before the
install); bootstrap; the first deploy (CreateStack); the function changed, deployed
again (UpdateStack); the same files again with `skip-unchanged-backend` (no
CloudFormation write at all); `command: teardown` (the stacks, then the webhooks,
then the branch).

Traffic stays on 127.0.0.1: checked by hand once with
`strace -f -e trace=connect -o trace.txt python -m pytest tests/realcli/test_branch_life.py`
then `grep 'connect(' trace.txt | grep -v -e 'inet_addr("127.0.0.1")' -e AF_UNIX`: nothing
(132 connects: 120 to 127.0.0.1, 12 Unix sockets, none elsewhere). Every
endpoint points at moto, the simulator or a closed port on 127.0.0.1 (`LOOPBACK`);
the CLI's home, CDK and XDG folders are in the test's temp folder.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from support import moto_patches
from support.action import APP_ID, REGION, ROOT
from support.amplify_sim import AmplifySimulator
from support.fixtures import copy_project
from support.moto_server import MotoServer

from ampaction.cloudformation import backend_stack_name

# Generous: the first deploy (npm ci included) took 2 min here, and 6 min when the
# machine was shared by several such runs.
pytestmark = pytest.mark.timeout(1800)

BRANCH = "feature/real-cli"
ACCOUNT = "123456789012"  # moto's
BOOTSTRAP_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
ASSETS_BUCKET = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
NPM_CACHE = ROOT / ".cache" / "npm"
CLOSED_PORT = "http://127.0.0.1:9"
# What the CLI and the action's checks call (the CLI makes no Amplify call).
MOTO_SERVICES = ("STS", "SSM", "S3", "CLOUDFORMATION")
GREETING_FILE = Path("amplify/functions/greet/greeting.ts")
STACK = backend_stack_name(APP_ID, BRANCH)  # where the CLI deploys this branch's backend
LIFE = {"branch": BRANCH, "skip-unchanged-backend": "true", "wait-for-frontend": "true"}
# Whether the action checks the CDK bootstrap before the install (issue 19).
HAS_BOOTSTRAP_CHECK = importlib.util.find_spec("ampaction.backend_checks") is not None
BOOTSTRAP_CHECK_ABSENT = "the action has no CDK bootstrap check yet (ampaction/backend_checks.py)"
# Whether teardown deletes the branch's secrets too (issue 19: `ampaction/ssm.py`).
HAS_SECRETS = importlib.util.find_spec("ampaction.ssm") is not None


class Moto:
    """moto's server, patched, with every CloudFormation call anyone made, in order."""

    def __init__(self, sim: AmplifySimulator):
        self.sim = sim
        self.cloudformation: list[str] = []
        # What the simulator held when CloudFormation was asked to delete a stack.
        self.at_delete_stack: list[dict[str, object]] = []
        self._lock = threading.Lock()
        self.server = MotoServer(self._seen)

    def _seen(self, action: str, user_agent: str, body: bytes) -> None:
        if b"Version=2010-05-15" not in body:  # CloudFormation's query API version
            return
        with self._lock:
            self.cloudformation.append(action)
        if action == "DeleteStack":
            self.at_delete_stack.append(
                {
                    "branch": self.sim.branch(APP_ID, BRANCH) is not None,
                    "webhooks": len(self.sim.webhooks(APP_ID)),
                    "deletes": self.sim.count("DeleteWebhook") + self.sim.count("DeleteBranch"),
                }
            )

    def client(self, service: str):  # type: ignore[no-untyped-def]
        return boto3.client(
            service,
            endpoint_url=self.server.url,
            region_name=REGION,
            aws_access_key_id="AKIDTEST",
            aws_secret_access_key="secret",
        )

    def bootstrap(self) -> None:
        """What `cdk bootstrap` leaves that the deploy uses: the version, the assets bucket."""
        self.client("ssm").put_parameter(
            Name=BOOTSTRAP_PARAMETER, Value="21", Type="String", Overwrite=True
        )
        self.client("s3").create_bucket(Bucket=ASSETS_BUCKET)

    def stacks(self) -> dict[str, str]:
        """Every stack moto ever held (deleted ones too): name -> status."""
        pages = self.client("cloudformation").get_paginator("list_stacks").paginate()
        return {s["StackName"]: s["StackStatus"] for p in pages for s in p["StackSummaries"]}

    def writes(self) -> list[str]:
        with self._lock:
            return [a for a in self.cloudformation if a in ("CreateStack", "UpdateStack")]


@pytest.fixture
def moto(sim: AmplifySimulator) -> Iterator[Moto]:
    with moto_patches.no_docker(), moto_patches.patched():
        m = Moto(sim)
        m.server.start()
        try:
            yield m
        finally:
            m.server.stop()


@pytest.fixture(scope="module")
def real_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the project per module: the first deploy installs it, later runs reuse it."""
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    return copy_project("real-cli-app", tmp_path_factory.mktemp("branch-life") / "workspace")


@pytest.fixture
def workspace(real_app: Path) -> Path:
    """Overrides conftest's: the shared project."""
    return real_app


@pytest.fixture
def job_env(moto: Moto, tmp_path: Path) -> dict[str, str]:
    """Everything AWS but Amplify to moto; the CLI's folders in the temp folder."""
    folders = {
        name: str(tmp_path / "cli-home" / name.lower())
        for name in ("CDK_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")
    }
    for folder in folders.values():
        Path(folder).mkdir(parents=True, exist_ok=True)
    return {
        "AWS_ENDPOINT_URL": moto.server.url,
        # Named too: they win over AWS_ENDPOINT_URL, and conftest may point some elsewhere.
        **{f"AWS_ENDPOINT_URL_{service}": moto.server.url for service in MOTO_SERVICES},
        # moto reads the bucket from a TemplateURL's path only when its host is localhost.
        "AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION": f"http://localhost:{moto.server.port}",
        "AMPLIFY_DISABLE_TELEMETRY": "1",
        "AMPLIFY_BACKEND_NOTICES_ENDPOINT": f"{CLOSED_PORT}/notices.json",
        "AMPLIFY_BACKEND_TELEMETRY_TRACKING_ENDPOINT": f"{CLOSED_PORT}/telemetry",
        "AMPLIFY_BACKEND_USAGE_TRACKING_ENDPOINT": f"{CLOSED_PORT}/usage",
        "npm_config_cache": str(NPM_CACHE),
        "GITHUB_EVENT_NAME": "push",
        **folders,
    }


def _outputs_file(workspace: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((workspace / "amplify_outputs.json").read_text(encoding="utf-8"))


@pytest.mark.skipif(not HAS_BOOTSTRAP_CHECK, reason=BOOTSTRAP_CHECK_ABSENT)
def test_without_a_cdk_bootstrap_the_action_stops_before_the_install(
    run_action, sim, moto, job_env, workspace
):
    run = run_action({**LIFE, "create-branch": "true"}, job_env=job_env, timeout=300)

    assert run.exit_code == 1, run.log[-4000:]
    errors = run.errors()
    assert len(errors) == 1, errors
    assert "cdk bootstrap" in errors[0]
    assert BOOTSTRAP_PARAMETER in errors[0]
    assert "npm ci" not in run.log
    assert not (workspace / "node_modules").exists()
    assert moto.writes() == []
    assert run.outputs["backend-deployed"] == "false"


def test_a_branch_life_deploy_change_skip_and_teardown(run_action, sim, moto, job_env, workspace):
    moto.bootstrap()
    nested = _first_deploy(run_action, moto, job_env, workspace)
    _change_the_function_and_deploy(run_action, moto, job_env, workspace)
    _deploy_the_same_files(run_action, moto, job_env)
    _teardown(run_action, sim, moto, job_env, nested)


def _first_deploy(run_action, moto: Moto, job_env, workspace: Path) -> set[str]:  # type: ignore[no-untyped-def]
    """The branch is created, its backend deployed: the stack named as the action names it."""
    first = run_action({**LIFE, "create-branch": "true"}, job_env=job_env, timeout=600)
    print(f"\nfirst deploy: {first.seconds:.1f} s")
    assert first.exit_code == 0, first.log[-6000:]
    assert moto.writes() == ["CreateStack"]
    stacks = moto.stacks()
    assert stacks.get(STACK) == "CREATE_COMPLETE", stacks
    nested = {name for name in stacks if name != STACK}
    assert nested, stacks  # storage and the function are nested stacks
    bucket = _outputs_file(workspace)["storage"]["bucket_name"]
    assert bucket in {b["Name"] for b in moto.client("s3").list_buckets()["Buckets"]}
    assert _outputs_file(workspace)["custom"]["greeting"] == "hello, first deploy"
    assert first.outputs["backend-deployed"] == "true"
    assert first.outputs["backend-skipped"] == "false"
    assert first.outputs["branch-created"] == "true"
    assert first.outputs["amplify-outputs"] == "amplify_outputs.json"
    assert first.outputs["frontend-triggered"] == "true"
    assert first.outputs["job-status"] == "SUCCEED"
    return nested


def _change_the_function_and_deploy(run_action, moto: Moto, job_env, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    """The function's code changes: deployed again, as an update, with the new output."""
    greeting = workspace / GREETING_FILE
    greeting.write_text(
        greeting.read_text(encoding="utf-8").replace("first deploy", "second deploy"),
        encoding="utf-8",
    )
    second = run_action(LIFE, job_env=job_env, timeout=600)
    print(f"changed function: {second.seconds:.1f} s")
    assert second.exit_code == 0, second.log[-6000:]
    assert moto.writes() == ["CreateStack", "UpdateStack"]
    assert moto.stacks()[STACK] == "UPDATE_COMPLETE"
    assert _outputs_file(workspace)["custom"]["greeting"] == "hello, second deploy"
    assert second.outputs["backend-deployed"] == "true"
    assert second.outputs["backend-skipped"] == "false"


def _deploy_the_same_files(run_action, moto: Moto, job_env) -> None:  # type: ignore[no-untyped-def]
    """The same files again: skipped by the hash tag, nothing asked of CloudFormation."""
    third = run_action(LIFE, job_env=job_env, timeout=600)
    print(f"unchanged, skipped: {third.seconds:.1f} s")
    assert third.exit_code == 0, third.log[-6000:]
    assert third.outputs["backend-skipped"] == "true"
    assert third.outputs["backend-deployed"] == "false"
    assert f"ampx pipeline-deploy --branch {BRANCH}" not in third.log
    assert "npm ci" not in third.log
    assert moto.writes() == ["CreateStack", "UpdateStack"]


def _teardown(run_action, sim, moto: Moto, job_env, nested: set[str]) -> None:  # type: ignore[no-untyped-def]
    """The stacks first (branch and webhooks still there), then the webhooks, the branch."""
    webhooks = len(sim.webhooks(APP_ID))
    assert webhooks >= 1
    secrets = _put_secrets(moto) if HAS_SECRETS else None
    gone = run_action({"branch": BRANCH, "command": "teardown"}, job_env=job_env, timeout=300)
    print(f"teardown: {gone.seconds:.1f} s")
    assert gone.exit_code == 0, gone.log[-6000:]
    assert moto.at_delete_stack[:1] == [{"branch": True, "webhooks": webhooks, "deletes": 0}]
    statuses = moto.stacks()
    assert statuses[STACK] == "DELETE_COMPLETE", statuses
    assert {statuses[name] for name in nested} == {"DELETE_COMPLETE"}, statuses
    assert sim.webhooks(APP_ID) == []
    assert sim.branch(APP_ID, BRANCH) is None
    operations = sim.operations()
    assert operations.index("DeleteWebhook") < operations.index("DeleteBranch")
    if secrets:
        branch_secret, shared_secret = secrets
        left = {p["Name"] for p in moto.client("ssm").describe_parameters()["Parameters"]}
        assert branch_secret not in left
        assert shared_secret in left  # the app's shared secrets are every branch's


def _put_secrets(moto: Moto) -> tuple[str, str]:
    """A secret of the branch's own, and one the app shares (as `ampx sandbox secret set`)."""
    from ampaction import ssm  # type: ignore[attr-defined, unused-ignore]

    own = f"{ssm.branch_secret_prefix(APP_ID, BRANCH)}/API_KEY"
    shared = f"{ssm.shared_secret_prefix(APP_ID)}/API_KEY"
    for name in (own, shared):
        moto.client("ssm").put_parameter(Name=name, Value="s3cr3t", Type="SecureString")
    return own, shared
