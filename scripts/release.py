"""Cut a release: build and push the action's image, then tag a commit that names it by digest.

    python scripts/release.py VERSION --image REGISTRY/NAME [--build-arg NAME=VALUE ...]
                              [--platform P ...]
    python scripts/release.py VERSION --image REGISTRY/NAME --move-image-tags

`main` keeps `image: Dockerfile`, so `uses: ./`, `@main` and forks build from
source. A release is a commit on top of HEAD, on no branch, whose only change
is `action.yml`'s `image: docker://REGISTRY/NAME@sha256:DIGEST`: users of
`@vVERSION` and `@vMAJOR` pull that image and build nothing. The digest is read
back from the registry (its `Docker-Content-Digest`), never taken on trust from
the local engine. Pushing the git tags is the caller's job (the release
workflow), so a failed push leaves nothing half-published in git.

The image's moving tags (`:vMAJOR.MINOR`, `:vMAJOR`, which other CI systems name)
move last, in a second run with `--move-image-tags` once the git tag is on origin:
a publish that fails halfway must not leave `:v1` on a build no release names.
They are pointed at the digest the published tag's action.yml names.

Each outside system has its own section below: git, the Docker engine, the
registry's HTTP API.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import NoReturn

VERSION_RE = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
IMAGE_LINE_RE = re.compile(r"^(?P<indent>[ \t]+)image:[ \t]*['\"]?Dockerfile['\"]?[ \t]*$", re.M)
# What the registry may store for a tag: a multi-platform index or one image's manifest.
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


class ReleaseError(Exception):
    """Something the person releasing must fix; printed once, then exit 1."""


def fail(message: str) -> NoReturn:
    raise ReleaseError(message)


@dataclass(frozen=True)
class Request:
    version: str
    image: str  # REGISTRY/NAME, no tag, no digest
    build_args: tuple[str, ...]
    platforms: tuple[str, ...]
    move_image_tags: bool = False

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def major_tag(self) -> str:
        return f"v{self.version.split('.')[0]}"

    @property
    def registry(self) -> str:
        return self.image.split("/", 1)[0]

    @property
    def repository(self) -> str:
        return self.image.split("/", 1)[1]


def parse_args(argv: Sequence[str]) -> Request:
    parser = argparse.ArgumentParser(
        prog="python scripts/release.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Build and push the action's image as REGISTRY/NAME:vVERSION, read its digest\n"
            "back from the registry, "
            "and tag a commit on top of HEAD (on no branch) whose only change is\n"
            "action.yml's `image: docker://REGISTRY/NAME@sha256:DIGEST`. Tags vVERSION\n"
            "and moves the major tag (v1) to it, unless a newer v1.x.y exists.\n"
            "Refuses a dirty tree or an existing vVERSION. Pushes no git tag: that is\n"
            "the release workflow's job (.github/workflows/release.yml).\n"
            "Then, once the git tags are on origin, --move-image-tags points the image's\n"
            ":vMAJOR.MINOR and :vMAJOR (for CI systems that name it by tag) at it."
        ),
        epilog=(
            "example:\n"
            "  python scripts/release.py 1.2.0 --image ghcr.io/owner/repo \\\n"
            "      --platform linux/amd64 --platform linux/arm64\n"
            "  git push origin v1.2.0 && git push --force origin v1\n"
            "  python scripts/release.py 1.2.0 --image ghcr.io/owner/repo --move-image-tags\n"
        ),
    )
    parser.add_argument("version", metavar="VERSION", help="MAJOR.MINOR.PATCH, e.g. 1.2.0")
    parser.add_argument(
        "--image",
        required=True,
        metavar="REGISTRY/NAME",
        help="where to push, e.g. ghcr.io/owner/repo or 127.0.0.1:5000/ampaction (no tag)",
    )
    parser.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="passed to the image build; repeatable (the tests set BASE_IMAGE)",
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="P",
        help=(
            "platform to build, e.g. linux/amd64; repeatable. Several need `docker buildx`; "
            "without buildx only the engine's own platform can be built. "
            "Default: the engine's own platform."
        ),
    )
    parser.add_argument(
        "--move-image-tags",
        action="store_true",
        help=(
            "after the git tag vVERSION is on origin: point the image's :vMAJOR.MINOR and "
            ":vMAJOR at the digest that tag names (builds nothing)"
        ),
    )
    args = parser.parse_args(argv)
    return Request(
        version=check_version(args.version),
        image=check_image(args.image),
        build_args=tuple(check_build_arg(a) for a in args.build_arg),
        platforms=tuple(dict.fromkeys(args.platform)),
        move_image_tags=args.move_image_tags,
    )


def check_version(version: str) -> str:
    if not VERSION_RE.fullmatch(version):
        fail(f"VERSION `{version}` is not MAJOR.MINOR.PATCH (e.g. 1.2.0, without a leading v)")
    return version


def check_image(image: str) -> str:
    registry, _, name = image.partition("/")
    if not name or ("." not in registry and ":" not in registry and registry != "localhost"):
        fail(f"--image `{image}` must start with a registry host, e.g. ghcr.io/owner/repo")
    if "@" in image or ":" in name:
        fail(f"--image `{image}` must name no tag and no digest: the script adds both")
    if name != name.lower():
        fail(f"--image `{image}`: registries require a lowercase name")
    return image


def check_build_arg(arg: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", arg, re.S):
        fail(f"--build-arg `{arg.partition('=')[0]}` is not NAME=VALUE")
    return arg


# --- git -------------------------------------------------------------------------------


def git(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    """git's output, stripped (see `file_at` for a file's exact text)."""
    return git_output(*args, stdin=stdin, env=env).strip()


def git_output(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        fail(f"`git {' '.join(args)}` failed: {done.stderr.strip()}")
    return done.stdout


def file_at(commit: str, path: str) -> str:
    return git_output("show", f"{commit}:{path}")


def tag_exists(tag: str) -> bool:
    done = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", f"refs/tags/{tag}"],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def check_repository(request: Request) -> str:
    """Everything that can refuse the release before anything is built; returns HEAD."""
    dirty = git("status", "--porcelain", "--untracked-files=normal")
    if dirty:
        fail(f"the working tree is not clean; commit or stash first:\n{dirty}")
    if tag_exists(request.tag):
        fail(f"tag {request.tag} already exists: pick a new VERSION (a release is never moved)")
    git("var", "GIT_COMMITTER_IDENT")  # fails now, not after the push, without an identity
    released_action_yml(file_at("HEAD", "action.yml"), f"{request.image}@sha256:{'0' * 64}")
    return git("rev-parse", "HEAD")


def released_action_yml(text: str, reference: str) -> str:
    """action.yml with its one `image: Dockerfile` replaced by `image: docker://reference`."""
    found = IMAGE_LINE_RE.findall(text)
    if len(found) != 1:
        fail(
            "action.yml at HEAD must have exactly one `image: Dockerfile` line "
            f"(found {len(found)}): release from main, not from a release commit"
        )
    return IMAGE_LINE_RE.sub(lambda m: f"{m['indent']}image: docker://{reference}", text)


def commit_release(request: Request, head: str, reference: str) -> str:
    """A commit on top of `head` that changes only action.yml; no branch, index or tree moves."""
    text = released_action_yml(file_at(head, "action.yml"), reference)
    blob = git("hash-object", "-w", "--stdin", stdin=text)
    with tempfile.TemporaryDirectory() as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git("read-tree", head, env=index)
        mode = git("ls-tree", head, "action.yml").split()[0]
        git("update-index", "--cacheinfo", f"{mode},{blob},action.yml", env=index)
        tree = git("write-tree", env=index)
    message = (
        f"Release {request.tag}: action.yml runs the prebuilt image\n\n"
        f"image: docker://{reference}\n"
    )
    return git("commit-tree", tree, "-p", head, "-m", message)


def moving_tags(request: Request) -> list[str]:
    """vMAJOR.MINOR and vMAJOR, each unless an existing release tag is newer within it:
    releasing a fix for an older line never moves the newest line's tags back."""
    mine = tuple(int(p) for p in request.version.split("."))
    newer = [
        tuple(int(p) for p in match.groups())
        for tag in git("tag", "--list", "v*").split()
        if (match := VERSION_RE.fullmatch(tag[1:]))
    ]
    newer = [v for v in newer if v > mine]
    moving = []
    if not any(v[:2] == mine[:2] for v in newer):
        moving.append(f"v{mine[0]}.{mine[1]}")
    if not any(v[0] == mine[0] for v in newer):
        moving.append(request.major_tag)
    return moving


