"""moto's server on 127.0.0.1 in this process, started and ready to answer, with a hook
that sees each request's action first (the tests count calls with it, and may answer
in moto's place).

Shared by the tests that need AWS services moto has: `support.cloudformation_server`
(teardown's stacks) and tests/realcli (the real CLI's whole deploy). moto keeps its
state per process: `start()` resets it, so one server's stacks are not another's.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import requests
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

# An answer instead of moto's: status line, headers, body (e.g. an AccessDenied moto never gives).
Answer = tuple[str, list[tuple[str, str]], bytes]
# Sees (action, user agent, body) first: `DescribeStacks`, the caller's User-Agent, the raw
# body. None lets moto answer.
RequestHook = Callable[[str, str, bytes], Answer | None]


class _Quiet(MotoRequestHandler):  # type: ignore[misc]
    def log_request(self, *args: Any) -> None:
        """No access log on the test's stderr."""


def action_of(environ: dict[str, Any], body: bytes) -> str:
    """The AWS action a request asks for: query protocol (`Action=`), JSON (`X-Amz-Target`),
    else its path (S3's REST calls)."""
    form = parse_qs(body.decode("utf-8", "replace")) if body else {}
    query = parse_qs(environ.get("QUERY_STRING", ""))
    target = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    return (form.get("Action") or query.get("Action") or [target or environ["PATH_INFO"]])[0]


class MotoServer(ThreadedMotoServer):
    """ThreadedMotoServer on 127.0.0.1 (a free port) whose app calls `on_request` first."""

    def __init__(self, on_request: RequestHook | None = None):
        super().__init__("127.0.0.1", 0, verbose=False)
        self._on_request = on_request

    def start(self) -> None:
        """Serve, wait until it answers, and empty moto's state (kept per process)."""
        super().start()
        requests.post(f"{self.url}/moto-api/reset", timeout=10)

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self.get_host_and_port()[1])

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        hook = self._on_request

        def hooked(environ: dict[str, Any], start_response: Any) -> Any:
            if hook is not None:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = b""
                if length:  # a chunked body (no length) is left for moto to read
                    body = environ["wsgi.input"].read(length)
                    environ["wsgi.input"] = io.BytesIO(body)
                answer = hook(action_of(environ, body), environ.get("HTTP_USER_AGENT", ""), body)
                if answer is not None:
                    status, headers, content = answer
                    start_response(status, headers)
                    return [content]
            return app(environ, start_response)

        self._server = make_server(
            self._ip_address, self._port, hooked, True, request_handler=_Quiet
        )
        self._server_ready_event.set()
        self._server.serve_forever()
