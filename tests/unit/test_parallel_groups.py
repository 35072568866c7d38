"""Under pytest-xdist, the tests that share the Docker engine take turns: every test of
`container/`, `act/` and `release/` is in the `engine` group (tests/conftest.py), and
`--dist loadgroup` runs a group on one worker, one test after another."""

from __future__ import annotations

import subprocess
import sys

from support.action import ROOT

ENGINE_FOLDERS = ("tests/container", "tests/act", "tests/release")


def collected(*args: str) -> tuple[set[str], str]:
    """The test ids pytest collects with `args`, and its last line (what it deselected)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 5), done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    return {line for line in lines if "::" in line}, (lines or [""])[-1]


def test_every_engine_test_is_in_the_engine_group() -> None:
    ungrouped, summary = collected("-m", "not xdist_group", *ENGINE_FOLDERS)
    assert not ungrouped, sorted(ungrouped)
    assert "deselected" in summary, summary  # there were engine tests to group


def test_the_fast_tests_are_not_held_to_one_worker() -> None:
    grouped, _ = collected("-m", "xdist_group", "tests/integration")
    # Only the tests that share the package managers' caches take turns.
    assert grouped, "the package-caches group is gone"
    assert all("test_package_managers.py" in test for test in grouped), sorted(grouped)