# --- Docker engine ----------------------------------------------------------------------


def docker(*args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["docker", *args], input=stdin, capture_output=True, check=False)
    if done.returncode != 0:
        fail(f"`docker {args[0]}` failed ({done.returncode}):\n{done.stderr.decode()[-3000:]}")
    return done.stdout.decode()


def has_buildx() -> bool:
    return (
        subprocess.run(["docker", "buildx", "version"], capture_output=True, check=False).returncode
        == 0
    )


def source_tarball(head: str) -> bytes:
    """The build context: exactly the files of `head`, nothing untracked or ignored."""
    done = subprocess.run(["git", "archive", "--format=tar", head], capture_output=True, check=True)
    return done.stdout


def build_and_push(request: Request, head: str, tags: list[str]) -> tuple[str, list[str]]:
    """Build `head`, push it as IMAGE:TAG for each of `tags` (the first is vVERSION), for
    the other CI systems that name the image by tag; returns (how, the refs pushed)."""
    refs = [f"{request.image}:{tag}" for tag in tags]
    named = [a for ref in refs for a in ("-t", ref)]
    build_args = [f"--build-arg={a}" for a in request.build_args]
    context = source_tarball(head)
    if has_buildx():
        platforms = ",".join(request.platforms) or native_platform()
        buildx = ["buildx", "build", f"--platform={platforms}", *build_args, "--push"]
        docker(*buildx, *named, "-", stdin=context)
        return f"docker buildx, {platforms}", refs
    native = native_platform()
    others = [p for p in request.platforms if p != native]
    if others:
        fail(
            f"`docker buildx` is not installed, and a plain build makes only {native}: "
            f"cannot build {', '.join(others)}. Install buildx (and QEMU for other "
            "architectures), or drop those --platform values."
        )
    # --network host: an engine without a default bridge (as here) still reaches apt and PyPI.
    docker("build", "--network=host", *build_args, *named, "-", stdin=context)
    for ref in refs:
        docker("push", ref)
    return f"docker build (no buildx: {native} only)", refs


