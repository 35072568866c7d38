"""Skipping what has nothing to do: an install that `node_modules` already holds, and a
backend deploy whose files are those of the branch's last successful deploy.

The install: npm writes what it installed to `node_modules/.package-lock.json`.
When every package listed there is the lockfile's and is still on disk with the
package.json it was installed with, the `.bin` links npm made are all there, the
lockfile lists nothing more (beyond what npm left out for this platform last
time), and the install ran with the same Node major on the same platform and
architecture (recorded here after each successful `npm ci`, since npm does not
record them), `npm ci` would delete and unpack the same files again. pnpm and
yarn make this check themselves.

The backend: a hash of its files (`amplify/**`, package.json, the lockfile,
`backend-paths`) by path and content, so it is the same on any machine and in
any order; it is kept on the Amplify branch as a tag after a successful deploy.
The tag is only a cache: no tag, or another value, means deploy. A matching tag
vouches for the stack only while the stack stands: when the branch's stack is
gone (a teardown that stopped halfway, a stack deleted by hand), is not in a
finished state, or cannot be read, the run deploys.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ampaction.amplify import Amplify
from ampaction.cloudformation import CloudFormation
from ampaction.errors import ActionError
from ampaction.process import output_of
from ampaction.project import LOCKFILES
from ampaction.workflow import Workflow

INSTALL_RECORD = ".ampaction-install.json"  # in node_modules, so it goes where node_modules goes
NPM_RECORD = ".package-lock.json"
# Fields of package.json that `npm ci` checks against the lockfile.
DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
# Scripts `npm ci` runs for the project itself: they may write files outside
# node_modules, which a restored node_modules does not bring back.
INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "preprepare", "prepare", "postprepare")

HASH_TAG = "amplify-pipeline-deploy:backend-hash"
DEPLOY_TAG = "amplify-pipeline-deploy:backend-deploy"  # which deploy set the hash
TAGS = (HASH_TAG, DEPLOY_TAG)
_HASH_FORMAT = "ampaction-backend-hash/1\n"  # changing what is hashed: change this
_NOT_HASHED_DIRS = {"node_modules", ".git"}
# What a deploy writes (`outputs-out-dir` may point into amplify/): not the backend's source.
_NOT_HASHED_PREFIX = "amplify_outputs."
# Stack states that hold a finished deploy: what a matching tag may vouch for.
_STANDING = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}


@dataclass(frozen=True)
class NodeRuntime:
    """The Node that installs and runs the project: what native packages are built for."""

    version: str
    platform: str
    arch: str

    @property
    def major(self) -> str:
        return self.version.split(".", 1)[0]

    @property
    def shown(self) -> str:
        return f"Node {self.major} on {self.platform}-{self.arch}"


def node_runtime(node: str, env: Mapping[str, str]) -> NodeRuntime | None:
    script = "JSON.stringify([process.versions.node, process.platform, process.arch])"
    said = output_of([node, "-p", script], env=env)
    try:
        version, platform, arch = json.loads(said or "")
    except ValueError:
        return None
    return NodeRuntime(str(version), str(platform), str(arch))


# -- the install ---------------------------------------------------------------


def npm_install_current(project: Path, runtime: NodeRuntime | None) -> tuple[bool, str]:
    """Whether `node_modules` already holds what `npm ci` would install, and why (not).

    The reason is empty when there is no node_modules at all: nothing to say.
    """
    modules = project / "node_modules"
    if not modules.is_dir():
        return False, ""
    record = _read_json(modules / INSTALL_RECORD)
    installed = _packages(_read_json(modules / NPM_RECORD))
    locked = _packages(_read_json(project / "package-lock.json"))
    why_not = _other_install(record, runtime)
    if not why_not and (installed is None or locked is None):
        what = "node_modules/.package-lock.json" if installed is None else "package-lock.json"
        why_not = f"{what} lists no packages"
    if why_not or record is None or runtime is None or installed is None or locked is None:
        return False, why_not
    absent = set(record.get("not-on-disk", []))
    why_not = (
        _scripts_to_run(project, locked)
        or _differing(installed, locked, set(record.get("not-installed", [])))
        or _changed_on_disk(project, installed, absent)
        or _changed_manifest(project, installed, record.get("manifests"), absent)
        or _missing_link(project, installed, absent, set(record.get("not-linked", [])))
    )
    if why_not:
        return False, why_not
    return True, (
        f"node_modules already matches package-lock.json ({len(installed)} packages, "
        f"installed with {runtime.shown})"
    )


def _other_install(record: Mapping[str, Any] | None, runtime: NodeRuntime | None) -> str:
    """Why the install that made node_modules is not one this Node could have made, or ''."""
    if record is None:
        return "node_modules was not installed by this action (no record of the install)"
    if runtime is None:
        return "the version of Node could not be read"
    made = NodeRuntime(
        str(record.get("node")), str(record.get("platform")), str(record.get("arch"))
    )
    if (made.major, made.platform, made.arch) != (runtime.major, runtime.platform, runtime.arch):
        return f"node_modules was installed with {made.shown}, this is {runtime.shown}"
    return ""


def record_npm_install(project: Path, runtime: NodeRuntime | None) -> None:
    """After a successful `npm ci`: what npm's own record cannot say (Node, platform)."""
    modules = project / "node_modules"
    installed = _packages(_read_json(modules / NPM_RECORD))
    locked = _packages(_read_json(project / "package-lock.json"))
    if runtime is None or installed is None or locked is None:
        return
    record = {
        "node": runtime.version,
        "platform": runtime.platform,
        "arch": runtime.arch,
        # Optional packages for other platforms, which npm leaves out.
        "not-installed": sorted(set(locked) - set(installed)),
        # Packages npm lists that a fresh install did not put on disk either: bundled
        # dependencies a package's tarball lacks (real Gen 2 lockfiles have some).
        "not-on-disk": sorted(key for key, _ in _not_on_disk(project, installed)),
        # What each package's package.json was: an edit that keeps the version shows.
        "manifests": dict(_manifests(project, installed)),
        # The .bin links npm did not make (`bin-links=false`): it would not make them again.
        "not-linked": sorted(
            link for link, _ in _bin_links(installed) if not _linked(project, link)
        ),
    }
    (modules / INSTALL_RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def forget_npm_install(project: Path) -> None:
    """Before `npm ci`: should it fail halfway, no record may vouch for what is left."""
    (project / "node_modules" / INSTALL_RECORD).unlink(missing_ok=True)


def _scripts_to_run(project: Path, locked: Mapping[str, Any]) -> str:
    """Why `npm ci` must run for the project's own package.json files, or ''."""
    for key, entry in locked.items():
        if _in_node_modules(key):
            continue
        manifest = _read_json(project / key / "package.json") or {}
        where = f"{key}/package.json" if key else "package.json"
        for field in DEPENDENCY_FIELDS:
            if (manifest.get(field) or {}) != (entry.get(field) or {}):
                return f"{where} and package-lock.json differ in `{field}`"
        scripts = manifest.get("scripts") or {}
        ran = [name for name in INSTALL_SCRIPTS if isinstance(scripts, dict) and name in scripts]
        if ran:
            return f"{where} has a `{ran[0]}` script, which `npm ci` runs"
    return ""


def _differing(installed: Mapping[str, Any], locked: Mapping[str, Any], left_out: set[str]) -> str:
    for key, entry in installed.items():
        if locked.get(key) != entry:
            return f"`{_name(key)}` in node_modules is not the one in package-lock.json"
    for key in locked.keys() - installed.keys() - left_out:
        if key:  # the project itself is not in node_modules
            return f"`{_name(key)}` in package-lock.json is not in node_modules"
    return ""


def _changed_on_disk(project: Path, installed: Mapping[str, Any], absent: set[str]) -> str:
    """Why a package npm installed is no longer what it was (removed or changed by hand), or ''."""
    return next((why for key, why in _not_on_disk(project, installed) if key not in absent), "")


def _not_on_disk(project: Path, installed: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """The packages npm lists that are not on disk as it lists them, and how."""
    for key, entry in installed.items():
        if not _in_node_modules(key):
            continue
        folder = project / key
        manifest = None if entry.get("link") else _read_json(folder / "package.json")
        if not folder.exists() or (not entry.get("link") and manifest is None):
            yield key, f"`{_name(key)}` is missing from node_modules"
        elif manifest is not None and manifest.get("version") != entry.get("version"):
            yield key, f"`{_name(key)}` in node_modules is not the version npm installed"


def _manifests(project: Path, installed: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """The hash of each installed package's package.json, by its key."""
    for key, entry in installed.items():
        if _in_node_modules(key) and not entry.get("link"):
            try:
                data = (project / key / "package.json").read_bytes()
            except OSError:
                continue
            yield key, hashlib.sha256(data).hexdigest()


def _changed_manifest(
    project: Path, installed: Mapping[str, Any], recorded: object, absent: set[str]
) -> str:
    """Why a package's package.json is not the one npm installed, or ''."""
    if not isinstance(recorded, dict):
        return "node_modules was installed by an older version of this action"
    now = dict(_manifests(project, installed))
    for key in installed:
        if key in now and recorded.get(key) != now[key]:
            return f"`{_name(key)}` in node_modules is not as npm installed it (its package.json changed)"
        if key not in now and key in recorded and key not in absent:
            return f"`{_name(key)}` is missing from node_modules"
    return ""


def _bin_links(installed: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """The .bin links npm makes for the installed packages (`node_modules/.bin/tsc`), by key."""
    for key, entry in installed.items():
        if not _in_node_modules(key):
            continue
        # A linked package (`file:` folder, workspace) has its bins on the folder's entry.
        source = installed.get(str(entry.get("resolved")), {}) if entry.get("link") else entry
        bins = source.get("bin") if isinstance(source, dict) else None
        folder = key.rsplit("node_modules/", 1)[0] + "node_modules/.bin"
        for name in bins if isinstance(bins, dict) else ():
            yield f"{folder}/{str(name).rsplit('/', 1)[-1]}", key


def _linked(project: Path, link: str) -> bool:
    return (project / link).is_file()  # through the link: there, and its file too


def _missing_link(
    project: Path, installed: Mapping[str, Any], absent: set[str], unlinked: set[str]
) -> str:
    """Why a .bin link npm made at the install is gone (or leads nowhere), or ''."""
    for link, key in _bin_links(installed):
        if key not in absent and link not in unlinked and not _linked(project, link):
            return f"`{link}`, which npm links to `{_name(key)}`, is missing or broken"
    return ""


def _packages(lock: Mapping[str, Any] | None) -> dict[str, Any] | None:
    packages = (lock or {}).get("packages")
    return packages if isinstance(packages, dict) else None


def _in_node_modules(key: str) -> bool:
    return key.startswith("node_modules/") or "/node_modules/" in key


def _name(key: str) -> str:
    """`a` for node_modules/a; the whole path for a nested copy, which has namesakes."""
    return key.removeprefix("node_modules/") or "(the project)"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# -- the backend ---------------------------------------------------------------


@dataclass(frozen=True)
class BackendFiles:
    """The backend's files as one hash; `unmatched` are `backend-paths` that matched nothing."""

    digest: str
    count: int
    unmatched: tuple[str, ...]


def backend_hash(project: Path, backend_paths: Sequence[str]) -> BackendFiles:
    """Hash the backend's files by their paths (relative, `/`-separated) and contents.

    Links are followed where they stay in the project or in what `backend-paths`
    matches; one that leads elsewhere is an error, since its files would count
    unseen (a link to a folder) or not at all (os.walk does not follow it).
    """
    files: dict[str, Path] = {}
    for name in ("package.json", *LOCKFILES):
        if (project / name).is_file():
            files[name] = project / name
    matches = {
        pattern: glob.glob(pattern, root_dir=project, recursive=True, include_hidden=True)
        for pattern in backend_paths
    }
    bounds = [project.resolve()]
    bounds += [(project / m).resolve() for found in matches.values() for m in found]
    files.update(_files_under(project, "amplify", bounds))
    unmatched = []
    for pattern, found_paths in matches.items():
        found = {}
        for match in found_paths:
            path = project / match
            if path.is_file() and _hashed(_relative(match)):
                found[_relative(match)] = path
            elif path.is_dir() and _hashed(_relative(match) + "/"):
                found.update(_files_under(project, match, bounds))
        if not found:
            unmatched.append(pattern)
        files.update(found)
    digest = hashlib.sha256(_HASH_FORMAT.encode())
    for rel in sorted(files):
        try:
            content = hashlib.sha256(files[rel].read_bytes()).hexdigest()
        except OSError as e:
            raise ActionError(
                f"Cannot read `{rel}` to tell whether the backend changed: {e.strerror}.",
                title="Backend files unreadable",
            ) from None
        digest.update(f"{rel}\0{content}\n".encode())
    return BackendFiles(digest.hexdigest(), len(files), tuple(unmatched))


def _hashed(rel: str) -> bool:
    """Not a deploy's output, nor in a folder the package manager fills."""
    *folders, name = rel.split("/")
    return not _NOT_HASHED_DIRS & set(folders) and not name.startswith(_NOT_HASHED_PREFIX)


def _files_under(project: Path, folder: str, bounds: Sequence[Path]) -> Iterator[tuple[str, Path]]:
    """The files under `folder`, through links that stay within `bounds`."""
    if (project / folder).is_symlink():
        _inside(project, project / folder, bounds)
    yield from _walk(project, project / folder, _relative(folder), bounds, ())


def _walk(
    project: Path, here: Path, rel: str, bounds: Sequence[Path], above: tuple[Path, ...]
) -> Iterator[tuple[str, Path]]:
    # `above`: the real folders this walk came through; a link back to one is a loop.
    real = here.resolve()
    if real in above:
        return
    try:
        entries = sorted(os.scandir(here), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path, folder = Path(entry.path), entry.is_dir()
        if entry.name in _NOT_HASHED_DIRS if folder else entry.name.startswith(_NOT_HASHED_PREFIX):
            continue  # never hashed, wherever it leads
        if entry.is_symlink():
            _inside(project, path, bounds)
        if entry.is_dir():
            yield from _walk(project, path, f"{rel}/{entry.name}", bounds, (*above, real))
        elif entry.is_file():
            yield f"{rel}/{entry.name}", path


def _inside(project: Path, link: Path, bounds: Sequence[Path]) -> Path:
    """The link's real target, if within `bounds`; else an error naming the link."""
    target = link.resolve()
    if any(target == b or b in target.parents for b in bounds):
        return target
    shown = _relative(os.path.relpath(link, project))
    raise ActionError(
        f"`{shown}` is a link to `{target}`, outside the project: its files would count "
        "for the backend unseen. Add it to `backend-paths` if they are the backend's, "
        "or replace the link with the files.",
        title="Backend files outside the project",
    )


def _relative(path: str) -> str:
    """One spelling per file on every machine: normalized, `/`-separated, relative."""
    return os.path.normpath(path).replace(os.sep, "/")


@dataclass(frozen=True)
class BackendCache:
    """The branch's record of its last successful deploy, against the backend's files now."""

    files: BackendFiles
    tags: Mapping[str, str]
    stack_doubt: str = ""  # why the branch's stack may not be what the tag says, or ''

    @property
    def unchanged(self) -> bool:
        return self.tags.get(HASH_TAG) == self.files.digest and not self.stack_doubt

    @property
    def why_deploy(self) -> str:
        """Why a run with these files deploys, in words."""
        if self.stack_doubt:
            return f"as at {self.last_deploy}, but {self.stack_doubt}"
        last = self.tags.get(HASH_TAG)
        return f"the branch's last deploy had {last[:12]}" if last else "the branch has no hash"

    @property
    def last_deploy(self) -> str:
        """Which deploy the tag is from, in words."""
        return self.tags.get(DEPLOY_TAG) or "an earlier run"


def check_stack(
    cache: BackendCache, cfn: CloudFormation, stack_name: str, workflow: Workflow
) -> BackendCache:
    """A matching tag, checked against the branch's stack (one `DescribeStacks`, made only
    when the tag matches): the cache, with a doubt when the stack does not stand."""
    if not cache.unchanged:
        return cache  # the run deploys anyway
    try:
        stack = cfn.find_stack(stack_name)
    except ActionError as e:
        doubt = f"its stack {stack_name} could not be read"
        workflow.notice(
            f"The backend's files are those of {cache.last_deploy}, but {doubt} "
            f"(cloudformation:DescribeStacks): {e.message} So deploying, since the tag alone "
            "cannot tell whether the stack is still there.",
            title="Backend stack not checked",
        )
        return replace(cache, stack_doubt=doubt)
    status = (stack or {}).get("StackStatus")
    if status in _STANDING:
        return cache
    doubt = f"its stack {stack_name} " + (f"is {status}" if status else "does not exist")
    workflow.info(f"The backend's files are those of {cache.last_deploy}, but {doubt}: deploying.")
    return replace(cache, stack_doubt=doubt)


def deploy_tags(digest: str, run_id: str, now: dt.datetime | None = None) -> dict[str, str]:
    """The branch's tags after a successful deploy (values within the tag alphabet)."""
    when = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    deploy = f"run {run_id} at {when}" if run_id.isdigit() else f"the deploy at {when}"
    return {HASH_TAG: digest, DEPLOY_TAG: deploy}


def stale_tags(tags: Mapping[str, str]) -> list[str]:
    """Tags of ours on the branch, to remove before a deploy changes the backend."""
    return [key for key in TAGS if key in tags]


# -- the branch's tags (through amplify.py) -------------------------------------


def forget_deployed_hash(
    amplify: Amplify,
    branch: dict[str, Any],
    workflow: Workflow,
    *,
    caching: bool,
    tags: Mapping[str, str] | None = None,
) -> None:
    """Before a deploy or a stack's deletion: remove our tags (of the branch's `tags`,
    by default those `GetBranch` gave), so that a run that fails or is cancelled
    halfway leaves no hash that a later run could take for the stack's state.

    With `caching` (a deploy with `skip-unchanged-backend`) a failure to remove them
    stops the run; otherwise (a tag left from runs with it, a teardown) it only warns.
    """
    keys = stale_tags(branch.get("tags") or {} if tags is None else tags)
    if not keys:
        return
    try:
        amplify.untag_branch(branch, keys)
    except ActionError as e:
        if caching:
            raise
        workflow.warning(
            f"Could not remove the backend-hash tag that an earlier run left on branch "
            f"`{branch.get('branchName')}`: {e.message} A run with `skip-unchanged-backend` "
            "could then skip a deploy it should make; remove the tag by hand "
            f"(`aws amplify untag-resource --resource-arn <branch ARN> --tag-keys {HASH_TAG}`).",
            title="Backend-hash tag left behind",
        )


def remember_deployed_hash(
    amplify: Amplify,
    branch: dict[str, Any],
    files: BackendFiles,
    run_id: str,
    workflow: Workflow,
) -> None:
    """After a successful deploy: the hash on the branch, for the next run to compare."""
    try:
        amplify.tag_branch(branch, deploy_tags(files.digest, run_id))
    except ActionError as e:
        workflow.warning(
            f"The backend is deployed, but its hash could not be saved on branch "
            f"`{branch.get('branchName')}`, so the next run will deploy again: {e.message}",
            title="Backend hash not saved",
        )
        return
    workflow.info(f"Saved the backend's hash {files.digest[:12]} on the branch ({HASH_TAG}).")
