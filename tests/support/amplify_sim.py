"""In-process simulator of the AWS Amplify REST-JSON API and its incoming-webhook endpoint.

Why this exists: the action talks to Amplify through boto3 and to Amplify's incoming
webhook through plain HTTP.  Mocking boto3 at the Python level would let tests pass
while the real wire protocol (URI templates, percent-encoded path parameters,
``x-amzn-ErrorType`` error headers, epoch-second timestamps, pagination tokens) is
wrong.  This module instead runs a real HTTP server on 127.0.0.1 that answers exactly
what botocore's ``amplify`` service model (2017-07-25, protocol ``rest-json``)
expects, so *unmodified* boto3 can be pointed at it with ``endpoint_url=sim.url`` or
``AWS_ENDPOINT_URL_AMPLIFY=sim.url``.

On top of the protocol it offers what tests of a deploy client need and real AWS
cannot give: an injectable clock, scripted job status progressions, delayed job
visibility, scripted faults (error statuses, dropped connections, "the server did
the work but the client never heard back", slow answers) and a log of every request.

Only the standard library (and its sibling ``local_server``) is used so the simulator
can run anywhere the tests run, including as a foreground demo server::

    python tests/support/amplify_sim.py --port 8750 --app d1a2b3c4d5e6f7 --branch main
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import io
import json
import re
import secrets
import signal
import socket
import sys
import threading
import time
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast
from urllib.parse import parse_qs, quote, unquote, urlsplit

try:
    from support.local_server import LocalServer, serve_in_thread, stop_serving
except ModuleNotFoundError:  # run as a script: its folder is on sys.path, not `tests`
    from local_server import LocalServer, serve_in_thread, stop_serving  # type: ignore[no-redef]

__all__ = [
    "DEFAULT_JOB_PLAN",
    "AmplifySimulator",
    "Fault",
    "RequestRecord",
    "SimError",
    "Upload",
]

JsonDict = dict[str, Any]
Clock = Callable[[], float]
PlanStep = tuple[str, float | None]

ACCOUNT_ID = "123456789012"
"""Fake account id used in ARNs (real ARNs always carry one, clients may parse it)."""

DEFAULT_JOB_PLAN: tuple[PlanStep, ...] = (("PENDING", 1.0), ("RUNNING", 5.0), ("SUCCEED", None))
"""Job status plan used for branches without :meth:`AmplifySimulator.set_job_plan`."""

MAX_RESULTS_LIMIT = 50
"""Upper bound of the ``MaxResults`` shape in the service model; larger values are rejected."""

WEBHOOK_OPERATION = "Webhook"
"""Operation name used for the incoming-webhook POST (it is not part of the botocore model)."""

UPLOAD_OPERATION = "Upload"
"""Operation name of the ``PUT`` to a deployment's pre-signed ``zipUploadUrl`` (S3's, in AWS)."""

UPLOAD_URL_LIFETIME = 3600
"""Seconds a ``zipUploadUrl`` is valid, like the ``X-Amz-Expires`` of Amplify's pre-signed URLs."""

DEFAULT_REPOSITORY = "https://github.com/octo/app"
"""``repository`` of apps added without one given: connected, as most apps are."""

AMPLIFY_OPERATIONS: frozenset[str] = frozenset(
    {
        "GetApp",
        "ListBranches",
        "CreateBranch",
        "GetBranch",
        "UpdateBranch",
        "DeleteBranch",
        "ListJobs",
        "StartJob",
        "GetJob",
        "StopJob",
        "ListWebhooks",
        "CreateWebhook",
        "GetWebhook",
        "UpdateWebhook",
        "DeleteWebhook",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
        "CreateDeployment",
        "StartDeployment",
    }
)
"""Operations served, named exactly like botocore names them (fault injection keys)."""

KNOWN_OPERATIONS: frozenset[str] = AMPLIFY_OPERATIONS | {WEBHOOK_OPERATION, UPLOAD_OPERATION}

ERROR_TYPE_BY_STATUS: dict[int, str] = {
    400: "BadRequestException",
    401: "UnauthorizedException",
    403: "AccessDeniedException",
    404: "NotFoundException",
    429: "LimitExceededException",
    500: "InternalFailureException",
    503: "ServiceUnavailableException",
}
"""Default ``x-amzn-ErrorType`` for an injected fault status (``error_type`` overrides)."""

JOB_TYPES: frozenset[str] = frozenset({"RELEASE", "RETRY", "MANUAL", "WEB_HOOK"})
NON_TERMINAL_STATUSES: frozenset[str] = frozenset(
    {"CREATED", "PENDING", "PROVISIONING", "RUNNING", "CANCELLING"}
)
"""A final plan status in this set never ends (no ``endTime``); anything else is terminal."""

UPDATABLE_BRANCH_FIELDS: frozenset[str] = frozenset(
    {
        "description",
        "framework",
        "stage",
        "enableNotification",
        "enableAutoBuild",
        "enableSkewProtection",
        "environmentVariables",
        "basicAuthCredentials",
        "enableBasicAuth",
        "enablePerformanceMode",
        "buildSpec",
        "ttl",
        "displayName",
        "enablePullRequestPreview",
        "pullRequestEnvironmentName",
        "backendEnvironmentArn",
        "backend",
        "computeRoleArn",
    }
)
"""Body members of ``UpdateBranchRequest`` in the service model (URI members excluded)."""

STAGES: frozenset[str] = frozenset(
    {"PRODUCTION", "BETA", "DEVELOPMENT", "EXPERIMENTAL", "PULL_REQUEST"}
)
"""The ``Stage`` enum of the service model."""

MAX_BRANCH_NAME = 255
"""``BranchName`` in the service model: 1 to 255 characters, pattern ``(?s).+``."""

_TAG_KEY_RE = re.compile(r"^(?!aws:)[a-zA-Z+-=._:/]+$")
"""``TagKey``'s pattern in the service model (1 to 128 characters)."""

_TAG_VALUE_RE = re.compile(r"^[\w\s.:/=+\-@]*$")
r"""``TagValue``'s pattern (``[\p{L}\p{Z}\p{N}_.:/=+\-@]*``, as near as ``re`` gets)."""

_CREDENTIAL_RE = re.compile(r"^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/")


class SimError(Exception):
    """An error answered the rest-json way: status, ``x-amzn-ErrorType`` and ``{"message"}``.

    Raised by operation handlers so that every failure path produces the exact shape
    botocore parses into ``ClientError.response['Error']['Code']``.
    """

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error_type}: {message}")
        self.status = status
        self.error_type = error_type
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