def native_platform() -> str:
    info = docker("version", "--format", "{{.Server.Os}}/{{.Server.Arch}}").strip()
    return info or "linux/amd64"


# --- registry HTTP API ------------------------------------------------------------------


def registry_base(registry: str) -> str:
    """Plain HTTP only for a registry on this machine, as the Docker engine allows."""
    host = registry.rsplit(":", 1)[0]
    local = host in ("localhost", "::1", "[::1]") or host.startswith("127.")
    return f"{'http' if local else 'https'}://{registry}"


def stored_credentials(registry: str) -> str | None:
    """The `user:password` that `docker login` stored for `registry`, base64, if any."""
    config = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json"
    try:
        auths = json.loads(config.read_text(encoding="utf-8")).get("auths", {})
    except (OSError, ValueError):
        return None
    entry = auths.get(registry) or auths.get(f"https://{registry}") or {}
    auth = entry.get("auth")
    return auth if isinstance(auth, str) and auth else None


def bearer_token(challenge: str, registry: str) -> str:
    """A token for a `Bearer realm=...,service=...,scope=...` challenge (GHCR, Docker Hub)."""
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    if "realm" not in fields:
        fail(f"registry {registry} asked for an authentication it does not describe")
    if not fields["realm"].startswith("https://"):
        fail(f"registry {registry} sends its token requests to a non-HTTPS address")
    query = urllib.parse.urlencode({k: v for k, v in fields.items() if k != "realm"})
    request = urllib.request.Request(f"{fields['realm']}?{query}")  # noqa: S310 (https)
    auth = stored_credentials(registry)
    if auth:
        request.add_header("Authorization", f"Basic {auth}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (realm is https)
            body = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        fail(f"registry {registry} refused a pull token ({error.code}): run `docker login`")
    token = body.get("token") or body.get("access_token")
    if not isinstance(token, str):
        fail(f"registry {registry} answered without a token")
    return token


def registry_call(
    request: Request,
    method: str,
    reference: str,
    *,
    data: bytes | None = None,
    content_type: str | None = None,
) -> tuple[Message, bytes]:
    """The registry's answer (headers, body) to `method` on a manifest of the image,
    with a bearer token when the registry asks for one."""
    url = f"{registry_base(request.registry)}/v2/{request.repository}/manifests/{reference}"
    headers = {"Accept": MANIFEST_TYPES, **({"Content-Type": content_type} if content_type else {})}
    for _ in range(2):
        call = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(call, timeout=30) as answer:  # noqa: S310 (http(s) only)
                return answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            challenge = error.headers.get("WWW-Authenticate", "")
            if (
                error.code != 401
                or not challenge.lower().startswith("bearer")
                or ("Authorization" in headers)
            ):
                fail(f"registry refused {method} {request.image}:{reference}: HTTP {error.code}")
            headers["Authorization"] = f"Bearer {bearer_token(challenge, request.registry)}"
        except urllib.error.URLError as error:
            fail(f"registry {request.registry} did not answer: {error.reason}")
    fail(f"registry refused {method} {request.image}:{reference} with a token")


def registry_digest(request: Request) -> str:
    """The digest the registry serves for IMAGE:vVERSION (HEAD on the manifest)."""
    headers, _ = registry_call(request, "HEAD", request.tag)
    digest = str(headers.get("Docker-Content-Digest", ""))
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        fail(f"registry gave no usable Docker-Content-Digest for {request.image}:{request.tag}")
    return digest


def tag_manifest(request: Request, digest: str, tag: str) -> None:
    """IMAGE:tag names the manifest stored as `digest`, byte for byte (so the same digest)."""
    headers, body = registry_call(request, "GET", digest)
    content_type = str(headers.get("Content-Type", "")).split(";")[0].strip()
    registry_call(request, "PUT", tag, data=body, content_type=content_type)


# --- the story --------------------------------------------------------------------------


def release(request: Request) -> list[str]:
    """Do the release; returns the lines that say what was done."""
    if request.move_image_tags:
        return move_image_tags(request)
    head = check_repository(request)
    moving = moving_tags(request)
    built_with, pushed = build_and_push(request, head, [request.tag])
    digest = registry_digest(request)
    reference = f"{request.image}@{digest}"
    commit = commit_release(request, head, reference)
    git("tag", "-a", request.tag, commit, "-m", f"Release {request.tag}\n\nimage: {reference}")
    lines = [
        f"built   {built_with}",
        *(f"pushed  {ref}" for ref in pushed),
        f"digest  {digest} (as the registry serves it)",
        f"commit  {commit} on top of {head}, on no branch: action.yml image: docker://{reference}",
        f"tagged  {request.tag} -> {commit[:12]}",
    ]
    push = f"git push origin {request.tag}"
    if request.major_tag in moving:
        git("tag", "-f", request.major_tag, commit)
        lines.append(f"moved   {request.major_tag} -> {commit[:12]}")
        push += f" && git push --force origin {request.major_tag}"
    else:
        lines.append(f"kept    {request.major_tag}: a newer {request.major_tag}.x.y release exists")
    lines.append(f"next    {push}")
    if moving:
        later = ", ".join(f":{tag}" for tag in moving)
        lines.append(
            f"last    python scripts/release.py {request.version} --image {request.image} "
            f"--move-image-tags  (points {later} at this image once the git tags are out)"
        )
    return lines


def move_image_tags(request: Request) -> list[str]:
    """Point the image's moving tags at the digest the published vVERSION names."""
    digest = published_digest(request)
    if registry_digest(request) != digest:
        fail(f"{request.image}:{request.tag} is not the image tag {request.tag} names ({digest})")
    lines = []
    for tag in moving_tags(request):
        tag_manifest(request, digest, tag)
        lines.append(f"moved   {request.image}:{tag} -> {digest}")
    return lines


def published_digest(request: Request) -> str:
    """The image digest in action.yml at git tag vVERSION, once that tag is on origin."""
    if not tag_exists(request.tag):
        fail(f"tag {request.tag} does not exist: release {request.version} first")
    local = git("rev-parse", f"refs/tags/{request.tag}")
    remote = git("ls-remote", "origin", f"refs/tags/{request.tag}").split()
    if remote[:1] != [local]:
        fail(
            f"tag {request.tag} is not on origin as it is here: push the git tags first "
            "(the image's moving tags move last)"
        )
    found = re.search(
        rf"image:\s*['\"]?docker://{re.escape(request.image)}@(sha256:[0-9a-f]{{64}})",
        file_at(request.tag, "action.yml"),
    )
    if not found:
        fail(f"action.yml at {request.tag} names no image of {request.image}")
    return found[1]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        request = parse_args(sys.argv[1:] if argv is None else argv)
        for line in release(request):
            print(line)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
