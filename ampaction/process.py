"""Child processes (npm, ampx): started, streamed live, and stopped when the runner cancels.

`child_env` is the environment they all run with. Each child runs in its own
process group so that a cancellation reaches
npm, node and whatever they started, at once. Output is printed as it comes,
with workflow commands off (a package's postinstall script must not be able
to write `::add-mask::` or `::error::`), and its last lines are kept for the
failure annotation. A process the child left behind cannot hold the step:
reading stops shortly after the child exits, whoever still holds its output.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ampaction.cancellation import Cancellation, signal_group
from ampaction.workflow import Workflow

__all__ = ["Cancellation", "Finished", "child_env", "job_sets", "pnpm_store", "run_streamed"]

TAIL_LINES = 30
# The image's folders for programs, after whatever PATH the job set.
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
# npm/pnpm/corepack caches, inside the workspace so that actions/cache can keep them.
PACKAGE_CACHE = ".npm-cache"
# pnpm's store, in that cache. pnpm 10 reads its settings from `npm_config_*`
# variables, which npm reads too and warns about (`Unknown env config
# "store-dir"`), so the store is given to pnpm's install as an argument instead
# (see `project.package_manager`); pnpm 11 reads `pnpm_config_*`.
PNPM_STORE = "pnpm-store"
PNPM_STORE_SETTINGS = ("npm_config_store_dir", "pnpm_config_store_dir")
# After a cancel, the child gets this long to exit before SIGKILL; the runner
# waits 7.5 s after its SIGTERM (docker stop) before killing us.
KILL_AFTER_SECONDS = 5.0
# After the child exits, how long output from what it left behind (a `postinstall`'s
# `(sleep 45 &)`) is still read: the pipe only ends when every holder closes it.
OUTPUT_GRACE_SECONDS = 1.0
_POLL_SECONDS = 0.1
_END = b""


def child_env(env: Mapping[str, str], region: str | None, workspace: Path) -> dict[str, str]:
    """What npm and ampx see: the job's environment, `CI=1`, and never our inputs.

    INPUT_* variables are dropped: one of them may be the webhook URL, and
    package install scripts run with this environment.
    """
    child = {k: v for k, v in env.items() if not k.startswith("INPUT_")}
    child["CI"] = "1"  # ampx refuses to run outside CI; the recipe exports CI=1
    # `#!/usr/bin/env node` needs node on PATH, and a job may have set PATH to
    # anything: keep the job's PATH first and make sure the image's folders follow.
    path = [p for p in child.get("PATH", "").split(":") if p]
    child["PATH"] = ":".join(path + [d for d in SYSTEM_PATH if d not in path])
    # ampx 1.x awaits its telemetry upload before printing a failure; when the
    # upload cannot connect that promise never settles, and the CLI exits 13
    # without the error. Off unless the job says otherwise (an empty value keeps it on).
    child.setdefault("AMPLIFY_DISABLE_TELEMETRY", "1")
    if region:
        child["AWS_REGION"] = region
        child["AWS_DEFAULT_REGION"] = region
    # The default caches (~/.npm …) would land in the container's HOME, which is
    # <runner temp>/_github_home: emptied after every job, and not the `~` that
    # actions/cache sees. In the workspace, `actions/cache` with
    # `path: .npm-cache` keeps them between runs. A job that sets one wins.
    cache = workspace / PACKAGE_CACHE
    for name, folder in (
        ("npm_config_cache", cache),  # npm's downloads (pnpm and yarn 1 read it too)
        ("COREPACK_HOME", corepack_home(workspace)),  # the pnpm/yarn that corepack fetched
    ):
        if not job_sets(child, name):
            child = {k: v for k, v in child.items() if k.lower() != name.lower()}
            child[name] = str(folder)
    # Older corepack releases write a `packageManager` field into package.json
    # when it has none; the action must not change the user's files.
    child.setdefault("COREPACK_ENABLE_AUTO_PIN", "0")
    return child


def corepack_home(workspace: Path) -> Path:
    """Where the action keeps the pnpm and yarn that corepack fetches, unless the job says."""
    return workspace / PACKAGE_CACHE / "corepack"


def keep_corepack_commonjs(env: Mapping[str, str], workspace: Path) -> None:
    """Give the action's corepack folder a package.json that says `commonjs`.

    Node decides whether a `.js` file is CommonJS from the nearest package.json
    above it. Inside the workspace that is the project's, and Gen 2 apps say
    `"type": "module"`: corepack's yarn.js then fails to load ("Dynamic require
    of "util" is not supported"). A folder the job chose is left alone.
    """
    home = corepack_home(workspace)
    if env.get("COREPACK_HOME") != str(home):
        return
    home.mkdir(parents=True, exist_ok=True)
    marker = home / "package.json"
    if not marker.exists():
        marker.write_text('{"type": "commonjs"}\n', encoding="utf-8")


def pnpm_store(workspace: Path) -> Path:
    return workspace / PACKAGE_CACHE / PNPM_STORE


def job_sets(env: Mapping[str, str], name: str) -> bool:
    """Whether `env` sets `name` (npm reads its variables in any case; empty counts as unset)."""
    return any(k.lower() == name.lower() and v for k, v in env.items())


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
        signal_group(child, signal.SIGTERM)
    assert child.stdout is not None  # noqa: S101 - stdout=PIPE
    lines: queue.Queue[bytes] = queue.Queue()
    reader = threading.Thread(target=_read, args=(child.stdout, lines), daemon=True)
    reader.start()
    with workflow.commands_off() as emit:

        def show(line: str) -> None:
            tail.append(line)
            emit(line)

        # Only this thread prints: lines read after it stops are dropped, never
        # printed outside the stop-commands block.
        _relay(child, lines, cancellation, show)
    if cancellation.requested:
        # Whatever the direct child did: what it started may ignore SIGTERM.
        signal_group(child, signal.SIGKILL)
    code = child.wait()
    cancellation.untrack(child)
    return Finished(exit_code=code, tail=list(tail), cancelled=cancellation.requested)


def output_of(argv: Sequence[str], *, env: Mapping[str, str], timeout: float = 30) -> str | None:
    """What a short, quiet command prints (`node -p …`), or None when it cannot say."""
    try:
        done = subprocess.run(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _read(stream: IO[bytes], lines: queue.Queue[bytes]) -> None:
    for raw in iter(stream.readline, _END):
        lines.put(raw)
    lines.put(_END)


def _relay(
    child: subprocess.Popen[bytes],
    lines: queue.Queue[bytes],
    cancellation: Cancellation,
    emit: Callable[[str], None],
) -> None:
    """Print the child's lines until its output ends, or it is gone and the grace is over.

    The deadlines are looked at after every line too: what the child left behind may
    print without pause, and must not hold the step, cancelled or not.
    """
    deadline = float("inf")
    seen_cancel = seen_exit = False
    while True:
        try:
            raw = lines.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            raw = None
        if raw == _END:
            return
        if raw is not None:
            emit(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        now = time.monotonic()
        if cancellation.requested and not seen_cancel:
            seen_cancel, deadline = True, min(deadline, now + KILL_AFTER_SECONDS)
        if not seen_exit and child.poll() is not None:
            seen_exit, deadline = True, min(deadline, now + OUTPUT_GRACE_SECONDS)
        if now >= deadline:
            return
