"""The Amplify Gen 3 API (boto3 service `amplifygen3`), through boto3 (see `aws.py` for the
client and its retries).

Every call the action makes to Gen 3 is a method here, translated into errors a
user can act on. Gen 3 names apps and environments (no ids), and answers with
capitalised members (`AppName`, `DeploymentId`, `Status`).
"""

from __future__ import annotations

from typing import Any

from ampaction.aws import AwsService

# The link from the Gen 3 build to the Gen 2 backend (see docs/amplify-gen3.md): build-time
# variables on the environment that the app's build command passes to `ampx generate outputs`.
GEN2_APP_ID_VARIABLE = "AMPLIFY_GEN2_APP_ID"
GEN2_BRANCH_VARIABLE = "AMPLIFY_GEN2_BRANCH"
SOURCE_CODE = "SOURCE_CODE"
PREBUILT_ARTIFACT = "PREBUILT_ARTIFACT"


class AmplifyGen3(AwsService):
    """The Gen 3 calls the action makes, each translated into errors a user can act on."""

    service = "amplifygen3"
    failure_title = "Amplify Gen 3 API call failed"
    permissions_hint = (
        "Give the role the Amplify Gen 3 permissions listed in the README "
        "(amplifygen3:GetApp, amplifygen3:GetEnvironment, amplifygen3:PutEnvironmentVariables, "
        "amplifygen3:CreateSourceUpload, amplifygen3:CreateDeployment, amplifygen3:GetDeployment)."
    )

    def get_app(self, app: str) -> dict[str, Any]:
        return self._call("get_app", f"read Amplify Gen 3 app `{app}`", AppName=app)

    def get_environment(self, app: str, environment: str) -> dict[str, Any]:
        return self._call(
            "get_environment",
            f"read environment `{environment}` of Gen 3 app `{app}`",
            AppName=app,
            EnvironmentName=environment,
        )

    def put_build_variables(self, app: str, environment: str, variables: dict[str, str]) -> None:
        """Set these build-time variables on the environment (the others stay as they are)."""
        self._call(
            "put_environment_variables",
            f"set the build variables of environment `{environment}` of Gen 3 app `{app}`",
            AppName=app,
            EnvironmentName=environment,
            EnvironmentVariables=[
                {"Key": key, "Value": value, "Type": "PLAINTEXT", "Scope": "BUILD"}
                for key, value in variables.items()
            ],
        )

    def create_source_upload(self, digest: str) -> dict[str, Any]:
        """A source upload for a zip of this digest: its `SourceUploadId` and its
        `ZipUpload.UploadUrl`, a pre-signed URL (a credential)."""
        return self._call(
            "create_source_upload", "create a source upload", ZipUpload={"Digest": digest}
        )

    def create_deployment(
        self, app: str, environment: str, source_upload_id: str, source_type: str, description: str
    ) -> dict[str, Any]:
        """Deploy the uploaded source; the new deployment's `DeploymentId` and `Status`."""
        return self._call(
            "create_deployment",
            f"create a deployment in environment `{environment}` of Gen 3 app `{app}`",
            AppName=app,
            EnvironmentName=environment,
            SourceConfig={
                "ManualUploadSource": {
                    "SourceUploadId": source_upload_id,
                    "SourceType": source_type,
                }
            },
            Description=description,
        )

    def get_deployment(self, app: str, environment: str, deployment_id: str) -> dict[str, Any]:
        return self._call(
            "get_deployment",
            f"read deployment {deployment_id} of Gen 3 app `{app}`",
            AppName=app,
            EnvironmentName=environment,
            DeploymentId=deployment_id,
        )


def console_url(region: str, app: str, environment: str, deployment_id: str) -> str:
    """The Amplify console page of one Gen 3 deployment."""
    from urllib.parse import quote  # noqa: PLC0415

    return (
        f"https://{region}.console.aws.amazon.com/amplify/gen3/apps/{quote(app, safe='')}"
        f"/environments/{quote(environment, safe='')}/deployments/{deployment_id}"
    )
