"""The servers the tests start on 127.0.0.1, on a port the OS picks: one way to serve,
to wait until one answers, and to stop it with the end of a `with` block.

- `LocalServer`: the `with` protocol over `start` (returns the server) and `stop`.
- `ThreadedHTTP`: an HTTP server bound at once (its `url` is known before it
  serves) whose handler threads are daemons, serving in a daemon thread: the
  GitHub server, the Gen 3 server and the npm registry spy. The Amplify
  simulator starts and stops its own server with `serve_in_thread` and
  `stop_serving`.
- `free_port` and `wait_until_answers`: for a server in another process (the
  container registry), which must be given a port and waited for.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

HOST = "127.0.0.1"


class LocalServer:
    """`with server:` starts it and stops it, whatever the block raised."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(server: ThreadingHTTPServer, name: str) -> threading.Thread:
    """`server` answering from a daemon thread; a stop is noticed within 50 ms."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    return thread


def stop_serving(server: ThreadingHTTPServer, thread: threading.Thread | None) -> None:
    """No new requests, the port given back, the serving thread ended."""
    server.shutdown()
    server.server_close()
    if thread is not None:
        thread.join(timeout=5)


class ThreadedHTTP(LocalServer):
    """`handler` on 127.0.0.1 at a free port, each request in its own daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer((HOST, 0), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> Self:
        self._thread = serve_in_thread(self._server, type(self).__name__)
        return self

    def stop(self) -> None:
        stop_serving(self._server, self._thread)


def free_port() -> int:
    """A port nothing listens on now, for a server in another process to bind."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_until_answers(url: str, alive: Callable[[], bool], seconds: float = 30) -> bool:
    """Until `url` answers HTTP (any status): True; False as soon as `alive()` says the
    server's process ended, or after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # an answer, if not a 200
        except (urllib.error.URLError, ConnectionError):
            if not alive() or time.monotonic() > deadline:
                return False
            time.sleep(0.2)