def _not_found(message: str) -> SimError:
    return SimError(404, "NotFoundException", message)


def _bad_request(message: str) -> SimError:
    return SimError(400, "BadRequestException", message)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the simulator saw it, so tests can assert on what a client sent.

    ``status`` is the HTTP status answered, or ``None`` when the connection was dropped
    without a response.  ``time`` comes from the simulator's (possibly fake) clock;
    ``received`` and ``answered`` are the real monotonic clock's, at arrival and at the
    answer: two requests were handled at the same time when each arrived before the
    other was answered (`overlapped`).
    """

    operation: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int | None
    time: float
    access_key: str | None = None
    received: float = 0.0
    answered: float = 0.0

    def overlapped(self, other: RequestRecord) -> bool:
        """Whether the two were in the server at the same time (sent concurrently)."""
        return self.received < other.answered and other.received < self.answered

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup (HTTP header names are case-insensitive)."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass
class Fault:
    """A scripted failure for the next ``times`` calls of ``operation`` (see ``fail``)."""

    operation: str
    status: int = 503
    times: int = 1
    retry_after: float | str | None = None
    error_type: str | None = None
    drop: bool = False
    after_effect: bool = False
    delay: float = 0.0
    message: str | None = None  # the error body's text; untrusted to a client

    def resolved_error_type(self) -> str:
        """Error type for the header: explicit override, else derived from the status."""
        if self.error_type:
            return self.error_type
        if self.status in ERROR_TYPE_BY_STATUS:
            return ERROR_TYPE_BY_STATUS[self.status]
        return "InternalFailureException" if self.status >= 500 else "BadRequestException"

    def to_error(self) -> SimError:
        """The rest-json error this fault answers with."""
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            value = self.retry_after
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            headers["Retry-After"] = str(value)
        error_type = self.resolved_error_type()
        text = self.message if self.message is not None else f"Injected fault: {error_type}"
        return SimError(self.status, error_type, text, headers)


@dataclass
class _Job:
    """A job whose status is derived from the clock and its plan on every read.

    Deriving instead of storing the status means a test only has to move its fake
    clock; no background thread has to "advance" jobs.  The plan starts running at
    ``visible_at`` (a job cannot progress while Amplify has not even listed it yet).
    """

    app_id: str
    branch: str
    job_id: str
    job_arn: str
    job_type: str
    commit_id: str
    commit_message: str
    commit_time: float
    start_time: float
    visible_at: float
    plan: tuple[PlanStep, ...]
    stopped_at: float | None = None
    held: bool = False  # a manual deployment created but not started: CREATED until then

    def status_at(self, now: float) -> tuple[str, float | None]:
        """Return ``(status, endTime)`` at ``now``; ``endTime`` only for terminal states."""
        if self.stopped_at is not None and now >= self.stopped_at:
            return "CANCELLED", self.stopped_at
        if self.held:
            return "CREATED", None
        started = self.visible_at
        for index, (status, duration) in enumerate(self.plan):
            final = duration is None or index == len(self.plan) - 1
            if final:
                end = None if status in NON_TERMINAL_STATUSES else started
                return status, end
            assert duration is not None
            if now < started + duration:
                return status, None
            started += duration
        return "PENDING", None  # pragma: no cover - plans are validated non-empty

    def summary(self, now: float) -> JsonDict:
        """The ``JobSummary`` shape of the service model."""
        status, end = self.status_at(now)
        result: JsonDict = {
            "jobArn": self.job_arn,
            "jobId": self.job_id,
            "commitId": self.commit_id,
            "commitMessage": self.commit_message,
            "commitTime": self.commit_time,
            "startTime": self.start_time,
            "status": status,
            "jobType": self.job_type,
        }
        if end is not None:
            result["endTime"] = end
        return result

    def detail(self, now: float) -> JsonDict:
        """The ``Job`` shape: summary plus one ``BUILD`` step mirroring the job status."""
        summary = self.summary(now)
        step: JsonDict = {
            "stepName": "BUILD",
            "startTime": self.visible_at,
            "status": summary["status"],
        }
        if "endTime" in summary:
            step["endTime"] = summary["endTime"]
        return {"summary": summary, "steps": [step]}


@dataclass
class _Deployment:
    """A manual deployment (``CreateDeployment``): its job, upload URL and what was put there."""

    job: _Job
    signature: str
    issued_at: float
    upload_url: str
    data: bytes | None = None


@dataclass(frozen=True)
class Upload:
    """One accepted ``PUT`` to a deployment's ``zipUploadUrl``: the bytes as received."""

    app_id: str
    branch: str
    job_id: str
    data: bytes
    headers: dict[str, str]


@dataclass
class _Webhook:
    """Stored webhook: the public ``Webhook`` shape plus its secret token."""

    data: JsonDict
    token: str
    seq: int


@dataclass
class _Route:
    method: str
    segments: tuple[str, ...]
    operation: str

    def match(self, method: str, parts: Sequence[str]) -> dict[str, str] | None:
        """Return URI parameters (already percent-decoded) when the route matches."""
        if method != self.method or len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, raw in zip(self.segments, parts, strict=True):
            if pattern.startswith("{"):
                value = unquote(raw)
                if not value:
                    return None
                params[pattern[1:-1]] = value
            elif pattern != raw:
                return None
        return params


@dataclass(frozen=True)
class _Call:
    """Decoded inputs of one operation: URI parameters, query string and JSON body."""

    params: dict[str, str]
    query: dict[str, str]
    body: JsonDict
    query_lists: dict[str, list[str]] | None = None  # repeated keys (UntagResource's tagKeys)
    raw: bytes = b""
    headers: dict[str, str] | None = None


_OpResult = tuple[int, JsonDict]


def _s3_error(err: SimError) -> bytes:
    """An error body the way S3 writes one (the upload URL is S3's in AWS)."""
    code = err.error_type.replace("&", "").replace("<", "")
    text = err.message.replace("&", "&amp;").replace("<", "&lt;")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{text}</Message></Error>"
    ).encode()


def _route(method: str, template: str, operation: str) -> _Route:
    return _Route(method, tuple(template.strip("/").split("/")), operation)


