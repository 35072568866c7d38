"""A plain deploy loads only what it uses: what one other command or input needs is
imported when that command or input is used (issue 18, item 4, "Startup").

Checked in a fresh interpreter, by what is in `sys.modules` after the deploy path's
imports: the time they take is the benchmark's business (benchmarks/trigger.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

from support.action import ROOT

# What a deploy through the webhook imports, in the entrypoint's order.
DEPLOY_PATH = """
import json, sys
from ampaction.cancellation import Cancellation
from ampaction.main import main
from ampaction.commands import deploy
from ampaction.frontends import webhook
print(json.dumps(sorted(sys.modules)))
"""

# Each with the command or input that alone needs it.
NOT_FOR_A_DEPLOY = {
    "zipfile": "`frontend-artifact` (a .zip, and the upload)",
    "ampaction.artifact": "`frontend-artifact`",
    "ampaction.manual_deploy": "`frontend-artifact`",
    "ampaction.frontends.manual": "`frontend-artifact`",
    "ampaction.github": "a pull request's comment",
    "ampaction.pr_comment": "a pull request's comment",
    "ampaction.commands.teardown": "`command: teardown`",
    "ampaction.teardown": "`command: teardown`",
}


def test_a_deploy_imports_nothing_that_only_another_command_or_input_uses() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", DEPLOY_PATH],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = set(json.loads(proc.stdout))
    assert "ampaction.commands.deploy" in loaded  # the path was imported at all
    early = {name: why for name, why in NOT_FOR_A_DEPLOY.items() if name in loaded}
    assert not early, f"imported on every deploy, though only needed for: {early}"
