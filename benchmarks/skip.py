"""What skipping saves: a restored node_modules, and a backend that has not changed.

    .venv/bin/python benchmarks/skip.py                 # both parts
    .venv/bin/python benchmarks/skip.py install         # needs the npm registry (~4 min)
    .venv/bin/python benchmarks/skip.py backend --deploy-seconds 30

**install**, on the real Gen 2 lockfile (tests/fixtures/real-cli-app, 1393
packages), through the action's own install step (`deploy.install`, its
settings and environment, so the npm cache is `<workspace>/.npm-cache`):

- cold: no node_modules, empty npm cache: `npm ci`;
- warm: node_modules removed, npm cache kept (the `.npm-cache` recipe): `npm ci`;
- restored: node_modules as actions/cache brings it back (a tar of it,
  extracted; that extraction is timed on its own, as the cache's cost, and
  is not the action's): the action's check, which skips `npm ci`.

Goal: restored <= 0.05 x cold.

**others**: pnpm and yarn, which the action always runs: their install through
the action with an empty node_modules, then again with node_modules in place, to
show that they skip a matching install themselves. pnpm on the same dependencies
(pnpm-lock.yaml made by `pnpm import` from the npm lockfile; the first install
fills the store), yarn 4 on the yarn-app fixture (it cannot install the real
dependencies: it looks aws-cdk-lib's bundled dependencies up in the registry).

**backend**, a whole run of the entrypoint with `skip-unchanged-backend: true`
against the local Amplify server and moto's CloudFormation (a skip reads the branch's
stack), as the tests run them, on the stub-CLI project
(tests/fixtures/gen2-app): a run that deploys (a changed file under amplify/)
against a run after a frontend-only change. The stub CLI sleeps
`--deploy-seconds` (STUB_AMPX_SLEEP; default 30 s, inside the 25-45 s the real
`pipeline-deploy` spent on synthesis and type checks of a minimal backend
here, before it would reach CloudFormation, which a real deploy then adds).
Goal: skipped run <= 0.1 x deploying run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support import aws_server  # noqa: E402
from support.action import declared_inputs  # noqa: E402
from support.amplify_sim import AmplifySimulator  # noqa: E402
from support.cloudformation_server import CloudFormationServer  # noqa: E402
from support.fixtures import copy_project  # noqa: E402
from support.runner import RunnerFiles, runner_env  # noqa: E402

from ampaction import deploy, inputs, project  # noqa: E402
from ampaction.cloudformation import backend_stack_name  # noqa: E402
from ampaction.process import Cancellation  # noqa: E402
from ampaction.workflow import Workflow  # noqa: E402

LOCK_PROJECT = ROOT / "tests" / "fixtures" / "real-cli-app"
APP_ID = "d1a2b3c4d5e6f7"
INSTALL_GOAL = 0.05
BACKEND_GOAL = 0.1


# -- install ---------------------------------------------------------------------


def timed_install(workspace: Path, env: dict[str, str]) -> tuple[float, str]:
    """The action's install step, timed; and what it logged."""
    settings = inputs.read_settings(
        {**env, "GITHUB_WORKSPACE": str(workspace), "INPUT_APP-ID": APP_ID},
        ["--branch", "main", "--deploy-backend", "false", "--trigger-frontend", "false"],
    )
    pm = project.package_manager(settings.working_directory, "auto", settings.child_env)
    log = io.StringIO()
    start = time.perf_counter()
    detail = deploy.install(settings, pm, Workflow(out=log), Cancellation())
    seconds = time.perf_counter() - start
    return seconds, f"{detail}\n{log.getvalue()}"