# Method + requestUri of each operation, copied from the botocore service model.
_ROUTES: tuple[_Route, ...] = (
    _route("GET", "/apps/{appId}", "GetApp"),
    _route("GET", "/apps/{appId}/branches", "ListBranches"),
    _route("POST", "/apps/{appId}/branches", "CreateBranch"),
    _route("GET", "/apps/{appId}/branches/{branchName}", "GetBranch"),
    _route("POST", "/apps/{appId}/branches/{branchName}", "UpdateBranch"),
    _route("DELETE", "/apps/{appId}/branches/{branchName}", "DeleteBranch"),
    _route("GET", "/apps/{appId}/branches/{branchName}/jobs", "ListJobs"),
    _route("POST", "/apps/{appId}/branches/{branchName}/jobs", "StartJob"),
    _route("GET", "/apps/{appId}/branches/{branchName}/jobs/{jobId}", "GetJob"),
    _route("DELETE", "/apps/{appId}/branches/{branchName}/jobs/{jobId}/stop", "StopJob"),
    _route("GET", "/apps/{appId}/webhooks", "ListWebhooks"),
    _route("POST", "/apps/{appId}/webhooks", "CreateWebhook"),
    _route("GET", "/webhooks/{webhookId}", "GetWebhook"),
    _route("POST", "/webhooks/{webhookId}", "UpdateWebhook"),
    _route("DELETE", "/webhooks/{webhookId}", "DeleteWebhook"),
    _route("POST", "/tags/{resourceArn}", "TagResource"),
    _route("DELETE", "/tags/{resourceArn}", "UntagResource"),
    _route("GET", "/tags/{resourceArn}", "ListTagsForResource"),
    _route("POST", "/apps/{appId}/branches/{branchName}/deployments", "CreateDeployment"),
    _route("POST", "/apps/{appId}/branches/{branchName}/deployments/start", "StartDeployment"),
    _route("POST", "/prod/webhooks", WEBHOOK_OPERATION),
    _route("PUT", "/artifacts/{appId}/{branchName}/{jobId}", UPLOAD_OPERATION),
)


_OP_METHODS: dict[str, str] = {
    route.operation: "_op_" + re.sub(r"(?<!^)([A-Z])", r"_\1", route.operation).lower()
    for route in _ROUTES
}
"""Operation name -> handler method name on AmplifySimulator (``GetApp`` -> ``_op_get_app``)."""


def _encode_token(kind: str, offset: int) -> str:
    """Opaque pagination token; clients must echo it back, never build it."""
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode()


