"""Cancellation: the runner's SIGTERM (or Ctrl-C), and everything that must stop for it.

Standard library only: the entrypoint installs this before importing the rest,
because in the container the action is PID 1, which the kernel protects from
any signal it has no handler for: a SIGTERM during the imports would be lost.
Network calls run through `interruptibly`, so that a cancellation ends a wait
on a slow answer within `POLL_SECONDS`, not when the server answers; `start`
runs one in the background, so that two reads that do not depend on each other
cost one round trip.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from types import FrameType
from typing import Generic, TypeVar

from ampaction.errors import Cancelled

T = TypeVar("T")
POLL_SECONDS = 0.1  # how often a waiting call looks at the cancellation


class Cancellation:
    """Set once by SIGTERM/SIGINT; everything that could start something checks it."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name: str | None = None
        self._children: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def sleep(self, seconds: float) -> None:
        """Sleep that a cancellation cuts short (for retries and polling)."""
        self.event.wait(max(0.0, seconds))

    def install(self) -> None:
        """Take SIGTERM and SIGINT from the runner (or Ctrl-C) for this process."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signal_name = signal.Signals(signum).name
        self.event.set()
        with self._lock:
            children = list(self._children)
        for child in children:
            signal_group(child, signum)

    def track(self, child: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._children.add(child)

    def untrack(self, child: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._children.discard(child)

    def interruptibly(self, call: Callable[[], T], what: str) -> T:
        """`call()`'s result, or `Cancelled(what)` as soon as a cancellation comes.

        The call runs in a worker thread that is abandoned on cancellation: no
        library offers a way to interrupt a blocked socket read, and the runner
        kills the action 7.5 s after its SIGTERM.
        """
        return self.start(call, what).result()

    def start(self, call: Callable[[], T], what: str) -> Pending[T]:
        """`call()` started now in a worker thread; its `result()` waits for it as
        `interruptibly` does. A call whose result is never asked for is abandoned."""
        if self.requested:
            raise Cancelled(what)
        pending: Pending[T] = Pending(self, what)
        threading.Thread(
            target=pending.run, args=(call,), name=f"call: {what}", daemon=True
        ).start()
        return pending


class Pending(Generic[T]):
    """A call running in a worker thread (`Cancellation.start`)."""

    def __init__(self, cancellation: Cancellation, what: str) -> None:
        self._cancellation = cancellation
        self._what = what
        self._outcome: list[T] = []
        self._failure: list[BaseException] = []
        self._done = threading.Event()

    def run(self, call: Callable[[], T]) -> None:
        try:
            self._outcome.append(call())
        except BaseException as e:  # handed to the caller's thread as is
            self._failure.append(e)
        finally:
            self._done.set()

    def result(self) -> T:
        """The call's result or its error, or `Cancelled` as soon as a cancellation comes."""
        while not self._done.wait(POLL_SECONDS):
            if self._cancellation.requested:
                raise Cancelled(self._what)
        if self._failure:
            raise self._failure[0]
        return self._outcome[0]


def signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the child's whole process group (npm, node, and whatever they started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signum)
