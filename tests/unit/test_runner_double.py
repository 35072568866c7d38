"""The runner double's environment is sealed: nothing of the test machine's reaches the
entrypoint but what a runner image has, and coverage's variable when the run measures."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.docker_action import action_env
from support.runner import COVERAGE_VARIABLE, RunnerFiles, runner_env


@pytest.fixture
def files(tmp_path: Path) -> RunnerFiles:
    return RunnerFiles(tmp_path / "runner", tmp_path / "workspace")


def test_the_machines_environment_stays_out_but_coverage_passes(files, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-the-machine")
    monkeypatch.setenv("INPUT_WEBHOOK-URL", "https://example.invalid/?token=x")
    monkeypatch.setenv(COVERAGE_VARIABLE, "{}")

    env = runner_env({"app-id": "d1"}, files)

    assert "AWS_SECRET_ACCESS_KEY" not in env and "INPUT_WEBHOOK-URL" not in env
    assert env[COVERAGE_VARIABLE] == "{}"
    assert env["INPUT_APP-ID"] == "d1"


def test_without_coverage_there_is_no_coverage_variable(files, monkeypatch):
    monkeypatch.delenv(COVERAGE_VARIABLE, raising=False)
    assert COVERAGE_VARIABLE not in runner_env({}, files)


def test_the_container_never_gets_the_coverage_variable(files, monkeypatch):
    monkeypatch.setenv(COVERAGE_VARIABLE, "{}")
    assert COVERAGE_VARIABLE not in action_env({}, files)