def _decode_token(kind: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = decoded.partition(":")
        offset = int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad_request("Invalid nextToken.") from exc
    if prefix != kind or offset < 0:
        raise _bad_request("Invalid nextToken.")
    return offset


class _Server(ThreadingHTTPServer):
    """Threading server that remembers open connections so ``stop`` can cut them.

    Without this, a keep-alive connection opened by boto3 before ``stop()`` would keep
    being served by its (daemon) handler thread after the simulator was stopped.
    """

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], simulator: AmplifySimulator) -> None:
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open client connection (used by ``AmplifySimulator.stop``)."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Translate HTTP to simulator calls; all state lives in ``AmplifySimulator``."""

    protocol_version = "HTTP/1.1"  # keep-alive, like the real endpoint (botocore pools)
    server_version = "AmplifySim/1.0"
    # Send status line, headers and body in one segment: with the default unbuffered
    # writer, Nagle + delayed ACK add ~40 ms to every keep-alive request.
    wbufsize = -1
    disable_nagle_algorithm = True

    @property
    def sim(self) -> AmplifySimulator:
        return cast(_Server, self.server).simulator

    def handle_expect_100(self) -> bool:
        """Answer `Expect: 100-continue` at once (curl sends it before a large upload): the
        buffered writer above would otherwise hold the 100 back and curl waits a second."""
        self.send_response_only(100)
        self.end_headers()
        self.wfile.flush()
        return True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log; ``verbose`` logs in ``_dispatch``."""

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        headers = {k: v for k, v in self.headers.items()}
        lists = parse_qs(split.query, keep_blank_values=True)
        outcome = self.sim._handle(method, split.path, query, raw_body, headers, query_lists=lists)
        if outcome is None:  # scripted drop: no status line, no headers, nothing
            self.close_connection = True
            return
        status, payload, extra_headers = outcome
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        extra_headers.setdefault("Content-Type", "application/json")
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra_headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout tests)
            self.close_connection = True


class AmplifySimulator(LocalServer):
    """A fake Amplify endpoint with scriptable state, time and failures.

    All state is guarded by one lock so concurrent clients (the server is threaded)
    see a consistent world; the lock is never held while sleeping for a fault delay.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Clock = time.time,
        default_page_size: int = MAX_RESULTS_LIMIT,
        verbose: bool = False,
        latency: float = 0.0,
    ) -> None:
        self.host = host
        # Seconds every request waits before it is handled: the round trip from a runner
        # to the region (benchmarks/trigger.py uses 80 ms, as to us-east-1).
        self.latency = latency
        self._requested_port = port
        self.clock: Clock = clock
        self.default_page_size = default_page_size
        self.page_size_cap: int | None = None
        self.verbose = verbose
        self.rejected_access_keys: set[str] = set()
        self.job_appear_delay: float = 0.0
        # ListWebhooks is eventually consistent: see `list_new_webhooks_late`.
        self._webhooks_listed_late = 0
        self._webhooks_listed_before: set[str] = set()
        self._lock = threading.RLock()
        self._stop_event = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._apps: dict[str, JsonDict] = {}
        self._branches: dict[tuple[str, str], JsonDict] = {}
        self._webhooks: dict[str, _Webhook] = {}
        self._webhook_seq = 0
        self._jobs: dict[tuple[str, str], list[_Job]] = {}
        self._job_counters: dict[tuple[str, str], int] = {}
        self._plans: dict[tuple[str, str], tuple[PlanStep, ...]] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._requests: list[RequestRecord] = []
        # Every webhook token ever handed out, deleted webhooks' too: what must never leak.
        self._issued_tokens: set[str] = set()
        self._deployments: dict[tuple[str, str, str], _Deployment] = {}
        self._uploads: list[Upload] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns ``self`` for chaining."""
        if self._server is not None:
            return self
        self._stop_event.clear()
        self._server = _Server((self.host, self._requested_port), self)
        self._thread = serve_in_thread(self._server, f"amplify-sim-{self.port}")
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections and wake handlers sleeping on a delay."""
        server = self._server
        if server is None:
            return
        self._stop_event.set()
        server.shutdown()
        server.close_connections()  # after the shutdown: no new one is accepted then
        stop_serving(server, self._thread)
        self._server = None
        self._thread = None

    @property
    def port(self) -> int:
        """The bound port (the OS-chosen one when constructed with ``port=0``)."""
        if self._server is None:
            raise RuntimeError("simulator is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL to hand to boto3 as ``endpoint_url`` / ``AWS_ENDPOINT_URL_AMPLIFY``."""
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ seeding

    def _arn(self, region: str, resource: str) -> str:
        return f"arn:aws:amplify:{region}:{ACCOUNT_ID}:{resource}"

    def add_app(
        self,
        app_id: str,
        name: str = "app",
        region: str = "us-east-1",
        *,
        repository: str | None = DEFAULT_REPOSITORY,
        build_spec: str | None = None,
    ) -> JsonDict:
        """Create an app (the ``App`` shape) and return a copy of it.

        ``repository=""`` (or ``None``, the field left out) is an app deployed by hand:
        no repository is connected, so only manual deployments can build it.
        """
        now = self.clock()
        app: JsonDict = {
            "appId": app_id,
            "appArn": self._arn(region, f"apps/{app_id}"),
            "name": name,
            "tags": {},
            "description": "",
            "repository": "",
            "platform": "WEB_COMPUTE",
            "createTime": now,
            "updateTime": now,
            "environmentVariables": {},
            "defaultDomain": f"{app_id}.amplifyapp.com",
            "enableBranchAutoBuild": False,
            "enableBranchAutoDeletion": False,
            "enableBasicAuth": False,
        }
        if repository is None:
            del app["repository"]
        else:
            app["repository"] = repository
        if build_spec is not None:
            app["buildSpec"] = build_spec
        with self._lock:
            self._apps[app_id] = app
            return copy.deepcopy(app)

    def add_branch(
        self,
        app_id: str,
        branch: str,
        enable_auto_build: bool = False,
        *,
        stage: str = "PRODUCTION",
        tags: dict[str, str] | None = None,
        stack_arn: str | None = None,
        build_spec: str | None = None,
    ) -> JsonDict:
        """Create a branch (the ``Branch`` shape) on an existing app; returns a copy.

        ``stack_arn`` is what ``ampx pipeline-deploy``'s branch linker sets as
        ``backend.stackArn`` after a deploy.
        """
        with self._lock:
            self._require_app_for_setup(app_id)
            self._new_branch(app_id, branch, stage=stage, auto_build=enable_auto_build)
            self._branches[(app_id, branch)]["tags"] = dict(tags or {})
            if stack_arn:
                self._branches[(app_id, branch)]["backend"] = {"stackArn": stack_arn}
            if build_spec is not None:
                self._branches[(app_id, branch)]["buildSpec"] = build_spec
            return self._branch_view(app_id, branch)

    def set_production_branch(self, app_id: str, branch: str) -> None:
        """What GetApp answers as ``productionBranch.branchName``."""
        with self._lock:
            self._require_app_for_setup(app_id)["productionBranch"] = {
                "branchName": branch,
                "status": "SUCCEED",
                "lastDeployTime": self.clock(),
            }

    def branch(self, app_id: str, branch: str) -> JsonDict | None:
        """A copy of the branch as GetBranch shows it, or None."""
        with self._lock:
            if (app_id, branch) not in self._branches:
                return None
            return self._branch_view(app_id, branch)

    def _new_branch(self, app_id: str, branch: str, *, stage: str, auto_build: bool) -> None:
        now = self.clock()
        with self._lock:
            app = self._apps[app_id]
            data: JsonDict = {
                "branchArn": f"{app['appArn']}/branches/{branch}",
                "branchName": branch,
                "description": "",
                "tags": {},
                "stage": stage,
                "displayName": branch.replace("/", "-"),
                "enableNotification": False,
                "createTime": now,
                "updateTime": now,
                "environmentVariables": {},
                "enableAutoBuild": auto_build,
                "customDomains": [],
                "framework": "Web",
                "activeJobId": "",
                "totalNumberOfJobs": "0",
                "enableBasicAuth": False,
                "ttl": "5",
                "enablePullRequestPreview": False,
            }
            self._branches[(app_id, branch)] = data

    def add_webhook(
        self,
        app_id: str,
        branch: str,
        description: str,
        create_time: float | None = None,
    ) -> JsonDict:
        """Create a webhook as if by ``CreateWebhook``; ``create_time`` orders listings."""
        with self._lock:
            self._require_app_for_setup(app_id)
            if (app_id, branch) not in self._branches:
                raise ValueError(f"unknown branch {branch!r} of app {app_id!r}")
            return self._create_webhook(app_id, branch, description, create_time)

    def list_new_webhooks_late(self, times: int) -> None:
        """The next ``times`` ListWebhooks leave out webhooks created from now on, as
        an eventually consistent listing does right after CreateWebhook."""
        with self._lock:
            self._webhooks_listed_late = times
            self._webhooks_listed_before = set(self._webhooks)

    def add_job(
        self,
        app_id: str,
        branch: str,
        job_type: str = "RELEASE",
        *,
        commit_id: str = "HEAD",
        commit_message: str = "",
        start_time: float | None = None,
    ) -> JsonDict:
        """Seed a job (e.g. history for ListJobs pagination); returns its ``JobSummary``."""
        with self._lock:
            self._require_app_for_setup(app_id)
            if (app_id, branch) not in self._branches:
                raise ValueError(f"unknown branch {branch!r} of app {app_id!r}")
            job = self._create_job(
                app_id,
                branch,
                job_type,
                commit_id=commit_id,
                commit_message=commit_message,
                start_time=start_time,
            )
            return job.summary(self.clock())

    def set_job_plan(self, app_id: str, branch: str, plan: Iterable[PlanStep]) -> None:
        """Script how future jobs of a branch progress: ``[(status, seconds|None), ...]``.

        Each status lasts that many seconds of the simulator clock; the last entry (or
        one with ``None``) is final.  Jobs copy the plan when created, so changing it
        does not rewrite the history of existing jobs.
        """
        steps = tuple((str(status), None if dur is None else float(dur)) for status, dur in plan)
        if not steps:
            raise ValueError("a job plan needs at least one status")
        with self._lock:
            self._plans[(app_id, branch)] = steps

    def _require_app_for_setup(self, app_id: str) -> JsonDict:
        app = self._apps.get(app_id)
        if app is None:
            raise ValueError(f"unknown app {app_id!r}; call add_app first")
        return app

    # ------------------------------------------------------------------ faults

    def fail(
        self,
        operation: str,
        status: int = 503,
        times: int = 1,
        *,
        retry_after: float | str | None = None,
        error_type: str | None = None,
        drop: bool = False,
        after_effect: bool = False,
        delay: float = 0.0,
        message: str | None = None,
    ) -> Fault:
        """Make the next ``times`` calls of ``operation`` fail; faults queue in order.

        ``drop`` closes the connection without any response.  ``after_effect`` performs
        the real work first and only then fails/drops ("the server may have received
        it").  ``delay`` sleeps before answering (for client timeouts); with a status
        below 400 the fault only delays and the call then succeeds normally.
        """
        if operation not in KNOWN_OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; known: {sorted(KNOWN_OPERATIONS)}")
        if times < 1:
            raise ValueError("times must be >= 1")
        fault = Fault(
            operation,
            status,
            times,
            retry_after=retry_after,
            error_type=error_type,
            drop=drop,
            after_effect=after_effect,
            delay=delay,
            message=message,
        )
        with self._lock:
            self._faults.setdefault(operation, deque()).append(fault)
        return fault

    def reset(self) -> None:
        """Back to apps and branches only: no webhooks, jobs, job plans, faults or
        recorded requests (job ids start at 1 again). Issued tokens stay known."""
        with self._lock:
            self._webhooks.clear()
            self._jobs.clear()
            self._job_counters.clear()
            self._plans.clear()
            self._faults.clear()
            self._requests.clear()

    def clear_faults(self) -> None:
        """Forget all pending faults."""
        with self._lock:
            self._faults.clear()

    def _take_fault(self, operation: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(operation)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.popleft()
            return fault

    # ------------------------------------------------------------------ observation

    @property
    def requests(self) -> list[RequestRecord]:
        """Snapshot (a copy) of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def operations(self) -> list[str]:
        """Operation names of all recorded requests, in order."""
        with self._lock:
            return [record.operation for record in self._requests]

    def count(self, operation: str) -> int:
        """How many requests of ``operation`` were received (including failed ones)."""
        with self._lock:
            return sum(1 for record in self._requests if record.operation == operation)

    def clear_requests(self) -> None:
        """Forget the request log (e.g. after test setup)."""
        with self._lock:
            self._requests.clear()

    def webhooks(self, app_id: str) -> list[JsonDict]:
        """Copies of the app's webhooks in listing order (createTime, then creation)."""
        with self._lock:
            return [copy.deepcopy(hook.data) for hook in self._sorted_webhooks(app_id)]

    def issued_tokens(self) -> set[str]:
        """Every credential this server has issued: webhook tokens (deleted webhooks' too)
        and the signatures of upload URLs."""
        with self._lock:
            return set(self._issued_tokens) | {d.signature for d in self._deployments.values()}

    def uploads(self, app_id: str | None = None) -> list[Upload]:
        """Every accepted upload to a deployment's URL, in arrival order (retries included)."""
        with self._lock:
            return [u for u in self._uploads if app_id is None or u.app_id == app_id]

    def issued_upload_urls(self) -> list[str]:
        """Every ``zipUploadUrl`` handed out: credentials, which no log may show."""
        with self._lock:
            return [d.upload_url for d in self._deployments.values()]

    def jobs(self, app_id: str, branch: str) -> list[JsonDict]:
        """Every job of a branch as ``JobSummary`` dicts, oldest first, with the current
        status -- including jobs still hidden by ``job_appear_delay``."""
        with self._lock:
            now = self.clock()
            return [job.summary(now) for job in self._jobs.get((app_id, branch), [])]

    # ------------------------------------------------------------------ request pipeline

    def _handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        raw_body: bytes,
        headers: dict[str, str],
        *,
        query_lists: dict[str, list[str]] | None = None,
    ) -> tuple[int, JsonDict | bytes, dict[str, str]] | None:
        """Process one HTTP request; ``None`` means drop the connection unanswered."""
        received = time.monotonic()
        if self.latency:
            self._stop_event.wait(self.latency)
        parts = path.strip("/").split("/") if path.strip("/") else []
        operation, params = "Unknown", {}
        for route in _ROUTES:
            matched = route.match(method, parts)
            if matched is not None:
                operation, params = route.operation, matched
                break
        body: Any = None
        body_error: SimError | None = None
        if raw_body and operation != UPLOAD_OPERATION:  # an upload's body is the zip
            try:
                body = json.loads(raw_body)
            except ValueError:
                body_error = _bad_request("Request body is not valid JSON.")
        access_key: str | None = None
        fault: Fault | None = None
        response: tuple[int, JsonDict | bytes, dict[str, str]] | None
        try:
            if operation == "Unknown":
                raise SimError(404, "UnknownOperationException", f"No route for {method} {path}")
            if operation not in (WEBHOOK_OPERATION, UPLOAD_OPERATION):  # those carry their own key
                access_key = self._access_key_of(headers)
                self._check_auth(headers, access_key)
                if body_error is not None:
                    raise body_error
            fault = self._take_fault(operation)
            if fault is not None and not fault.after_effect:
                self._stop_event.wait(fault.delay)
                if fault.drop:
                    raise _DropConnectionError
                if fault.status >= 400:
                    raise fault.to_error()
            response = self._execute(
                operation,
                params,
                query,
                body,
                query_lists=query_lists,
                raw=raw_body,
                headers=headers,
            )
            if fault is not None and fault.after_effect:
                self._stop_event.wait(fault.delay)
                if fault.drop:
                    raise _DropConnectionError
                if fault.status >= 400:
                    raise fault.to_error()
        except _DropConnectionError:
            response = None
        except SimError as err:
            if operation == UPLOAD_OPERATION:  # S3 answers errors in XML
                response = (err.status, _s3_error(err), {"Content-Type": "application/xml"})
            else:
                error_headers = {"x-amzn-ErrorType": err.error_type, **err.headers}
                response = (err.status, {"message": err.message}, error_headers)
        except Exception as exc:
            response = (
                500,
                {"message": f"Simulator error: {exc!r}"},
                {"x-amzn-ErrorType": "InternalFailureException"},
            )
        if response is not None:
            response[2].setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        record = RequestRecord(
            operation=operation,
            method=method,
            path=path,
            query=dict(query),
            body={"size": len(raw_body)} if operation == UPLOAD_OPERATION else body,
            headers=dict(headers),
            status=None if response is None else response[0],
            time=self.clock(),
            access_key=access_key,
            received=received,
            answered=time.monotonic(),
        )
        with self._lock:
            self._requests.append(record)
        if self.verbose:
            shown = "dropped" if response is None else str(response[0])
            print(f"[amplify-sim] {method} {path} -> {operation} {shown}", file=sys.stderr)
        return response

    @staticmethod
    def _access_key_of(headers: dict[str, str]) -> str | None:
        """Access key id from a SigV4 ``Authorization`` header, if it has one."""
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        match = _CREDENTIAL_RE.match(auth)
        return None if match is None else match.group(1)

    def _check_auth(self, headers: dict[str, str], access_key: str | None) -> None:
        """Require a SigV4-looking Authorization header; reject listed access keys."""
        if not any(k.lower() == "authorization" and v for k, v in headers.items()):
            raise SimError(
                403, "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        if access_key is None:
            raise SimError(
                403,
                "IncompleteSignatureException",
                "Authorization header requires 'Credential' parameter.",
            )
        if access_key in self.rejected_access_keys:
            raise SimError(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )

    def _execute(
        self,
        operation: str,
        params: dict[str, str],
        query: dict[str, str],
        body: Any,
        *,
        query_lists: dict[str, list[str]] | None = None,
        raw: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, JsonDict | bytes, dict[str, str]]:
        handler: Callable[[_Call], _OpResult] = getattr(self, _OP_METHODS[operation])
        call = _Call(
            params, query, body if isinstance(body, dict) else {}, query_lists, raw, headers
        )
        with self._lock:
            status, payload = handler(call)
        return status, payload, {}

    # ------------------------------------------------------------------ state helpers (lock held)

    def _app(self, app_id: str) -> JsonDict:
        app = self._apps.get(app_id)
        if app is None:
            raise _not_found(f"App {app_id} not found.")
        return app

    def _branch(self, app_id: str, branch: str) -> JsonDict:
        self._app(app_id)
        data = self._branches.get((app_id, branch))
        if data is None:
            raise _not_found(f"Branch {branch} not found for app {app_id}.")
        return data

    def _branch_view(self, app_id: str, branch: str) -> JsonDict:
        view = copy.deepcopy(self._branches[(app_id, branch)])
        jobs = self._jobs.get((app_id, branch), [])
        view["totalNumberOfJobs"] = str(len(jobs))
        view["activeJobId"] = jobs[-1].job_id if jobs else ""
        return view

    def _webhook(self, webhook_id: str) -> _Webhook:
        hook = self._webhooks.get(webhook_id)
        if hook is None:
            raise _not_found(f"Webhook {webhook_id} not found.")
        return hook

    def _sorted_webhooks(self, app_id: str) -> list[_Webhook]:
        hooks = [h for h in self._webhooks.values() if h.data["appId"] == app_id]
        return sorted(hooks, key=lambda h: (h.data["createTime"], h.seq))

    def _create_webhook(
        self, app_id: str, branch: str, description: str, create_time: float | None
    ) -> JsonDict:
        now = self.clock() if create_time is None else create_time
        webhook_id = str(uuid.uuid4())
        token = secrets.token_urlsafe(32)
        region = self._apps[app_id]["appArn"].split(":")[3]
        data: JsonDict = {
            "webhookArn": self._arn(region, f"apps/{app_id}/webhooks/{webhook_id}"),
            "webhookId": webhook_id,
            "webhookUrl": f"{self.url}/prod/webhooks?id={webhook_id}&token={token}",
            "appId": app_id,
            "branchName": branch,
            "description": description,
            "createTime": now,
            "updateTime": now,
        }
        self._webhook_seq += 1
        self._webhooks[webhook_id] = _Webhook(data, token, self._webhook_seq)
        self._issued_tokens.add(token)
        return copy.deepcopy(data)

    def _create_job(
        self,
        app_id: str,
        branch: str,
        job_type: str,
        *,
        commit_id: str,
        commit_message: str,
        start_time: float | None = None,
        appear_delay: float = 0.0,
    ) -> _Job:
        key = (app_id, branch)
        number = self._job_counters.get(key, 0) + 1
        self._job_counters[key] = number
        now = self.clock() if start_time is None else start_time
        job = _Job(
            app_id=app_id,
            branch=branch,
            job_id=str(number),
            job_arn=f"{self._branches[key]['branchArn']}/jobs/{number:010d}",
            job_type=job_type,
            commit_id=commit_id,
            commit_message=commit_message,
            commit_time=now,
            start_time=now,
            visible_at=now + max(0.0, appear_delay),
            plan=self._plans.get(key, DEFAULT_JOB_PLAN),
        )
        self._jobs.setdefault(key, []).append(job)
        return job

    def _visible_job(self, app_id: str, branch: str, job_id: str) -> _Job:
        self._branch(app_id, branch)
        now = self.clock()
        for job in self._jobs.get((app_id, branch), []):
            if job.job_id == job_id and job.visible_at <= now:
                return job
        raise _not_found(f"Job {job_id} not found for branch {branch}.")

    def _page_size(self, query: dict[str, str]) -> int:
        raw = query.get("maxResults")
        if raw is None or raw == "":
            return max(1, self.default_page_size)
        try:
            size = int(raw)
        except ValueError as exc:
            raise _bad_request("maxResults must be an integer.") from exc
        if size < 0 or size > MAX_RESULTS_LIMIT:
            raise _bad_request(f"maxResults must be between 0 and {MAX_RESULTS_LIMIT}.")
        size = size if size > 0 else max(1, self.default_page_size)
        # A service may return fewer items than asked and a nextToken: `page_size_cap`
        # makes it do so, to prove a client follows every page.
        return min(size, self.page_size_cap) if self.page_size_cap else size

    def _paginate(
        self, kind: str, items: list[JsonDict], query: dict[str, str]
    ) -> tuple[list[JsonDict], str | None]:
        offset = _decode_token(kind, query.get("nextToken"))
        size = self._page_size(query)
        page = items[offset : offset + size]
        more = offset + size < len(items)
        return page, _encode_token(kind, offset + size) if more else None

    # ------------------------------------------------------------------ operations (lock held)

    def _op_get_app(self, call: _Call) -> _OpResult:
        return 200, {"app": copy.deepcopy(self._app(call.params["appId"]))}

    def _op_list_branches(self, call: _Call) -> _OpResult:
        app_id = call.params["appId"]
        self._app(app_id)
        items = [self._branch_view(a, b) for (a, b) in self._branches if a == app_id]
        page, token = self._paginate("branches", items, call.query)
        result: JsonDict = {"branches": page}
        if token:
            result["nextToken"] = token
        return 200, result

    def _op_create_branch(self, call: _Call) -> _OpResult:
        app_id = call.params["appId"]
        self._app(app_id)
        branch = call.body.get("branchName")
        if not isinstance(branch, str) or not 1 <= len(branch) <= MAX_BRANCH_NAME:
            raise _bad_request(f"branchName must be 1 to {MAX_BRANCH_NAME} characters.")
        if (app_id, branch) in self._branches:
            raise _bad_request(f"Branch {branch} already exists for app {app_id}.")
        stage = call.body.get("stage", "NONE")
        if stage != "NONE" and stage not in STAGES:
            raise _bad_request(f"Invalid stage {stage!r}.")
        tags = self._checked_tags(call.body.get("tags") or {})
        self._new_branch(
            app_id,
            branch,
            stage=str(stage),
            auto_build=bool(call.body.get("enableAutoBuild", True)),
        )
        data = self._branches[(app_id, branch)]
        data["tags"] = tags
        for key, value in call.body.items():
            if key in UPDATABLE_BRANCH_FIELDS and key not in ("stage", "enableAutoBuild"):
                data[key] = copy.deepcopy(value)
        return 200, {"branch": self._branch_view(app_id, branch)}

    def _op_delete_branch(self, call: _Call) -> _OpResult:
        app_id, branch = call.params["appId"], call.params["branchName"]
        self._branch(app_id, branch)
        view = self._branch_view(app_id, branch)
        del self._branches[(app_id, branch)]
        self._jobs.pop((app_id, branch), None)
        return 200, {"branch": view}

    def _tagged(self, arn: str) -> JsonDict:
        """The app or branch whose ARN is ``arn`` (tags live on both)."""
        for app in self._apps.values():
            if app["appArn"] == arn:
                return app
        for data in self._branches.values():
            if data["branchArn"] == arn:
                return data
        raise SimError(404, "ResourceNotFoundException", f"Resource {arn} not found.")

    @staticmethod
    def _checked_tags(tags: Any) -> dict[str, str]:
        if not isinstance(tags, dict) or len(tags) > 50:
            raise _bad_request("tags must be a map of at most 50 entries.")
        for key, value in tags.items():
            if not (1 <= len(key) <= 128 and _TAG_KEY_RE.match(key)):
                raise _bad_request(f"Invalid tag key {key!r}.")
            if not (isinstance(value, str) and len(value) <= 256 and _TAG_VALUE_RE.match(value)):
                raise _bad_request(f"Invalid value for tag {key!r}.")
        return {str(k): str(v) for k, v in tags.items()}

    def _op_tag_resource(self, call: _Call) -> _OpResult:
        resource = self._tagged(call.params["resourceArn"])
        merged = {**resource.get("tags", {}), **self._checked_tags(call.body.get("tags"))}
        if len(merged) > 50:  # a resource's limit, not only a call's
            raise _bad_request("A resource can have at most 50 tags.")
        resource["tags"] = merged
        return 200, {}

    def _op_untag_resource(self, call: _Call) -> _OpResult:
        resource = self._tagged(call.params["resourceArn"])
        keys = (call.query_lists or {}).get("tagKeys", [])
        if not keys:
            raise _bad_request("tagKeys is required.")
        for key in keys:
            resource.setdefault("tags", {}).pop(key, None)
        return 200, {}

    def _op_list_tags_for_resource(self, call: _Call) -> _OpResult:
        return 200, {"tags": dict(self._tagged(call.params["resourceArn"]).get("tags") or {})}

    def _op_get_branch(self, call: _Call) -> _OpResult:
        self._branch(call.params["appId"], call.params["branchName"])
        return 200, {"branch": self._branch_view(call.params["appId"], call.params["branchName"])}

    def _op_update_branch(self, call: _Call) -> _OpResult:
        data = self._branch(call.params["appId"], call.params["branchName"])
        for key, value in call.body.items():
            if key in UPDATABLE_BRANCH_FIELDS:
                data[key] = copy.deepcopy(value)
        data["updateTime"] = self.clock()
        return 200, {"branch": self._branch_view(call.params["appId"], call.params["branchName"])}

    def _op_list_jobs(self, call: _Call) -> _OpResult:
        app_id, branch = call.params["appId"], call.params["branchName"]
        self._branch(app_id, branch)
        now = self.clock()
        visible = [j for j in self._jobs.get((app_id, branch), []) if j.visible_at <= now]
        visible.sort(key=lambda j: int(j.job_id), reverse=True)  # newest first, like Amplify
        page, token = self._paginate("jobs", [j.summary(now) for j in visible], call.query)
        result: JsonDict = {"jobSummaries": page}
        if token:
            result["nextToken"] = token
        return 200, result

    def _op_start_job(self, call: _Call) -> _OpResult:
        app_id, branch = call.params["appId"], call.params["branchName"]
        self._branch(app_id, branch)
        job_type = call.body.get("jobType")
        if job_type not in JOB_TYPES:
            raise _bad_request(f"Invalid jobType {job_type!r}.")
        commit_id = str(call.body.get("commitId") or "HEAD")
        commit_message = str(call.body.get("commitMessage") or "")
        if job_type == "RETRY":
            retried = self._visible_job(app_id, branch, str(call.body.get("jobId") or ""))
            commit_id, commit_message = retried.commit_id, retried.commit_message
        job = self._create_job(
            app_id, branch, str(job_type), commit_id=commit_id, commit_message=commit_message
        )
        return 200, {"jobSummary": job.summary(self.clock())}

    def _op_get_job(self, call: _Call) -> _OpResult:
        job = self._visible_job(
            call.params["appId"], call.params["branchName"], call.params["jobId"]
        )
        return 200, {"job": job.detail(self.clock())}

    def _op_stop_job(self, call: _Call) -> _OpResult:
        job = self._visible_job(
            call.params["appId"], call.params["branchName"], call.params["jobId"]
        )
        now = self.clock()
        status, _end = job.status_at(now)
        if status in NON_TERMINAL_STATUSES and job.stopped_at is None:
            job.stopped_at = now
        return 200, {"jobSummary": job.summary(now)}

    def _op_list_webhooks(self, call: _Call) -> _OpResult:
        app_id = call.params["appId"]
        self._app(app_id)
        hooks = self._sorted_webhooks(app_id)
        if self._webhooks_listed_late > 0:
            self._webhooks_listed_late -= 1
            hooks = [h for h in hooks if h.data["webhookId"] in self._webhooks_listed_before]
        items = [copy.deepcopy(h.data) for h in hooks]
        page, token = self._paginate("webhooks", items, call.query)
        result: JsonDict = {"webhooks": page}
        if token:
            result["nextToken"] = token
        return 200, result

    def _op_create_webhook(self, call: _Call) -> _OpResult:
        app_id = call.params["appId"]
        self._app(app_id)
        branch = call.body.get("branchName")
        if not isinstance(branch, str) or not branch:
            raise _bad_request("branchName is required.")
        self._branch(app_id, branch)
        description = str(call.body.get("description") or "")
        return 200, {"webhook": self._create_webhook(app_id, branch, description, None)}

    def _op_get_webhook(self, call: _Call) -> _OpResult:
        return 200, {"webhook": copy.deepcopy(self._webhook(call.params["webhookId"]).data)}

    def _op_update_webhook(self, call: _Call) -> _OpResult:
        hook = self._webhook(call.params["webhookId"])
        branch = call.body.get("branchName")
        if branch is not None:
            self._branch(hook.data["appId"], str(branch))
            hook.data["branchName"] = str(branch)
        if call.body.get("description") is not None:
            hook.data["description"] = str(call.body["description"])
        hook.data["updateTime"] = self.clock()
        return 200, {"webhook": copy.deepcopy(hook.data)}

    def _op_delete_webhook(self, call: _Call) -> _OpResult:
        hook = self._webhook(call.params["webhookId"])
        del self._webhooks[call.params["webhookId"]]
        return 200, {"webhook": copy.deepcopy(hook.data)}

    def _op_webhook(self, call: _Call) -> _OpResult:
        """Incoming webhook: valid id+token starts a WEB_HOOK build on the hook's branch."""
        hook = self._webhooks.get(call.query.get("id", ""))
        token = call.query.get("token", "")
        if hook is None or not secrets.compare_digest(hook.token.encode(), token.encode()):
            raise SimError(403, "ForbiddenException", "Invalid webhook id or token.")
        operation = call.query.get("operation")
        if operation is not None and operation.lower() != "startbuild":
            raise _bad_request(f"Unsupported webhook operation {operation!r}.")
        app_id, branch = hook.data["appId"], hook.data["branchName"]
        self._branch(app_id, branch)
        message = call.body.get("commitMessage")
        self._create_job(
            app_id,
            branch,
            "WEB_HOOK",
            commit_id="HEAD",
            commit_message=message if isinstance(message, str) else "Build triggered by webhook",
            appear_delay=self.job_appear_delay,
        )
        return 200, {"requestId": str(uuid.uuid4())}

    def _op_create_deployment(self, call: _Call) -> _OpResult:
        """A MANUAL job held at CREATED, and a pre-signed URL to ``PUT`` its zip to."""
        app_id, branch = call.params["appId"], call.params["branchName"]
        self._branch(app_id, branch)
        if call.body.get("fileMap"):
            raise _bad_request("The simulator supports zip deployments only (no fileMap).")
        now = self.clock()
        for (a, b, _), pending in self._deployments.items():
            if (a, b) == (app_id, branch) and pending.job.held and pending.job.stopped_at is None:
                raise _bad_request(
                    f"Branch {branch} already has a pending deployment, job "
                    f"{pending.job.job_id}: start it or stop it first."
                )
        job = self._create_job(
            app_id, branch, "MANUAL", commit_id="HEAD", commit_message="Manual deployment"
        )
        job.held = True
        signature = secrets.token_hex(32)
        region = self._apps[app_id]["appArn"].split(":")[3]
        url = (
            f"{self.url}/artifacts/{app_id}/{quote(branch, safe='')}/{job.job_id}"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential=ASIASIMULATOR%2F{time.strftime('%Y%m%d')}%2F{region}%2Fs3%2Faws4_request"
            f"&X-Amz-Date={time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))}"
            f"&X-Amz-Expires={UPLOAD_URL_LIFETIME}&X-Amz-SignedHeaders=host"
            f"&X-Amz-Signature={signature}"
        )
        self._deployments[(app_id, branch, job.job_id)] = _Deployment(job, signature, now, url)
        return 200, {"jobId": job.job_id, "fileUploadUrls": {}, "zipUploadUrl": url}

    def _op_start_deployment(self, call: _Call) -> _OpResult:
        """Start the job of a deployment whose zip was put; it fails if there is no zip."""
        app_id, branch = call.params["appId"], call.params["branchName"]
        self._branch(app_id, branch)
        job_id = str(call.body.get("jobId") or "")
        if not job_id:
            raise _bad_request(
                "The simulator needs the jobId of a CreateDeployment (no sourceUrl)."
            )
        deployment = self._deployments.get((app_id, branch, job_id))
        if deployment is None:
            raise _not_found(f"Deployment job {job_id} not found for branch {branch}.")
        job = deployment.job
        if not job.held or job.stopped_at is not None:
            raise _bad_request(f"Job {job_id} is not a pending deployment.")
        job.held = False
        job.visible_at = self.clock()
        data = deployment.data
        if data is None or not zipfile.is_zipfile(io.BytesIO(data)):
            job.plan = (("PENDING", 1.0), ("FAILED", None))  # what Amplify does with no zip
        return 200, {"jobSummary": job.summary(self.clock())}

    def _op_upload(self, call: _Call) -> _OpResult:
        """The ``PUT`` of a zip to the URL CreateDeployment handed out, checked like S3 would."""
        key = (call.params["appId"], call.params["branchName"], call.params["jobId"])
        deployment = self._deployments.get(key)
        headers = {k.lower(): v for k, v in (call.headers or {}).items()}
        if deployment is None or not secrets.compare_digest(
            deployment.signature.encode(), call.query.get("X-Amz-Signature", "").encode()
        ):
            raise SimError(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match."
            )
        if self.clock() > deployment.issued_at + UPLOAD_URL_LIFETIME:
            raise SimError(403, "AccessDenied", "Request has expired")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise SimError(
                501,
                "NotImplemented",
                "A header you provided implies functionality that is not implemented",
            )
        if "content-length" not in headers:
            raise SimError(
                411, "MissingContentLength", "You must provide the Content-Length HTTP header."
            )
        deployment.data = call.raw
        self._uploads.append(Upload(*key, data=call.raw, headers=dict(call.headers or {})))
        return 200, {}


class _DropConnectionError(Exception):
    """Internal signal: close the connection without writing a response."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator in the foreground for manual demos, until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Local AWS Amplify API simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--app", action="append", default=None, help="app id (repeatable)")
    parser.add_argument("--branch", action="append", default=None, help="branch (repeatable)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    # Ctrl-C stops it even when started by a shell that ignores SIGINT for what it
    # runs in the background (POSIX shells without job control do), as test runs are.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sim = AmplifySimulator(args.host, args.port, verbose=not args.quiet)
    sim.start()
    try:
        for app_id in args.app or ["d1a2b3c4d5e6f7"]:
            sim.add_app(app_id, region=args.region)
            for branch in args.branch or ["main"]:
                sim.add_branch(app_id, branch)
            print(f"app {app_id}: branches {', '.join(args.branch or ['main'])}", flush=True)
        print(f"Amplify simulator listening on {sim.url}", flush=True)
        print(f"  export AWS_ENDPOINT_URL_AMPLIFY={sim.url}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
