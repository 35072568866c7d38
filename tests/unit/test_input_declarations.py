"""The declarations in `ampaction/inputs.py` are the one list of inputs: action.yml,
the README's table, the `--flag` parser and `Settings` must agree with them, and
the outputs `Report` writes must be exactly action.yml's."""

from __future__ import annotations

import dataclasses
import re
import tomllib

import yaml
from support.action import ROOT

from ampaction import __version__
from ampaction.amplify import Amplify
from ampaction.inputs import INPUTS, Settings, flag_parser
from ampaction.report import Report

SPEC = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_inputs() -> dict[str, str]:
    """The README input table's default column, by input name."""
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (.*?) \| .*\|$", README, flags=re.MULTILINE)
    start = README.index("| input | default |")
    end = README.index("| output |")
    section = README[start:end]
    return {name: default for name, default in rows if f"| `{name}` |" in section}


def test_action_yml_declares_the_same_inputs_in_the_same_order():
    assert list(SPEC["inputs"]) == [i.name for i in INPUTS]


def test_action_yml_descriptions_and_defaults_are_the_declarations():
    for i in INPUTS:
        spec = SPEC["inputs"][i.name]
        assert spec["description"] == i.help, i.name
        default = str(spec.get("default", ""))
        if default.startswith("${{"):  # only the runner evaluates it; elsewhere: empty
            assert i.default == "", i.name
        else:
            assert i.default == default, i.name
        assert spec.get("required", False) == (i.name == "app-id"), i.name


def test_readme_table_lists_each_declared_input_with_its_default():
    shown = readme_inputs()
    assert list(shown) == [i.name for i in INPUTS]
    for i in INPUTS:
        default = str(SPEC["inputs"][i.name].get("default", ""))
        expected = (
            "**required**" if i.name == "app-id" else f"`{default}`" if default else "*(empty)*"
        )
        assert shown[i.name].replace("\\|", "|") == expected, i.name


def test_flag_parser_has_one_flag_per_declaration():
    flags = [a.option_strings[0] for a in flag_parser()._actions if a.option_strings[0] != "-h"]
    assert flags == [f"--{i.name}" for i in INPUTS]


def test_every_declaration_fills_a_settings_field():
    fields = {f.name for f in dataclasses.fields(Settings)}
    for i in INPUTS:
        assert i.settings_field in fields, i.name
    assert len({i.settings_field for i in INPUTS}) == len(INPUTS)


def test_report_writes_exactly_action_yml_outputs():
    assert list(Report().outputs) == list(SPEC["outputs"])


def test_the_version_is_one():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == __version__
    client = Amplify("us-east-1", 1, {}).client
    assert f"ampaction/{__version__}" in client.meta.config.user_agent_extra
