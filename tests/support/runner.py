"""The GitHub runner's side of a Docker action, reproduced for tests.

What the runner hands the action (`INPUT_*` names with hyphens kept, the
`GITHUB_*` file commands, `HOME`, `RUNNER_*`) and how it reads the results
back (outputs with the heredoc rules of `FileCommandManager.cs`, workflow
commands on stdout/stderr). The facts behind it: RUNNER.md, beside this file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Nothing from the test process leaks in but what a runner image always has.
_BASE_ENV = {
    "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
    "LANG": "C.UTF-8",
    # botocore would otherwise look for credentials at the EC2 metadata
    # address: tests send traffic to loopback only.
    "AWS_EC2_METADATA_DISABLED": "true",
}
# No runner sets this: when the test run measures coverage, the entrypoint run as a
# process measures itself too (coverage's .pth hook reads it). See tests/README.md.
COVERAGE_VARIABLE = "COVERAGE_PROCESS_CONFIG"


@dataclass
class RunnerFiles:
    """The runner's temp folders for one step: file commands, home, workflow."""

    root: Path
    workspace: Path

    def __post_init__(self) -> None:
        for sub in ("_runner_file_commands", "_github_home", "_github_workflow"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for name in ("set_output", "set_env", "step_summary", "save_state", "add_path"):
            self.file_command(name).touch()

    @property
    def file_commands(self) -> Path:
        return self.root / "_runner_file_commands"

    @property
    def home(self) -> Path:
        return self.root / "_github_home"

    @property
    def workflow(self) -> Path:
        return self.root / "_github_workflow"

    def file_command(self, name: str) -> Path:
        return self.file_commands / f"{name}_0"

    def outputs(self) -> dict[str, str]:
        return parse_key_values(self.file_command("set_output").read_text(encoding="utf-8"))

    def summary(self) -> str:
        return self.file_command("step_summary").read_text(encoding="utf-8")


def runner_env(
    inputs: Mapping[str, str],
    files: RunnerFiles,
    *,
    declared: Mapping[str, str] | None = None,
    job_env: Mapping[str, str] | None = None,
    paths: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment a runner gives a Docker action's process.

    `declared` holds every input of action.yml with its default: the runner
    sets each one (empty when it has no default), then the step's `with:`
    (`inputs`) wins. `paths` rewrites the file-command and workspace paths as
    the container sees them (`/github/...`); by default they are host paths.
    """
    env = dict(_BASE_ENV)
    if COVERAGE_VARIABLE in os.environ:
        env[COVERAGE_VARIABLE] = os.environ[COVERAGE_VARIABLE]
    env.update(job_env or {})
    merged = dict(declared or {})
    merged.update(inputs)
    for name, value in merged.items():
        env["INPUT_" + name.replace(" ", "_").upper()] = value
    p = {
        "workspace": str(files.workspace),
        "file_commands": str(files.file_commands),
        "home": str(files.home),
    }
    p.update(paths or {})
    fc = p["file_commands"]
    env.update(
        {
            "HOME": p["home"],
            "GITHUB_ACTIONS": "true",
            "CI": env.get("CI", "true"),
            "GITHUB_WORKSPACE": p["workspace"],
            "GITHUB_OUTPUT": f"{fc}/set_output_0",
            "GITHUB_ENV": f"{fc}/set_env_0",
            "GITHUB_STEP_SUMMARY": f"{fc}/step_summary_0",
            "GITHUB_STATE": f"{fc}/save_state_0",
            "GITHUB_PATH": f"{fc}/add_path_0",
            "GITHUB_REPOSITORY": "octo/app",
            "GITHUB_RUN_ID": "42",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REF_NAME": env.get("GITHUB_REF_NAME", "main"),
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": "/home/runner/work/_temp",
        }
    )
    return env


def parse_key_values(text: str) -> dict[str, str]:
    """Read GITHUB_OUTPUT as the runner does: `k=v`, or `k<<DELIM` … `DELIM`.

    Lines split on LF only; a heredoc value keeps its inner line breaks.
    Anything malformed raises, as it fails the step on a real runner.
    """
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line == "":
            continue
        heredoc = re.fullmatch(r"([^=<]+)<<(.+)", line)
        if heredoc and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = heredoc.group(1), heredoc.group(2)
            body: list[str] = []
            while True:
                if i >= len(lines):
                    raise ValueError(f"output {name!r}: no closing delimiter")
                current = lines[i]
                i += 1
                if current == delimiter:
                    break
                body.append(current)
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise ValueError(f"malformed line in GITHUB_OUTPUT: {line!r}")
    return values


_COMMAND = re.compile(r"^\s*::([A-Za-z0-9_-]+)(?: ([^:]*))?::(.*)$")


@dataclass
class Command:
    name: str
    properties: dict[str, str]
    message: str


@dataclass
class CommandLog:
    """Workflow commands as the runner would act on them, honouring stop-commands."""

    commands: list[Command] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> CommandLog:
        log = cls()
        stop_token: str | None = None
        for line in text.splitlines():
            m = _COMMAND.match(line)
            if stop_token is not None:
                if m and m.group(1) == stop_token and not m.group(2):
                    stop_token = None
                continue
            if not m:
                # The runner tries `::name::` first (ActionCommandManager.TryProcessCommand),
                # then the legacy `##[name]`, which counts anywhere in a line.
                legacy = re.search(r"##\[([a-z-]+)\](.*)", line)
                if legacy:
                    log.commands.append(Command(legacy.group(1), {}, legacy.group(2)))
                continue
            name, props, message = m.group(1), m.group(2) or "", m.group(3)
            if name == "stop-commands":
                stop_token = message
                continue
            properties = {}
            for pair in filter(None, props.split(",")):
                key, _, value = pair.partition("=")
                properties[key] = _unescape(value, prop=True)
            log.commands.append(Command(name, properties, _unescape(message)))
        return log

    def named(self, name: str) -> list[Command]:
        return [c for c in self.commands if c.name == name]

    def errors(self) -> list[str]:
        return [c.message for c in self.named("error")]


def _unescape(value: str, *, prop: bool = False) -> str:
    value = value.replace("%0D", "\r").replace("%0A", "\n")
    if prop:
        value = value.replace("%3A", ":").replace("%2C", ",")
    return value.replace("%25", "%")
