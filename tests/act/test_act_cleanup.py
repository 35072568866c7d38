"""Every container a test starts is removed, whatever the outcome: act keeps a failed
job's container, and a timeout kills act (or the `docker` client), not the container."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.act import git_repository, run_workflow
from support.docker_action import containers_labelled, run_label

FAILS = """name: Cleanup
on: push
jobs:
  fails:
    runs-on: ubuntu-latest
    steps:
      - run: exit 3
"""
OUTLIVES = """name: Cleanup
on: push
jobs:
  outlives:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 300
"""


def repository(dest: Path, workflow: str) -> Path:
    (dest / ".github" / "workflows").mkdir(parents=True)
    (dest / ".github" / "workflows" / "cleanup.yml").write_text(workflow)
    return git_repository(dest)


def test_a_failed_jobs_container_is_removed(tmp_path: Path) -> None:
    label = run_label()

    run = run_workflow(repository(tmp_path / "repo", FAILS), label=label)

    assert run.returncode != 0, run.log
    assert containers_labelled(label) == []


def test_a_timed_out_jobs_container_is_removed(tmp_path: Path) -> None:
    label = run_label()

    with pytest.raises(subprocess.TimeoutExpired):
        run_workflow(repository(tmp_path / "repo", OUTLIVES), label=label, timeout=20)

    assert containers_labelled(label) == []
