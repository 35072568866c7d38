"""Before the deploy (contract: "Before the deploy"): the CDK bootstrap, the branch's stack
and its secrets are read before anything is installed, each failure named with its fix;
`backend-secrets` are written as the branch's secrets and never shown; teardown deletes
the branch's secrets only; a CLI failure it knows gets its fix in the annotation.

SSM, CloudFormation and STS are moto's server (support.cloudformation_server), one per
test, with the state each test sets up; the run is pointed at it for all three.
"""

from __future__ import annotations

import io
import json
import threading

import pytest
from support import aws_server
from support.action import APP_ID, CREDENTIALS
from support.cloudformation_server import ACCOUNT_ID, CloudFormationServer
from support.hygiene import shown_lines

from ampaction.cloudformation import backend_stack_name
from ampaction.ssm import branch_secret_prefix, shared_secret_prefix

BRANCH = "feature/login"  # a preview branch: the case users meet first
NO_FRONTEND = {"branch": BRANCH, "trigger-frontend": "false"}
OURS = {"created-by": "amplify-pipeline-deploy"}
WRITES = {"PutParameter", "DeleteParameters", "DeleteParameter", "CreateStack", "DeleteStack",
          "UpdateStack"}  # fmt: skip


@pytest.fixture
def aws():
    with CloudFormationServer() as server:
        yield server


@pytest.fixture
def preview(sim):
    sim.add_branch(APP_ID, BRANCH, stage="PULL_REQUEST", tags=OURS)
    return BRANCH


def deploy(run_action, aws, *, bootstrapped: str | None = "21", **inputs: str):
    if bootstrapped is not None:
        aws_server.bootstrap(aws.url, bootstrapped)
    return run_action({**NO_FRONTEND, **inputs}, job_env=aws_server.endpoints(aws.url))


def stopped_before_install(run, aws) -> None:
    assert run.exit_code == 1, run.log
    assert not (run.workspace / "node_modules").exists(), "nothing is installed"
    assert run.ampx_calls() == [], "ampx never ran"
    assert "npm ci" not in run.log
    assert not WRITES & set(aws.requests), aws.requests


def started(run, what: str) -> int:
    """Where in the log the action started the child that `what` names (its `$ ` line)."""
    return next(
        run.log.index(line)
        for line in run.log.splitlines()
        if line.startswith("$ ") and what in line
    )


def ssm(aws):
    return aws_server.ssm_client(aws.url)


def with_secrets(workspace, *names: str) -> None:
    """A backend that reads these secrets, as Amplify's docs write it."""
    calls = ",\n".join(f"  key{n}: secret('{name}')" for n, name in enumerate(names))
    (workspace / "amplify" / "functions").mkdir(exist_ok=True)
    (workspace / "amplify" / "functions" / "resource.ts").write_text(
        "import { defineFunction, secret } from '@aws-amplify/backend';\n"
        "export const fn = defineFunction({ environment: {\n" + calls + "\n} });\n"
        "// secret('IN_A_COMMENT') is not read\n",
        encoding="utf-8",
    )


# ---- The CDK bootstrap ----------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "5"])
def test_an_account_not_bootstrapped_fails_before_install_with_the_command(
    run_action, aws, preview, version
):
    run = deploy(run_action, aws, bootstrapped=version)

    stopped_before_install(run, aws)
    (error,) = run.errors()
    assert f"npx cdk bootstrap aws://{ACCOUNT_ID}/us-east-1" in error
    assert "us-east-1" in error and ACCOUNT_ID in error
    if version:
        assert "'5'" in error and "older than 6" in error
    else:
        assert "/cdk-bootstrap/hnb659fds/version" in error


# ---- The branch's stack -----------------------------------------------------------------


def test_a_stack_mid_update_is_waited_for_then_the_deploy_runs(run_action, aws, preview):
    stack_id = aws.create_stack(backend_stack_name(APP_ID, BRANCH))
    aws.set_status(stack_id, "UPDATE_IN_PROGRESS")
    done = threading.Timer(6, aws.set_status, (stack_id, "UPDATE_COMPLETE"))
    done.start()
    try:
        run = deploy(run_action, aws)
    finally:
        done.cancel()

    assert run.exit_code == 0, run.log
    # The stack's notice (a tokenless run also notes that no GitHub deployment is kept).
    (notice,) = [c.message for c in run.commands.named("notice") if "GitHub" not in c.message]
    assert backend_stack_name(APP_ID, BRANCH) in notice and "UPDATE_IN_PROGRESS" in notice
    assert "30 min" in notice
    assert aws.count("DescribeStacks") >= 3, "polled until the update finished"
    assert len(run.ampx_calls()) == 1
    assert run.log.index(": UPDATE_COMPLETE.") < started(run, "pipeline-deploy")


