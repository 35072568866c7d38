"""The sample Gen 2 projects of tests/fixtures, copied fresh for each use.

The projects that stand in for a real app depend on `vendor/backend-cli`, a
stand-in for `@aws-amplify/backend-cli` whose `ampx` records how it was
called and exits as told (tests/fixtures/stub-backend-cli). It lives once in
the repository and is copied into each project here.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STUB_CLI = FIXTURES / "stub-backend-cli"


def copy_project(name: str, dest: Path) -> Path:
    """A fresh copy of fixture project `name` at `dest`, with the stub CLI where it wants it."""
    shutil.copytree(
        FIXTURES / name, dest, ignore=shutil.ignore_patterns("node_modules"), symlinks=True
    )
    if "vendor/backend-cli" in (dest / "package.json").read_text(encoding="utf-8"):
        shutil.copytree(STUB_CLI, dest / "vendor" / "backend-cli")
    return dest


def wait_for_file(path: Path, proc: subprocess.Popen[str], timeout: float) -> None:
    """Until the stub CLI writes `path` (`STUB_AMPX_STARTED`): the deploy is under way."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, "the action ended before the CLI started"
        assert time.monotonic() < deadline, "the CLI never started"
        time.sleep(0.1)
