"""benchmarks/upload.py still runs, and both sides deliver the zip to the server.

Timings are printed, not asserted: the machine is shared."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_upload_benchmark_smoke(tmp_path: Path) -> None:
    results = tmp_path / "upload.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "upload.py"), "--mb", "2", "--rounds", "2",
         "--json", str(results)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "action / curl:" in proc.stdout
    data = json.loads(results.read_text(encoding="utf-8"))
    assert data["rounds"] == 2 and len(data["seconds"]["curl"]) == 2
    assert 2.0 <= data["zip_mb"] < 2.1  # random files: stored, not deflated
