"""GitHub's REST API, through requests: the pull-request comment's calls, the
deployments and their statuses, and a pull request's state (for sweep).

The token is a secret (masked before anything is parsed, like the webhook
URL): it goes in the `Authorization` header only, and no message here quotes
a request. `GITHUB_API_URL` is honoured, so GitHub Enterprise Server works.
Retries follow the webhook's rules: 429, 5xx, a spent rate limit (GitHub
answers it with a 403) and connection errors are tried again with backoff and
jitter (`Retry-After` or the rate limit's reset honoured), within
`max-attempts` and a small time budget; any other answer is final.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ampaction import __version__
from ampaction.errors import ActionError
from ampaction.retry import Retry, backoff_seconds, retry_after_seconds

if TYPE_CHECKING:
    from ampaction.cancellation import Cancellation
    from ampaction.inputs import Settings

TIMEOUT = (10.0, 30.0)  # connect, read
BUDGET_SECONDS = 60.0  # every attempt of one call: a comment is not worth more
PAGE_SIZE = 100  # GitHub's maximum per_page
USER_AGENT = f"ampaction/{__version__}"
MAX_PAGES = 30  # 3,000 comments: a pull request with more is not worth reading through
# Who writes with an installation token such as `GITHUB_TOKEN` (GitHub and GitHub
# Enterprise Server alike). Such a token cannot read `GET /user` (403).
GITHUB_ACTIONS_BOT = "github-actions[bot]"
SECONDARY_LIMIT_WAIT = 60.0  # GitHub: "wait at least one minute" when it names no time


class GitHubError(ActionError):
    """A GitHub API call that failed; `status` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int):
        super().__init__(message, title="GitHub API call failed")
        self.status = status


