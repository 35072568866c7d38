"""The sample Gen 2 projects of tests/fixtures, copied fresh for each use.

The projects that stand in for a real app depend on `vendor/backend-cli`, a
stand-in for `@aws-amplify/backend-cli` whose `ampx` records how it was
called and exits as told (tests/fixtures/stub-backend-cli). It lives once in
the repository and is copied into each project here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STUB_CLI = FIXTURES / "stub-backend-cli"

# A frontend build that needs the backend's outputs, as a real one does.
FRONTEND_BUILD = """import fs from 'node:fs';
const outputs = fs.readFileSync('amplify_outputs.json', 'utf8');
fs.mkdirSync('dist/assets', { recursive: true });
fs.writeFileSync('dist/index.html', '<!doctype html><title>built</title>');
fs.writeFileSync('dist/assets/outputs.json', outputs);
"""


def copy_project(name: str, dest: Path) -> Path:
    """A fresh copy of fixture project `name` at `dest`, with the stub CLI where it wants it."""
    shutil.copytree(
        FIXTURES / name, dest, ignore=shutil.ignore_patterns("node_modules"), symlinks=True
    )
    if "vendor/backend-cli" in (dest / "package.json").read_text(encoding="utf-8"):
        shutil.copytree(STUB_CLI, dest / "vendor" / "backend-cli")
    return dest


def add_frontend_build(project: Path) -> None:
    """The user's own step between the action's two of a manual deployment: `npm run
    build` reads `amplify_outputs.json` and writes `dist/` (`index.html` and
    `assets/outputs.json`, a copy of the outputs)."""
    package_file = project / "package.json"
    package = json.loads(package_file.read_text(encoding="utf-8"))
    package["scripts"] = {"build": "node build.mjs"}
    package_file.write_text(json.dumps(package), encoding="utf-8")
    (project / "build.mjs").write_text(FRONTEND_BUILD, encoding="utf-8")


def wait_for_file(path: Path, proc: subprocess.Popen[str], timeout: float) -> None:
    """Until the stub CLI writes `path` (`STUB_AMPX_STARTED`): the deploy is under way."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, "the action ended before the CLI started"
        assert time.monotonic() < deadline, "the CLI never started"
        time.sleep(0.1)
