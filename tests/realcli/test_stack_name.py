"""`backend_stack_name` against the real `@aws-amplify/platform-core`.

The package (the version the real CLI fixture locks) is installed from the npm
registry into a temporary folder, and its own
`BackendIdentifierConversions.toStackName` names the stacks; the action's
reimplementation must give the same names, byte for byte, including for
branches with `/`, with characters the stack name drops, and longer than the
50 characters it keeps.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.action import ROOT

from ampaction.cloudformation import backend_stack_name

pytestmark = [pytest.mark.realcli, pytest.mark.timeout(600)]

PLATFORM_CORE = "@aws-amplify/platform-core@1.12.1"  # as in tests/fixtures/real-cli-app
NAMES = [
    ("d1a2b3c4d5e6f7", "main"),
    ("d1a2b3c4d5e6f7", "feature/login"),
    ("d1a2b3c4d5e6f7", "dependabot/npm_and_yarn/aws-amplify/backend-cli-1.10.0"),
    ("d1a2b3c4d5e6f7", "Release_2.0.x"),
    ("d1a2b3c4d5e6f7", "user/ünïcödé-branch"),
    ("d1a2b3c4d5e6f7", "very-long-" + "abcdefghij" * 12 + "/and/more"),
    ("d3" + "9" * 18, "p" * 255),
]


@pytest.fixture(scope="module")
def platform_core(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("platform-core")
    (ROOT / ".cache" / "npm").mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "npm",
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefer-offline",
            PLATFORM_CORE,
        ],
        cwd=folder,
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(folder),
            "npm_config_cache": str(ROOT / ".cache" / "npm"),
        },
        check=True,
        capture_output=True,
        timeout=540,
    )
    return folder


def test_stack_names_match_the_real_package(platform_core: Path) -> None:
    script = (
        "const { BackendIdentifierConversions } = require('@aws-amplify/platform-core');"
        "for (const [namespace, name] of JSON.parse(process.argv[1]))"
        "  console.log(BackendIdentifierConversions.toStackName({ namespace, name, type: 'branch' }));"
    )
    real = subprocess.run(
        ["node", "-e", script, json.dumps(NAMES)],
        cwd=platform_core,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.splitlines()

    assert real == [backend_stack_name(app, branch) for app, branch in NAMES]
    assert all(len(name) <= 128 for name in real)
    assert len({*real}) == len(NAMES)