def bench_install() -> bool:
    env = {k: v for k, v in os.environ.items() if k.lower() != "npm_config_cache"}
    with tempfile.TemporaryDirectory(prefix="skip-bench-") as tmp:
        workspace = Path(tmp) / "app"
        shutil.copytree(LOCK_PROJECT, workspace)
        packages = len(json.loads((workspace / "package-lock.json").read_text())["packages"])
        print(f"real Gen 2 lockfile: {packages - 1} packages")

        cold, _ = timed_install(workspace, env)
        size = sum(f.stat().st_size for f in (workspace / "node_modules").rglob("*") if f.is_file())
        print(f"cold npm ci:            {cold:7.2f} s  (node_modules: {size / 2**20:.0f} MiB)")

        shutil.rmtree(workspace / "node_modules")
        warm, _ = timed_install(workspace, env)
        print(f"warm-cache npm ci:      {warm:7.2f} s")

        # Save and restore node_modules as actions/cache does: a tar of it, extracted.
        archive = Path(tmp) / "node_modules.tar"
        subprocess.run(["tar", "-cf", str(archive), "node_modules"], cwd=workspace, check=True)
        shutil.rmtree(workspace / "node_modules")
        start = time.perf_counter()
        subprocess.run(["tar", "-xf", str(archive)], cwd=workspace, check=True)
        restore = time.perf_counter() - start
        archive.unlink()
        print(f"(restoring node_modules from a local tar, the cache's part: {restore:.1f} s)")

        restored, said = timed_install(workspace, env)
        assert "Not running `npm ci`" in said, said
        print(f"restored node_modules:  {restored:7.2f} s  ({said.splitlines()[1]})")

    ratio = restored / cold
    ok = ratio <= INSTALL_GOAL
    print(
        f"restored/cold = {ratio:.4f} ({'meets' if ok else 'misses'} the goal of <= {INSTALL_GOAL})"
    )
    print(f"warm/cold     = {warm / cold:.2f}")
    return ok


# -- pnpm and yarn ---------------------------------------------------------------

# As the fixture pins it (a hash lets corepack skip the signature check that
# fails against COREPACK_NPM_REGISTRY).
PNPM = json.loads((ROOT / "tests/fixtures/pnpm-app/package.json").read_text())["packageManager"]


