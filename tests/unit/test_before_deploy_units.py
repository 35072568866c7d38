"""The pure parts of "Before the deploy": reading `backend-secrets`, finding the backend's
`secret('NAME')` names, the SSM paths Amplify uses, and telling the CLI's known failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from ampaction import cli_failures, inputs
from ampaction.backend_checks import secret_names
from ampaction.cloudformation import backend_stack_name
from ampaction.errors import BadInputs
from ampaction.ssm import branch_secret_prefix, shared_secret_prefix

APP = "d1a2b3c4d5e6f7"


def settings_with(tmp_path: Path, secrets: str) -> inputs.Settings:
    (tmp_path / "package.json").write_text("{}")
    env = {"GITHUB_WORKSPACE": str(tmp_path), "INPUT_APP-ID": APP, "INPUT_BRANCH": "main",
           "AWS_REGION": "us-east-1", "INPUT_BACKEND-SECRETS": secrets}  # fmt: skip
    return inputs.read_settings(env)


def test_backend_secrets_are_name_value_lines_split_at_the_first_equals(tmp_path):
    s = settings_with(tmp_path, "A=first\n\n  B_2 = two=three  \n")
    assert [(x.name, x.value) for x in s.backend_secrets] == [("A", "first"), ("B_2", "two=three")]
    assert "first" not in repr(s.backend_secrets), "a value is never in a repr"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("A=v4lue\njust-a-value", "line 2 has no `=`"),
        ("has space=v4lue", "line 1: the part before `=` is not a secret name"),
        ("A/B=v4lue", "line 1: the part before `=` is not a secret name"),
        ("A=", "line 1: secret `A` has an empty value"),
        ("A=v4lue1\nA=v4lue2", "secret `A` is given twice"),
        # Off GitHub the action's own redaction keeps it out of logs, and it masks nothing
        # that short (it would blank out every log line): so it is refused, not leaked.
        ("A=v4lue\nB= ab ", "line 2: secret `B` is shorter than 4 characters"),
    ],
)
def test_a_bad_backend_secrets_line_is_named_by_number_and_never_shown(tmp_path, text, said):
    with pytest.raises(BadInputs) as bad:
        settings_with(tmp_path, text)
    message = bad.value.message
    assert said in message and "backend-secrets" in message
    for secret in ("just-a-value", "v4lue", "space"):
        assert secret not in message


def test_every_backend_secret_value_is_masked_before_the_inputs_are_read():
    env = {"INPUT_BACKEND-SECRETS": "A=first-v4lue\nB=x=y-second\npasted-alone"}
    assert sorted(inputs.secret_inputs(env)) == ["first-v4lue", "pasted-alone", "x=y-second"]


def test_wait_for_stack_minutes_takes_zero(tmp_path):
    (tmp_path / "package.json").write_text("{}")
    env = {"GITHUB_WORKSPACE": str(tmp_path), "INPUT_APP-ID": APP, "INPUT_BRANCH": "main",
           "AWS_REGION": "us-east-1", "INPUT_WAIT-FOR-STACK-MINUTES": "0"}  # fmt: skip
    assert inputs.read_settings(env).wait_for_stack_minutes == 0


def test_secret_names_are_the_literals_in_amplify_and_backend_paths(tmp_path):
    (tmp_path / "amplify" / "auth").mkdir(parents=True)
    (tmp_path / "amplify" / "auth" / "resource.ts").write_text(
        "secret('GOOGLE_CLIENT_ID'); secret(\"GOOGLE_SECRET\");\n"
        "secret(`TEMPLATE_OK`); secret(`X_${env}`); secret(name);\n"
        "// secret('COMMENTED')\n/* secret('BLOCK') */\n"
    )
    (tmp_path / "amplify" / "node_modules").mkdir()
    (tmp_path / "amplify" / "node_modules" / "x.ts").write_text("secret('DEPENDENCY')")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "keys.ts").write_text("secret( 'FROM_BACKEND_PATHS' )")
    assert secret_names(tmp_path, ["shared/*.ts"]) == [
        "FROM_BACKEND_PATHS", "GOOGLE_CLIENT_ID", "GOOGLE_SECRET", "TEMPLATE_OK",
    ]  # fmt: skip


def test_the_secret_paths_are_the_ones_the_amplify_cli_reads():
    # @aws-amplify/platform-core ParameterPathConversions: the branch's path is the stack
    # name's parts, `/amplify/<namespace>/<name>-branch-<hash>`.
    stack = backend_stack_name(APP, "feature/log-in")
    digest = stack.rsplit("-", 1)[1]
    assert (
        branch_secret_prefix(APP, "feature/log-in")
        == f"/amplify/{APP}/featurelogin-branch-{digest}"
    )
    assert shared_secret_prefix(APP) == f"/amplify/shared/{APP}"


DEPLOY = cli_failures.Deploy(APP, "main", "eu-west-1")


@pytest.mark.parametrize(
    ("output", "fix"),
    [
        ("[SecretNotSetError] The secret 'WEBHOOK_SIGNING_KEY' specified in the backend does not exist.",
         "Secret `WEBHOOK_SIGNING_KEY` is not set for branch `main`"),
        ("Failed to retrieve backend secret 'API_KEY' for 'x'. Reason: ParameterNotFound",
         "Secret `API_KEY` is not set"),
        ("SSM parameter /cdk-bootstrap/hnb659fds/version not found. Has the environment been "
         "bootstrapped? Please run 'cdk bootstrap'", "npx cdk bootstrap aws://ACCOUNT/eu-west-1"),
        ("This CDK deployment requires bootstrap stack version '6', found '5'. Please run 'cdk bootstrap'.",
         "npx cdk bootstrap"),
        ("amplify-x-main-branch-1 failed: ValidationError: Stack:arn:aws:… is in "
         "UPDATE_IN_PROGRESS state and can not be updated.", "`wait-for-stack-minutes`"),
        ("Stack:arn is in UPDATE_ROLLBACK_FAILED state and can not be updated",
         "continue-update-rollback"),
        ("ExpiredToken: The security token included in the request is expired",
         "`role-duration-seconds`"),
        ("User: arn:aws:sts::1:assumed-role/deploy/x is not authorized to perform: "
         "lambda:CreateFunction on resource: arn", "`lambda:CreateFunction`"),
        ("ENOENT: no such file or directory, open '/w/.amplify/artifacts/cdk.out/manifest.json'",
         "`defineBackend(...)`"),
    ],
)  # fmt: skip
def test_a_known_cli_failure_gets_its_fix(output, fix):
    (found,) = cli_failures.fixes(["some progress", output, "more"], DEPLOY)
    assert fix in found


def test_an_unknown_cli_failure_gets_no_fix():
    assert cli_failures.fixes(["TypeError: x is not a function"], DEPLOY) == []
