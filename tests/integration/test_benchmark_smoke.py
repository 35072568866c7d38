"""benchmarks/trigger.py still runs, and the action's trigger stays within its call budget.

A smoke run (`--quick --action-only`: 3 rounds, no AWS CLI needed). Timings
are printed, not asserted: the machine is shared. The counts are asserted:
they do not depend on the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.action import ROOT


def test_trigger_benchmark_smoke(tmp_path: Path) -> None:
    results = tmp_path / "trigger.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "trigger.py"),
            "--quick",
            "--action-only",
            "--json",
            str(results),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,  # a safety net on a loaded machine, not a speed check
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for heading in ("path", "action s", "calls action", "Goals", "top 10 by cumulative time"):
        assert heading in out, out
    assert any(line.startswith("warm ") for line in out.splitlines()), out
    assert any(line.startswith("cold ") for line in out.splitlines()), out

    data = json.loads(results.read_text(encoding="utf-8"))
    assert data["rounds"] == 3
    assert data["sides"] == ["action"]
    warm, cold = data["paths"]["warm"], data["paths"]["cold"]
    # GetBranch, GetApp, ListWebhooks, and the ListJobs that notes the newest job before the POST.
    assert warm["action_calls"] <= 4, warm["action_operations"]
    assert warm["action_posts"] == 1
    assert cold["action_calls"] <= 6, cold["action_operations"]
    assert cold["action_posts"] == 1
    assert "CreateWebhook" in cold["action_operations"]
    assert "CreateWebhook" not in warm["action_operations"]
    # The checks before a deploy: the bootstrap version, the branch's stack, its secrets.
    assert data["before_deploy_calls"] == ["GetParameter", "DescribeStacks", "GetParameters"]
