"""An npm registry stand-in on 127.0.0.1 that records requests and serves nothing:
pointed at by `npm_config_registry`, it proves that no package was fetched."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any

from support.local_server import ThreadedHTTP


class RegistrySpy(ThreadedHTTP):
    def __init__(self) -> None:
        self.requests: list[str] = []
        spy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                spy.requests.append(self.path)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(Handler)

    @property
    def url(self) -> str:
        """As `npm_config_registry` takes it: with the trailing slash."""
        return f"{super().url}/"
