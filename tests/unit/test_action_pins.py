"""The actions users pair with ours are pinned by commit, the same commit everywhere.

Dependabot bumps .github/workflows/; the README and examples/ (which Dependabot does
not read) must then follow, and this test says where they differ.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
USES = re.compile(r"uses:\s*([\w.-]+/[\w./-]+)@(\S+)(?:[ \t]+#[ \t]*(\S+))?")
# The majors we pin (Node 24 actions).
MAJORS = {"actions/checkout": "v7", "aws-actions/configure-aws-credentials": "v6"}
OURS = "ampaction/amplify-gen2-deploy"


def shipped_files() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / ".github" / "workflows").glob("*.yml"))]
    files += [p for p in sorted((ROOT / "examples").glob("*.yml")) if p.name != "gitlab-ci.yml"]
    return files


def pins() -> dict[str, set[tuple[str, str, str]]]:
    found: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for path in shipped_files():
        for action, ref, comment in USES.findall(path.read_text(encoding="utf-8")):
            found[action].add((ref, comment or "", path.relative_to(ROOT).as_posix()))
    return found


@pytest.mark.parametrize("action", sorted(MAJORS))
def test_one_commit_everywhere(action: str) -> None:
    uses = pins()[action]
    assert uses, f"{action} is used nowhere"
    refs = {(ref, comment) for ref, comment, _ in uses}
    places = sorted(f"{where}: {ref} # {comment}" for ref, comment, where in uses)
    assert len(refs) == 1, f"{action} pinned differently:\n" + "\n".join(places)
    ((ref, comment),) = refs
    assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action}@{ref} is not a commit"
    assert comment.split(".")[0] == MAJORS[action], f"{action} {comment}: want {MAJORS[action]}"
    files = {where for _, _, where in uses}
    assert "README.md" in files and any(f.startswith("examples/") for f in files)


def test_every_other_action_is_pinned_by_commit() -> None:
    for action, uses in pins().items():
        for ref, _, where in uses:
            if action.startswith(OURS) or action.startswith("./"):
                continue
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{where}: {action}@{ref} not by commit"
