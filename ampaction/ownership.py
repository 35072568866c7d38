"""Files the action leaves in the workspace belong to the job's user.

The runner starts the container as root (no `--user`), so `node_modules`,
the package cache and `amplify_outputs.json` would be root's, while the
job's later steps run as the runner's user (uid 1001 on GitHub-hosted
runners): the user's build fails writing `node_modules/.vite` (EACCES), and
a self-hosted runner's next checkout cannot clean the workspace. When the
action ends, whatever in the workspace is root's goes to the workspace's
owner, as mounted. Symlinks are changed themselves, never followed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT_UID = 0


@dataclass(frozen=True)
class GivenBack:
    entries: int
    uid: int
    gid: int


def give_back(workspace: Path) -> GivenBack | None:
    """Chown root's entries under `workspace` to its owner; None when there is nothing to do
    (not running as root, or the workspace is root's)."""
    if os.geteuid() != ROOT_UID:
        return None
    owner = workspace.stat()
    if owner.st_uid == ROOT_UID:
        return None
    changed = 0
    for path in _roots_entries(workspace):
        try:
            os.chown(path, owner.st_uid, owner.st_gid, follow_symlinks=False)
            changed += 1
        except FileNotFoundError:  # removed while we walked (a child still exiting)
            continue
    return GivenBack(changed, owner.st_uid, owner.st_gid)


def _roots_entries(top: Path) -> list[str]:
    """Every entry under `top` owned by root, folders before what they hold."""
    found: list[str] = []
    stack = [str(top)]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if info.st_uid == ROOT_UID:
                found.append(entry.path)
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
    return found
