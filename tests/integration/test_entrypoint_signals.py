"""The entrypoint is PID 1 in the container, which ignores signals it has no
handler for: the handler must be in place before the action's modules load."""

from __future__ import annotations

import subprocess
import sys

from support.action import ROOT

SPY = """
import builtins, runpy, signal, sys
real_import = builtins.__import__
seen = []
def spy(name, *args, **kwargs):
    if name.startswith("ampaction.") and name not in seen:
        seen.append(name)
        handled = signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN)
        print(f"{name} {'handled' if handled else 'UNHANDLED'}", flush=True)
    return real_import(name, *args, **kwargs)
builtins.__import__ = spy
sys.argv = [sys.argv[1], "--help"]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_sigterm_is_handled_before_the_action_modules_are_imported():
    proc = subprocess.run(
        [sys.executable, "-c", SPY, str(ROOT / "entrypoint.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )

    imports = dict(
        line.split() for line in proc.stdout.splitlines() if line.startswith("ampaction.")
    )
    assert "ampaction.main" in imports, proc.stdout + proc.stderr
    unhandled = {name for name, state in imports.items() if state == "UNHANDLED"}
    # Only the standard-library modules that install the handler may come first.
    assert unhandled <= {"ampaction.cancellation", "ampaction.errors"}, unhandled
    assert imports["ampaction.main"] == "handled"