def test_a_stack_mid_update_with_no_wait_fails_at_once_naming_its_status(run_action, aws, preview):
    stack_id = aws.create_stack(backend_stack_name(APP_ID, BRANCH))
    aws.set_status(stack_id, "UPDATE_IN_PROGRESS")

    run = deploy(run_action, aws, **{"wait-for-stack-minutes": "0"})

    stopped_before_install(run, aws)
    (error,) = run.errors()
    assert "UPDATE_IN_PROGRESS" in error and "`wait-for-stack-minutes` is 0" in error
    assert aws.count("DescribeStacks") == 1, "no wait"


@pytest.mark.parametrize(
    ("status", "fix"),
    [
        ("UPDATE_ROLLBACK_FAILED", "aws cloudformation continue-update-rollback --stack-name"),
        ("ROLLBACK_COMPLETE", "aws cloudformation delete-stack --stack-name"),
    ],
)
def test_a_stack_cloudformation_cannot_update_is_an_error_with_its_fix(
    run_action, aws, preview, status, fix
):
    name = backend_stack_name(APP_ID, BRANCH)
    aws.set_status(aws.create_stack(name), status)

    run = deploy(run_action, aws)

    stopped_before_install(run, aws)
    (error,) = run.errors()
    assert status in error and f"{fix} {name} --region us-east-1" in error


# ---- Backend secrets --------------------------------------------------------------------


def test_a_secret_set_nowhere_is_named_before_install_and_a_shared_one_is_not(
    run_action, aws, preview, workspace
):
    with_secrets(workspace, "API_KEY", "SHARED_ONE")
    ssm(aws).put_parameter(
        Name=f"{shared_secret_prefix(APP_ID)}/SHARED_ONE", Value="v", Type="SecureString"
    )

    run = deploy(run_action, aws)

    stopped_before_install(run, aws)
    (error,) = run.errors()
    assert "`API_KEY`" in error and "SHARED_ONE" not in error
    assert "IN_A_COMMENT" not in error
    assert "backend-secrets" in error and "API_KEY=${{ secrets.API_KEY }}" in error
    (lookup,) = aws.bodies("GetParameters")
    assert json.loads(lookup)["WithDecryption"] is False, "names only: nothing decrypted"


@pytest.mark.parametrize("where", ["branch", "shared"])
def test_a_secret_set_for_the_branch_or_for_all_branches_lets_the_deploy_run(
    run_action, aws, preview, workspace, where
):
    with_secrets(workspace, "API_KEY")
    prefix = (
        branch_secret_prefix(APP_ID, BRANCH) if where == "branch" else shared_secret_prefix(APP_ID)
    )
    ssm(aws).put_parameter(Name=f"{prefix}/API_KEY", Value="v", Type="SecureString")

    run = deploy(run_action, aws)

    assert run.exit_code == 0, run.log
    assert len(run.ampx_calls()) == 1


def test_backend_secrets_are_written_as_secure_strings_and_never_shown(
    run_action, aws, preview, workspace, harness
):
    with_secrets(workspace, "API_KEY", "WEBHOOK_SIGNING_KEY")
    values = {"API_KEY": "k3y-v4lue-never-shown", "WEBHOOK_SIGNING_KEY": "s1gn-with=an-equals"}
    harness.secrets.update(values.values())  # conftest's hygiene check looks for them too
    lines = "\n".join(f"{name}={value}" for name, value in values.items())

    run = deploy(run_action, aws, **{"backend-secrets": lines, "debug": "true"})

    assert run.exit_code == 0, run.log
    prefix = branch_secret_prefix(APP_ID, BRANCH)
    for name, value in values.items():
        stored = ssm(aws).get_parameter(Name=f"{prefix}/{name}", WithDecryption=True)["Parameter"]
        assert (stored["Type"], stored["Value"]) == ("SecureString", value)
    assert run.log.index("Set secret `WEBHOOK_SIGNING_KEY`") < started(run, "pipeline-deploy")
    for shown in (
        shown_lines(run.stdout),
        shown_lines(run.stderr),
        json.dumps(run.outputs),
        run.summary,
    ):
        assert not any(value in shown for value in values.values())
    masks = [c.message for c in run.commands.named("add-mask")]
    assert set(values.values()) <= set(masks), "masked on GitHub"
    assert "Set backend secrets" in run.summary


def test_a_backend_secrets_line_without_a_name_is_a_bad_input_never_echoed(
    run_action, aws, preview, harness
):
    harness.secrets.add("pasted-value-alone")

    run = deploy(run_action, aws, **{"backend-secrets": "GOOD=fine-value\npasted-value-alone"})

    assert run.exit_code == 1
    (error,) = run.errors()
    assert "backend-secrets" in error and "line 2 has no `=`" in error
    assert aws.requests == [], "no AWS call"


def test_a_dry_run_names_what_backend_secrets_would_write_and_writes_nothing(
    run_action, aws, preview, harness
):
    harness.secrets.add("dry-run-secret-value")

    run = deploy(
        run_action, aws, **{"backend-secrets": "API_KEY=dry-run-secret-value", "dry-run": "true"}
    )

    assert run.exit_code == 0, run.log
    assert "- backend secrets: set `API_KEY` (SecureString)" in run.log
    for check in ("CDK bootstrap: CDK bootstrap version 21", "Backend stack: no backend stack yet",
                  "Backend secrets: no secret() in the backend"):  # fmt: skip
        assert check in run.log
    assert not WRITES & set(aws.requests)


