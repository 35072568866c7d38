"""A local Amplify Gen 3 API, shaped by botocore's model of `amplifygen3` (2025-09-18).

Real boto3 reaches it through `AWS_ENDPOINT_URL_AMPLIFYGEN3`. It speaks the
model's protocol, REST-JSON: capitalised members, timestamps as epoch seconds,
errors as a status code, an `x-amzn-ErrorType` header and `{"message": …}`.
It serves what the action calls: `GetApp`, `GetEnvironment`,
`PutEnvironmentVariables`, `CreateSourceUpload`, `CreateDeployment`,
`GetDeployment`, and the pre-signed `PUT` of the zip, which is signed with
`x-amz-checksum-sha256` and refused (S3's `BadDigest`) unless the header and the
body both match the digest given to `CreateSourceUpload`. Each `GetDeployment`
moves a deployment one step along its plan (`set_deployment_plan`), so outcomes
are scripted without a clock. tests/unit/test_gen3_server.py holds it to the model.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from support.local_server import ThreadedHTTP

ACCOUNT_ID = "123456789012"
SUCCEEDED_PLAN: tuple[dict[str, str], ...] = (
    {"Status": "IN_PROGRESS"},
    {"Status": "SUCCEEDED"},
)
_ROUTES = (
    ("GET", r"/apps/(?P<AppName>[^/]+)", "GetApp"),
    ("GET", r"/apps/(?P<AppName>[^/]+)/environments/(?P<EnvironmentName>[^/]+)", "GetEnvironment"),
    (
        "PUT",
        r"/apps/(?P<AppName>[^/]+)/environments/(?P<EnvironmentName>[^/]+)/environment-variables",
        "PutEnvironmentVariables",
    ),
    ("POST", r"/source-uploads", "CreateSourceUpload"),
    (
        "POST",
        r"/apps/(?P<AppName>[^/]+)/environments/(?P<EnvironmentName>[^/]+)/deployments",
        "CreateDeployment",
    ),
    (
        "GET",
        r"/apps/(?P<AppName>[^/]+)/environments/(?P<EnvironmentName>[^/]+)/deployments/(?P<DeploymentId>[^/]+)",
        "GetDeployment",
    ),
    ("PUT", r"/upload/(?P<SourceUploadId>[^/]+)", "Upload"),
)


class Gen3Error(Exception):
    def __init__(self, status: int, error_type: str, message: str):
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


@dataclass
class Request:
    method: str
    path: str
    operation: str
    status: int
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)  # to order it against the CLI's record


@dataclass
class Upload:
    source_upload_id: str
    digest: str
    signature: str
    data: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Deployment:
    app: str
    environment: str
    deployment_id: str
    request: dict[str, Any]
    plan: list[dict[str, str]]
    created_at: float
    variables: list[dict[str, str]]
    status: str = "QUEUED"


class Gen3Server(ThreadedHTTP):
    """Set it up with `add_app`/`add_environment`/`set_deployment_plan`/`fail`; read it
    with `requests`/`operations`/`uploads`/`deployments`/`variables`/`issued_upload_urls`."""

    def __init__(self, region: str = "us-east-1"):
        self.region = region
        self.apps: dict[str, dict[str, Any]] = {}
        self.environments: dict[tuple[str, str], dict[str, Any]] = {}
        self.variables: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
        self.uploads: dict[str, Upload] = {}
        self.deployments: dict[str, Deployment] = {}
        self.requests: list[Request] = []
        self._plan: tuple[dict[str, str], ...] = SUCCEEDED_PLAN
        self._race: dict[str, str] = {}
        self._faults: dict[str, list[Gen3Error]] = {}
        self._lock = threading.Lock()
        super().__init__(_handler(self))

    # ---- set up ---------------------------------------------------------------------

    def add_app(self, name: str, *, output_directory: str = "dist") -> None:
        self.apps[name] = {
            "AppName": name,
            "AppArn": self._arn(f"apps/{name}"),
            "Web": {
                "BuildConfig": {
                    "InstallCommand": "npm ci",
                    "BuildCommand": "npx ampx generate outputs --app-id $AMPLIFY_GEN2_APP_ID "
                    "--branch $AMPLIFY_GEN2_BRANCH && npm run build",
                    "OutputDirectory": output_directory,
                }
            },
            "CreatedAt": time.time(),
        }

    def add_environment(self, app: str, name: str, kind: str = "PREVIEW") -> None:
        self.environments[(app, name)] = {
            "AppName": app,
            "EnvironmentName": name,
            "EnvironmentArn": self._arn(f"apps/{app}/environments/{name}"),
            "Type": kind,
            "EnvironmentRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/{app}-{name}",
            "CreatedAt": time.time(),
        }

    def set_deployment_plan(self, plan: Iterable[dict[str, str]]) -> None:
        """The statuses the next deployments go through, one per `GetDeployment`."""
        self._plan = tuple(dict(step) for step in plan)

    def race_variables(self, values: dict[str, str]) -> None:
        """After the next `PutEnvironmentVariables`, set these too, as another run's
        would land between this run's and its `CreateDeployment`."""
        self._race = dict(values)

    def fail(self, operation: str, status: int, error_type: str, times: int = 1) -> None:
        self._faults.setdefault(operation, []).extend(
            [Gen3Error(status, error_type, f"scripted {error_type}")] * times
        )

    # ---- read -----------------------------------------------------------------------

    def operations(self) -> list[str]:
        with self._lock:
            return [r.operation for r in self.requests]

    def issued_upload_urls(self) -> list[str]:
        with self._lock:
            return [self._upload_url(u) for u in self.uploads.values()]

    def requests_for(self, operation: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.operation == operation]

    def signatures(self) -> list[str]:
        with self._lock:
            return [u.signature for u in self.uploads.values()]

    # ---- serve ----------------------------------------------------------------------

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(target).path
        operation, params = _route(method, path)
        with self._lock:
            try:
                status, reply, extra = self._answer(operation, params, target, headers, body)
            except Gen3Error as e:
                self.requests.append(Request(method, target, operation, e.status, headers, body))
                if operation == "Upload":  # S3 answers in XML
                    xml = (
                        f"<Error><Code>{e.error_type}</Code><Message>{e.message}</Message></Error>"
                    )
                    return e.status, {"Content-Type": "application/xml"}, xml.encode()
                error = {"Content-Type": "application/json", "x-amzn-ErrorType": e.error_type}
                return e.status, error, json.dumps({"message": e.message}).encode()
            self.requests.append(Request(method, target, operation, status, headers, body))
        if operation == "Upload":
            return status, {**extra}, b""
        return status, {"Content-Type": "application/json", **extra}, json.dumps(reply).encode()

    def _answer(
        self,
        operation: str,
        params: dict[str, str],
        target: str,
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, Any, dict[str, str]]:
        if operation == "Unknown":
            raise Gen3Error(404, "UnknownOperationException", "no such operation")
        if operation != "Upload":
            _check_signed(headers)
        faults = self._faults.get(operation)
        if faults:
            raise faults.pop(0)
        if operation == "Upload":
            return self._put_upload(params["SourceUploadId"], target, headers, body)
        request = json.loads(body or b"{}")
        handler = getattr(self, "_" + re.sub(r"(?<!^)([A-Z])", r"_\1", operation).lower())
        return 200, handler(params, request), {}

    def _get_app(self, params: dict[str, str], _request: Any) -> dict[str, Any]:
        return self._app(params["AppName"])

    def _get_environment(self, params: dict[str, str], _request: Any) -> dict[str, Any]:
        return self._environment(params["AppName"], params["EnvironmentName"])

    def _put_environment_variables(self, params: dict[str, str], request: Any) -> dict[str, Any]:
        key = (params["AppName"], params["EnvironmentName"])
        self._environment(*key)
        current = self.variables.setdefault(key, {})
        for variable in request["EnvironmentVariables"]:
            if not {"Key", "Value", "Type"} <= variable.keys():
                raise Gen3Error(400, "ValidationException", "Key, Value and Type are required")
            current[variable["Key"]] = dict(variable)  # an update: the others stay
        for key, value in self._race.items():
            current[key] = {"Key": key, "Value": value, "Type": "PLAINTEXT", "Scope": "BUILD"}
        self._race = {}
        return {}

    def _create_source_upload(self, _params: dict[str, str], request: Any) -> dict[str, Any]:
        digest = str(request.get("ZipUpload", {}).get("Digest", ""))
        if not 1 <= len(digest) <= 256:
            raise Gen3Error(400, "ValidationException", "ZipUpload.Digest is required")
        upload = Upload(secrets.token_hex(8), digest, secrets.token_hex(32))
        self.uploads[upload.source_upload_id] = upload
        now = time.time()
        return {
            "SourceUploadId": upload.source_upload_id,
            "ZipUpload": {
                "Digest": digest,
                "UploadUrl": self._upload_url(upload),
                "UrlExpiresAt": now + 900,
            },
            "UploadExpiresAt": now + 3600,
        }

    def _create_deployment(self, params: dict[str, str], request: Any) -> dict[str, Any]:
        app, environment = params["AppName"], params["EnvironmentName"]
        self._environment(app, environment)
        manual = (request.get("SourceConfig") or {}).get("ManualUploadSource") or {}
        upload = self.uploads.get(str(manual.get("SourceUploadId")))
        if upload is None or upload.data is None:
            raise Gen3Error(400, "ValidationException", "the source upload has no uploaded zip")
        if manual.get("SourceType") not in ("SOURCE_CODE", "PREBUILT_ARTIFACT"):
            raise Gen3Error(400, "ValidationException", "SourceType is not valid")
        deployment_id = secrets.token_hex(5)  # the model: [a-z0-9]{10}
        variables = [dict(v) for v in self.variables.get((app, environment), {}).values()]
        self.deployments[deployment_id] = Deployment(
            app, environment, deployment_id, request, list(self._plan), time.time(), variables
        )
        return {
            "DeploymentId": deployment_id,
            "DeploymentArn": self._arn(
                f"apps/{app}/environments/{environment}/deployments/{deployment_id}"
            ),
            "Status": "QUEUED",
        }

    def _get_deployment(self, params: dict[str, str], _request: Any) -> dict[str, Any]:
        found = self.deployments.get(params["DeploymentId"])
        if found is None or (found.app, found.environment) != (
            params["AppName"],
            params["EnvironmentName"],
        ):
            raise Gen3Error(404, "ResourceNotFoundException", "deployment not found")
        step = found.plan.pop(0) if found.plan else {"Status": found.status}
        found.status = step["Status"]
        reply: dict[str, Any] = {
            "AppName": found.app,
            "DeploymentId": found.deployment_id,
            "DeploymentArn": self._arn(f"apps/{found.app}/deployments/{found.deployment_id}"),
            "EnvironmentName": found.environment,
            "SourceConfig": {
                "ManualUploadSource": found.request["SourceConfig"]["ManualUploadSource"]
            },
            "Status": found.status,
            "EnvironmentVariables": found.variables,
            "CreatedAt": found.created_at,
            **{k: v for k, v in step.items() if k != "Status"},
        }
        if found.status == "SUCCEEDED":
            reply["DomainName"] = (
                f"{found.deployment_id}.{found.environment}.{found.app}.amplifyapp.com"
            )
        return reply

    def _put_upload(
        self, upload_id: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        upload = self.uploads.get(upload_id)
        query = dict(parse_qsl(urlsplit(target).query))
        if upload is None or query.get("X-Amz-Signature") != upload.signature:
            raise Gen3Error(403, "SignatureDoesNotMatch", "The request signature does not match")
        lower = {k.lower(): v for k, v in headers.items()}
        actual = base64.b64encode(hashlib.sha256(body).digest()).decode()
        if lower.get("x-amz-checksum-sha256") != upload.digest or actual != upload.digest:
            raise Gen3Error(
                400, "BadDigest", "The SHA256 you specified did not match the calculated checksum"
            )
        upload.data, upload.headers = body, dict(headers)
        return 200, {}, {}

    # ---- helpers --------------------------------------------------------------------

    def _app(self, name: str) -> dict[str, Any]:
        if name not in self.apps:
            raise Gen3Error(404, "ResourceNotFoundException", f"App {name} not found")
        return self.apps[name]

    def _environment(self, app: str, name: str) -> dict[str, Any]:
        self._app(app)
        if (app, name) not in self.environments:
            raise Gen3Error(404, "ResourceNotFoundException", f"Environment {name} not found")
        return self.environments[(app, name)]

    def _arn(self, resource: str) -> str:
        return f"arn:aws:amplifygen3:{self.region}:{ACCOUNT_ID}:{resource}"

    def _upload_url(self, upload: Upload) -> str:
        return (
            f"{self.url}/upload/{upload.source_upload_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential=ASIAUPLOAD%2F20261205%2F{self.region}%2Fs3%2Faws4_request"
            f"&X-Amz-SignedHeaders=host%3Bx-amz-checksum-sha256&X-Amz-Signature={upload.signature}"
        )


def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
    for verb, pattern, operation in _ROUTES:
        matched = re.fullmatch(pattern, path)
        if verb == method and matched:
            return operation, {k: unquote(v) for k, v in matched.groupdict().items()}
    return "Unknown", {}


def _check_signed(headers: dict[str, str]) -> None:
    """boto3 signed the call for this service (SigV4, scope `…/amplifygen3/aws4_request`)."""
    auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 ") or "/amplifygen3/aws4_request" not in auth:
        raise Gen3Error(
            403, "UnrecognizedClientException", "The request was not signed for amplifygen3"
        )


def _handler(server: Gen3Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, reply = server.answer(
                self.command, self.path, dict(self.headers.items()), body
            )
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(reply))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_PUT = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
