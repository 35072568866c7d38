"""The repository's workflows, examples and their linters.

Lints every GitHub workflow and GitHub example with actionlint and zizmor, holds
the GitLab and CodeCatalyst examples to the action's real input names, and checks
the supply-chain rules (top-level `permissions:`, actions pinned by commit).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.action import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLES = ROOT / "examples"
# GitLab's format, not a GitHub workflow.
GITLAB_EXAMPLE = EXAMPLES / "gitlab-ci.yml"
CODECATALYST_EXAMPLE = EXAMPLES / "codecatalyst.yaml"
GITHUB_EXAMPLES = sorted(p for p in EXAMPLES.glob("*.yml") if p != GITLAB_EXAMPLE)
ALL_EXAMPLES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in {".yml", ".yaml"})
ZIZMOR_CONFIG = ROOT / ".github" / "zizmor.yml"

# What users write to use this action or its reusable workflow: a release tag, not
# a SHA, because it is the action itself (see .github/zizmor.yml).
OWN_REPOSITORY = "ampaction/amplify-gen2-deploy"
SHA_PINNED = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")


def _tool(name: str) -> str:
    """The tool on PATH, else the one installed beside this Python (the dev venv)."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.prefix) / "bin"))
    if found is None:
        pytest.fail(f"`{name}` is not installed: pip install -r requirements-dev.txt")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # The venv's bin first, so that actionlint finds the pinned shellcheck there
    # on every machine, and so that its results do not depend on the host.
    env = {"PATH": f"{Path(sys.prefix) / 'bin'}:/usr/bin:/bin", "NO_COLOR": "1"}
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _action_inputs() -> set[str]:
    return set(_load(ROOT / "action.yml")["inputs"])


def _rel(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def test_there_is_something_to_check() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "release.yml", "amplify-deploy.yml"} <= names
    assert {p.name for p in ALL_EXAMPLES} >= {
        "single-branch.yml",
        "matrix.yml",
        "monorepo.yml",
        "reusable-caller.yml",
        "gitlab-ci.yml",
        "codecatalyst.yaml",
    }


def test_actionlint_finds_nothing() -> None:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.prefix) / "bin"))
    args = [_tool("actionlint"), "-no-color"]
    if shellcheck:
        args += ["-shellcheck", shellcheck]
    result = _run(*args, *_rel(WORKFLOWS), *_rel(GITHUB_EXAMPLES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    result = _run(
        _tool("zizmor"),
        "--offline",
        "--min-severity",
        "low",
        "--no-progress",
        "--color",
        "never",
        "--config",
        str(ZIZMOR_CONFIG),
        ".github/",
        "action.yml",
        *_rel(GITHUB_EXAMPLES),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _entrypoint_flags(commands: list[str]) -> list[str]:
    """The `--flag` names given to entrypoint.py in these shell commands."""
    flags: list[str] = []
    for command in commands:
        words = shlex.split(command)
        starts = [i for i, w in enumerate(words) if w.endswith("/entrypoint.py")]
        if not starts:
            continue
        for word in words[starts[0] + 1 :]:
            if word.startswith("--"):
                flags.append(word[2:].split("=", 1)[0])
    return flags


def _gitlab_commands() -> list[str]:
    commands: list[str] = []
    for name, job in _load(GITLAB_EXAMPLE).items():
        if isinstance(job, dict) and "script" in job:
            image = job["image"]
            assert image["entrypoint"] == [""], f"{name}: the image's ENTRYPOINT must be cleared"
            assert image["name"].startswith("ghcr.io/ampaction/amplify-gen2-deploy:")
            commands += job["script"]
    return commands


def _codecatalyst_commands() -> list[str]:
    commands: list[str] = []
    for action in _load(CODECATALYST_EXAMPLE)["Actions"].values():
        config = action["Configuration"]
        assert config["Container"]["Image"].startswith("ghcr.io/ampaction/amplify-gen2-deploy:")
        commands += [step["Run"] for step in config["Steps"]]
    return commands


@pytest.mark.parametrize(
    "read_commands",
    [_gitlab_commands, _codecatalyst_commands],
    ids=["gitlab-ci.yml", "codecatalyst.yaml"],
)
def test_other_ci_examples_use_real_input_names(read_commands: Any) -> None:
    commands = read_commands()
    assert any("/opt/ampaction/venv/bin/python /opt/ampaction/entrypoint.py" in c for c in commands)
    flags = _entrypoint_flags(commands)
    unknown = sorted(set(flags) - _action_inputs())
    assert not unknown, f"not inputs of action.yml: {unknown}"
    assert {"app-id", "branch"} <= set(flags)


def test_every_example_is_linked_from_the_readme() -> None:
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("README.md is not written yet (the lead writes it)")
    text = readme.read_text(encoding="utf-8")
    missing = [p.name for p in ALL_EXAMPLES if f"examples/{p.name}" not in text]
    assert not missing, f"README.md does not link: {missing}"


@pytest.mark.parametrize("path", WORKFLOWS + GITHUB_EXAMPLES, ids=lambda p: p.name)
def test_workflow_has_top_level_permissions(path: Path) -> None:
    assert "permissions" in _load(path), f"{path.name}: set `permissions:` at the top"


def _uses(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "uses" and isinstance(v, str)]
        return found + [u for v in node.values() for u in _uses(v)]
    if isinstance(node, list):
        return [u for v in node for u in _uses(v)]
    return []


@pytest.mark.parametrize("path", WORKFLOWS + GITHUB_EXAMPLES, ids=lambda p: p.name)
def test_remote_actions_are_pinned_by_commit(path: Path) -> None:
    unpinned = []
    for ref in _uses(_load(path)):
        if ref.startswith(("./", "$/", "docker://")):
            continue
        name = ref.split("@", 1)[0]
        if name == OWN_REPOSITORY or name.startswith(OWN_REPOSITORY + "/"):
            continue
        if not SHA_PINNED.match(ref):
            unpinned.append(ref)
    assert not unpinned, f"{path.name}: pin these by a full commit SHA: {unpinned}"
