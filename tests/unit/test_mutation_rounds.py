"""benchmarks/mutation.py's two rounds: likely killers first, and no fast test file lost."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[2] / "benchmarks" / "mutation.py"


@pytest.fixture(scope="module")
def mutation():
    spec = importlib.util.spec_from_file_location("mutation_benchmark", HERE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    files = {
        "tests/unit/test_alpha.py": "from ampaction import (\n    inputs,\n    skip,\n)\n",
        "tests/unit/test_beta.py": "from ampaction.commands import deploy\n",
        "tests/unit/test_skip_names.py": "import json\n",
        "tests/unit/test_gamma.py": "from ampaction import deployment  # not deploy\n# skip\n",
        "tests/integration/test_delta.py": "import ampaction.frontends.webhook as hook\n",
        "tests/integration/test_epsilon.py": "x = 'from ampaction import skip'\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_files_importing_or_named_after_the_module_go_first(mutation, tree: Path) -> None:
    first, rest = mutation.rounds(mutation.Mutant("skip.py", "a", "b", "p"), tree)
    assert first == ["tests/unit/test_alpha.py", "tests/unit/test_skip_names.py"]
    assert "tests/integration/test_epsilon.py" in rest  # a string is not an import


def test_a_module_in_a_package_is_matched_by_its_dotted_name_or_import(mutation, tree) -> None:
    first, _ = mutation.rounds(mutation.Mutant("commands/deploy.py", "a", "b", "p"), tree)
    assert first == ["tests/unit/test_beta.py"]
    first, _ = mutation.rounds(mutation.Mutant("frontends/webhook.py", "a", "b", "p"), tree)
    assert first == ["tests/integration/test_delta.py"]


def test_the_hint_goes_first_and_every_fast_file_runs_in_one_round(mutation, tree) -> None:
    hinted = mutation.Mutant("skip.py", "a", "b", "p", tests="tests/integration/test_epsilon.py")
    first, rest = mutation.rounds(hinted, tree)
    assert first[0] == "tests/integration/test_epsilon.py"
    assert sorted(first + rest) == sorted(mutation.test_files(tree))
    assert not set(first) & set(rest)


def test_files_naming_the_snippets_strings_or_constants_go_first(mutation, tree) -> None:
    (tree / "tests/integration/test_delta.py").write_text("NOT_ARRIVED = 1\n", encoding="utf-8")
    snippet = 'if status in NOT_ARRIVED or x == "id":'
    first, _ = mutation.rounds(mutation.Mutant("trigger.py", snippet, "b", "p"), tree)
    assert first == ["tests/integration/test_delta.py"]
