"""The frontend trigger, timed: the action next to the shell steps users write by hand today.

    .venv/bin/python benchmarks/trigger.py              # 15 rounds, action and AWS CLI script
    .venv/bin/python benchmarks/trigger.py --rounds 31
    .venv/bin/python benchmarks/trigger.py --quick --action-only --json out.json
    .venv/bin/python benchmarks/trigger.py --latency-ms 80     # as from a runner to us-east-1
    .venv/bin/python benchmarks/trigger.py --root /tmp/before  # another checkout's action

Both sides run against the local Amplify server (tests/support/amplify_sim.py,
started in this process, loopback only) with the same credentials:

- **action**: `entrypoint.py` as a subprocess with the environment the runner
  builds (tests/support/runner.py): every action.yml input at its default,
  `app-id`, `branch: main`, `install: false`, `deploy-backend: false`, and
  `AWS_ENDPOINT_URL_AMPLIFY` pointing at the server. Wall time from spawn to exit.
- **script**: the bash script below (`aws amplify list-webhooks`, on the cold
  path `aws amplify create-webhook`, then `curl` to the webhook), with the AWS
  CLI from PyPI installed in `.cache/bench-awscli` (created when missing).

With `--latency-ms`, the server answers every request (the webhook's POST
included) that much later: the round trip a runner pays to the region, which
loopback hides. Both sides pay it per call, so it weighs the calls each makes.

Two paths: **warm** (the branch's marked webhook exists) and **cold** (no
webhook: it is created). Webhooks and jobs are reset before every run. The runs
are interleaved (action, script, action, script, ...) in one process so that
the machine's noise hits both sides alike; the table reports medians, and the
ratio both as median(action)/median(script) and as the median of the ratios of
each round's pair. One untimed run of each side warms the disk caches first.

Then what the checks before a deploy add (they run only when the backend is deployed,
so the trigger's two paths above make none of them): a dry run of a deploy whose
backend reads one secret, against moto's server, its SSM, CloudFormation and STS calls
counted (the same reads a real deploy makes before installing).

Then the action's import time on the warm path (`python -X importtime`,
median per module over a few runs): the top 10 by cumulative time, and the
cost of each top-level package the first time it is imported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from support import aws_server  # noqa: E402
from support.action import APP_ID, declared_inputs  # noqa: E402
from support.amplify_sim import WEBHOOK_OPERATION, AmplifySimulator  # noqa: E402
from support.cloudformation_server import CloudFormationServer  # noqa: E402
from support.fixtures import copy_project  # noqa: E402
from support.runner import RunnerFiles, parse_key_values, runner_env  # noqa: E402

BRANCH = "main"
MARKER = "amplify-pipeline-deploy"  # action.yml's default `webhook-description`
AWSCLI_VENV = REPO / ".cache" / "bench-awscli"
PATHS = ("warm", "cold")
SIDES = ("action", "script")

# What `configure-aws-credentials` leaves in the job's environment (it exports
# both region variables; the AWS CLI v1 reads only AWS_DEFAULT_REGION).
JOB_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDBENCH",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}

# The four shell steps' last two, as users write them: find the branch's
# webhook, create it when there is none, POST to it.
SCRIPT = r"""#!/usr/bin/env bash
set -euo pipefail
url=$(aws amplify list-webhooks --app-id "$APP_ID" \
  --query "webhooks[?branchName=='$BRANCH' && description=='$MARKER'] | [0].webhookUrl" \
  --output text)
if [ -z "$url" ] || [ "$url" = "None" ]; then
  url=$(aws amplify create-webhook --app-id "$APP_ID" --branch-name "$BRANCH" \
    --description "$MARKER" --query webhook.webhookUrl --output text)
fi
curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' \
  "$url&operation=startbuild"
