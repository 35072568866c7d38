"""The action under test, as every test and benchmark sees it: where the repository
is, what action.yml declares, and the app and credentials a run is given."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "entrypoint.py"

# The app the simulator serves in every test; Amplify's ids look like this.
APP_ID = "d1a2b3c4d5e6f7"
REGION = "us-east-1"
# Accepted by the simulator, useless anywhere else.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDTEST",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-test-key",  # masked in every run: not a word a message uses
    "AWS_REGION": REGION,
}
# What a job's GITHUB_TOKEN looks like; the `github` fixture's server accepts only it.
GITHUB_TOKEN = "ghs_" + "t0k3n" * 8


def declared_inputs(branch: str = "main") -> dict[str, str]:
    """action.yml's inputs with their defaults, as the runner sets them.

    Two default to expressions the runner evaluates: `branch`
    (`github.head_ref || github.ref_name`), here `branch`, and `github-token`
    (`github.token`, the job's token), here none.
    """
    spec = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    declared = {name: str(i.get("default", "")) for name, i in spec["inputs"].items()}
    declared["branch"] = branch
    declared["github-token"] = ""
    return declared
