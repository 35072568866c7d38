"""The local Amplify Gen 3 server against botocore's own model of `amplifygen3`.

Every answer is read twice: by real boto3 (the action's client), and, raw, by a strict
check that walks the operation's output shape: no member the model lacks, every
required member present, each value of its modeled type (timestamps as epoch
seconds, enums from the enum). Errors carry the model's codes in `x-amzn-ErrorType`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import botocore.session
import pytest
import requests
from support.action import CREDENTIALS, REGION
from support.gen3_server import Gen3Server

MODEL = botocore.session.get_session().get_service_model("amplifygen3")
_SCALARS = {
    "string": str,
    "integer": int,
    "long": int,
    "boolean": bool,
    "double": (int, float),
    "timestamp": (int, float),
}


def problems(shape: Any, value: Any, where: str = "") -> list[str]:  # noqa: PLR0911
    """Where `value` strays from `shape` (botocore's model), as readable lines."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        found = [f"{where}.{k}: not in the model" for k in value if k not in shape.members]
        found += [
            f"{where}.{k}: required, missing" for k in shape.required_members if k not in value
        ]
        for name, member in shape.members.items():
            if name in value:
                found += problems(member, value[name], f"{where}.{name}")
        return found
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        return [
            p for i, item in enumerate(value) for p in problems(shape.member, item, f"{where}[{i}]")
        ]
    if kind == "map":
        return [p for k, v in value.items() for p in problems(shape.value, v, f"{where}.{k}")]
    if not isinstance(value, _SCALARS[kind]):
        return [f"{where}: {type(value).__name__}, the model says {kind}"]
    if getattr(shape, "enum", None) and value not in shape.enum:
        return [f"{where}: {value!r} is not one of {shape.enum}"]
    return []


@pytest.fixture
def server() -> Iterator[Gen3Server]:
    with Gen3Server(REGION) as s:
        s.add_app("web")
        s.add_environment("web", "preview")
        yield s


@pytest.fixture
def client(server: Gen3Server) -> Any:
    checked: list[str] = []

    def strict(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        body = response_dict["body"]
        if response_dict["status_code"] < 300 and operation_model.output_shape is not None:
            found = problems(operation_model.output_shape, json.loads(body or b"{}"))
            assert not found, f"{operation_model.name}: {found}"
            checked.append(operation_model.name)

    c = boto3.client(
        "amplifygen3",
        region_name=REGION,
        endpoint_url=server.url,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )
    c.meta.events.register("before-parse.amplifygen3.*", strict)
    c.checked = checked
    return c


def deploy_a_zip(client: Any, data: bytes = b"PK zip bytes") -> tuple[str, str]:
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    created = client.create_source_upload(ZipUpload={"Digest": digest})
    url = created["ZipUpload"]["UploadUrl"]
    put = requests.put(url, data=data, headers={"x-amz-checksum-sha256": digest}, timeout=10)
    assert put.status_code == 200, put.text
    deployment = client.create_deployment(
        AppName="web",
        EnvironmentName="preview",
        SourceConfig={
            "ManualUploadSource": {
                "SourceUploadId": created["SourceUploadId"],
                "SourceType": "SOURCE_CODE",
            }
        },
    )
    return created["SourceUploadId"], deployment["DeploymentId"]


def test_every_answer_is_the_models_shape_and_boto3_reads_it(
    server: Gen3Server, client: Any
) -> None:
    app = client.get_app(AppName="web")
    environment = client.get_environment(AppName="web", EnvironmentName="preview")
    client.put_environment_variables(
        AppName="web",
        EnvironmentName="preview",
        EnvironmentVariables=[{"Key": "A", "Value": "1", "Type": "PLAINTEXT", "Scope": "BUILD"}],
    )
    _, deployment_id = deploy_a_zip(client)
    first = client.get_deployment(
        AppName="web", EnvironmentName="preview", DeploymentId=deployment_id
    )
    last = client.get_deployment(
        AppName="web", EnvironmentName="preview", DeploymentId=deployment_id
    )

    assert app["AppName"] == "web" and isinstance(app["CreatedAt"], dt.datetime)
    assert environment["Type"] == "PREVIEW"
    assert [first["Status"], last["Status"]] == ["IN_PROGRESS", "SUCCEEDED"]
    assert last["DomainName"].endswith(".amplifyapp.com")
    assert last["EnvironmentVariables"][0]["Key"] == "A"
    assert set(client.checked) >= {
        "GetApp",
        "GetEnvironment",
        "PutEnvironmentVariables",
        "CreateSourceUpload",
        "CreateDeployment",
        "GetDeployment",
    }


def test_a_missing_app_or_environment_is_the_models_error(server: Gen3Server, client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_app(AppName="nope")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_environment(AppName="web", EnvironmentName="staging")
    statuses = [r.status for r in server.requests]
    assert statuses == [404, 404]


def test_the_scripted_failure_carries_its_reason(server: Gen3Server, client: Any) -> None:
    server.set_deployment_plan(
        [
            {
                "Status": "FAILED",
                "StatusReasonCode": "BUILD_FAILED",
                "StatusReason": "npm run build exited 1",
            }
        ]
    )
    _, deployment_id = deploy_a_zip(client)

    found = client.get_deployment(
        AppName="web", EnvironmentName="preview", DeploymentId=deployment_id
    )

    assert (found["Status"], found["StatusReasonCode"]) == ("FAILED", "BUILD_FAILED")
    assert "DomainName" not in found


def test_the_upload_is_refused_without_the_digest_it_was_signed_for(
    server: Gen3Server, client: Any
) -> None:
    digest = base64.b64encode(hashlib.sha256(b"one").digest()).decode()
    url = client.create_source_upload(ZipUpload={"Digest": digest})["ZipUpload"]["UploadUrl"]

    no_header = requests.put(url, data=b"one", timeout=10)
    other_body = requests.put(
        url, data=b"two", headers={"x-amz-checksum-sha256": digest}, timeout=10
    )
    bad_signature = requests.put(
        url.replace("X-Amz-Signature=", "X-Amz-Signature=0"),
        data=b"one",
        headers={"x-amz-checksum-sha256": digest},
        timeout=10,
    )

    assert (no_header.status_code, other_body.status_code) == (400, 400)
    assert "<Code>BadDigest</Code>" in other_body.text
    assert bad_signature.status_code == 403
    with pytest.raises(client.exceptions.ValidationException):  # nothing was uploaded
        deploy_id = client.create_source_upload(ZipUpload={"Digest": digest})["SourceUploadId"]
        client.create_deployment(
            AppName="web",
            EnvironmentName="preview",
            SourceConfig={
                "ManualUploadSource": {"SourceUploadId": deploy_id, "SourceType": "SOURCE_CODE"}
            },
        )


def test_calls_not_signed_for_amplifygen3_are_refused(server: Gen3Server) -> None:
    answer = requests.get(f"{server.url}/apps/web", timeout=10)

    assert answer.status_code == 403
    assert answer.headers["x-amzn-ErrorType"] == "UnrecognizedClientException"