"""

GOAL_RATIO = {"warm": 0.9, "cold": 0.55}
GOAL_ACTION_SECONDS = 0.5
# GetBranch and GetApp (preflight: the branch, the app's repository and build spec),
# ListWebhooks, and the ListJobs that notes the branch's newest job before the POST
# (so that a lost POST is checked by job id, not clock); cold adds CreateWebhook and
# the ListWebhooks that settles concurrent runs on one webhook.
GOAL_CALLS = {"warm": 4, "cold": 6}
GOAL_POSTS = 1
# The checks before a deploy: GetParameter (the CDK bootstrap version), DescribeStacks
# (the branch's stack), GetParameters (the backend's secrets, up to 5 names a call).
GOAL_CHECK_CALLS = 3


@dataclass
class Sample:
    seconds: float
    calls: list[str]
    posts: int


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def calls(self) -> int:
        return max(len(s.calls) for s in self.samples)

    @property
    def posts(self) -> int:
        return max(s.posts for s in self.samples)

    @property
    def operations(self) -> list[str]:
        return max((s.calls for s in self.samples), key=len)


class Bench:
    def __init__(self, sim: AmplifySimulator, tmp: Path, awscli: Path | None, root: Path = REPO):
        self.root = root  # the checkout whose entrypoint.py runs (another one to compare a patch)
        self.sim = sim
        self.tmp = tmp
        self.awscli = awscli
        self.workspace = tmp / "workspace"
        self.workspace.mkdir(parents=True)
        self.script = tmp / "trigger-by-hand.sh"
        self.script.write_text(SCRIPT, encoding="utf-8")
        self.runs = 0

    # -- the server's state -------------------------------------------------

    def reset(self, path: str) -> None:
        """No webhooks and no jobs; on the warm path, the marked webhook."""
        self.sim.reset()
        if path == "warm":
            self.sim.add_webhook(APP_ID, BRANCH, MARKER)

    # -- the two sides ------------------------------------------------------

    def action_env(self, files: RunnerFiles) -> dict[str, str]:
        env = runner_env(
            {"app-id": APP_ID, "branch": BRANCH, "install": "false", "deploy-backend": "false"},
            files,
            declared=declared_inputs(BRANCH),
            job_env={**JOB_ENV, "AWS_ENDPOINT_URL_AMPLIFY": self.sim.url},
        )
        env["PYTHONPATH"] = str(self.root)
        return env

    def run_action(
        self, extra_argv: tuple[str, ...] = ()
    ) -> tuple[float, subprocess.CompletedProcess[str], RunnerFiles]:
        self.runs += 1
        files = RunnerFiles(self.tmp / f"runner-{self.runs}", self.workspace)
        env = self.action_env(files)
        argv = [sys.executable, *extra_argv, str(self.root / "entrypoint.py")]
        start = time.perf_counter()
        proc = subprocess.run(
            argv,
            env=env,
            cwd=self.workspace,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        return time.perf_counter() - start, proc, files

    def run_script(self) -> tuple[float, subprocess.CompletedProcess[str]]:
        assert self.awscli is not None
        self.runs += 1
        home = self.tmp / f"home-{self.runs}"
        home.mkdir()
        env = {
            "PATH": f"{self.awscli / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "LANG": "C.UTF-8",
            "HOME": str(home),  # no ~/.aws of the machine's
            **JOB_ENV,
            "AWS_ENDPOINT_URL_AMPLIFY": self.sim.url,
            "APP_ID": APP_ID,
            "BRANCH": BRANCH,
            "MARKER": MARKER,
        }
        start = time.perf_counter()
        proc = subprocess.run(
            ["bash", str(self.script)],
            env=env,
            cwd=self.workspace,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        return time.perf_counter() - start, proc

    def sample(self, side: str, path: str) -> Sample:
        self.reset(path)
        if side == "action":
            seconds, proc, files = self.run_action()
            outputs = parse_key_values(files.file_command("set_output").read_text(encoding="utf-8"))
            ok = proc.returncode == 0 and outputs.get("frontend-triggered") == "true"
            ok = ok and outputs.get("webhook-created") == ("true" if path == "cold" else "false")
        else:
            seconds, proc = self.run_script()
            ok = proc.returncode == 0
        requests = self.sim.requests
        posts = [r for r in requests if r.operation == WEBHOOK_OPERATION]
        ok = ok and len(self.sim.webhooks(APP_ID)) == 1 and any(r.status == 200 for r in posts)
        if not ok:
            raise SystemExit(
                f"The {side} failed on the {path} path (exit {proc.returncode}); "
                f"requests: {[(r.operation, r.status) for r in requests]}\n"
                f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
            )
        calls = [r.operation for r in requests if r.operation != WEBHOOK_OPERATION]
        return Sample(seconds, calls, len(posts))

    def python_floor(self) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        return time.perf_counter() - start


def ensure_awscli() -> Path:
    """The AWS CLI from PyPI in its own venv, made on first use."""
    aws = AWSCLI_VENV / "bin" / "aws"
    if not aws.exists():
        print(f"Installing awscli into {AWSCLI_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(AWSCLI_VENV)], check=True)
        subprocess.run(
            [str(AWSCLI_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "awscli"],
            check=True,
        )
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed for the script side (or pass --action-only).")
    return AWSCLI_VENV


def awscli_version(venv: Path) -> str:
    proc = subprocess.run(
        [str(venv / "bin" / "aws"), "--version"], capture_output=True, text=True, check=False
    )
    return (proc.stdout or proc.stderr).strip()


# -- import time --------------------------------------------------------------


@dataclass
class ImportLine:
    name: str
    depth: int
    self_us: int
    cumulative_us: int


def parse_importtime(stderr: str) -> list[ImportLine]:
    lines = []
    for raw in stderr.splitlines():
        if not raw.startswith("import time:") or "self [us]" in raw:
            continue
        self_us, cumulative, name = raw.removeprefix("import time:").split("|", 2)
        stripped = name.lstrip(" ")
        depth = (len(name) - len(stripped) - 1) // 2
        lines.append(ImportLine(stripped.strip(), depth, int(self_us), int(cumulative)))
    return lines


def package_costs(lines: list[ImportLine]) -> dict[str, int]:
    """Self µs summed per top-level package: what each one's own modules cost (sums to the total)."""
    costs: dict[str, int] = {}
    for line in lines:
        top = line.name.split(".")[0]
        costs[top] = costs.get(top, 0) + line.self_us
    return costs


