"""A local GitHub REST API: the endpoints the action uses.

Issue comments: `GET /repos/{owner}/{repo}/issues/{n}/comments` (paged with `Link`,
as GitHub does), `POST` the same path (201), `PATCH /repos/{owner}/{repo}/issues/comments/{id}`,
and `GET /user`: the token's own user for a personal token (`login=`), or, for
an installation token such as `GITHUB_TOKEN` (the default), 403 `Resource not
accessible by integration` as GitHub answers; that token's comments are
`github-actions[bot]`'s.
Deployments: `POST`/`GET /repos/{owner}/{repo}/deployments` (listed newest first,
filtered by `environment`, `sha` and `ref`), `POST`/`GET .../deployments/{id}/statuses`,
with GitHub's rules: a deployment whose `required_contexts` are not given as `[]` is
refused with 409 while the run's own checks are pending (every test commit has one),
and a `success` status (with `auto_inactive`, true by default) adds an `inactive` status
to every prior deployment of the same environment whose last state was `success`,
except transient and production ones (GitHub's REST reference, "Create a deployment
status": "all prior non-transient, non-production environment deployments").
Pull requests: `GET /repos/{owner}/{repo}/pulls/{n}` for those `add_pull` made.
Any prefix before `/repos/` or `/user` is accepted, as GitHub Enterprise Server serves
the API under `/api/v3`. Every request must carry the right token (`Authorization:
Bearer …` or `token …`), else 401 `Bad credentials`; `forbid()` makes it answer 403 as
GitHub does for a `GITHUB_TOKEN` without the permission; `fail(status, times)` scripts
other failures, `rate_limit(...)` GitHub's primary and secondary rate-limit answers.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from support.local_server import ThreadedHTTP

_LIST = re.compile(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
_ONE = re.compile(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")
_DEPLOYMENTS = re.compile(r"/repos/([^/]+/[^/]+)/deployments$")
_STATUSES = re.compile(r"/repos/([^/]+/[^/]+)/deployments/(\d+)/statuses$")
_PULL = re.compile(r"/repos/([^/]+/[^/]+)/pulls/(\d+)$")
STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
_USER = re.compile(r"/user$")
INSTALLATION_BOT = "github-actions[bot]"  # the author of a GITHUB_TOKEN's comments


@dataclass
class Request:
    method: str
    path: str
    status: int
    authorization: str
    at: float = 0.0  # time.time() when it was answered


class GitHubServer(ThreadedHTTP):
    def __init__(self, token: str, repository: str = "octo/app", login: str | None = None):
        self.token = token
        self.repository = repository
        self.login = login  # None: an installation token, as GITHUB_TOKEN is
        self.comments: dict[int, dict[str, Any]] = {}
        self.deployments: dict[int, dict[str, Any]] = {}  # each with its "statuses", oldest first
        self.pulls: dict[int, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self.forbidden = False
        self.page_size_cap = 100
        self._failures: list[tuple[int, dict[str, str], str]] = []
        self._next_id = 1000
        self._lock = threading.Lock()
        super().__init__(_handler(self))

    def forbid(self) -> None:
        self.forbidden = True

    def fail(self, status: int, times: int = 1) -> None:
        self._failures.extend([(status, {}, "Server Error")] * times)

    def rate_limit(self, kind: str, times: int = 1, *, seconds: int = 0, status: int = 403) -> None:
        """The next `times` answers: GitHub's 403 (or 429: GitHub uses both) for a spent
        primary rate limit (`x-ratelimit-remaining: 0`, reset in `seconds`) or a
        secondary one (`retry-after: seconds`)."""
        if kind == "primary":
            headers = {
                "x-ratelimit-limit": "1000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(time.time()) + seconds),
            }
            said = "API rate limit exceeded for installation ID 1."
        else:
            headers = {"retry-after": str(seconds)}
            said = "You have exceeded a secondary rate limit. Please wait a few minutes."
        self._failures.extend([(status, headers, said)] * times)

    def add_comment(self, number: int, body: str, login: str = "someone") -> int:
        with self._lock:
            return self._create(number, body, login)["id"]  # type: ignore[no-any-return]

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self.comments.values() if c["number"] == number]

    def add_pull(self, number: int, state: str = "open") -> None:
        """A pull request `GET .../pulls/{number}` answers (`open` or `closed`)."""
        with self._lock:
            self.pulls[number] = {"number": number, "state": state}

    def deployments_in(self, environment: str | None = None) -> list[dict[str, Any]]:
        """Copies of the deployments (of `environment`), oldest first, with their statuses."""
        with self._lock:
            return [
                json.loads(json.dumps(d))
                for d in self.deployments.values()
                if environment is None or d["environment"] == environment
            ]

    def states(self, deployment_id: int) -> list[str]:
        """The states a deployment went through, oldest first."""
        with self._lock:
            return [s["state"] for s in self.deployments[deployment_id]["statuses"]]

    def operations(self) -> list[str]:
        numbered = re.compile(r"/\d+")
        return [f"{r.method} {numbered.sub('/N', urlsplit(r.path).path)}" for r in self.requests]

    def _create(self, number: int, body: str, login: str) -> dict[str, Any]:
        self._next_id += 1
        comment = {
            "id": self._next_id,
            "number": number,
            "body": body,
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
            "html_url": f"https://github.com/{self.repository}/pull/{number}#issuecomment-{self._next_id}",
        }
        self.comments[self._next_id] = comment
        return comment

    def answer(
        self, method: str, path: str, auth: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            status, payload, headers = self._answer(method, path, auth, body)
            self.requests.append(Request(method, path, status, auth, time.time()))
            return status, payload, headers

    def _answer(
        self, method: str, path: str, auth: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return 401, {"message": "Bad credentials"}, {}
        if self._failures:
            status, headers, said = self._failures.pop(0)
            return status, {"message": said}, headers
        if self.forbidden:
            return 403, {"message": "Resource not accessible by integration"}, {}
        return self._route(method, path, body)

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(path)
        route = parts.path[parts.path.find("/repos/") :]
        if _USER.search(parts.path) and method == "GET":
            return self._user()
        for pattern, handler in (
            (_LIST, self._comments),
            (_ONE, self._comment),
            (_DEPLOYMENTS, self._deployments),
            (_STATUSES, self._statuses),
            (_PULL, self._pull),
        ):
            found = pattern.search(route)
            if found and found.group(1) == self.repository:
                number = int(found.group(2)) if found.lastindex == 2 else 0
                return handler(method, number, parts, body)
        return _NOT_FOUND

    def _comments(
        self, method: str, number: int, parts: Any, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if method == "GET":
            mine = [c for c in self.comments.values() if c["number"] == number]
            return self._page(mine, parts)
        if method == "POST":
            author = self.login or INSTALLATION_BOT
            return 201, self._create(number, str(body["body"]), author), {}
        return _NOT_FOUND

    def _comment(
        self, method: str, number: int, _parts: Any, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        comment = self.comments.get(number)
        if method != "PATCH" or comment is None:
            return _NOT_FOUND
        comment["body"] = str(body["body"])
        return 200, comment, {}

    def _deployments(
        self, method: str, _number: int, parts: Any, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if method == "GET":
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            chosen = [
                _shown(d)
                for d in reversed(self.deployments.values())
                if all(
                    d.get(key) == query[key]
                    for key in ("environment", "sha", "ref")
                    if key in query
                )
            ]
            return self._page(chosen, parts)
        if method != "POST":
            return _NOT_FOUND
        if body.get("required_contexts") != []:
            # The run's own check is pending on every commit a workflow deploys.
            return 409, {"message": "Conflict: Commit status checks failed for main."}, {}
        self._next_id += 1
        environment = str(body.get("environment") or "production")
        deployment = {
            "id": self._next_id,
            "ref": str(body["ref"]),
            "sha": str(body["ref"]),
            "environment": environment,
            "description": body.get("description"),
            "payload": body.get("payload", ""),  # GitHub gives back what it was given
            "auto_merge": body.get("auto_merge", True),
            "required_contexts": body.get("required_contexts"),
            "transient_environment": bool(body.get("transient_environment", False)),
            "production_environment": bool(
                body.get("production_environment", environment == "production")
            ),
            "created_at": time.time(),
            "statuses": [],
        }
        self.deployments[self._next_id] = deployment
        return 201, _shown(deployment), {}

    def _statuses(
        self, method: str, number: int, parts: Any, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        deployment = self.deployments.get(number)
        if deployment is None:
            return _NOT_FOUND
        if method == "GET":
            return self._page(list(reversed(deployment["statuses"])), parts)
        if method != "POST":
            return _NOT_FOUND
        state = body.get("state")
        if state not in STATES:
            return 422, {"message": "Validation Failed"}, {}
        status = {k: body.get(k) for k in ("state", "log_url", "environment_url", "description")}
        deployment["statuses"].append(status)
        if state == "success" and body.get("auto_inactive", True):
            self._deactivate_older(deployment)
        return 201, status, {}

    def _deactivate_older(self, deployment: dict[str, Any]) -> None:
        for other in self.deployments.values():
            older = other["id"] < deployment["id"]
            same = other["environment"] == deployment["environment"]
            kept = other["transient_environment"] or other["production_environment"]
            last = other["statuses"][-1]["state"] if other["statuses"] else None
            if older and same and not kept and last == "success":
                other["statuses"].append({"state": "inactive", "description": "auto_inactive"})

    def _pull(
        self, method: str, number: int, _parts: Any, _body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        pull = self.pulls.get(number)
        if method != "GET" or pull is None:
            return _NOT_FOUND
        return 200, dict(pull), {}

    def _user(self) -> tuple[int, Any, dict[str, str]]:
        if self.login is None:
            return 403, {"message": "Resource not accessible by integration"}, {}
        return 200, {"login": self.login, "type": "User"}, {}

    def _page(self, items: list[dict[str, Any]], parts: Any) -> tuple[int, Any, dict[str, str]]:
        query = parse_qs(parts.query)
        size = min(int(query.get("per_page", ["30"])[0]), self.page_size_cap)
        page = int(query.get("page", ["1"])[0])
        shown = items[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(items):
            kept = "".join(
                f"&{k}={v[0]}" for k, v in query.items() if k not in ("page", "per_page")
            )
            base = f"{self.url}{parts.path}?per_page={size}{kept}"
            headers["Link"] = f'<{base}&page={page + 1}>; rel="next"'
        return 200, shown, headers


_NOT_FOUND: tuple[int, Any, dict[str, str]] = (404, {"message": "Not Found"}, {})


def _shown(deployment: dict[str, Any]) -> dict[str, Any]:
    """A deployment as the API shows it (its statuses are a separate endpoint)."""
    return {k: v for k, v in deployment.items() if k != "statuses"}


def _handler(server: GitHubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            status, payload, headers = server.answer(
                self.command, self.path, self.headers.get("Authorization", ""), body
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return Handler
