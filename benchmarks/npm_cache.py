"""How much a kept npm cache saves: a cold `npm ci` (empty cache) against a warm one.

The project is the fixture `tests/fixtures/real-cli-app`: a typical Gen 2
app's dependencies (`@aws-amplify/backend`, `@aws-amplify/backend-cli`,
`aws-cdk-lib`, `constructs`, `typescript`) with a lockfile made by npm. The install command
and its environment are the action's own (`project.package_manager`,
`inputs.read_settings`), so the cache lands where the action puts it,
`<workspace>/.npm-cache`: the folder a workflow keeps with actions/cache.

    .venv/bin/python benchmarks/npm_cache.py

Goal: warm <= 0.5 x cold. Needs the npm registry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ampaction import inputs, process, project  # noqa: E402

LOCK_PROJECT = ROOT / "tests" / "fixtures" / "real-cli-app"
GOAL = 0.5


def timed_install(workspace: Path, env: dict[str, str]) -> float:
    settings = inputs.read_settings(
        {**env, "GITHUB_WORKSPACE": str(workspace), "INPUT_APP-ID": "d1a2b3c4d5e6f7"},
        ["--branch", "main", "--deploy-backend", "false", "--trigger-frontend", "false"],
    )
    pm = project.package_manager(settings.working_directory, "auto", settings.child_env)
    shutil.rmtree(workspace / "node_modules", ignore_errors=True)
    print(
        "$ " + " ".join(pm.install_argv),
        f"(npm_config_cache={settings.child_env['npm_config_cache']})",
    )
    start = time.monotonic()
    done = subprocess.run(
        list(pm.install_argv),
        cwd=workspace,
        env=dict(settings.child_env),
        check=False,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(
            f"npm ci failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return seconds


def main() -> int:
    # The job's environment, less any cache setting of this machine's own.
    env = {k: v for k, v in os.environ.items() if k.lower() != "npm_config_cache"}
    with tempfile.TemporaryDirectory(prefix="npm-cache-bench-") as tmp:
        workspace = Path(tmp)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(LOCK_PROJECT / name, workspace / name)
        lock = json.loads((workspace / "package-lock.json").read_text(encoding="utf-8"))
        print(f"{len(lock['packages']) - 1} packages in the lockfile")

        cold = timed_install(workspace, env)  # .npm-cache does not exist yet
        cache = workspace / process.PACKAGE_CACHE
        size = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file())
        print(f"cold: {cold:6.1f} s  (cache filled: {size / 2**20:.0f} MiB)")

        warm = timed_install(workspace, env)  # node_modules removed, cache kept
        print(f"warm: {warm:6.1f} s")

    ratio = warm / cold
    verdict = "meets" if ratio <= GOAL else "misses"
    print(f"warm/cold = {ratio:.2f} ({verdict} the goal of <= {GOAL})")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
