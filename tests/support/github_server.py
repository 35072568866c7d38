"""A local GitHub REST API: the endpoints of the pull-request comment.

`GET /repos/{owner}/{repo}/issues/{n}/comments` (paged with `Link`, as GitHub
does), `POST` the same path (201), `PATCH /repos/{owner}/{repo}/issues/comments/{id}`,
and `GET /user`: the token's own user for a personal token (`login=`), or, for
an installation token such as `GITHUB_TOKEN` (the default), 403 `Resource not
accessible by integration` as GitHub answers; that token's comments are
`github-actions[bot]`'s. Any prefix before `/repos/` or `/user` is accepted, as
GitHub Enterprise Server serves the API under `/api/v3`. Every request must
carry the right token (`Authorization: Bearer …` or `token …`), else 401 `Bad
credentials`; `forbid()` makes it answer 403 as GitHub does for a `GITHUB_TOKEN`
without `pull-requests: write`; `fail(status, times)` scripts other failures,
`rate_limit(...)` GitHub's primary and secondary rate-limit answers.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_LIST = re.compile(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
_ONE = re.compile(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")
_USER = re.compile(r"/user$")
INSTALLATION_BOT = "github-actions[bot]"  # the author of a GITHUB_TOKEN's comments


@dataclass
class Request:
    method: str
    path: str
    status: int
    authorization: str


class GitHubServer:
    def __init__(self, token: str, repository: str = "octo/app", login: str | None = None):
        self.token = token
        self.repository = repository
        self.login = login  # None: an installation token, as GITHUB_TOKEN is
        self.comments: dict[int, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self.forbidden = False
        self.page_size_cap = 100
        self._failures: list[tuple[int, dict[str, str], str]] = []
        self._next_id = 1000
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> GitHubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

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
            self.requests.append(Request(method, path, status, auth))
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
        listed, one = _LIST.search(route), _ONE.search(route)
        answer: tuple[int, Any, dict[str, str]] = (404, {"message": "Not Found"}, {})
        if _USER.search(parts.path) and method == "GET":
            answer = self._user()
        elif listed and listed.group(1) == self.repository and method == "GET":
            answer = self._page(int(listed.group(2)), parts, path)
        elif listed and listed.group(1) == self.repository and method == "POST":
            author = self.login or INSTALLATION_BOT
            made = self._create(int(listed.group(2)), str(body["body"]), author)
            answer = (201, made, {})
        elif one and one.group(1) == self.repository and method == "PATCH":
            comment = self.comments.get(int(one.group(2)))
            if comment is not None:
                comment["body"] = str(body["body"])
                answer = (200, comment, {})
        return answer

    def _user(self) -> tuple[int, Any, dict[str, str]]:
        if self.login is None:
            return 403, {"message": "Resource not accessible by integration"}, {}
        return 200, {"login": self.login, "type": "User"}, {}

    def _page(self, number: int, parts: Any, path: str) -> tuple[int, Any, dict[str, str]]:
        query = parse_qs(parts.query)
        size = min(int(query.get("per_page", ["30"])[0]), self.page_size_cap)
        page = int(query.get("page", ["1"])[0])
        mine = [c for c in self.comments.values() if c["number"] == number]
        items = mine[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(mine):
            base = f"{self.url}{parts.path}?per_page={size}"
            headers["Link"] = f'<{base}&page={page + 1}>; rel="next"'
        return 200, items, headers


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
