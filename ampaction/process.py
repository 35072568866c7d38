"""Child processes (npm, ampx): started, streamed live, and stopped when the runner cancels.

Each child runs in its own process group so that a cancellation reaches
npm, node and whatever they started, at once. Output is printed as it comes,
with workflow commands off (a package's postinstall script must not be able
to write `::add-mask::` or `::error::`), and its last lines are kept for the
failure annotation.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from ampaction.workflow import Workflow

TAIL_LINES = 30
# After a cancel, the child gets this long to exit before SIGKILL; the runner
# waits 7.5 s after its SIGTERM (docker stop) before killing us.
KILL_AFTER_SECONDS = 5.0


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
            _signal_group(child, signum)

    def track(self, child: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._children.add(child)

    def untrack(self, child: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._children.discard(child)


@dataclass(frozen=True)
class Finished:
    exit_code: int
    tail: list[str]
    cancelled: bool


def run_streamed(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    workflow: Workflow,
    cancellation: Cancellation,
) -> Finished:
    """Run `argv`, printing its output live; return its exit code and last lines."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    child = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, for cancellation
    )
    cancellation.track(child)
    if cancellation.requested:  # the signal came between the check and the start
        _signal_group(child, signal.SIGTERM)
    killer = threading.Thread(target=_kill_when_stuck, args=(child, cancellation), daemon=True)
    killer.start()
    assert child.stdout is not None  # noqa: S101 - stdout=PIPE
    with workflow.commands_off() as emit:
        for raw in iter(child.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            tail.append(line)
            emit(line)
    code = child.wait()
    cancellation.untrack(child)
    return Finished(exit_code=code, tail=list(tail), cancelled=cancellation.requested)


def _kill_when_stuck(child: subprocess.Popen[bytes], cancellation: Cancellation) -> None:
    while child.poll() is None:
        if cancellation.event.wait(0.5):
            try:
                child.wait(KILL_AFTER_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
            return


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signum)