class GitHub:
    """The repository's issue comments (a pull request is an issue to this API), its
    deployments and its pull requests."""

    @classmethod
    def for_run(cls, s: Settings, cancellation: Cancellation) -> GitHub:
        """The client for this run's repository and token, whose waits a SIGTERM cuts short.
        Callers check first that there is a token."""
        return cls(
            s.github_api_url,
            s.github_repository,
            s.github_token or "",
            max_attempts=s.max_attempts,
            sleep=cancellation.sleep,
            cancelled=lambda: cancellation.requested,
        )

    def __init__(
        self,
        api_url: str,
        repository: str,
        token: str,
        *,
        max_attempts: int,
        sleep: Callable[[float], None] = time.sleep,
        cancelled: Callable[[], bool] = lambda: False,
    ):
        self.api = api_url.rstrip("/")
        self.base = f"{self.api}/repos/{repository}"
        self._token = token
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._cancelled = cancelled

    def issue_comments(self, number: int) -> list[dict[str, Any]]:
        """Every comment of issue or pull request `number`, oldest first."""
        comments: list[dict[str, Any]] = []
        url: str | None = f"{self.base}/issues/{number}/comments?per_page={PAGE_SIZE}"
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self._request("GET", url, f"list the comments of #{number}")
            comments.extend(response.json())
            url = response.links.get("next", {}).get("url")
        return comments

    def token_login(self) -> str:
        """The login the token writes as: its user's, or `github-actions[bot]`.

        `GET /user` names the user of a personal or OAuth token. An installation
        token answers it with 403 "Resource not accessible by integration", and
        that is how it is told apart (its `ghs_` prefix is a convention GitHub
        may change, and Enterprise Server's older tokens lack it); the
        installation token a workflow gets is `GITHUB_TOKEN`, whose comments are
        `github-actions[bot]`'s. Another GitHub App's token writes as
        `<app>[bot]`, which no call that token may make names: its comments
        are then not recognised and a new one is posted, never a stranger's
        edited. A spent rate limit is a `Retry`, never taken for this 403.
        """
        try:
            response = self._request("GET", f"{self.api}/user", "read the token's user")
        except GitHubError as e:
            if e.status == 403:
                return GITHUB_ACTIONS_BOT
            raise
        return str(response.json().get("login", ""))

    def create_comment(self, number: int, body: str) -> dict[str, Any]:
        url = f"{self.base}/issues/{number}/comments"
        return self._request("POST", url, f"comment on #{number}", body).json()  # type: ignore[no-any-return]

    def update_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        url = f"{self.base}/issues/comments/{comment_id}"
        return self._request("PATCH", url, f"update comment {comment_id}", body).json()  # type: ignore[no-any-return]

    # -- deployments (`github-deployment`) and pull requests (`command: sweep`) -------

    def create_deployment(
        self,
        ref: str,
        environment: str,
        *,
        production: bool,
        description: str,
        payload: dict[str, str],
    ) -> dict[str, Any]:
        """A deployment of `ref` that GitHub makes at once: no merge of the default branch
        (`auto_merge`), and no wait for the commit's checks, which include this run's own."""
        fields = {
            "ref": ref,
            "environment": environment,
            "payload": payload,
            "auto_merge": False,
            "required_contexts": [],
            "transient_environment": not production,
            "production_environment": production,
            "description": description,
        }
        url = f"{self.base}/deployments"
        return self._request("POST", url, "create a deployment", payload=fields).json()  # type: ignore[no-any-return]

    def set_deployment_status(self, deployment_id: int, state: str, **fields: str) -> None:
        """A new status (`in_progress`, `success`, `failure`, `error`, `inactive`)."""
        url = f"{self.base}/deployments/{deployment_id}/statuses"
        payload = {"state": state, **{k: v for k, v in fields.items() if v}}
        self._request("POST", url, f"set deployment {deployment_id} {state}", payload=payload)

    def deployments(self, environment: str) -> list[dict[str, Any]]:
        """The environment's newest deployments, newest first (GitHub's order)."""
        url = f"{self.base}/deployments?environment={quote(environment, safe='')}&per_page=100"
        return list(self._request("GET", url, "list the deployments").json())

    def pull_request_state(self, number: int) -> str:
        """`open` or `closed` (merged pull requests are closed too)."""
        url = f"{self.base}/pulls/{number}"
        return str(self._request("GET", url, f"read pull request #{number}").json()["state"])

    def _request(
        self,
        method: str,
        url: str,
        what: str,
        body: str | None = None,
        *,
        payload: dict[str, Any] | None = None,
    ) -> Any:
        import requests  # noqa: PLC0415 - only runs that comment pay for the import

        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": USER_AGENT,
        }
        start = time.monotonic()
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = requests.request(
                    method,
                    url,
                    headers=headers,
                    json=payload if body is None else {"body": body},
                    timeout=TIMEOUT,
                    allow_redirects=False,
                )
                return _checked(response, what)
            except requests.exceptions.RequestException as e:
                # Named by type only: requests' messages quote the URL.
                failure = Retry(f"{type(e).__name__}")
            except Retry as e:
                failure = e
            left = BUDGET_SECONDS - (time.monotonic() - start)
            if attempt == self.max_attempts or left <= 0:
                break
            if failure.retry_after is not None and failure.retry_after > left:
                # Not worth sleeping on: say how long GitHub asks for instead.
                minutes = math.ceil(failure.retry_after / 60)
                failure = Retry(f"{failure.reason}; GitHub asks to wait {minutes} min")
                break
            self._sleep(backoff_seconds(attempt, failure.retry_after, left))
            if self._cancelled():
                failure = Retry("cancelled")
                break
        raise GitHubError(
            f"Could not {what} after {attempt} attempt(s): {failure.reason}.", status=0
        )


def _checked(response: Any, what: str) -> Any:
    status = int(response.status_code)
    if status < 300:
        return response
    if status >= 500:
        raise Retry(f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After")))
    try:
        said = str(response.json().get("message", ""))[:200]
    except ValueError:
        said = ""
    if status == 429 or (status == 403 and _rate_limited(response.headers, said)):
        raise Retry(f"rate limited (HTTP {status})", _rate_limit_wait(response.headers, status))
    said = f" ({said.rstrip('.')})" if said else ""
    raise GitHubError(f"Could not {what}: HTTP {status}{said}.", status=status)


def _rate_limited(headers: Mapping[str, str], said: str) -> bool:
    """GitHub's 403 for a spent rate limit, primary or secondary, not for a permission."""
    return (
        headers.get("x-ratelimit-remaining") == "0"
        or headers.get("retry-after") is not None
        or "rate limit" in said.lower()
    )


def _rate_limit_wait(headers: Mapping[str, str], status: int) -> float | None:
    """How long GitHub asks to wait: `retry-after`, else until `x-ratelimit-reset`; a
    403 that names neither means at least a minute, a bare 429 the usual backoff."""
    asked = retry_after_seconds(headers.get("retry-after"))
    if asked is not None:
        return asked
    reset = headers.get("x-ratelimit-reset", "")
    if headers.get("x-ratelimit-remaining") == "0" and reset.isascii() and reset.isdigit():
        return max(0.0, int(reset) - time.time())
    return SECONDARY_LIMIT_WAIT if status == 403 else None