def import_profile(
    bench: Bench, runs: int
) -> tuple[list[tuple[ImportLine, int]], dict[str, int], int, bool]:
    """Median per module over `runs` warm-path runs with `-X importtime`; and whether
    some imports ran in two threads at once (their self times are then wrong)."""
    per_module: dict[str, list[ImportLine]] = {}
    per_package: dict[str, list[int]] = {}
    totals = []
    overlapped = False
    order: list[str] = []
    for _ in range(runs):
        bench.reset("warm")
        _, proc, _ = bench.run_action(("-X", "importtime"))
        if proc.returncode != 0:
            raise SystemExit(f"-X importtime run failed:\n{proc.stderr[-3000:]}")
        lines = parse_importtime(proc.stderr)
        # -X importtime keeps one nesting count for all threads: imports made in two
        # threads at once (the action's reads made at the same time) get negative self
        # times, and the sum means little.
        overlapped = overlapped or any(line.self_us < 0 for line in lines)
        totals.append(sum(line.self_us for line in lines))
        for line in lines:
            if line.name not in per_module:
                order.append(line.name)
            per_module.setdefault(line.name, []).append(line)
        for name, us in package_costs(lines).items():
            per_package.setdefault(name, []).append(us)
    medians = []
    for name in order:
        entries = per_module[name]
        cumulative = int(statistics.median(e.cumulative_us for e in entries))
        self_us = int(statistics.median(e.self_us for e in entries))
        medians.append((ImportLine(name, entries[0].depth, self_us, cumulative), len(entries)))
    packages = {k: int(statistics.median(v)) for k, v in per_package.items()}
    return medians, packages, int(statistics.median(totals)), overlapped


# -- report ---------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


@dataclass
class Measured:
    """Everything one benchmark run measured."""

    rounds: int
    sides: tuple[str, ...]
    results: dict[str, dict[str, Series]]
    paired: dict[str, list[float]]
    floor: list[float]
    imports: list[tuple[ImportLine, int]]
    packages: dict[str, int]
    import_total: int
    imports_overlapped: bool = False  # some imports ran in two threads at once
    check_calls: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per path (default 15)")
    parser.add_argument("--quick", action="store_true", help="3 rounds, for a smoke run")
    parser.add_argument(
        "--action-only", action="store_true", help="skip the AWS CLI script (no awscli needed)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="the server's delay before each answer (80: a runner to us-east-1; default 0)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=REPO,
        help="the checkout whose entrypoint.py runs (to time the action before a change)",
    )
    args = parser.parse_args(argv)
    args.rounds = 3 if args.quick else args.rounds
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def measure(args: argparse.Namespace) -> Measured:
    """The interleaved rounds of every path and side, then the import profile."""
    rounds = args.rounds
    sides = ("action",) if args.action_only else SIDES
    awscli = None if args.action_only else ensure_awscli()
    results: dict[str, dict[str, Series]] = {p: {s: Series() for s in sides} for p in PATHS}
    paired: dict[str, list[float]] = {p: [] for p in PATHS}
    floor: list[float] = []
    latency = args.latency_ms / 1000
    with (
        tempfile.TemporaryDirectory(prefix="bench-trigger-") as tmp,
        AmplifySimulator(latency=latency) as sim,
    ):
        sim.add_app(APP_ID)
        sim.add_branch(APP_ID, BRANCH)
        bench = Bench(sim, Path(tmp), awscli, root=args.root.resolve())
        print(
            f"Trigger benchmark: {rounds} rounds, interleaved {' / '.join(sides)}, "
            f"server {sim.url} (+{args.latency_ms:g} ms per request), action from {bench.root}, "
            f"{sys.executable} ({sys.version.split()[0]})"
            + (f", {awscli_version(awscli)}" if awscli else ""),
            flush=True,
        )
        for side in sides:  # warm-up, untimed
            bench.sample(side, "cold")
        for _ in range(rounds):
            floor.append(bench.python_floor())
            for path in PATHS:
                pair = {side: bench.sample(side, path) for side in sides}
                for side, sample in pair.items():
                    results[path][side].samples.append(sample)
                if "script" in pair:
                    paired[path].append(pair["action"].seconds / pair["script"].seconds)
        imports, packages, import_total, overlapped = import_profile(bench, 3 if args.quick else 5)
        check_calls = before_deploy_calls(Path(tmp), bench.root)
    return Measured(
        rounds,
        sides,
        results,
        paired,
        floor,
        imports,
        packages,
        import_total,
        overlapped,
        check_calls,
    )


