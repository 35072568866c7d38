"""SSM Parameter Store: the CDK's bootstrap version, and a branch's backend secrets.

Amplify keeps a backend's secrets as SSM parameters. Their paths are those of
`@aws-amplify/platform-core`'s `ParameterPathConversions` (packages/platform-core/
src/parameter_path_conversions.ts in aws-amplify/amplify-backend, used by
packages/backend-secret/src/ssm_secret.ts): a branch's secret is
`/amplify/<namespace>/<name>-branch-<hash>/NAME`, the parts of the branch's stack
name (the backend id is round-tripped through the stack name, so the parts are
sanitised as the stack name's are), and a secret shared by every branch is
`/amplify/shared/<app-id>/NAME`. (`/amplify/<app-id>/<branch>/NAME`, the path
people write, is not the one the CLI reads.) Secrets are written as the CLI's
`setSecret` writes them: `SecureString`, overwriting, description "Amplify Secret".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ampaction.aws import AwsError, AwsService
from ampaction.cloudformation import backend_stack_name

# aws-cdk-lib's DefaultStackSynthesizer: `bootstrapStackVersionSsmParameter`'s default
# for the default qualifier; the CDK CLI reads it before every deploy
# (@aws-cdk/toolkit-lib, EnvironmentResources.validateVersion / versionFromSsmParameter).
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
NAMES_PER_CALL = 10  # GetParameters and DeleteParameters take at most 10 names
PARAMETER_DESCRIPTION = "Amplify Secret"  # what `ampx sandbox secret set` writes


def branch_secret_prefix(app_id: str, branch: str) -> str:
    """Where Amplify keeps `branch`'s own secrets (no trailing `/`)."""
    _, namespace, name, kind, digest = backend_stack_name(app_id, branch).split("-")
    return f"/amplify/{namespace}/{name}-{kind}-{digest}"


def shared_secret_prefix(app_id: str) -> str:
    """Where Amplify keeps the secrets every branch of the app reads."""
    return f"/amplify/shared/{app_id}"


class Ssm(AwsService):
    """The SSM calls of the checks before a deploy, of `backend-secrets` and of teardown."""

    service = "ssm"
    failure_title = "SSM call failed"
    permissions_hint = (
        "Give the role the SSM statement of the README (ssm:GetParameter on "
        f"`parameter{BOOTSTRAP_VERSION_PARAMETER}`, ssm:GetParameters, ssm:PutParameter, "
        "ssm:GetParametersByPath and ssm:DeleteParameters on `parameter/amplify/*`)."
    )

    def bootstrap_version(self) -> str | None:
        """The CDK bootstrap version parameter's value; None when the parameter is missing."""
        try:
            response = self._call(
                "get_parameter",
                f"read SSM parameter {BOOTSTRAP_VERSION_PARAMETER}",
                Name=BOOTSTRAP_VERSION_PARAMETER,
                # As the CDK reads it: a custom bootstrap template may make it a SecureString.
                WithDecryption=True,
            )
        except AwsError as e:
            if e.code == "ParameterNotFound":
                return None
            raise
        return str((response.get("Parameter") or {}).get("Value", ""))

    def existing(self, names: Iterable[str]) -> set[str]:
        """Which of these parameters exist. Names only: values are not decrypted."""
        wanted, found = sorted(set(names)), set()
        for start in range(0, len(wanted), NAMES_PER_CALL):
            response = self._call(
                "get_parameters",
                "look up the backend's secrets",
                Names=wanted[start : start + NAMES_PER_CALL],
                WithDecryption=False,
            )
            found |= {str(p["Name"]) for p in response.get("Parameters") or []}
        return found

    def put_secret(self, name: str, value: str) -> None:
        self._call(
            "put_parameter",
            f"set parameter {name}",
            Name=name,
            Value=value,
            Type="SecureString",
            Overwrite=True,
            Description=PARAMETER_DESCRIPTION,
        )

    def names_under(self, prefix: str) -> list[str]:
        """The names of the parameters right under `prefix` (one level, every page)."""
        names: list[str] = []
        token: dict[str, Any] = {}
        while True:
            response = self._call(
                "get_parameters_by_path",
                f"list the parameters under {prefix}",
                Path=prefix,
                Recursive=False,
                WithDecryption=False,
                **token,
            )
            names += [str(p["Name"]) for p in response.get("Parameters") or []]
            if not response.get("NextToken"):
                return names
            token = {"NextToken": str(response["NextToken"])}

    def delete(self, names: list[str]) -> None:
        for start in range(0, len(names), NAMES_PER_CALL):
            self._call(
                "delete_parameters",
                "delete the branch's secrets",
                Names=names[start : start + NAMES_PER_CALL],
            )