def prepare(workspace: Path, env: dict[str, str]) -> None:
    """The real dependencies with a pnpm lockfile (untimed: the registry's part)."""
    manifest = json.loads((workspace / "package.json").read_text())
    manifest["packageManager"] = PNPM
    (workspace / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    settings = inputs.read_settings(
        {**env, "GITHUB_WORKSPACE": str(workspace), "INPUT_APP-ID": APP_ID},
        ["--branch", "main", "--deploy-backend", "false", "--trigger-frontend", "false"],
    )
    done = subprocess.run(
        ["corepack", "pnpm", "import"],
        cwd=workspace,
        env=dict(settings.child_env),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"pnpm import failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    (workspace / "package-lock.json").unlink()


def bench_others() -> None:
    env = {k: v for k, v in os.environ.items() if k.lower() != "npm_config_cache"}
    # Corepack fetches yarn 2+ from repo.yarnpkg.com, which this machine cannot reach.
    env["COREPACK_NPM_REGISTRY"] = "https://registry.npmjs.org"
    for manager in ("pnpm", "yarn"):
        with tempfile.TemporaryDirectory(prefix="skip-bench-") as tmp:
            # Outside the project: its `"type": "module"` would make Node load
            # corepack's yarn.js as an ES module, which fails.
            env["COREPACK_HOME"] = str(Path(tmp) / "corepack")
            if manager == "pnpm":
                workspace = Path(tmp) / "app"
                shutil.copytree(LOCK_PROJECT, workspace)
                prepare(workspace, env)
                what = "the real dependencies"
            else:  # yarn 4 cannot install them: it looks aws-cdk-lib's bundled
                # dependencies up in the registry ("No candidates found").
                workspace = copy_project("yarn-app", Path(tmp) / "app")
                what = "the yarn-app fixture"
            emptied, _ = timed_install(workspace, env)
            again, said = timed_install(workspace, env)
            words = ("up to date", "Done", "Already")
            last = [line for line in said.splitlines() if any(w in line for w in words)][-3:]
            print(
                f"{manager} ({what}): empty node_modules {emptied:6.2f} s; "
                f"node_modules in place {again:5.2f} s ({again / emptied:.3f})"
            )
            print("  it said: " + " | ".join(line.strip() for line in last))


# -- backend ---------------------------------------------------------------------


def run_entrypoint(
    sim: AmplifySimulator, cfn: CloudFormationServer, workspace: Path, runner: Path, sleep: float
) -> tuple[float, dict[str, str]]:
    files = RunnerFiles(runner, workspace)
    declared = declared_inputs()
    env = runner_env(
        {"app-id": APP_ID, "branch": "main", "skip-unchanged-backend": "true"},
        files,
        declared=declared,
        job_env={
            "AWS_ENDPOINT_URL_AMPLIFY": sim.url,
            **aws_server.endpoints(),  # SSM, CloudFormation, STS: a bootstrapped account
            "AWS_ENDPOINT_URL_CLOUDFORMATION": cfn.url,
            "AWS_ACCESS_KEY_ID": "AKIDTEST",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_REGION": "us-east-1",
            "STUB_AMPX_SLEEP": str(sleep),
        },
    )
    env["PYTHONPATH"] = str(ROOT)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py")],
        env=env,
        cwd=workspace,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the action failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return seconds, files.outputs()


def bench_backend(sleep: float, rounds: int) -> bool:
    deploys, skips = [], []
    with (
        tempfile.TemporaryDirectory(prefix="skip-bench-") as tmp,
        AmplifySimulator() as sim,
        CloudFormationServer() as cfn,
    ):
        sim.add_app(APP_ID)
        sim.add_branch(APP_ID, "main")
        # The stack a deploy makes (the stub CLI makes none): a skip reads it.
        cfn.create_stack(backend_stack_name(APP_ID, "main"))
        workspace = copy_project("gen2-app", Path(tmp) / "workspace")
        (workspace / "src").mkdir()
        for n in range(rounds):
            # A commit that changes the backend: deploys.
            (workspace / "amplify" / "backend.ts").write_text(f"// backend change {n}\n")
            seconds, out = run_entrypoint(sim, cfn, workspace, Path(tmp) / f"d{n}", sleep)
            assert out["backend-skipped"] == "false" and out["backend-deployed"] == "true"
            deploys.append(seconds)
            # A frontend-only commit: skips install and deploy, triggers the frontend.
            (workspace / "src" / "App.tsx").write_text(f"export const v = {n};\n")
            seconds, out = run_entrypoint(sim, cfn, workspace, Path(tmp) / f"s{n}", sleep)
            assert out["backend-skipped"] == "true" and out["frontend-triggered"] == "true"
            skips.append(seconds)
            print(
                f"round {n + 1}: deploying run {deploys[-1]:6.2f} s, skipped run {skips[-1]:5.2f} s"
            )
    deploy_s, skip_s = statistics.median(deploys), statistics.median(skips)
    ratio = skip_s / deploy_s
    ok = ratio <= BACKEND_GOAL
    print(
        f"whole run, median of {rounds}: deploys {deploy_s:.2f} s (stub CLI sleeping {sleep:g} s), "
        f"frontend-only change {skip_s:.2f} s"
    )
    print(
        f"skipped/deploying = {ratio:.3f} ({'meets' if ok else 'misses'} the goal of <= {BACKEND_GOAL})"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "part", nargs="?", choices=("install", "others", "backend", "all"), default="all"
    )
    parser.add_argument("--deploy-seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ok = True
    if args.part in ("install", "all"):
        ok = bench_install() and ok
    if args.part in ("others", "all"):
        bench_others()
    if args.part in ("backend", "all"):
        ok = bench_backend(args.deploy_seconds, args.rounds) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
