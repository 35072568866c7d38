"""The README is for users: it must list every input and output of action.yml
with the same default, and link every example."""

from __future__ import annotations

import re

import yaml
from support.action import ROOT

from ampaction.inputs import DEFAULTS

README = (ROOT / "README.md").read_text(encoding="utf-8")
SPEC = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


def table(header: str) -> dict[str, list[str]]:
    """Rows of the Markdown table whose first column is `header`, by their first cell."""
    rows: dict[str, list[str]] = {}
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header} |"))
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_every_input_is_in_the_readme_with_its_default():
    inputs = table("input")
    assert set(inputs) == set(SPEC["inputs"])
    for name, spec in SPEC["inputs"].items():
        default = str(spec.get("default", ""))
        shown = inputs[name][0]
        if spec.get("required"):
            assert shown == "**required**", name
        elif default:
            assert shown == f"`{default}`", name
        else:
            assert shown == "*(empty)*", name


def test_the_code_defaults_are_action_yml_defaults():
    """Other CI systems get no defaults from the runner: the code must carry the same."""
    for name, spec in SPEC["inputs"].items():
        default = str(spec.get("default", ""))
        if default.startswith("${{"):  # an expression only the runner evaluates
            assert DEFAULTS[name] == ""
        else:
            assert DEFAULTS[name] == default, name
    assert set(DEFAULTS) == set(SPEC["inputs"])


def test_every_output_is_in_the_readme():
    assert set(table("output")) == set(SPEC["outputs"])


def test_every_example_is_linked():
    for example in sorted((ROOT / "examples").iterdir()):
        assert f"](examples/{example.name})" in README, example.name


def test_the_test_command_is_what_ci_runs():
    assert "bash .ci/run" in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in ("python -m coverage run -m pytest", "python -m coverage report"):
        assert command in ci and f".venv/bin/{command}" in README