def before_deploy_calls(tmp: Path, root: Path) -> list[str]:
    """The AWS calls of the checks before a deploy, in order: a dry run of a deploy of a
    backend that reads one secret (shared), in a bootstrapped account, with no stack yet."""
    workspace = copy_project("gen2-app", tmp / "checks-workspace")
    (workspace / "amplify" / "keys.ts").write_text("export const key = secret('API_KEY');\n")
    with AmplifySimulator() as sim, CloudFormationServer() as aws:
        sim.add_app(APP_ID)
        sim.add_branch(APP_ID, BRANCH)
        aws_server.bootstrap(aws.url)
        aws_server.ssm_client(aws.url).put_parameter(
            Name=f"/amplify/shared/{APP_ID}/API_KEY", Value="v", Type="SecureString"
        )
        files = RunnerFiles(tmp / "runner-checks", workspace)
        env = runner_env(
            {"app-id": APP_ID, "branch": BRANCH, "dry-run": "true", "trigger-frontend": "false"},
            files,
            declared=declared_inputs(BRANCH),
            job_env={
                **JOB_ENV,
                "AWS_ENDPOINT_URL_AMPLIFY": sim.url,
                **aws_server.endpoints(aws.url),
            },
        )
        env["PYTHONPATH"] = str(root)
        proc = subprocess.run(
            [sys.executable, str(root / "entrypoint.py")],
            env=env,
            cwd=workspace,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if proc.returncode != 0:
            raise SystemExit(f"The dry run of a deploy failed:\n{proc.stdout[-3000:]}")
        return aws.requests


def path_summary(path: str, m: Measured) -> dict[str, object]:
    action = m.results[path]["action"]
    script = m.results[path].get("script")
    return {
        "action_median_s": action.median,
        "action_seconds": [s.seconds for s in action.samples],
        "action_calls": action.calls,
        "action_operations": action.operations,
        "action_posts": action.posts,
        "script_median_s": script.median if script else None,
        "script_seconds": [s.seconds for s in script.samples] if script else None,
        "script_calls": script.calls if script else None,
        "script_operations": script.operations if script else None,
        "script_posts": script.posts if script else None,
        "ratio": action.median / script.median if script else None,
        "paired_ratio_median": statistics.median(m.paired[path]) if m.paired[path] else None,
    }


def print_table(m: Measured) -> dict[str, dict[str, object]]:
    head = (
        f"{'path':<5} {'action s':>9} {'script s':>9} {'ratio':>6} {'paired':>7} "
        f"{'calls action':>12} {'calls script':>12} {'POSTs a/s':>9}"
    )
    print()
    print(head)
    print("-" * len(head))
    summary: dict[str, dict[str, object]] = {}
    for path in PATHS:
        action = m.results[path]["action"]
        script = m.results[path].get("script")
        summary[path] = path_summary(path, m)
        ratio, pr = summary[path]["ratio"], summary[path]["paired_ratio_median"]
        print(
            f"{path:<5} {action.median:>9.3f} "
            f"{(f'{script.median:.3f}' if script else '-'):>9} "
            f"{(f'{ratio:.2f}' if ratio is not None else '-'):>6} "
            f"{(f'{pr:.2f}' if pr is not None else '-'):>7} "
            f"{action.calls:>12} {(script.calls if script else '-'):>12} "
            f"{f'{action.posts}/' + (str(script.posts) if script else '-'):>9}"
        )
    print(f"(python -c pass, the interpreter's floor: median {statistics.median(m.floor):.3f} s)")
    for path in PATHS:
        ops = summary[path]
        print(
            f"{path} calls: action {' '.join(ops['action_operations'])}"  # type: ignore[arg-type]
            + (
                f"; script {' '.join(ops['script_operations'])}"  # type: ignore[arg-type]
                if ops["script_operations"]
                else ""
            )
        )
    return summary


def print_goals(m: Measured, summary: dict[str, dict[str, object]]) -> list[dict[str, object]]:
    print("\nGoals")
    goals: list[dict[str, object]] = []

    def goal(name: str, measured: str, ok: bool | None) -> None:
        goals.append({"goal": name, "measured": measured, "result": verdict(ok)})
        print(f"  {verdict(ok):<4}  {name:<40} {measured}")

    for path in PATHS:
        ratio = summary[path]["ratio"]
        goal(
            f"{path}: ratio action/script <= {GOAL_RATIO[path]}",
            f"{ratio:.2f}" if isinstance(ratio, float) else "(--action-only)",
            ratio <= GOAL_RATIO[path] if isinstance(ratio, float) else None,
        )
    for path in PATHS:
        median = m.results[path]["action"].median
        goal(
            f"{path}: action median <= {GOAL_ACTION_SECONDS} s",
            f"{median:.3f} s",
            median <= GOAL_ACTION_SECONDS,
        )
    for path in PATHS:
        action = m.results[path]["action"]
        goal(
            f"{path}: <= {GOAL_CALLS[path]} AWS calls + {GOAL_POSTS} POST",
            f"{action.calls} + {action.posts}",
            action.calls <= GOAL_CALLS[path] and action.posts <= GOAL_POSTS,
        )
    goal(
        f"checks before a deploy: <= {GOAL_CHECK_CALLS} AWS calls",
        f"{len(m.check_calls)} ({' '.join(m.check_calls)})",
        len(m.check_calls) <= GOAL_CHECK_CALLS,
    )
    return goals


def print_imports(m: Measured) -> tuple[list[tuple[ImportLine, int]], list[tuple[str, int]]]:
    """The slowest imports and packages; returns both lists for the JSON."""
    print(
        f"\nImport time of the action, warm path (-X importtime, median per module; all imports {m.import_total / 1e6:.3f} s, inflated by importtime itself)"
    )
    if m.imports_overlapped:
        print(
            "  (some imports ran in two threads at once: -X importtime's self times went "
            "negative and the total above is too low; time the imports in one thread instead)"
        )
    print("  top 10 by cumulative time:")
    print(f"  {'cumul ms':>9} {'self ms':>8}  module (indent = nesting)")
    top = sorted(m.imports, key=lambda item: item[0].cumulative_us, reverse=True)[:10]
    for line, _ in top:
        print(
            f"  {line.cumulative_us / 1000:>9.1f} {line.self_us / 1000:>8.1f}  {'  ' * line.depth}{line.name}"
        )
    print(
        "  self time by top-level package (its own modules only; stdlib modules count as themselves):"
    )
    third_party = sorted(m.packages.items(), key=lambda kv: kv[1], reverse=True)[:12]
    for name, us in third_party:
        print(f"  {us / 1000:>9.1f}  {name}")
    return top, third_party


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    m = measure(args)
    summary = print_table(m)
    goals = print_goals(m, summary)
    top, third_party = print_imports(m)
    if args.json:
        document = {
            "rounds": m.rounds,
            "latency_ms": args.latency_ms,
            "sides": list(m.sides),
            "paths": summary,
            "python_floor_median_s": statistics.median(m.floor),
            "goals": goals,
            "before_deploy_calls": m.check_calls,
            "imports": {
                "total_s": m.import_total / 1e6,
                "overlapped": m.imports_overlapped,
                "top_cumulative": [
                    {
                        "module": line.name,
                        "cumulative_ms": line.cumulative_us / 1000,
                        "self_ms": line.self_us / 1000,
                    }
                    for line, _ in top
                ],
                "packages_ms": {k: v / 1000 for k, v in third_party},
            },
        }
        Path(args.json).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