# ---- Teardown ---------------------------------------------------------------------------


def test_teardown_deletes_the_branch_secrets_and_keeps_shared_and_other_branches_ones(
    run_action, aws, preview
):
    client = ssm(aws)
    mine = [f"{branch_secret_prefix(APP_ID, BRANCH)}/{n}" for n in ("A", "B")]
    kept = [
        f"{shared_secret_prefix(APP_ID)}/A",
        f"{branch_secret_prefix(APP_ID, 'main')}/A",
        f"{branch_secret_prefix(APP_ID, BRANCH + '2')}/A",
    ]
    for name in mine + kept:
        client.put_parameter(Name=name, Value="v", Type="SecureString")

    run = run_action(
        {"command": "teardown", "branch": BRANCH}, job_env=aws_server.endpoints(aws.url)
    )

    assert run.exit_code == 0, run.log
    left = {p["Name"] for p in client.describe_parameters()["Parameters"]}
    assert left & set(mine) == set(), "the branch's secrets are gone"
    assert set(kept) <= left, "shared and other branches' secrets are kept"
    assert "DeleteParameters" in aws.requests


def test_teardown_of_a_branch_already_gone_keeps_its_secrets_and_says_how_to_delete_them(
    run_action, aws
):
    """Deleted in the console: nothing proves the secrets left under its path were this
    action's (no branch, no created-by tag), so they stay, and the warning names them."""
    client = ssm(aws)
    left_over = f"{branch_secret_prefix(APP_ID, BRANCH)}/API_KEY"
    client.put_parameter(Name=left_over, Value="v4lue", Type="SecureString")

    run = run_action(
        {"command": "teardown", "branch": BRANCH}, job_env=aws_server.endpoints(aws.url)
    )

    assert run.exit_code == 0, run.log
    assert client.get_parameter(Name=left_over)["Parameter"]["Name"] == left_over, "kept"
    (warning,) = [c.message for c in run.commands.named("warning") if "secret" in c.message]
    assert left_over in warning and "aws ssm delete-parameters" in warning
    assert "DeleteParameters" not in aws.requests


# ---- Known failures of the CLI ----------------------------------------------------------


def test_a_cli_failing_on_a_missing_secret_gets_the_fix_in_its_annotation(run_action, aws, preview):
    said = "[SecretNotSetError] The secret 'WEBHOOK_SIGNING_KEY' specified in the backend does not exist."
    aws_server.bootstrap(aws.url)

    run = run_action(
        NO_FRONTEND,
        job_env={**aws_server.endpoints(aws.url), "STUB_AMPX_EXIT": "1", "STUB_AMPX_ERROR": said},
    )

    assert run.exit_code == 1
    (error,) = run.errors()
    assert "Fix: Secret `WEBHOOK_SIGNING_KEY` is not set for branch" in error
    assert (
        "backend-secrets" in error
        and "WEBHOOK_SIGNING_KEY=${{ secrets.WEBHOOK_SIGNING_KEY }}" in error
    )


def test_a_check_the_role_may_not_make_is_a_warning_and_the_deploy_goes_on(
    run_action, aws, preview
):
    aws.deny("GetParameter")  # no bootstrap parameter either: the check cannot tell

    run = deploy(run_action, aws, bootstrapped=None)

    assert run.exit_code == 0, run.log
    (warning,) = [c for c in run.commands.named("warning") if "bootstrap" in c.message.lower()]
    assert warning.properties["title"] == "CDK bootstrap not checked"
    assert "ssm:GetParameter" in warning.message
    assert len(run.ampx_calls()) == 1


def test_the_wait_for_a_busy_stack_ends_at_a_cancellation(aws, monkeypatch):
    """In process, on the real client against moto: the runner's SIGTERM during the wait."""
    from ampaction.backend_checks import check_stack
    from ampaction.cancellation import Cancellation
    from ampaction.cloudformation import CloudFormation
    from ampaction.errors import Cancelled
    from ampaction.workflow import Workflow

    for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL_CLOUDFORMATION": aws.url}.items():
        monkeypatch.setenv(name, value)
    aws.set_status(aws.create_stack(backend_stack_name(APP_ID, BRANCH)), "UPDATE_IN_PROGRESS")
    cancellation = Cancellation()
    threading.Timer(1.5, cancellation.event.set).start()

    with pytest.raises(Cancelled, match="the wait for stack"):
        check_stack(
            CloudFormation("us-east-1", 2, {}, cancellation=cancellation),
            Workflow(out=io.StringIO()),
            APP_ID,
            BRANCH,
            wait_minutes=1,
            sleep=cancellation.sleep,
            cancelled=lambda: cancellation.requested,
        )
